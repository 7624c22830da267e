from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """A durable, numbered fact shown to desktops. The channel layer only rings the doorbell."""

    id = models.BigAutoField(primary_key=True)
    audience = models.CharField(max_length=90, db_index=False)
    type = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["audience", "id"], name="event_audience_id")]

    def __str__(self) -> str:
        return f"#{self.id} {self.type} → {self.audience}"

    def as_message(self) -> dict:
        return {
            "id": self.id,
            "type": self.type,
            "audience": self.audience,
            "payload": self.payload,
            "at": self.created_at.isoformat(),
        }

    def as_public(self) -> dict:
        """What integrations see (event feed, webhooks): no internal audience."""
        return {
            "id": self.id,
            "type": self.type,
            "payload": self.payload,
            "at": self.created_at.isoformat(),
        }


class AuditAction(models.TextChoices):
    """What somebody did. Supervisors' actions, merges, moves, roles and settings changes."""

    AGENT_STATE_FORCED = "agent.state_forced", _("Forced an agent's state")
    AGENT_LOGGED_OUT = "agent.logged_out", _("Logged an agent out")
    INTERACTION_ASSIGNED = "interaction.assigned", _("Assigned a waiting interaction")
    CONVERSATION_TRANSFERRED = "conversation.transferred", _("Transferred a conversation")
    CONVERSATION_CLOSED = "conversation.closed", _("Closed a conversation")
    CONVERSATION_MONITORED = "conversation.monitored", _("Monitored a conversation")
    CONVERSATION_WHISPERED = "conversation.whispered", _("Whispered to an agent")
    CONVERSATION_BARGED = "conversation.barged", _("Barged in on a conversation")
    CONVERSATION_MOVED = "conversation.moved", _("Moved a conversation to another contact")
    CONTACT_MERGED = "contact.merged", _("Merged two contacts")
    CONTACT_MERGE_UNDONE = "contact.merge_undone", _("Undid a contact merge")
    ROLE_CHANGED = "user.role_changed", _("Changed a user's role")
    SETTING_ADDED = "setting.added", _("Added a setting")
    SETTING_CHANGED = "setting.changed", _("Changed a setting")
    SETTING_DELETED = "setting.deleted", _("Deleted a setting")


class AuditRecord(models.Model):
    """Who did what to which conversation, contact, agent or setting, and when (append only)."""

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    action = models.CharField(_("what"), max_length=40, choices=AuditAction.choices)
    target_type = models.ForeignKey(
        ContentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kind of object"),
    )
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_repr = models.CharField(_("object"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["action", "created_at"], name="audit_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} · {self.get_action_display()} · {self.target_repr}"


# --- API tokens -----------------------------------------------------------------------------


class Scope(models.TextChoices):
    """What an API token may do. Session-authenticated calls (the desktop) are not scoped."""

    READ = "read", _("Read (GET everything the user may see)")
    WRITE = "write", _("Write (create and change contacts, conversations, messages)")
    CTI = "cti", _("CTI (agent state and offers, as a telephony connector needs)")
    WEBHOOKS = "webhooks", _("Webhooks (manage subscriptions and see deliveries)")


class ApiToken(models.Model):
    """A credential of an integration, acting as ``user`` within its scopes.

    Only a SHA-256 hash of the key is stored; the key is shown once, when the token is created.
    ``prefix`` (the key's first characters) finds the row without the key."""

    PREFIX_LENGTH = 12

    name = models.CharField(_("name"), max_length=120)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("acts as user"),
        help_text=_("The token sees and does what this user may, within its scopes."),
    )
    prefix = models.CharField(_("key prefix"), max_length=PREFIX_LENGTH, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` and the response its first successful POST produced."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_user_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


# --- Outbound webhooks ------------------------------------------------------------------------


class WebhookSubscription(models.Model):
    """Events of the chosen types, as ``user`` may see them, POSTed to ``url`` signed with
    ``secret`` (HMAC-SHA256 over the timestamp and the body)."""

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("URL"), max_length=2000)
    secret = models.CharField(
        _("signing secret"), max_length=128, help_text=_("Receivers verify the signature with it.")
    )
    event_types = models.JSONField(_("event types"), default=list)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        verbose_name=_("sees events as user"),
        help_text=_("Only events this user may see are sent (supervisors: all)."),
    )
    active = models.BooleanField(_("active"), default=True)
    last_event_id = models.BigIntegerField(
        default=0, help_text=_("Events up to this id have been looked at.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one subscription: the outbox row of a webhook. A delivery is claimed with a
    conditional update (pending -> sending), so a redelivered task never sends it twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.BigIntegerField(_("event"))
    event_type = models.CharField(_("event type"), max_length=60)
    payload = models.JSONField(_("body"), encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="webhook_delivery_once_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type} → {self.subscription_id}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, as the delivery log shows it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    attempted_at = models.DateTimeField(_("at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_body = models.CharField(_("response"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10)

    class Meta:
        ordering = ["delivery", "number", "id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id}/{self.number} {self.outcome}"
