"""Admin of conversations, routing and agents.

Rows written by the services (conversations, interactions, messages, offers, agent states) are
read-only here: changes go through actions that call the services, one transaction per batch.
Supervisors (view permissions) see the services they supervise and what belongs to them;
administrators see and configure everything. Reports are admin pages too (``report_views``).
"""

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from contactcenter.admin_mixins import AuditedAdmin, ReadOnlyAdmin
from contactcenter.admin_site import AdminLink, admin_link_register
from contactcenter.exceptions import DomainError

from . import services
from .contact_views import move_to_contact
from .models import (
    AgentProfile,
    AgentSkill,
    AgentState,
    BusinessHours,
    CannedResponse,
    Conversation,
    ConversationParticipant,
    CustomFieldDefinition,
    Disposition,
    Holiday,
    Interaction,
    Message,
    NotReadyReason,
    Offer,
    Service,
    ServiceSkill,
    Skill,
    Team,
)
from .permissions import (
    FORCE_AGENT_STATE,
    MANAGE_CONVERSATIONS,
    VIEW_FLOOR,
    in_scope,
    is_supervisor,
    may,
    supervised_agents,
)
from .report_views import register_reports

admin_link_register(
    AdminLink(url_name="floor", title=_("Floor view (live)"), permission=VIEW_FLOOR)
)
register_reports()

#: Inlines of rows that can be many show the newest this many (the changelists show them all).
INLINE_LIMIT = 50


class ScopedAdmin(admin.ModelAdmin):
    """Supervisors see the rows of the services they supervise; administrators see all."""

    scope_field = "service"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if is_supervisor(request.user):
            return in_scope(queryset, request.user, self.scope_field)
        return queryset


class NewestFormSet(BaseInlineFormSet):
    """An inline showing only the newest ``INLINE_LIMIT`` rows (read-only inlines)."""

    def get_queryset(self) -> QuerySet:
        if not hasattr(self, "_newest"):
            ids = list(
                super().get_queryset().order_by("-id").values_list("id", flat=True)[:INLINE_LIMIT]
            )
            self._newest = super().get_queryset().filter(id__in=ids).order_by("id")
        return self._newest


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# --- Configuration --------------------------------------------------------------------------------


class DispositionInline(admin.TabularInline):
    model = Disposition
    extra = 0


class CustomFieldDefinitionInline(admin.TabularInline):
    model = CustomFieldDefinition
    extra = 0
    fields = ["position", "key", "label", "kind", "choices", "required", "active"]


class ServiceSkillInline(admin.TabularInline):
    model = ServiceSkill
    extra = 0
    autocomplete_fields = ["skill"]


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 0
    autocomplete_fields = ["skill"]


@admin.register(Service)
class ServiceAdmin(AuditedAdmin, ScopedAdmin):
    scope_field = "pk"
    list_display = [
        "name",
        "channels",
        "priority",
        "offer_timeout_seconds",
        "after_call_work",
        "disposition_required",
        "service_level_seconds",
        "service_level_percent",
        "time_zone",
    ]
    list_filter = ["after_call_work", "disposition_required", "time_zone"]
    search_fields = ["name"]
    inlines = [
        DispositionInline,
        CustomFieldDefinitionInline,
        ServiceSkillInline,
        BusinessHoursInline,
        HolidayInline,
    ]


@admin.register(Skill)
class SkillAdmin(AuditedAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ["name", "service_count", "member_count"]
    list_filter = ["services"]
    search_fields = ["name", "services__name", "members__display_name"]
    autocomplete_fields = ["services", "members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_services=Count("services", distinct=True),
                n_members=Count("members", distinct=True),
            )
        )

    @admin.display(description=_("services"), ordering="n_services")
    def service_count(self, team: Team) -> int:
        return team.n_services

    @admin.display(description=_("members"), ordering="n_members")
    def member_count(self, team: Team) -> int:
        return team.n_members


@admin.register(Disposition)
class DispositionAdmin(AuditedAdmin, ScopedAdmin):
    list_display = ["name", "service", "is_final", "active", "position"]
    list_filter = ["service", "is_final", "active"]
    list_select_related = ["service"]
    search_fields = ["name", "service__name"]
    autocomplete_fields = ["service"]


@admin.register(NotReadyReason)
class NotReadyReasonAdmin(AuditedAdmin):
    list_display = ["name", "active", "position"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    search_fields = ["name"]


@admin.register(CannedResponse)
class CannedResponseAdmin(AuditedAdmin):
    list_display = ["title", "kind", "service"]
    list_filter = ["kind", "service"]
    list_select_related = ["service"]
    search_fields = ["title", "body"]
    autocomplete_fields = ["service"]


# --- Agents ------------------------------------------------------------------------------------


@admin.register(AgentProfile)
class AgentProfileAdmin(AuditedAdmin):
    list_display = [
        "name",
        "user",
        "state",
        "not_ready_reason",
        "state_changed_at",
        "service_names",
        "last_seen_at",
    ]
    list_filter = ["state", "services", "teams", "language"]
    list_select_related = ["user"]
    search_fields = [
        "display_name",
        "user__username",
        "user__first_name",
        "user__last_name",
        "extension",
    ]
    autocomplete_fields = ["user", "services"]
    readonly_fields = [
        "state",
        "not_ready_reason",
        "state_changed_at",
        "requested_state",
        "requested_reason",
        "ready_since",
        "last_routed_at",
        "last_seen_at",
    ]
    inlines = [AgentSkillInline]
    actions = ["force_ready", "force_not_ready", "log_out"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request).prefetch_related("services")
        if is_supervisor(request.user):
            return queryset.filter(pk__in=supervised_agents(request.user).values("pk"))
        return queryset

    @admin.display(description=_("services"))
    def service_names(self, profile: AgentProfile) -> str:
        return ", ".join(service.name for service in profile.services.all())

    def has_force_state_permission(self, request: HttpRequest) -> bool:
        return may(request.user, FORCE_AGENT_STATE)

    def _batch(self, request: HttpRequest, queryset: QuerySet, act) -> None:
        """One transaction for the batch: all changed, or none (the error is shown)."""
        try:
            with transaction.atomic():
                for profile in queryset.select_related("user"):
                    act(profile.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, _("State changed."), messages.SUCCESS)

    def _force(self, request: HttpRequest, queryset: QuerySet, state: str) -> None:
        self._batch(
            request,
            queryset,
            lambda agent: services.supervisor_agent_state_force(
                supervisor=request.user, agent=agent, state=state
            ),
        )

    @admin.action(description=_("Force Ready"), permissions=["force_state"])
    def force_ready(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._force(request, queryset, AgentState.READY)

    @admin.action(description=_("Force Not Ready"), permissions=["force_state"])
    def force_not_ready(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._force(request, queryset, AgentState.NOT_READY)

    @admin.action(description=_("Log out"), permissions=["force_state"])
    def log_out(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._batch(
            request,
            queryset,
            lambda agent: services.supervisor_agent_log_out(supervisor=request.user, agent=agent),
        )


# --- Conversations, interactions, messages, offers (written by the services only) -------------


class InteractionInline(ReadOnlyInline):
    model = Interaction
    fields = [
        "channel",
        "direction",
        "state",
        "service",
        "customer_address",
        "agent",
        "queued_at",
        "answered_at",
        "abandoned_at",
        "ended_at",
        "transfers",
    ]
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    """The newest messages of the conversation (all of them: the Messages list, filtered)."""

    model = Message
    formset = NewestFormSet
    fields = ["created_at", "channel", "direction", "kind", "sender", "body", "status"]
    readonly_fields = fields
    verbose_name_plural = _("messages (newest)")


class ParticipantInline(ReadOnlyInline):
    model = ConversationParticipant
    fields = ["agent", "joined_at", "left_at"]
    readonly_fields = fields
    show_change_link = False


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = ["agent", "state", "is_transfer", "is_conference", "created_at", "expires_at"]
    readonly_fields = fields


@admin.register(Conversation)
class ConversationAdmin(ScopedAdmin, ReadOnlyAdmin):
    """Read-only: conversations change through the services (the actions below, the desktop,
    the floor view)."""

    list_display = [
        "number",
        "contact",
        "service",
        "agent",
        "status",
        "disposition",
        "opened_at",
        "closed_at",
    ]
    list_filter = ["status", "service", "opened_at", "closed_at"]
    list_select_related = ["contact", "service", "agent", "disposition"]
    search_fields = [
        "=id",
        "contact__first_name",
        "contact__last_name",
        "contact__identities__value",
    ]
    date_hierarchy = "opened_at"
    fields = readonly_fields = [
        "number",
        "contact",
        "service",
        "agent",
        "status",
        "monitor",
        "disposition",
        "wrap_up_notes",
        "opened_at",
        "wrap_up_started_at",
        "closed_at",
        "last_message_at",
        "offers",
    ]
    inlines = [InteractionInline, ParticipantInline, MessageInline]
    actions = [move_to_contact, "close_selected"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """``C-1042`` finds conversation 42 (the number shown everywhere)."""
        term = search_term.strip().upper().removeprefix("#")
        if term.startswith("C-") and term[2:].isdigit():
            number = int(term[2:]) - Conversation.NUMBER_OFFSET
            return queryset.filter(pk=number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("offers"))
    def offers(self, conversation: Conversation) -> str:
        rows = (
            Offer.objects.filter(interaction__conversation=conversation)
            .select_related("agent", "interaction")
            .order_by("-id")[:INLINE_LIMIT]
        )
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        offer.pk,
                        offer.interaction.get_channel_display(),
                        offer.agent,
                        offer.get_state_display(),
                        offer.created_at,
                    )
                    for offer in rows
                ),
            ),
        )

    @admin.display(description=_("live view"))
    def monitor(self, conversation: Conversation) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("monitor", args=[conversation.pk]), _("Monitor")
        )

    def has_close_permission(self, request: HttpRequest) -> bool:
        return may(request.user, MANAGE_CONVERSATIONS)

    @admin.action(description=_("Close the selected conversations"), permissions=["close"])
    def close_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        open_ones = queryset.exclude(status=Conversation.Status.CLOSED)
        try:
            with transaction.atomic():  # one batch, one transaction
                for conversation in open_ones:
                    services.supervisor_conversation_close(
                        supervisor=request.user, conversation=conversation
                    )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, _("Conversations closed."), messages.SUCCESS)


@admin.register(Interaction)
class InteractionAdmin(ScopedAdmin, ReadOnlyAdmin):
    list_display = [
        "id",
        "conversation",
        "channel",
        "direction",
        "state",
        "service",
        "agent",
        "queued_at",
        "answered_at",
        "ended_at",
    ]
    list_filter = ["channel", "state", "direction", "service", "queued_at"]
    list_select_related = ["conversation", "service", "agent"]
    search_fields = ["=id", "=conversation__id", "customer_address", "service_address"]
    date_hierarchy = "started_at"
    inlines = [OfferInline]


@admin.register(Message)
class MessageAdmin(ScopedAdmin, ReadOnlyAdmin):
    scope_field = "conversation__service"
    list_display = [
        "id",
        "conversation",
        "channel",
        "direction",
        "kind",
        "status",
        "sender",
        "created_at",
    ]
    list_filter = ["channel", "direction", "kind", "status", "created_at"]
    list_select_related = ["conversation", "sender"]
    search_fields = ["=id", "=conversation__id", "provider_id", "body"]
    date_hierarchy = "created_at"


@admin.register(Offer)
class OfferAdmin(ScopedAdmin, ReadOnlyAdmin):
    scope_field = "interaction__service"
    list_display = [
        "id",
        "interaction",
        "conversation",
        "agent",
        "state",
        "is_transfer",
        "is_conference",
        "created_at",
        "expires_at",
    ]
    list_filter = ["state", "is_transfer", "is_conference", "created_at"]
    list_select_related = ["interaction__conversation", "agent"]
    search_fields = ["=id", "=interaction__id", "=interaction__conversation__id", "agent__username"]
    date_hierarchy = "created_at"

    @admin.display(description=_("conversation"))
    def conversation(self, offer: Offer) -> str:
        return offer.interaction.conversation.number
