"""Contacts API: /api/v1/contacts/ with Token auth."""

import pytest
from rest_framework.test import APIClient

from contactcenter.models import IdempotencyKey
from contacts.models import Contact, ContactMerge, Identity
from tests.factories import ContactFactory, IdentityFactory
from tests.support.api import api_for, error_of
from tests.utils import count_queries

URL = "/api/v1/contacts/"


@pytest.fixture
def api(agent_a):
    return api_for(agent_a)


@pytest.fixture
def ana(db):
    contact = ContactFactory(first_name="Ana", last_name="Díaz", company="Acme")
    IdentityFactory(contact=contact, kind="phone", value="+14155550100")
    IdentityFactory(contact=contact, kind="email", value="ana@acme.example")
    return contact


@pytest.mark.django_db
def test_the_api_needs_a_token_and_an_agent(ana, outsider):
    assert APIClient().get(URL).status_code == 401
    assert api_for(outsider).get(URL).status_code == 403


@pytest.mark.django_db
def test_create_normalizes_identities_and_returns_the_contact(api):
    response = api.post(
        URL,
        {
            "first_name": "Bo",
            "company": "Northwind",
            "custom_fields": {"tier": "gold", "seats": 12},
            "identities": [
                {"kind": "phone", "value": "(415) 555-0123"},
                {"kind": "email", "value": "Bo@Northwind.EXAMPLE"},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["first_name"] == "Bo"
    assert body["custom_fields"] == {"tier": "gold", "seats": 12}
    assert sorted((i["kind"], i["value"]) for i in body["identities"]) == [
        ("email", "bo@northwind.example"),
        ("phone", "+14155550123"),
    ]


@pytest.mark.django_db
def test_create_with_an_invalid_phone_is_a_400_naming_the_field_and_stores_nothing(api):
    response = api.post(
        URL,
        {"first_name": "Bo", "identities": [{"kind": "phone", "value": "555"}]},
        format="json",
    )

    assert response.status_code == 400
    error = error_of(response)
    assert list(error["fields"]) == ["identities[0].value"]
    assert "555" in error["message"]
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_create_with_an_identity_owned_by_another_contact_is_a_409_naming_it(api, ana):
    response = api.post(
        URL,
        {"first_name": "Bo", "identities": [{"kind": "email", "value": "ANA@acme.example"}]},
        format="json",
    )

    assert response.status_code == 409
    error = error_of(response)
    assert error["contact_id"] == ana.pk
    assert "Ana Díaz" in error["message"]
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_create_with_a_too_long_name_is_a_400_naming_the_field(api):
    response = api.post(URL, {"first_name": "x" * 121}, format="json")
    assert response.status_code == 400
    assert "first_name" in error_of(response)["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["(415) 555-0100", "+1 415 555 0100", "4155550100"])
def test_lookup_by_phone_in_any_format(api, ana, written):
    response = api.get(URL, {"phone": written})
    assert [c["id"] for c in response.json()["results"]] == [ana.pk]


@pytest.mark.django_db
def test_lookup_by_email_ignores_case_and_unknown_finds_nothing(api, ana):
    assert [c["id"] for c in api.get(URL, {"email": "ANA@Acme.example"}).json()["results"]] == [
        ana.pk
    ]
    assert api.get(URL, {"email": "nobody@acme.example"}).json()["results"] == []


@pytest.mark.django_db
def test_lookup_with_an_invalid_phone_is_a_400_naming_the_field(api, ana):
    response = api.get(URL, {"phone": "call me"})
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["phone"]


@pytest.mark.django_db
def test_search_uses_the_same_syntax_as_the_contacts_page(api, ana):
    ContactFactory(company="Other")
    assert [c["id"] for c in api.get(URL, {"q": "company:acme"}).json()["results"]] == [ana.pk]


@pytest.mark.django_db
def test_list_is_paginated_with_the_same_queries_at_2_and_20_contacts(api, agent_a):
    for _ in range(2):
        IdentityFactory()
    api.get(URL)
    two = count_queries(lambda: api.get(URL))
    for _ in range(18):
        IdentityFactory()
    twenty = count_queries(lambda: api.get(URL))
    assert two == twenty
    assert api.get(URL).json()["count"] == 20


@pytest.mark.django_db
def test_retrieve_and_partial_update(api, ana):
    assert api.get(f"{URL}{ana.pk}/").json()["display_name"] == "Ana Díaz"

    response = api.patch(f"{URL}{ana.pk}/", {"company": "Acme Europe"}, format="json")

    assert response.status_code == 200
    assert response.json()["company"] == "Acme Europe"
    assert response.json()["first_name"] == "Ana"


@pytest.mark.django_db
def test_full_update_replaces_every_editable_field(api, ana):
    response = api.put(f"{URL}{ana.pk}/", {"first_name": "Ana"}, format="json")

    assert response.status_code == 200
    ana.refresh_from_db()
    assert (ana.first_name, ana.last_name, ana.company) == ("Ana", "", "")
    assert ana.identities.count() == 2  # identities have their own endpoints


@pytest.mark.django_db
def test_update_of_a_merged_contact_is_a_409_naming_the_survivor(api, ana):
    merged = ContactFactory(merged_into=ana)
    response = api.patch(f"{URL}{merged.pk}/", {"company": "X"}, format="json")
    assert response.status_code == 409
    assert error_of(response)["contact_id"] == ana.pk


@pytest.mark.django_db
def test_unknown_contact_is_a_404(api):
    assert api.get(f"{URL}999999/").status_code == 404


@pytest.mark.django_db
def test_identities_are_added_and_removed_through_their_endpoints(api, ana):
    added = api.post(
        f"{URL}{ana.pk}/identities/", {"kind": "phone", "value": "+44 20 7946 0958"}, format="json"
    )
    assert added.status_code == 201
    assert added.json()["value"] == "+442079460958"

    removed = api.delete(f"{URL}{ana.pk}/identities/{added.json()['id']}/")
    assert removed.status_code == 204
    assert not Identity.objects.filter(value="+442079460958").exists()


@pytest.mark.django_db
def test_adding_an_identity_of_another_contact_is_a_409(api, ana):
    other = ContactFactory()
    response = api.post(
        f"{URL}{other.pk}/identities/", {"kind": "phone", "value": "4155550100"}, format="json"
    )
    assert response.status_code == 409
    assert error_of(response)["contact_id"] == ana.pk


@pytest.mark.django_db
def test_merge_and_undo_through_the_api(ana, supervisor):
    api = api_for(supervisor)
    other = IdentityFactory(kind="external", value="CRM-9", contact__first_name="Ana M").contact

    merged = api.post(
        f"{URL}merges/",
        {"survivor": ana.pk, "merged": other.pk, "field_choices": {"first_name": "merged"}},
        format="json",
    )
    assert merged.status_code == 201, merged.json()
    assert api.get(f"{URL}{ana.pk}/").json()["first_name"] == "Ana M"
    assert api.get(f"{URL}{other.pk}/").json()["merged_into"] == ana.pk
    merge_id = merged.json()["id"]
    assert api.get(f"{URL}merges/{merge_id}/").json()["survivor"] == ana.pk

    undone = api.post(f"{URL}merges/{merge_id}/undo/")
    assert undone.status_code == 200
    assert undone.json()["undone_at"] is not None
    assert api.get(f"{URL}{ana.pk}/").json()["first_name"] == "Ana"
    assert api.get(f"{URL}{other.pk}/").json()["merged_into"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["agent_b", "outsider"])
def test_merge_through_the_api_is_forbidden_without_the_permission(request, persona, ana):
    other = ContactFactory()
    response = api_for(request.getfixturevalue(persona)).post(
        f"{URL}merges/", {"survivor": ana.pk, "merged": other.pk}, format="json"
    )
    assert response.status_code == 403
    assert not ContactMerge.objects.exists()


@pytest.mark.django_db
def test_merge_with_a_bad_field_choice_is_a_400_naming_it(ana, supervisor):
    response = api_for(supervisor).post(
        f"{URL}merges/",
        {"survivor": ana.pk, "merged": ContactFactory().pk, "field_choices": {"notes": "mine"}},
        format="json",
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["field_choices.notes"]


# --- Idempotency-Key ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_repeated_idempotency_key_returns_the_first_response_and_creates_once(api):
    body = {"first_name": "Bo", "identities": [{"kind": "phone", "value": "4155550123"}]}

    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="create-bo")
    second = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="create-bo")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_an_idempotency_key_reused_for_another_request_is_a_422(api):
    api.post(URL, {"first_name": "Bo"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = api.post(URL, {"first_name": "Cy"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "idempotency_key_reused"
    assert list(error["fields"]) == ["Idempotency-Key"]
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_idempotency_keys_are_per_user(api, agent_b):
    api.post(URL, {"first_name": "Bo"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    other = api_for(agent_b).post(
        URL, {"first_name": "Bo"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert other.status_code == 201
    assert Contact.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_request_stores_no_key_so_the_client_can_retry(api, ana):
    body = {"first_name": "Bo", "identities": [{"kind": "email", "value": "ana@acme.example"}]}
    failed = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert failed.status_code == 409
    assert not IdempotencyKey.objects.exists()

    Identity.objects.filter(value="ana@acme.example").delete()
    retried = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert retried.status_code == 201


@pytest.mark.django_db
def test_the_openapi_schema_describes_the_contacts_api(client, agent_a):
    client.force_login(agent_a)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = response.content.decode()
    for path in ["/api/v1/contacts/", "/api/v1/contacts/merges/", "/api/v1/contacts/{id}/"]:
        assert path in schema


@pytest.mark.django_db
def test_the_openapi_schema_generates_and_validates(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    assert "IdentityKindEnum" in schema  # named without collisions


@pytest.mark.django_db
@pytest.mark.parametrize("custom_fields", [{"tier": "gold\x00"}, {"ti\x00er": "gold"}])
def test_a_null_character_in_custom_fields_is_a_400_not_a_500(api, custom_fields):
    """PostgreSQL cannot store NUL in JSON: refused before it gets there."""
    response = api.post(URL, {"first_name": "Bo", "custom_fields": custom_fields}, format="json")
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["custom_fields"]
    assert not Contact.objects.exists()
