"""The Contacts section for agents: list and search, contact page, edits, identities, merge."""

import pytest
from django.urls import reverse

from contactcenter.models import Event
from contacts.models import Contact, ContactMerge, Identity
from tests.factories import ContactFactory, ConversationFactory, IdentityFactory
from tests.utils import count_queries

LIST = "/contacts/"


def detail(contact):
    return reverse("contact-detail", args=[contact.pk])


def listed(response):
    return [contact.pk for contact in response.context["page"].object_list]


@pytest.fixture
def people(db):
    ana = ContactFactory(first_name="Ana", last_name="Díaz", company="Acme Corp")
    IdentityFactory(contact=ana, kind="phone", value="+14155550100")
    IdentityFactory(contact=ana, kind="email", value="ana@acme.example")
    bo = ContactFactory(first_name="Bo", last_name="Lindqvist", company="Northwind")
    IdentityFactory(contact=bo, kind="phone", value="+442079460958")
    IdentityFactory(contact=bo, kind="external", value="CRM-77")
    IdentityFactory(contact=bo, kind="messenger", value="fb-98765")
    return {"ana": ana, "bo": bo}


@pytest.mark.django_db
def test_contacts_require_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_outsiders_cannot_see_contacts(client, outsider, people):
    client.force_login(outsider)
    assert client.get(LIST).status_code == 403
    assert client.get(detail(people["ana"])).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["agent_a", "agent_b", "supervisor"])
def test_every_agent_sees_the_shared_contacts(request, client, persona, people):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(LIST)
    assert response.status_code == 200
    assert set(listed(response)) == {people["ana"].pk, people["bo"].pk}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("ana", "ana"),
        ("Ana Díaz", "ana"),
        ("northwind", "bo"),
        ("company:acme", "ana"),
        ("phone:(415) 555-0100", "ana"),
        ("phone:555-0100", "ana"),
        ("415.555.0100", "ana"),
        ("+44 20 7946 0958", "bo"),
        ("email:ANA@acme.example", "ana"),
        ("ana@ACME.example", "ana"),
        ("acme.example", "ana"),
        ("external:CRM-77", "bo"),
        ("98765", "bo"),
        ("name:lindqvist", "bo"),
    ],
)
def test_search_finds_by_name_company_any_identity_and_prefixes(
    client, agent_a, people, query, who
):
    client.force_login(agent_a)
    response = client.get(LIST, {"q": query})
    assert listed(response) == [people[who].pk]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["company:ana", "name:acme", "phone:+1 212 555 0199", "zzz"])
def test_search_with_no_match_says_so(client, agent_a, people, query):
    client.force_login(agent_a)
    response = client.get(LIST, {"q": query})
    assert listed(response) == []
    assert "No contact matches this search." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("template", ["#{}", "{}", "{lower}"])
def test_search_by_conversation_number_finds_its_contact(client, agent_a, people, template):
    conversation = ConversationFactory(contact=people["bo"])
    query = template.format(conversation.number, lower=conversation.number.lower())
    client.force_login(agent_a)
    response = client.get(LIST, {"q": query})
    assert listed(response) == [people["bo"].pk]


@pytest.mark.django_db
def test_contacts_list_is_paginated_with_the_same_queries_at_2_and_200_contacts(
    client, agent_a, django_assert_num_queries
):
    def make(count):
        contacts = Contact.objects.bulk_create(
            [Contact(first_name=f"Person {i}") for i in range(count)]
        )
        Identity.objects.bulk_create(
            [Identity(contact=c, kind="external", value=f"X-{c.pk}") for c in contacts]
        )

    client.force_login(agent_a)
    make(2)
    client.get(LIST)
    two = count_queries(lambda: client.get(LIST))
    make(198)
    with django_assert_num_queries(two):
        response = client.get(LIST)
    assert len(response.context["page"].object_list) == 25
    assert response.context["page"].paginator.count == 200
    assert client.get(LIST, {"page": 8}).context["page"].number == 8


@pytest.mark.django_db
def test_contacts_list_queries_do_not_depend_on_how_many_conversations_a_contact_has(
    client, agent_a, people, service_a, django_assert_num_queries
):
    from conversations.models import Conversation

    def conversations(count):
        Conversation.objects.bulk_create(
            [Conversation(contact=people["ana"], service=service_a) for _ in range(count)]
        )

    client.force_login(agent_a)
    conversations(2)
    client.get(LIST)
    two = count_queries(lambda: client.get(LIST))
    conversations(198)
    with django_assert_num_queries(two):
        client.get(LIST)


@pytest.mark.django_db
def test_contact_page_shows_fields_and_identities(client, agent_a, people):
    ana = people["ana"]
    ana.custom_fields = {"tier": "gold"}
    ana.notes = "VIP"
    ana.save()
    client.force_login(agent_a)

    html = client.get(detail(ana)).content.decode()

    for text in ["Ana Díaz", "Acme Corp", "+14155550100", "ana@acme.example", "tier: gold", "VIP"]:
        assert text in html


@pytest.mark.django_db
def test_customer_text_on_contact_pages_is_escaped(client, agent_a):
    contact = ContactFactory(first_name="<script>alert(1)</script>", notes="<img src=x>")
    client.force_login(agent_a)

    for url in [LIST, detail(contact)]:
        html = client.get(url).content.decode()
        assert "<script>alert(1)" not in html
        assert "<img src=x>" not in html


@pytest.mark.django_db
def test_editing_a_contact_saves_the_fields_and_announces_it(client, agent_a, people):
    ana = people["ana"]
    client.force_login(agent_a)

    response = client.post(
        reverse("contact-edit", args=[ana.pk]),
        {
            "first_name": " Ana ",
            "last_name": "Díaz",
            "company": "Acme Europe",
            "notes": "Call after 5pm",
            "custom_fields": "tier: gold\nregion: west",
            "do_not_text": "on",
        },
    )

    assert response.status_code == 302
    ana.refresh_from_db()
    assert (ana.first_name, ana.company, ana.notes, ana.do_not_text) == (
        "Ana",
        "Acme Europe",
        "Call after 5pm",
        True,
    )
    assert ana.custom_fields == {"tier": "gold", "region": "west"}
    assert Event.objects.filter(type="contact.updated", audience="supervisors").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"first_name": "x" * 121}, "first_name", "at most 120"),
        ({"custom_fields": "no separator here"}, "custom_fields", "Line 1"),
        ({"custom_fields": "a: 1\na: 2"}, "custom_fields", "appears twice"),
    ],
)
def test_invalid_edits_show_the_error_on_the_field_and_save_nothing(
    client, agent_a, people, data, field, message
):
    ana = people["ana"]
    client.force_login(agent_a)

    response = client.post(reverse("contact-edit", args=[ana.pk]), {"first_name": "Ana", **data})

    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert message.lower() in errors.lower()
    ana.refresh_from_db()
    assert ana.first_name == "Ana"


@pytest.mark.django_db
def test_adding_an_identity_normalizes_it(client, agent_a, people):
    client.force_login(agent_a)
    response = client.post(
        reverse("contact-identity-add", args=[people["bo"].pk]),
        {"kind": "phone", "value": "+1 (415) 555-0199"},
    )
    assert response.status_code == 302
    assert people["bo"].identities.filter(kind="phone", value="+14155550199").exists()


@pytest.mark.django_db
def test_adding_an_invalid_phone_shows_a_clear_error_and_stores_nothing(client, agent_a, people):
    client.force_login(agent_a)
    response = client.post(
        reverse("contact-identity-add", args=[people["bo"].pk]), {"kind": "phone", "value": "12"}
    )
    assert response.status_code == 400
    assert "not a valid phone number" in " ".join(response.context["identity_form"].errors["value"])
    assert people["bo"].identities.count() == 3


@pytest.mark.django_db
def test_adding_an_identity_owned_by_another_contact_names_and_links_it(client, supervisor, people):
    client.force_login(supervisor)
    response = client.post(
        reverse("contact-identity-add", args=[people["bo"].pk]),
        {"kind": "email", "value": "ANA@acme.example"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Ana Díaz" in html
    assert reverse("contact-detail", args=[people["ana"].pk]) in html
    assert reverse("contact-merge-preview", args=[people["bo"].pk, people["ana"].pk]) in html
    assert not people["bo"].identities.filter(kind="email").exists()


@pytest.mark.django_db
def test_removing_an_identity(client, agent_a, people):
    identity = people["bo"].identities.get(kind="external")
    client.force_login(agent_a)
    response = client.post(reverse("contact-identity-remove", args=[people["bo"].pk, identity.pk]))
    assert response.status_code == 302
    assert not Identity.objects.filter(pk=identity.pk).exists()


@pytest.mark.django_db
def test_creating_a_contact_with_a_phone_and_an_email(client, agent_a):
    client.force_login(agent_a)
    response = client.post(
        reverse("contact-create"),
        {"first_name": "Cy", "phone": "415 555 0123", "email": "Cy@Example.com"},
    )
    contact = Contact.objects.get(first_name="Cy")
    assert response["Location"] == detail(contact)
    assert sorted(contact.identities.values_list("value", flat=True)) == [
        "+14155550123",
        "cy@example.com",
    ]


@pytest.mark.django_db
def test_creating_a_contact_with_a_taken_email_errors_on_that_field(client, agent_a, people):
    client.force_login(agent_a)
    response = client.post(
        reverse("contact-create"), {"first_name": "Cy", "email": "ana@acme.example"}
    )
    assert response.status_code == 400
    assert "Ana Díaz" in " ".join(response.context["form"].errors["email"])
    assert not Contact.objects.filter(first_name="Cy").exists()


@pytest.mark.django_db
def test_a_merged_contacts_page_redirects_to_the_survivor(client, agent_a):
    survivor = ContactFactory()
    merged = ContactFactory(merged_into=survivor)
    client.force_login(agent_a)
    response = client.get(detail(merged))
    assert response.status_code == 302
    assert response["Location"] == detail(survivor)


# --- Merge from the contact page ---------------------------------------------------------


@pytest.mark.django_db
def test_supervisor_merges_from_the_contact_page_choosing_survivor_and_values(
    client, supervisor, people
):
    ana, bo = people["ana"], people["bo"]
    client.force_login(supervisor)
    url = reverse("contact-merge-preview", args=[ana.pk, bo.pk])
    preview = client.get(url)
    assert preview.status_code == 200
    assert "Lindqvist" in preview.content.decode()

    response = client.post(
        url,
        {
            "survivor": bo.pk,
            "field_first_name": ana.pk,
            "field_last_name": bo.pk,
            "field_company": ana.pk,
            "field_notes": "both",
            "field_custom_fields": bo.pk,
            "field_do_not_text": "either",
        },
    )

    assert response["Location"] == detail(bo)
    bo.refresh_from_db()
    assert (bo.first_name, bo.last_name, bo.company) == ("Ana", "Lindqvist", "Acme Corp")
    assert Contact.objects.get(pk=ana.pk).merged_into == bo
    assert bo.identities.count() == 5
    page = client.get(detail(bo)).content.decode()
    assert reverse("contact-merge-undo", args=[ContactMerge.objects.get().pk]) in page


@pytest.mark.django_db
def test_undo_from_the_contact_page_separates_them_again(client, supervisor, people):
    from contacts.services import contact_merge

    merge = contact_merge(survivor=people["ana"], merged=people["bo"], user=supervisor)
    client.force_login(supervisor)

    response = client.post(reverse("contact-merge-undo", args=[merge.pk]))

    assert response["Location"] == detail(people["ana"])
    assert Contact.objects.get(pk=people["bo"].pk).merged_into is None
    assert people["bo"].identities.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["agent_b", "outsider"])
def test_agents_and_outsiders_cannot_use_the_merge_pages(request, client, persona, people):
    ana, bo = people["ana"], people["bo"]
    client.force_login(request.getfixturevalue(persona))

    pick = client.get(reverse("contact-merge-pick", args=[ana.pk]), {"q": "bo"})
    preview = client.post(
        reverse("contact-merge-preview", args=[ana.pk, bo.pk]), {"survivor": ana.pk}
    )

    assert pick.status_code == preview.status_code == 403
    assert not ContactMerge.objects.exists()
    if persona == "agent_b":
        html = client.get(detail(ana)).content.decode()
        assert reverse("contact-merge-pick", args=[ana.pk]) not in html


@pytest.mark.django_db
def test_merge_pick_searches_other_contacts(client, supervisor, people):
    client.force_login(supervisor)
    response = client.get(reverse("contact-merge-pick", args=[people["ana"].pk]), {"q": "a"})
    assert people["ana"].pk not in listed(response)
    assert people["bo"].pk not in listed(response)  # "a" is not in Bo's name or data
    response = client.get(reverse("contact-merge-pick", args=[people["ana"].pk]), {"q": "bo"})
    assert listed(response) == [people["bo"].pk]


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["merge", "move"])
def test_merge_and_move_searches_run_the_same_queries_at_2_and_20_results(
    client, supervisor, service_a, people, page, django_assert_num_queries
):
    if page == "merge":
        url = reverse("contact-merge-pick", args=[people["ana"].pk])
    else:
        conversation = ConversationFactory(contact=people["ana"], service=service_a)
        url = reverse("contact-activity-move", args=[conversation.pk])

    def twins(count):
        for _ in range(count):
            IdentityFactory(contact__first_name="Twin")

    client.force_login(supervisor)
    twins(2)
    client.get(url, {"q": "twin"})
    two = count_queries(lambda: client.get(url, {"q": "twin"}))
    twins(18)
    with django_assert_num_queries(two):
        response = client.get(url, {"q": "twin"})
    assert response.context["page"].paginator.count == 20
