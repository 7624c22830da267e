"""Contacts in the Django admin: merge action, undo action, normalized identities, query counts."""

import pytest
from django.urls import reverse

from contacts.models import Contact, ContactImport, ContactMerge, Identity
from contacts.services import contact_merge
from tests.factories import ContactFactory, IdentityFactory
from tests.utils import count_queries


def merged_pair(supervisor):
    survivor, merged = ContactFactory(), ContactFactory()
    return contact_merge(survivor=survivor, merged=merged, user=supervisor)


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["contact", "contactmerge", "identity", "contactimport"])
def test_changelists_run_the_same_queries_at_2_and_20_rows(admin_client, supervisor, model):
    url = reverse(f"admin:contacts_{model}_changelist")

    def rows(count):
        for _ in range(count):
            merge = merged_pair(supervisor)
            IdentityFactory(contact=merge.survivor)
            ContactImport.objects.create(created_by=supervisor, filename="x.csv", headers=["a"])

    rows(2)
    admin_client.get(url)
    two = count_queries(lambda: admin_client.get(url))
    rows(18)
    assert admin_client.get(url).status_code == 200
    assert count_queries(lambda: admin_client.get(url)) == two


@pytest.mark.django_db
def test_admin_merge_action_asks_for_choices_then_merges(admin_client):
    ana = ContactFactory(first_name="Ana", company="")
    other = ContactFactory(first_name="Ana María", company="Acme")
    url = reverse("admin:contacts_contact_changelist")
    selected = {"action": "merge_selected", "_selected_action": [ana.pk, other.pk]}

    intermediate = admin_client.post(url, selected)
    assert intermediate.status_code == 200
    assert "Ana María" in intermediate.content.decode()

    done = admin_client.post(
        url,
        {
            **selected,
            "confirm": "yes",
            "survivor": other.pk,
            "field_first_name": ana.pk,
            "field_company": other.pk,
        },
    )

    assert done.status_code == 302
    other.refresh_from_db()
    assert (other.first_name, other.company) == ("Ana", "Acme")
    assert Contact.objects.get(pk=ana.pk).merged_into == other


@pytest.mark.django_db
def test_admin_merge_action_needs_exactly_two_contacts(admin_client):
    contacts = ContactFactory.create_batch(3)
    admin_client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "merge_selected", "_selected_action": [c.pk for c in contacts]},
    )
    assert not ContactMerge.objects.exists()


@pytest.mark.django_db
def test_admin_undo_action_restores_the_contacts(admin_client, supervisor):
    merge = merged_pair(supervisor)

    admin_client.post(
        reverse("admin:contacts_contactmerge_changelist"),
        {"action": "undo_selected", "_selected_action": [merge.pk]},
    )

    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert Contact.objects.get(pk=merge.merged_id).merged_into is None


@pytest.mark.django_db
def test_identity_edited_in_the_admin_is_normalized_or_refused(admin_client):
    contact = ContactFactory()
    url = reverse("admin:contacts_identity_add")

    ok = admin_client.post(url, {"contact": contact.pk, "kind": "phone", "value": "(415) 555-0100"})
    bad = admin_client.post(url, {"contact": contact.pk, "kind": "phone", "value": "12"})

    assert ok.status_code == 302
    assert Identity.objects.get().value == "+14155550100"
    assert bad.status_code == 200
    assert "not a valid phone number" in bad.content.decode()
    assert Identity.objects.count() == 1
