"""Merge and undo: chosen values win, everything moves over, and undo restores both exactly."""

import pytest
from django.contrib.auth.models import Permission

from contactcenter.exceptions import Conflict, PermissionDenied, ValidationError
from contactcenter.models import Event
from contacts.models import Contact, ContactMerge, Identity
from contacts.selectors import contact_search
from contacts.services import contact_merge, contact_merge_undo, contact_update
from conversations.models import Conversation
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    IdentityFactory,
    InteractionFactory,
    UserFactory,
)

FIELDS = ("first_name", "last_name", "company", "notes", "custom_fields", "do_not_text")


def state(contact: Contact) -> dict:
    """Everything an undo must restore, read fresh from the database."""
    contact = Contact.objects.get(pk=contact.pk)
    links = Conversation.duplicate_candidates.through.objects
    return {
        "fields": {name: getattr(contact, name) for name in FIELDS},
        "merged_into": contact.merged_into_id,
        "identities": sorted(
            Identity.objects.filter(contact=contact).values_list("pk", "kind", "value")
        ),
        "conversations": sorted(
            Conversation.objects.filter(contact=contact).values_list("pk", flat=True)
        ),
        "candidate_links": sorted(
            links.filter(conversation__contact=contact).values_list("conversation_id", "contact_id")
        ),
    }


@pytest.fixture
def ana():
    contact = ContactFactory(
        first_name="Ana",
        last_name="",
        company="Acme",
        notes="Prefers SMS.",
        custom_fields={"tier": "gold", "region": "west"},
    )
    IdentityFactory(contact=contact, kind="phone", value="+14155550100")
    IdentityFactory(contact=contact, kind="email", value="ana@acme.example")
    return contact


@pytest.fixture
def ana_duplicate():
    contact = ContactFactory(
        first_name="Ana María",
        last_name="Díaz",
        company="",
        notes="Called about invoice 7.",
        custom_fields={"tier": "silver", "crm": "42"},
        do_not_text=True,
    )
    IdentityFactory(contact=contact, kind="email", value="ana@home.example")
    IdentityFactory(contact=contact, kind="webchat", value="visitor-3")
    return contact


@pytest.fixture
def history(ana, ana_duplicate, agent_a):
    """Conversations on both, one flagged as a possible duplicate of the other contact."""
    flagged = ConversationFactory(contact=ana, agent=agent_a)
    flagged.duplicate_candidates.add(ana_duplicate)
    ConversationFactory(contact=ana, status="closed")
    ConversationFactory(contact=ana_duplicate, status="closed")
    elsewhere = ConversationFactory()  # a third contact's conversation flagged with the duplicate
    elsewhere.duplicate_candidates.add(ana_duplicate)
    return flagged


@pytest.mark.django_db
def test_merge_then_undo_restores_both_contacts_identities_and_conversations_exactly(
    ana, ana_duplicate, history, supervisor
):
    before = (state(ana), state(ana_duplicate))
    third = Conversation.objects.exclude(contact__in=[ana, ana_duplicate]).get()
    third_links_before = sorted(third.duplicate_candidates.values_list("pk", flat=True))

    merge = contact_merge(
        survivor=ana,
        merged=ana_duplicate,
        field_choices={"first_name": "merged", "custom_fields": "merged"},
        user=supervisor,
    )

    merged_state = state(ana)
    assert merged_state["fields"]["first_name"] == "Ana María"
    assert len(merged_state["identities"]) == 4
    assert merged_state["conversations"] == sorted(
        before[0]["conversations"] + before[1]["conversations"]
    )
    assert state(ana_duplicate)["merged_into"] == ana.pk
    assert state(ana_duplicate)["identities"] == []

    contact_merge_undo(merge=merge, user=supervisor)

    assert (state(ana), state(ana_duplicate)) == before
    assert sorted(third.duplicate_candidates.values_list("pk", flat=True)) == third_links_before
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by == supervisor


@pytest.mark.django_db
def test_field_choices_decide_which_values_win(ana, ana_duplicate, supervisor):
    contact_merge(
        survivor=ana,
        merged=ana_duplicate,
        field_choices={"first_name": "merged", "notes": "survivor", "do_not_text": "survivor"},
        user=supervisor,
    )

    ana.refresh_from_db()
    assert ana.first_name == "Ana María"
    assert ana.notes == "Prefers SMS."
    assert ana.do_not_text is False


@pytest.mark.django_db
def test_default_choices_keep_the_survivor_fill_its_blanks_and_move_notes_over(
    ana, ana_duplicate, supervisor
):
    contact_merge(survivor=ana, merged=ana_duplicate, user=supervisor)

    ana.refresh_from_db()
    assert (ana.first_name, ana.last_name, ana.company) == ("Ana", "Díaz", "Acme")
    assert ana.notes == "Prefers SMS.\n\nCalled about invoice 7."
    assert ana.custom_fields == {"tier": "gold", "region": "west", "crm": "42"}
    assert ana.do_not_text is True  # an opt-out on either side survives


@pytest.mark.django_db
def test_merged_contact_disappears_from_search_and_its_identities_find_the_survivor(
    ana, ana_duplicate, supervisor
):
    contact_merge(survivor=ana, merged=ana_duplicate, user=supervisor)

    assert list(contact_search(query="Díaz")) == [ana]
    assert list(contact_search(query="email:ana@home.example")) == [ana]


@pytest.mark.django_db
def test_a_contact_cannot_be_merged_into_itself(ana, supervisor):
    with pytest.raises(ValidationError) as error:
        contact_merge(survivor=ana, merged=ana, user=supervisor)
    assert error.value.field == "merged"


@pytest.mark.django_db
def test_merging_an_already_merged_contact_is_a_conflict(ana, ana_duplicate, supervisor):
    contact_merge(survivor=ana, merged=ana_duplicate, user=supervisor)

    with pytest.raises(Conflict):
        contact_merge(survivor=ContactFactory(), merged=ana_duplicate, user=supervisor)
    assert ContactMerge.objects.count() == 1


@pytest.mark.django_db
def test_an_unknown_field_choice_is_rejected_naming_it(ana, ana_duplicate, supervisor):
    with pytest.raises(ValidationError) as error:
        contact_merge(
            survivor=ana, merged=ana_duplicate, field_choices={"notes": "both-ish"}, user=supervisor
        )
    assert error.value.field == "field_choices.notes"
    assert not ContactMerge.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["agent_b", "outsider"])
def test_agents_and_outsiders_cannot_merge_or_undo(
    request, persona, ana, ana_duplicate, supervisor
):
    user = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied):
        contact_merge(survivor=ana, merged=ana_duplicate, user=user)
    assert not ContactMerge.objects.exists()

    merge = contact_merge(survivor=ana, merged=ana_duplicate, user=supervisor)
    with pytest.raises(PermissionDenied):
        contact_merge_undo(merge=merge, user=user)
    merge.refresh_from_db()
    assert merge.undone_at is None


@pytest.mark.django_db
def test_a_user_granted_the_merge_permission_can_merge(ana, ana_duplicate):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="merge_contact"))

    contact_merge(survivor=ana, merged=ana_duplicate, user=user)

    assert Contact.objects.get(pk=ana_duplicate.pk).merged_into == ana


@pytest.mark.django_db
def test_undoing_twice_changes_nothing_the_second_time(ana, ana_duplicate, supervisor):
    merge = contact_merge(survivor=ana, merged=ana_duplicate, user=supervisor)
    contact_merge_undo(merge=merge, user=supervisor)
    after_first = (state(ana), state(ana_duplicate))

    contact_merge_undo(merge=merge, user=supervisor)

    assert (state(ana), state(ana_duplicate)) == after_first


@pytest.mark.django_db
def test_undo_waits_for_a_later_merge_of_the_survivor_to_be_undone_first(
    ana, ana_duplicate, supervisor
):
    first = contact_merge(survivor=ana, merged=ana_duplicate, user=supervisor)
    final = ContactFactory()
    second = contact_merge(survivor=final, merged=ana, user=supervisor)

    with pytest.raises(Conflict) as error:
        contact_merge_undo(merge=first, user=supervisor)
    assert error.value.extra["merge_id"] == second.pk

    contact_merge_undo(merge=second, user=supervisor)
    contact_merge_undo(merge=first, user=supervisor)
    assert state(ana_duplicate)["merged_into"] is None
    assert len(state(ana)["identities"]) == 2


@pytest.mark.django_db
def test_undo_keeps_a_survivor_field_edited_after_the_merge(ana, ana_duplicate, supervisor):
    merge = contact_merge(survivor=ana, merged=ana_duplicate, user=supervisor)
    contact_update(contact=ana, user=supervisor, data={"company": "Acme Europe"})

    contact_merge_undo(merge=merge, user=supervisor)

    ana.refresh_from_db()
    assert ana.company == "Acme Europe"
    assert ana.notes == "Prefers SMS."  # untouched since the merge: restored


@pytest.mark.django_db
def test_a_merged_contact_cannot_be_edited(ana, ana_duplicate, supervisor):
    contact_merge(survivor=ana, merged=ana_duplicate, user=supervisor)

    with pytest.raises(Conflict) as error:
        contact_update(contact=ana_duplicate, user=supervisor, data={"company": "X"})
    assert error.value.extra["contact_id"] == ana.pk


@pytest.mark.django_db
def test_merge_is_announced_to_supervisors_and_agents_holding_the_contacts_conversations(
    ana, ana_duplicate, supervisor, agent_a
):
    InteractionFactory(conversation__contact=ana_duplicate, conversation__agent=agent_a)

    contact_merge(survivor=ana, merged=ana_duplicate, user=supervisor)

    audiences = set(Event.objects.filter(type="contact.merged").values_list("audience", flat=True))
    assert audiences == {"supervisors", f"agent.{agent_a.pk}"}
    payload = Event.objects.filter(type="contact.merged").first().payload
    assert (payload["contact_id"], payload["merged_id"]) == (ana.pk, ana_duplicate.pk)
