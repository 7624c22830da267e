"""The admin: every changelist runs the same number of queries at 2 and at 50 rows; state is
read-only; actions go through the services, one transaction per batch; settings changed in the
admin and role changes land in the audit log, which is read-only and filterable."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from contactcenter import roles
from contactcenter.models import AuditAction, AuditRecord
from conversations.models import (
    AgentProfile,
    AgentState,
    Conversation,
    Interaction,
    Service,
    Skill,
)
from tests import factories
from tests.conftest import with_role
from tests.utils import count_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


FACTORIES = {
    "axes.AccessAttempt": factories.AccessAttemptFactory,
    "axes.AccessFailureLog": factories.AccessFailureLogFactory,
    "axes.AccessLog": factories.AccessLogFactory,
    "auth.Group": factories.GroupFactory,
    "auth.User": factories.UserFactory,
    "channels_app.ApiChannelSettings": factories.ApiChannelSettingsFactory,
    "channels_app.ChatSession": factories.ChatSessionFactory,
    "channels_app.EmailAttachment": factories.EmailAttachmentFactory,
    "channels_app.EmailDetails": factories.EmailDetailsFactory,
    "channels_app.EmailReceipt": factories.EmailReceiptFactory,
    "channels_app.EmailSignature": factories.EmailSignatureFactory,
    "channels_app.EntryPoint": factories.EntryPointFactory,
    "channels_app.LocalOutboxItem": factories.LocalOutboxItemFactory,
    "channels_app.VoiceCall": factories.VoiceCallFactory,
    "channels_app.WebChatSettings": factories.WebChatSettingsFactory,
    "contactcenter.ApiToken": factories.ApiTokenFactory,
    "contactcenter.AuditRecord": factories.AuditRecordFactory,
    "contactcenter.IdempotencyKey": factories.IdempotencyKeyFactory,
    "contactcenter.WebhookDelivery": factories.WebhookDeliveryFactory,
    "contactcenter.WebhookSubscription": factories.WebhookSubscriptionFactory,
    "contactcenter.Event": factories.EventFactory,
    "contacts.Contact": factories.ContactFactory,
    "contacts.ContactImport": factories.ContactImportFactory,
    "contacts.ContactMerge": factories.ContactMergeFactory,
    "contacts.Identity": factories.IdentityFactory,
    "conversations.AgentProfile": factories.AgentProfileFactory,
    "conversations.CannedResponse": factories.CannedResponseFactory,
    "conversations.Conversation": factories.ConversationFactory,
    "conversations.Disposition": factories.DispositionFactory,
    "conversations.Interaction": factories.InteractionFactory,
    "conversations.Message": factories.MessageFactory,
    "conversations.NotReadyReason": factories.NotReadyReasonFactory,
    "conversations.Offer": factories.OfferFactory,
    "conversations.Service": factories.ServiceFactory,
    "conversations.Skill": factories.SkillFactory,
    "conversations.Team": factories.TeamFactory,
}
REGISTERED = sorted(model._meta.label for model in admin.site._registry)


def changelist(label: str) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model.lower()}_changelist")


def test_every_registered_model_has_a_factory_here():
    assert sorted(FACTORIES) == REGISTERED


def test_models_without_their_own_admin_are_inlines_of_one():
    from django.apps import apps

    inline_models = {
        inline.model._meta.label
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }
    ours = [
        model._meta.label
        for app in ("contactcenter", "contacts", "conversations", "channels_app")
        for model in apps.get_app_config(app).get_models()
    ]
    assert [label for label in ours if label not in REGISTERED and label not in inline_models] == []


@pytest.mark.parametrize("label", REGISTERED)
def test_changelist_runs_the_same_queries_at_2_and_50_rows(client, administrator, label):
    url = changelist(label)
    model = admin.site._registry and next(m for m in admin.site._registry if m._meta.label == label)
    client.force_login(administrator)
    FACTORIES[label].create_batch(2)
    client.get(url)
    two = count_queries(lambda: client.get(url))
    FACTORIES[label].create_batch(48)

    response = client.get(url)

    assert response.status_code == 200
    assert count_queries(lambda: client.get(url)) == two
    assert response.context["cl"].result_count >= 50 or model is Group


@pytest.mark.parametrize("label", REGISTERED)
def test_every_change_page_renders(client, administrator, label):
    factory = FACTORIES[label]
    obj = factory()
    app, model = label.split(".")
    client.force_login(administrator)
    response = client.get(reverse(f"admin:{app}_{model.lower()}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_state_written_by_the_services_is_read_only(client, administrator):
    profile = factories.AgentProfileFactory(state=AgentState.READY)
    interaction = factories.InteractionFactory()
    client.force_login(administrator)

    page = client.get(reverse("admin:conversations_agentprofile_change", args=[profile.pk]))
    form_fields = page.context["adminform"].form.fields
    assert "state" not in form_fields and "not_ready_reason" not in form_fields
    assert "display_name" in form_fields
    for url in (
        reverse("admin:conversations_conversation_change", args=[interaction.conversation_id]),
        reverse("admin:conversations_interaction_change", args=[interaction.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["adminform"].form.fields == {}
    assert client.get(reverse("admin:conversations_conversation_add")).status_code == 403
    assert client.get(reverse("admin:conversations_interaction_add")).status_code == 403
    assert client.get(reverse("admin:contactcenter_auditrecord_add")).status_code == 403


def test_a_conversation_page_shows_its_interactions_messages_and_offers(client, administrator):
    offer = factories.OfferFactory()
    conversation = offer.interaction.conversation
    factories.MessageFactory(interaction=offer.interaction, body="Where is my parcel?")
    client.force_login(administrator)

    html = client.get(
        reverse("admin:conversations_conversation_change", args=[conversation.pk])
    ).content.decode()

    assert "Where is my parcel?" in html
    assert f"#{offer.pk}" in html
    assert "interactions-TOTAL_FORMS" in html
    assert reverse("monitor", args=[conversation.pk]) in html


def test_conversations_are_found_by_their_number(client, administrator):
    conversation = factories.ConversationFactory()
    factories.ConversationFactory()
    client.force_login(administrator)
    response = client.get(
        reverse("admin:conversations_conversation_changelist"), {"q": conversation.number}
    )
    assert list(response.context["cl"].result_list) == [conversation]


def test_force_not_ready_action_goes_through_the_service_and_is_audited(
    client, supervisor, agent_a
):
    client.force_login(supervisor)
    response = client.post(
        reverse("admin:conversations_agentprofile_changelist"),
        {"action": "force_not_ready", "_selected_action": [agent_a.agent_profile.pk]},
    )
    assert response.status_code == 302
    agent_a.agent_profile.refresh_from_db()
    assert agent_a.agent_profile.state == AgentState.NOT_READY
    assert AuditRecord.objects.filter(action=AuditAction.AGENT_STATE_FORCED).count() == 1


def test_a_batch_action_is_one_transaction(client, administrator, agent_a, agent_b, monkeypatch):
    """When the service refuses one agent of the batch, no agent of the batch is changed."""
    from contactcenter.exceptions import InvalidState
    from conversations import services

    log_out = services.supervisor_agent_log_out

    def refuse_agent_b(*, supervisor, agent):
        if agent.pk == agent_b.pk:
            raise InvalidState("Refused for the test.")
        return log_out(supervisor=supervisor, agent=agent)

    monkeypatch.setattr(services, "supervisor_agent_log_out", refuse_agent_b)
    client.force_login(administrator)

    response = client.post(
        reverse("admin:conversations_agentprofile_changelist"),
        {
            "action": "log_out",
            "_selected_action": [agent_a.agent_profile.pk, agent_b.agent_profile.pk],
        },
        follow=True,
    )

    assert "Refused for the test." in response.content.decode()
    states = dict(AgentProfile.objects.values_list("user_id", "state"))
    assert states[agent_a.pk] == states[agent_b.pk] == AgentState.READY
    assert not AuditRecord.objects.filter(action=AuditAction.AGENT_LOGGED_OUT).exists()


def test_close_action_closes_through_the_service(client, supervisor, service_a):
    interaction = factories.InteractionFactory(
        conversation__service=service_a,
        conversation__agent=None,
        service=service_a,
        state=Interaction.State.QUEUED,
        agent=None,
    )
    client.force_login(supervisor)
    client.post(
        reverse("admin:conversations_conversation_changelist"),
        {"action": "close_selected", "_selected_action": [interaction.conversation_id]},
    )
    assert Conversation.objects.get(pk=interaction.conversation_id).status == "closed"
    assert AuditRecord.objects.filter(action=AuditAction.CONVERSATION_CLOSED).count() == 1


def test_supervisors_see_their_services_rows_only(client, supervisor, service_a, service_b):
    mine = factories.InteractionFactory(conversation__service=service_a, service=service_a)
    factories.InteractionFactory(conversation__service=service_b, service=service_b)
    client.force_login(supervisor)
    for label, expected in (
        ("conversations.Conversation", [mine.conversation]),
        ("conversations.Interaction", [mine]),
        ("conversations.Service", [service_a]),
    ):
        response = client.get(changelist(label))
        assert list(response.context["cl"].result_list) == expected, label


def test_settings_changed_in_the_admin_are_audited(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:conversations_skill_add"), {"name": "French"}, follow=True
    )
    assert response.status_code == 200
    skill = Skill.objects.get(name="French")
    client.post(reverse("admin:conversations_skill_change", args=[skill.pk]), {"name": "Français"})
    client.post(reverse("admin:conversations_skill_delete", args=[skill.pk]), {"post": "yes"})

    actions = list(
        AuditRecord.objects.filter(target_id=str(skill.pk), target_type__model="skill")
        .order_by("id")
        .values_list("action", "actor", "target_repr")
    )
    assert actions == [
        (AuditAction.SETTING_ADDED, administrator.pk, "French"),
        (AuditAction.SETTING_CHANGED, administrator.pk, "Français"),
        (AuditAction.SETTING_DELETED, administrator.pk, "Français"),
    ]


def test_role_actions_set_the_group_and_staff_status_together(client, administrator, agent_a):
    client.force_login(administrator)
    client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "make_supervisor", "_selected_action": [agent_a.pk]},
    )
    agent_a.refresh_from_db()
    assert roles.user_role(agent_a) == roles.SUPERVISOR
    assert agent_a.is_staff
    [record] = AuditRecord.objects.filter(action=AuditAction.ROLE_CHANGED, actor=administrator)
    assert record.details == {"from": "Agent", "to": "Supervisor"}
    page = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "Supervisor" in page


def test_the_audit_log_is_filterable_and_read_only(client, administrator, supervisor, agent_a):
    from conversations import services

    services.supervisor_agent_state_force(
        supervisor=supervisor, agent=agent_a, state=AgentState.NOT_READY
    )
    factories.AuditRecordFactory.create_batch(3)
    client.force_login(administrator)
    url = changelist("contactcenter.AuditRecord")

    forced = client.get(url, {"action__exact": AuditAction.AGENT_STATE_FORCED})
    by_actor = client.get(url, {"actor__id__exact": supervisor.pk})
    searched = client.get(url, {"q": "agent_a"})

    assert [r.actor for r in forced.context["cl"].result_list] == [supervisor]
    assert forced.context["cl"].result_count == 1
    assert by_actor.context["cl"].result_count == 1
    assert {r.action for r in searched.context["cl"].result_list} == {
        AuditAction.AGENT_STATE_FORCED,  # the profile "Agent agent_a"
        AuditAction.ROLE_CHANGED,  # the user agent_a became an Agent
    }
    record = AuditRecord.objects.get(action=AuditAction.AGENT_STATE_FORCED)
    change = client.get(reverse("admin:contactcenter_auditrecord_change", args=[record.pk]))
    assert change.context["adminform"].form.fields == {}
    assert (
        client.post(
            reverse("admin:contactcenter_auditrecord_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_the_admin_index_links_the_floor_view_and_the_reports(client, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse("admin:index")).content.decode()
    assert reverse("floor") in html
    assert reverse("admin:reports") in html


def test_the_roles_exist_after_migrate_with_their_permissions():
    supervisor = Group.objects.get(name=roles.SUPERVISOR)
    codes = set(supervisor.permissions.values_list("codename", flat=True))
    assert {"view_floor", "force_agent_state", "view_reports", "view_conversation"} <= codes
    assert "change_service" not in codes and "supervise_all_services" not in codes
    administrator = Group.objects.get(name=roles.ADMINISTRATOR)
    assert administrator.permissions.filter(codename="supervise_all_services").exists()
    assert administrator.permissions.filter(codename="change_service").exists()
    assert Group.objects.get(name=roles.AGENT).permissions.filter(codename="view_contact").exists()
    assert not Service.objects.exists()
    assert with_role  # personas give roles the same way


def test_a_role_group_given_in_the_user_form_brings_staff_status(client, administrator):
    user = factories.UserFactory(username="newsup")
    client.force_login(administrator)
    page = client.get(reverse("admin:auth_user_change", args=[user.pk]))
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and key not in ("groups", "user_permissions", "password")
    }
    data.update(
        username="newsup",
        groups=[Group.objects.get(name=roles.SUPERVISOR).pk],
        date_joined_0="2026-01-01",
        date_joined_1="10:00:00",
        is_active="on",
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)
    response = client.post(reverse("admin:auth_user_change", args=[user.pk]), data)
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert roles.user_role(user) == roles.SUPERVISOR
    assert user.is_staff
