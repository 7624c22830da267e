"""Identities: one value however it is written, one owner, invalid input stores nothing."""

import pytest
from django.db import IntegrityError, transaction

from contactcenter.exceptions import Conflict, ValidationError
from contacts.models import Contact, Identity
from contacts.normalize import normalize_email, normalize_phone
from contacts.services import contact_create, contact_recognize, identity_add
from tests.factories import ContactFactory, IdentityFactory

FIVE_WAYS = ["+1 (415) 555-0100", "415-555-0100", "(415) 555 0100", "4155550100", "+14155550100"]


@pytest.mark.parametrize("written", FIVE_WAYS)
def test_phone_written_any_common_way_normalizes_to_e164(written):
    assert normalize_phone(written) == "+14155550100"


@pytest.mark.django_db
def test_a_phone_written_five_ways_resolves_to_one_identity_and_one_contact():
    recognitions = [contact_recognize(identities=[("phone", raw)]) for raw in FIVE_WAYS]

    assert Identity.objects.count() == 1
    assert Identity.objects.get().value == "+14155550100"
    assert Contact.objects.count() == 1
    assert [r.created for r in recognitions] == [True, False, False, False, False]
    assert {r.contact.pk for r in recognitions} == {Contact.objects.get().pk}


@pytest.mark.django_db
@pytest.mark.parametrize("invalid", ["123", "not-a-number", "+1 415 555", "555-0100-9999999", ""])
def test_invalid_phone_is_rejected_with_a_clear_message_and_stores_nothing(invalid):
    with pytest.raises(ValidationError) as error:
        contact_create(user=None, first_name="Ana", identities=[("phone", invalid)])

    assert error.value.field == "identities[0].value"
    assert "phone number" in error.value.message
    assert Contact.objects.count() == 0
    assert Identity.objects.count() == 0


@pytest.mark.django_db
def test_recognition_with_an_invalid_phone_stores_nothing():
    with pytest.raises(ValidationError), transaction.atomic():
        contact_recognize(identities=[("email", "ana@example.com"), ("phone", "12")])

    assert Contact.objects.count() == 0
    assert Identity.objects.count() == 0


def test_email_is_lower_cased_and_its_domain_idna_encoded():
    assert normalize_email("  Maria.Lopez@Example.COM ") == "maria.lopez@example.com"
    assert normalize_email("josé@Bücher.example") == "josé@xn--bcher-kva.example"


@pytest.mark.parametrize("invalid", ["maria", "maria@", "@example.com", "ma ria@example.com"])
def test_invalid_email_is_rejected_naming_the_field(invalid):
    with pytest.raises(ValidationError) as error:
        normalize_email(invalid)
    assert error.value.field == "email"


@pytest.mark.django_db
def test_database_allows_one_owner_per_kind_and_value():
    IdentityFactory(kind="email", value="ana@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        IdentityFactory(kind="email", value="ana@example.com")


@pytest.mark.django_db
def test_the_same_value_may_exist_under_different_kinds():
    IdentityFactory(kind="external", value="4155550100")
    IdentityFactory(kind="phone", value="+14155550100")

    assert Identity.objects.count() == 2


@pytest.mark.django_db
def test_a_contact_holds_several_identities_of_every_kind():
    contact = ContactFactory()
    for kind, value in [
        ("phone", "+1 415 555 0100"),
        ("phone", "+44 20 7946 0958"),
        ("email", "ana@example.com"),
        ("email", "ana@work.example"),
        ("webchat", "visitor-7f3a"),
        ("messenger", "fb-1234"),
        ("external", "CRM-42"),
    ]:
        identity_add(contact=contact, kind=kind, value=value, user=None)

    assert sorted(contact.identities.values_list("kind", "value")) == [
        ("email", "ana@example.com"),
        ("email", "ana@work.example"),
        ("external", "CRM-42"),
        ("messenger", "fb-1234"),
        ("phone", "+14155550100"),
        ("phone", "+442079460958"),
        ("webchat", "visitor-7f3a"),
    ]


@pytest.mark.django_db
def test_adding_an_identity_owned_by_another_contact_is_a_conflict_naming_it():
    owner = IdentityFactory(kind="phone", value="+14155550100").contact
    other = ContactFactory()

    with pytest.raises(Conflict) as error:
        identity_add(contact=other, kind="phone", value="415 555 0100", user=None)

    assert error.value.extra["contact_id"] == owner.pk
    assert owner.display_name in error.value.message
    assert not other.identities.exists()


@pytest.mark.django_db
def test_adding_an_identity_the_contact_already_has_is_harmless():
    identity = IdentityFactory(kind="phone", value="+14155550100")

    again = identity_add(contact=identity.contact, kind="phone", value="(415) 555-0100", user=None)

    assert again.pk == identity.pk
