from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact


class Channel(models.TextChoices):
    VOICE = "voice", _("Voice")
    CHAT = "chat", _("Chat")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class Service(models.Model):
    """What the customer contacted: a queue with its channels, dispositions and wrap-up rules."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    after_call_work = models.BooleanField(_("after-call work"), default=True)
    after_call_work_seconds = models.PositiveIntegerField(_("after-call-work timeout"), default=120)
    disposition_required = models.BooleanField(_("disposition required"), default=False)
    service_level_seconds = models.PositiveIntegerField(_("service-level threshold"), default=20)
    service_level_percent = models.PositiveSmallIntegerField(_("service-level target"), default=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Disposition(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="dispositions")
    name = models.CharField(_("name"), max_length=120)
    is_final = models.BooleanField(_("final"), default=True)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["service", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="disposition_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.name}"


class AgentState(models.TextChoices):
    READY = "ready", _("Ready")
    NOT_READY = "not_ready", _("Not Ready")
    BUSY = "busy", _("Busy")
    AFTER_CALL_WORK = "acw", _("After Call Work")
    OFFERED = "offered", _("Offered")
    LOGGED_OUT = "logged_out", _("Logged out")


class AgentProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    state = models.CharField(
        max_length=20, choices=AgentState.choices, default=AgentState.NOT_READY
    )
    not_ready_reason = models.CharField(max_length=120, blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    services = models.ManyToManyField(Service, related_name="agents", blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "state_changed_at"], name="agent_state_idle")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_full_name() or self.user.get_username()


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WRAP_UP = "wrap_up", _("Wrap-up")
        CLOSED = "closed", _("Closed")

    NUMBER_OFFSET = 1000

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="conversations")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    disposition = models.ForeignKey(Disposition, on_delete=models.PROTECT, null=True, blank=True)
    wrap_up_notes = models.TextField(blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    duplicate_candidates = models.ManyToManyField(Contact, blank=True, related_name="+")

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["agent", "status"], name="conversation_agent_status"),
            models.Index(fields=["contact", "-opened_at"], name="conversation_contact_recent"),
            models.Index(fields=["status", "opened_at"], name="conversation_status_opened"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"C-{self.pk + self.NUMBER_OFFSET}" if self.pk else "C-?"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class Interaction(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="interactions"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    customer_address = models.CharField(max_length=320, blank=True)
    service_address = models.CharField(max_length=320, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Undelivered")
    FAILED = "failed", _("Failed")
    READ = "read", _("Read")


# Status only moves up this ladder; terminal outcomes share a rank so one never replaces another.
STATUS_RANK = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.READ: 4,
}


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        INTERNAL = "internal", _("Internal")

    class Kind(models.TextChoices):
        TEXT = "text", _("Message")
        NOTE = "note", _("Internal note")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, related_name="messages", null=True, blank=True
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=MessageStatus.choices)
    provider_id = models.CharField(max_length=120, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    client_token = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_id"],
                condition=~Q(provider_id=""),
                name="message_provider_id_unique",
            ),
            models.UniqueConstraint(
                fields=["sender", "client_token"],
                condition=~Q(client_token=""),
                name="message_client_token_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_conversation_id"),
            models.Index(fields=["status", "status_changed_at"], name="message_status_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.channel} #{self.pk}"
