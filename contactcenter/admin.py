from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from . import roles
from .admin_mixins import AuditedAdmin, ReadOnlyAdmin
from .exceptions import DomainError
from .models import AuditRecord, Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "audience", "created_at"]
    list_filter = ["type"]
    search_fields = ["audience", "type"]
    date_hierarchy = "created_at"
    readonly_fields = ["audience", "type", "payload", "created_at"]


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    """The audit log: who did what to which conversation, contact, agent or setting."""

    list_display = ["created_at", "actor_name", "action", "target_type", "target_repr"]
    list_filter = [
        "action",
        ("target_type", admin.RelatedOnlyFieldListFilter),
        ("actor", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    list_select_related = ["actor", "target_type"]
    search_fields = ["target_repr", "target_id", "actor_name", "actor__username"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "created_at",
        "actor",
        "actor_name",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "details",
    ]


# --- Users and roles ------------------------------------------------------------------------------

User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(AuditedAdmin, GroupAdmin):
    list_display = ["name"]


@admin.register(User)
class ContactCenterUserAdmin(AuditedAdmin, UserAdmin):
    """Users with their role. The role actions set the role's group and the staff status that goes
    with it together (``contactcenter.roles.user_role_set``)."""

    list_display = ["username", "first_name", "last_name", "email", "role", "is_active"]
    list_filter = ["groups", "is_staff", "is_superuser", "is_active"]
    actions = ["make_agent", "make_supervisor", "make_administrator"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("groups")

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        roles.user_staff_sync(user=form.instance)

    @admin.display(description=_("role"))
    def role(self, user) -> str:
        role = roles.user_role(user)
        return str(roles.ROLE_LABELS.get(role, "—"))

    def _set_role(self, request: HttpRequest, queryset: QuerySet, role: str) -> None:
        try:
            with transaction.atomic():  # one batch, one transaction
                for user in queryset:
                    roles.user_role_set(actor=request.user, user=user, role=role)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(
            request,
            _("%(count)s user(s) are now %(role)s.")
            % {"count": queryset.count(), "role": roles.ROLE_LABELS[role]},
            messages.SUCCESS,
        )

    @admin.action(description=_("Make Agent"), permissions=["change"])
    def make_agent(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_role(request, queryset, roles.AGENT)

    @admin.action(description=_("Make Supervisor"), permissions=["change"])
    def make_supervisor(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_role(request, queryset, roles.SUPERVISOR)

    @admin.action(description=_("Make Administrator"), permissions=["change"])
    def make_administrator(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_role(request, queryset, roles.ADMINISTRATOR)
