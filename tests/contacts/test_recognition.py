"""Recognition on every inbound, for every channel (through the channel-agnostic inbound)."""

import itertools

import pytest

from contacts.models import Contact, Identity
from conversations.models import Conversation
from conversations.services import InboundRecord, inbound_receive
from tests.factories import ContactFactory, IdentityFactory

_ids = itertools.count(1)


def receive(service, channel, identities, **extra):
    record = InboundRecord(
        channel=channel,
        service=service,
        identities=identities,
        provider_id=f"{channel}-{next(_ids)}",
        body=extra.pop("body", "hello"),
        **extra,
    )
    return inbound_receive(record=record).message


CHANNEL_IDENTITIES = [
    ("sms", [("phone", "+14155550100")]),
    ("voice", [("phone", "(415) 555-0100")]),
    ("chat", [("webchat", "visitor-1"), ("email", "Ana@Example.com")]),
    ("email", [("email", "ANA@example.com")]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("channel", "identities"), CHANNEL_IDENTITIES)
def test_inbound_on_any_channel_from_a_known_identity_goes_to_that_contact(
    service_a, channel, identities
):
    known = ContactFactory(first_name="Ana")
    IdentityFactory(contact=known, kind="phone", value="+14155550100")
    IdentityFactory(contact=known, kind="email", value="ana@example.com")

    message = receive(service_a, channel, identities)

    assert message.conversation.contact == known
    assert Contact.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("channel", "identities"), CHANNEL_IDENTITIES)
def test_inbound_from_unknown_identities_creates_a_new_contact_owning_them(
    service_a, channel, identities
):
    message = receive(service_a, channel, identities)

    contact = message.conversation.contact
    assert Contact.objects.count() == 1
    assert contact.identities.count() == len(identities)


@pytest.mark.django_db
def test_identities_matching_two_contacts_merge_nothing_and_flag_a_possible_duplicate(service_a):
    by_phone = IdentityFactory(kind="phone", value="+14155550100").contact
    by_email = IdentityFactory(kind="email", value="ana@example.com").contact

    message = receive(service_a, "chat", [("phone", "4155550100"), ("email", "ana@example.com")])

    conversation = message.conversation
    assert conversation.contact == by_phone  # the first match wins
    assert list(conversation.duplicate_candidates.all()) == [by_email]
    assert Contact.objects.count() == 2
    assert by_email.identities.get().value == "ana@example.com"  # nothing moved


@pytest.mark.django_db
def test_pre_chat_form_email_links_the_visitor_to_the_known_contact(service_a):
    known = IdentityFactory(kind="email", value="ana@example.com").contact

    message = receive(service_a, "chat", [("email", "Ana@Example.com"), ("webchat", "visitor-9")])

    assert message.conversation.contact == known
    assert Identity.objects.get(kind="webchat", value="visitor-9").contact == known
    later = receive(service_a, "chat", [("webchat", "visitor-9")])  # no form this time
    assert later.conversation.contact == known


@pytest.mark.django_db
def test_recognition_fills_an_empty_name_but_never_overwrites_one(service_a):
    anonymous = IdentityFactory(
        kind="phone", value="+14155550100", contact__first_name="", contact__last_name=""
    ).contact
    receive(service_a, "sms", [("phone", "+14155550100")], first_name="Ana", last_name="Diaz")
    anonymous.refresh_from_db()
    assert (anonymous.first_name, anonymous.last_name) == ("Ana", "Diaz")

    receive(service_a, "sms", [("phone", "+14155550100")], first_name="Someone", last_name="Else")
    anonymous.refresh_from_db()
    assert (anonymous.first_name, anonymous.last_name) == ("Ana", "Diaz")


@pytest.mark.django_db
def test_inbound_for_an_identity_of_a_merged_contact_lands_on_the_survivor(service_a, supervisor):
    """Identities move at merge time; recognition also follows ``merged_into`` (race safety)."""
    from contacts.services import contact_merge

    survivor = IdentityFactory(kind="email", value="ana@example.com").contact
    merged = IdentityFactory(kind="phone", value="+14155550100").contact
    contact_merge(survivor=survivor, merged=merged, user=supervisor)

    message = receive(service_a, "sms", [("phone", "+14155550100")])

    assert message.conversation.contact == survivor
    assert not Conversation.objects.filter(contact=merged).exists()


@pytest.mark.django_db
def test_recognition_follows_a_contact_merged_after_its_identity_was_read():
    """The window between reading an identity and locking its contact: a merge that committed in
    between is followed to the survivor instead of feeding the merged-away contact."""
    from contacts.services import contact_recognize

    survivor = ContactFactory()
    merged = ContactFactory(merged_into=survivor)
    IdentityFactory(contact=merged, kind="phone", value="+14155550100")

    recognition = contact_recognize(identities=[("phone", "+14155550100")])

    assert recognition.contact == survivor
    assert not recognition.possible_duplicate
