from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .contact_views import move_to_contact
from .models import (
    AgentProfile,
    AgentSkill,
    AgentState,
    BusinessHours,
    CannedResponse,
    Conversation,
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


class DispositionInline(admin.TabularInline):
    model = Disposition
    extra = 0


class ServiceSkillInline(admin.TabularInline):
    model = ServiceSkill
    extra = 0


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["services", "members"]


@admin.register(NotReadyReason)
class NotReadyReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "position"]
    list_editable = ["active", "position"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "service"]
    list_filter = ["service"]
    list_select_related = ["service"]
    search_fields = ["title", "body"]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "interaction",
        "agent",
        "state",
        "is_transfer",
        "created_at",
        "expires_at",
    ]
    list_filter = ["state", "is_transfer"]
    list_select_related = ["interaction", "agent"]
    raw_id_fields = ["interaction", "agent"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "priority",
        "offer_timeout_seconds",
        "after_call_work",
        "disposition_required",
        "service_level_seconds",
    ]
    search_fields = ["name"]
    inlines = [DispositionInline, ServiceSkillInline, BusinessHoursInline, HolidayInline]


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "is_final", "active"]
    list_filter = ["service", "is_final", "active"]
    list_select_related = ["service"]


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "state", "not_ready_reason", "state_changed_at"]
    list_filter = ["state", "services"]
    list_select_related = ["user"]
    filter_horizontal = ["services"]
    inlines = [AgentSkillInline]
    actions = ["force_ready", "force_not_ready"]

    def _force(self, request, queryset, state: str) -> None:
        for profile in queryset.select_related("user"):
            services.agent_state_force(supervisor=request.user, agent=profile.user, state=state)
        self.message_user(request, _("State changed."), messages.SUCCESS)

    @admin.action(description=_("Force Ready"))
    def force_ready(self, request, queryset) -> None:
        self._force(request, queryset, AgentState.READY)

    @admin.action(description=_("Force Not Ready"))
    def force_not_ready(self, request, queryset) -> None:
        self._force(request, queryset, AgentState.NOT_READY)


class InteractionInline(admin.TabularInline):
    model = Interaction
    extra = 0
    fields = [
        "channel",
        "direction",
        "state",
        "customer_address",
        "agent",
        "started_at",
        "ended_at",
    ]
    readonly_fields = fields
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["number", "contact", "service", "agent", "status", "opened_at", "closed_at"]
    list_filter = ["status", "service"]
    list_select_related = ["contact", "service", "agent"]
    search_fields = ["contact__first_name", "contact__last_name", "contact__identities__value"]
    raw_id_fields = ["contact", "agent", "disposition"]
    filter_horizontal = ["duplicate_candidates"]
    inlines = [InteractionInline]
    actions = [move_to_contact]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "channel", "direction", "state", "agent", "started_at"]
    list_filter = ["channel", "state"]
    list_select_related = ["conversation", "agent"]
    raw_id_fields = ["conversation", "agent"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "channel", "direction", "status", "created_at"]
    list_filter = ["channel", "direction", "status"]
    list_select_related = ["conversation"]
    search_fields = ["provider_id", "body"]
    raw_id_fields = ["conversation", "interaction", "sender"]
