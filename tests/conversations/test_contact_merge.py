"""Conversations follow contact merges, and one conversation can move to another contact."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from contactcenter.exceptions import Conflict, PermissionDenied
from contactcenter.models import Event
from contacts.services import contact_merge, contact_merge_undo
from conversations.models import Conversation, Message
from conversations.services import conversation_move
from tests.factories import ContactFactory, ConversationFactory, InteractionFactory, UserFactory


@pytest.mark.django_db
def test_merge_settles_possible_duplicate_links_between_the_two_and_undo_restores_them(supervisor):
    survivor, merged = ContactFactory(), ContactFactory()
    on_survivor = ConversationFactory(contact=survivor)
    on_survivor.duplicate_candidates.add(merged)
    on_merged = ConversationFactory(contact=merged)
    on_merged.duplicate_candidates.add(survivor)

    merge = contact_merge(survivor=survivor, merged=merged, user=supervisor)

    assert not on_survivor.duplicate_candidates.exists()
    assert not on_merged.duplicate_candidates.exists()
    contact_merge_undo(merge=merge, user=supervisor)
    assert list(on_survivor.duplicate_candidates.all()) == [merged]
    assert list(on_merged.duplicate_candidates.all()) == [survivor]


@pytest.mark.django_db
def test_other_contacts_conversations_flagged_with_the_merged_contact_now_name_the_survivor(
    supervisor,
):
    survivor, merged = ContactFactory(), ContactFactory()
    elsewhere = ConversationFactory()
    elsewhere.duplicate_candidates.add(merged)

    merge = contact_merge(survivor=survivor, merged=merged, user=supervisor)
    assert list(elsewhere.duplicate_candidates.all()) == [survivor]

    contact_merge_undo(merge=merge, user=supervisor)
    assert list(elsewhere.duplicate_candidates.all()) == [merged]


@pytest.mark.django_db
def test_a_conversation_opened_on_the_survivor_after_the_merge_stays_there_on_undo(supervisor):
    survivor, merged = ContactFactory(), ContactFactory()
    old = ConversationFactory(contact=merged)
    merge = contact_merge(survivor=survivor, merged=merged, user=supervisor)
    newer = ConversationFactory(contact=survivor)

    contact_merge_undo(merge=merge, user=supervisor)

    old.refresh_from_db()
    newer.refresh_from_db()
    assert (old.contact, newer.contact) == (merged, survivor)


@pytest.mark.django_db
def test_moving_a_conversation_changes_its_contact_and_leaves_a_note_in_the_timeline(
    supervisor, agent_a
):
    wrong, right = ContactFactory(first_name="Wrong"), ContactFactory(first_name="Right")
    conversation = InteractionFactory(
        conversation__contact=wrong, conversation__agent=agent_a
    ).conversation
    conversation.duplicate_candidates.add(right)

    conversation_move(conversation=conversation, to_contact=right, user=supervisor)

    conversation.refresh_from_db()
    assert conversation.contact == right
    assert not conversation.duplicate_candidates.exists()
    note = conversation.messages.get(kind=Message.Kind.SYSTEM)
    assert "Wrong" in note.body and "Right" in note.body
    event = Event.objects.filter(type="conversation.contact_changed").first()
    assert event.payload["from_contact_id"] == wrong.pk
    assert {e.audience for e in Event.objects.filter(type="conversation.contact_changed")} == {
        "supervisors",
        f"agent.{agent_a.pk}",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["agent_a", "agent_b", "outsider"])
def test_moving_a_conversation_needs_the_merge_permission(request, persona):
    user = request.getfixturevalue(persona)
    conversation = ConversationFactory(agent=user if persona == "agent_a" else None)
    target = ContactFactory()

    with pytest.raises(PermissionDenied):
        conversation_move(conversation=conversation, to_contact=target, user=user)
    conversation.refresh_from_db()
    assert conversation.contact != target


@pytest.mark.django_db
def test_a_conversation_cannot_move_to_a_merged_away_contact(supervisor):
    survivor, merged = ContactFactory(), ContactFactory()
    contact_merge(survivor=survivor, merged=merged, user=supervisor)
    conversation = ConversationFactory()

    with pytest.raises(Conflict) as error:
        conversation_move(conversation=conversation, to_contact=merged, user=supervisor)
    assert error.value.extra["contact_id"] == survivor.pk


@pytest.mark.django_db
def test_move_page_searches_contacts_and_moves_the_conversation(client, supervisor, service_a):
    conversation = ConversationFactory(contact__first_name="Wrong", service=service_a)
    target = ContactFactory(first_name="Zoraida", last_name="Quintero")
    client.force_login(supervisor)
    url = reverse("contact-activity-move", args=[conversation.pk])

    page = client.get(url, {"q": "Zoraida"})
    assert [c.pk for c in page.context["page"].object_list] == [target.pk]

    response = client.post(url, {"contact": target.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("contact-detail", args=[target.pk])
    conversation.refresh_from_db()
    assert conversation.contact == target


@pytest.mark.django_db
def test_move_page_refuses_agents_without_the_permission(client, agent_a):
    conversation = ConversationFactory(agent=agent_a)
    client.force_login(agent_a)

    response = client.post(
        reverse("contact-activity-move", args=[conversation.pk]), {"contact": ContactFactory().pk}
    )

    assert response.status_code == 403


@pytest.mark.django_db
def test_a_permitted_agent_cannot_move_a_conversation_they_may_not_see(client, agent_b):
    agent_b.user_permissions.add(Permission.objects.get(codename="merge_contact"))
    conversation = ConversationFactory()  # not agent_b's
    client.force_login(agent_b)

    response = client.post(
        reverse("contact-activity-move", args=[conversation.pk]), {"contact": ContactFactory().pk}
    )

    assert response.status_code == 404


@pytest.mark.django_db
def test_move_api_moves_once_for_a_repeated_idempotency_key(client, supervisor, service_a):
    conversation = ConversationFactory(service=service_a)
    target = ContactFactory()
    client.force_login(supervisor)
    url = reverse("api-conversation-move", args=[conversation.pk])

    first = client.post(
        url, {"contact": target.pk}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    second = client.post(
        url, {"contact": target.pk}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert first.status_code == second.status_code == 200
    assert (
        first.json()
        == second.json()
        == {
            "conversation_id": conversation.pk,
            "number": conversation.number,
            "contact": target.pk,
        }
    )
    assert second["Idempotent-Replayed"] == "true"
    assert Conversation.objects.get(pk=conversation.pk).messages.count() == 1  # one note


@pytest.mark.django_db
def test_move_api_is_forbidden_without_the_permission(client, agent_a):
    conversation = ConversationFactory(agent=agent_a)
    client.force_login(agent_a)

    response = client.post(
        reverse("api-conversation-move", args=[conversation.pk]),
        {"contact": ContactFactory().pk},
        content_type="application/json",
    )

    assert response.status_code == 403


@pytest.mark.django_db
def test_a_user_with_the_permission_but_no_agent_profile_still_needs_to_see_contacts(client):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="merge_contact"))
    client.force_login(user)

    response = client.get(reverse("contact-activity-move", args=[ConversationFactory().pk]))

    assert response.status_code == 403


@pytest.fixture
def conversation_admin_with_move(monkeypatch):
    """ConversationAdmin as it is once ``move_to_contact`` is listed in its actions."""
    from django.contrib import admin

    from conversations.contact_views import move_to_contact

    model_admin = admin.site._registry[Conversation]
    monkeypatch.setattr(model_admin, "actions", [*(model_admin.actions or []), move_to_contact])
    return model_admin


@pytest.mark.django_db
def test_admin_action_moves_the_selected_conversations(admin_client, conversation_admin_with_move):
    conversations = ConversationFactory.create_batch(2)
    target = ContactFactory()
    url = reverse("admin:conversations_conversation_changelist")
    selected = {"action": "move_to_contact", "_selected_action": [c.pk for c in conversations]}

    assert admin_client.post(url, selected).status_code == 200  # asks for the contact
    done = admin_client.post(url, {**selected, "confirm": "yes", "contact": f"#{target.pk}"})

    assert done.status_code == 302
    assert set(Conversation.objects.values_list("contact_id", flat=True)) == {target.pk}
