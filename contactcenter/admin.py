from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from . import realtime, roles, tokens, webhooks
from .admin_mixins import AuditedAdmin, ReadOnlyAdmin
from .exceptions import DomainError
from .models import (
    ApiToken,
    AuditRecord,
    Event,
    IdempotencyKey,
    Scope,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


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


# --- API tokens -------------------------------------------------------------------------------


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiToken
        fields = ["name", "user", "scopes", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    """Tokens for integrations. The key is shown once, on the page after "Save"; only its hash
    is stored. Revoke a token to stop it at once."""

    form = ApiTokenForm
    list_display = [
        "name",
        "user",
        "prefix",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    raw_id_fields = ["user"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return []
        return ["user", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return ["name", "user", "scopes", "expires_at"]
        return [
            "name",
            "user",
            "prefix",
            "scopes",
            "expires_at",
            "created_at",
            "created_by",
            "last_used_at",
            "revoked_at",
        ]

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = tokens.api_token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by=request.user,
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk = token.pk
        obj.prefix = token.prefix
        request._new_api_key = key  # shown by response_add, never stored

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue=None):
        key = getattr(request, "_new_api_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("API token created"),
            "opts": self.model._meta,
            "token": ApiToken.objects.select_related("user").get(pk=obj.pk),
            "key": key,
        }
        return TemplateResponse(request, "admin/contactcenter/apitoken/created.html", context)

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for token in queryset:
            tokens.api_token_revoke(token=token)
        self.message_user(
            request,
            gettext("%(count)s token(s) revoked.") % {"count": queryset.count()},
            messages.SUCCESS,
        )


# --- Webhooks ---------------------------------------------------------------------------------


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Event types"), widget=forms.CheckboxSelectMultiple, choices=()
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "user", "event_types", "active"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = [
            (event_type, f"{event_type}: {description}")
            for event_type, description in realtime.event_types().items()
        ]

    def clean(self) -> dict:
        data = super().clean()
        try:
            webhooks.subscription_fields_clean(
                name=data.get("name", ""),
                url=data.get("url", ""),
                event_types=data.get("event_types", []),
            )
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(AuditedAdmin):
    """Events sent to an integration's URL, signed with the subscription's secret (shown on the
    subscription's page). Deliveries and their attempts: Webhook deliveries."""

    form = WebhookSubscriptionForm
    list_display = ["name", "url", "user", "active", "last_event_id", "created_at"]
    list_filter = ["active"]
    list_select_related = ["user"]
    search_fields = ["name", "url"]
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return ["user", "secret", "last_event_id", "created_at"] if obj else []

    def save_model(self, request, obj: WebhookSubscription, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            webhooks.webhook_subscription_update(subscription=obj, data=data)
            return
        created = webhooks.webhook_subscription_create(
            user=data["user"],
            name=data["name"],
            url=data["url"],
            event_types=data["event_types"],
            active=data.get("active", True),
        )
        obj.pk = created.pk


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "number",
        "attempted_at",
        "outcome",
        "status_code",
        "error",
        "response_body",
        "duration_ms",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every event sent to every subscription, with each attempt."""

    list_display = [
        "id",
        "subscription",
        "event_type",
        "event_id",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event_type"]
    list_select_related = ["subscription"]
    search_fields = ["event_type", "subscription__name"]
    readonly_fields = [
        "subscription",
        "event_id",
        "event_type",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
    ]
    exclude = ["status_changed_at"]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=gettext_lazy("Redeliver the selected deliveries"))
    def redeliver(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        done = 0
        for delivery in queryset:
            try:
                webhooks.webhook_redeliver(delivery=delivery)
            except DomainError as exc:
                self.message_user(request, f"#{delivery.pk}: {exc.message}", messages.WARNING)
            else:
                done += 1
        self.message_user(
            request,
            gettext("%(count)s delivery(ies) queued again.") % {"count": done},
            messages.SUCCESS,
        )
        return None


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    """API ``Idempotency-Key`` records (pruned after ``IDEMPOTENCY_KEY_TTL_HOURS``)."""

    list_display = ["key", "user", "status_code", "created_at"]
    list_filter = ["status_code", "created_at"]
    list_select_related = ["user"]
    search_fields = ["key", "user__username"]
