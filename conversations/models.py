from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contacts.models import Contact


class Channel(models.TextChoices):
    VOICE = "voice", _("Voice")
    CHAT = "chat", _("Chat")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    API = "api", _("API channel")
    VOICEMAIL = "voicemail", _("Voicemail")


class Service(models.Model):
    """What the customer contacted: a queue with its channels, dispositions and wrap-up rules."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    after_call_work = models.BooleanField(_("after-call work"), default=True)
    after_call_work_seconds = models.PositiveIntegerField(_("after-call-work timeout"), default=120)
    disposition_required = models.BooleanField(_("disposition required"), default=False)
    service_level_seconds = models.PositiveIntegerField(_("service-level threshold"), default=20)
    service_level_percent = models.PositiveSmallIntegerField(_("service-level target"), default=80)
    priority = models.SmallIntegerField(
        _("priority"), default=0, help_text=_("Higher is served first across services.")
    )
    offer_timeout_seconds = models.PositiveIntegerField(_("offer timeout"), default=20)
    auto_accept_channels = models.JSONField(
        _("auto-accept channels"),
        default=list,
        blank=True,
        help_text=_('Channels whose offers are accepted automatically, e.g. ["sms"].'),
    )
    time_zone = models.CharField(_("time zone"), max_length=60, default="UTC")
    call_recording = models.CharField(
        _("call recording"),
        max_length=10,
        choices=[
            ("off", _("Off")),
            ("on", _("On")),
            ("notice", _("On, with a notice to the customer")),
        ],
        default="off",
    )
    recording_retention_days = models.PositiveIntegerField(
        _("recording retention (days)"),
        default=90,
        help_text=_("Recordings older than this are deleted. 0 keeps them."),
    )
    voice_language = models.CharField(
        _("language of phone prompts"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_(
            "What callers hear: the greeting, their place in the queue, the closed message."
        ),
    )
    voice_greeting = models.CharField(
        _("phone greeting"),
        max_length=500,
        blank=True,
        help_text=_("Said when a caller reaches the service. Empty: a standard greeting."),
    )
    voice_queue_voicemail_seconds = models.PositiveIntegerField(
        _("voicemail after waiting (seconds)"),
        default=0,
        help_text=_(
            "A phone caller who waited this long in the queue is offered to leave a voicemail "
            "instead. 0: callers wait as long as they like."
        ),
    )
    voice_closed_message = models.CharField(
        _("closed message"),
        max_length=500,
        blank=True,
        help_text=_(
            "Said outside business hours before the caller leaves a voicemail. Empty: a standard "
            "message."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceSkill(models.Model):
    """A skill an interaction of this service needs, at a minimum level."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="required_skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="+")
    min_level = models.PositiveSmallIntegerField(_("minimum level"), default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "skill"], name="service_skill_unique")
        ]

    def __str__(self) -> str:
        return f"{self.skill} ≥ {self.min_level}"


class BusinessHours(models.Model):
    """One opening period of a service on a weekday (several per day allowed)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="business_hours")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (i, d)
            for i, d in enumerate(
                [
                    _("Monday"),
                    _("Tuesday"),
                    _("Wednesday"),
                    _("Thursday"),
                    _("Friday"),
                    _("Saturday"),
                    _("Sunday"),
                ]
            )
        ],
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["service", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")),
                name="business_hours_opens_before_closes",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Holiday(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["service", "date"], name="holiday_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


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


class CustomFieldDefinition(models.Model):
    """A field of a service's conversations that the agent fills in during the conversation (an
    order number, a reason, "callback wanted"), saved in ``Conversation.custom_fields`` under
    ``key``, beside what integrations put there. Required ones block wrap-up until filled."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        CHOICE = "choice", _("Choice")
        YES_NO = "yes_no", _("Yes / no")

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="custom_field_definitions"
    )
    key = models.SlugField(
        _("key"),
        max_length=40,
        help_text=_("The field's name in the conversation's custom fields and the API."),
    )
    label = models.CharField(_("label"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For a choice field: one option per line.")
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["service", "position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [
            models.UniqueConstraint(fields=["service", "key"], name="custom_field_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.label}"

    @property
    def options(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class AgentState(models.TextChoices):
    READY = "ready", _("Ready")
    NOT_READY = "not_ready", _("Not Ready")
    BUSY = "busy", _("Busy")
    AFTER_CALL_WORK = "acw", _("After Call Work")
    OFFERED = "offered", pgettext_lazy("agent state", "Offered")
    LOGGED_OUT = "logged_out", _("Logged out")


class Team(models.Model):
    """A group of agents assigned to services together (an agent also may be assigned directly)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    services = models.ManyToManyField(Service, related_name="teams", blank=True)
    members = models.ManyToManyField("AgentProfile", related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class NotReadyReason(models.Model):
    """Reasons agents pick for Not Ready (managed in admin). System reasons are applied
    automatically: "missed offer", "disconnected"."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class CannedResponse(models.Model):
    """A reply template, or a knowledge article agents read (and may quote) during a
    conversation; placeholders {{ contact.first_name }}, {{ agent.name }}, {{ case }}."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Canned response")
        ARTICLE = "article", _("Knowledge article")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REPLY)
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        null=True,
        blank=True,
        help_text=_("Empty: available in every service."),
    )
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    url = models.URLField(
        _("source"), blank=True, help_text=_("An article's page in your knowledge base, if any.")
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class AgentSkill(models.Model):
    agent = models.ForeignKey("AgentProfile", on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agents")
    level = models.PositiveSmallIntegerField(_("level"), default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "skill"], name="agent_skill_unique")
        ]

    def __str__(self) -> str:
        return f"{self.skill} {self.level}"


class AgentProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    state = models.CharField(
        max_length=20, choices=AgentState.choices, default=AgentState.LOGGED_OUT
    )
    not_ready_reason = models.CharField(max_length=120, blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    services = models.ManyToManyField(Service, related_name="agents", blank=True)
    capacity_overrides = models.JSONField(
        _("capacity overrides"),
        default=dict,
        blank=True,
        help_text=_(
            'Per-agent capacity in percent, e.g. {"share": {"chat": 50}, "spare": {"voice": 100}}.'
        ),
    )
    last_routed_at = models.DateTimeField(null=True, blank=True)
    ready_since = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Last heartbeat of the agent's desktop.")
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: follow the browser."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=60, blank=True, help_text=_("Empty: the server's time zone.")
    )
    requested_state = models.CharField(max_length=20, blank=True)
    requested_reason = models.CharField(max_length=120, blank=True)
    ready_on_login = models.BooleanField(
        _("Ready on login"),
        default=False,
        help_text=_("Logging in makes the agent Ready (otherwise Not Ready)."),
    )
    voice_endpoint = models.CharField(
        _("phone for Twilio calls"),
        max_length=200,
        blank=True,
        help_text=_(
            "Where Twilio rings this agent for phone calls: a phone number (+14155550123), a SIP "
            "address (sip:201@pbx.example.com) or a Twilio Voice SDK client (client:alex)."
        ),
    )
    extension = models.CharField(
        _("phone extension"),
        max_length=40,
        blank=True,
        help_text=_(
            "The agent's extension on the phone system (PBX): CTI events naming it pop the "
            "caller's conversation on this agent's desktop."
        ),
    )

    class Meta:
        indexes = [models.Index(fields=["state", "state_changed_at"], name="agent_state_idle")]
        permissions = [("force_agent_state", _("Can force agents' state and log them out"))]
        constraints = [
            models.UniqueConstraint(
                fields=["extension"],
                condition=~Q(extension=""),
                name="agent_extension_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_full_name() or self.user.get_username()

    def capacity_share(self, channel: str) -> int:
        """Percent of this agent's capacity one interaction of ``channel`` takes."""
        overrides = (self.capacity_overrides or {}).get("share", {})
        return int(overrides.get(channel, settings.CAPACITY_SHARE.get(channel, 100)))

    def capacity_spare_needed(self, channel: str) -> int:
        """Spare capacity (percent) the agent needs to be offered ``channel``."""
        overrides = (self.capacity_overrides or {}).get("spare", {})
        return int(overrides.get(channel, settings.CAPACITY_SPARE_NEEDED.get(channel, 100)))


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WRAP_UP = "wrap_up", _("Wrap-up")
        CLOSED = "closed", _("Closed")

    class CaseState(models.TextChoices):
        """Where the customer's case stands (``conversations.services.cases``). Pending and
        Resolved cases are parked: no interaction is open, the agent keeps them in My queue."""

        NEW = "new", pgettext_lazy("case state", "New")
        OPEN = "open", pgettext_lazy("case state", "Open")
        PENDING = "pending", pgettext_lazy("case state", "Pending")
        RESOLVED = "resolved", pgettext_lazy("case state", "Resolved")
        CLOSED = "closed", pgettext_lazy("case state", "Closed")

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
    wrap_up_started_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    duplicate_candidates = models.ManyToManyField(Contact, blank=True, related_name="+")
    case_state = models.CharField(
        _("case state"), max_length=10, choices=CaseState.choices, default=CaseState.NEW
    )
    pending_reason = models.CharField(_("pending reason"), max_length=200, blank=True)
    follow_up_at = models.DateTimeField(_("follow-up time"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    follows = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followed_by",
        verbose_name=_("follows"),
        help_text=_("The closed conversation this one continues (the customer wrote again)."),
    )
    custom_fields = models.JSONField(
        _("custom fields"),
        default=dict,
        blank=True,
        help_text=_("Set by integrations (e.g. a CRM case id); names to text, numbers or flags."),
    )

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["agent", "status"], name="conversation_agent_status"),
            models.Index(fields=["contact", "-opened_at"], name="conversation_contact_recent"),
            models.Index(fields=["status", "opened_at"], name="conversation_status_opened"),
            models.Index(fields=["case_state", "follow_up_at"], name="conversation_follow_up"),
            models.Index(fields=["case_state", "resolved_at"], name="conversation_resolved"),
        ]
        permissions = [
            ("view_floor", _("Can see the live floor view")),
            ("monitor_conversation", _("Can monitor conversations, whisper and barge in")),
            ("manage_conversation", _("Can transfer and close other agents' conversations")),
            ("assign_interaction", _("Can assign waiting interactions to agents")),
            ("view_reports", _("Can see reports")),
            ("supervise_all_services", _("Supervises every service, not only their teams'")),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"C-{self.pk + self.NUMBER_OFFSET}" if self.pk else "C-?"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    @property
    def is_parked(self) -> bool:
        """Pending or Resolved: the case waits with its agent, no interaction open."""
        return self.case_state in PARKED_CASE_STATES


PARKED_CASE_STATES = (Conversation.CaseState.PENDING, Conversation.CaseState.RESOLVED)


class Interaction(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        OFFERED = "offered", _("Offered")
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
    # Routing
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="interactions", null=True, blank=True
    )
    priority = models.SmallIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    required_skills = models.JSONField(default=dict, blank=True)
    preferred_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    personal_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Only this agent may be offered it (personal queue)."),
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    # Reports: the wrap-up that followed this interaction ended (set on the interaction whose end
    # started the conversation's wrap-up), and how many times it was handed to someone else.
    wrap_up_ended_at = models.DateTimeField(null=True, blank=True)
    transfers = models.PositiveSmallIntegerField(default=0)
    # A call a phone system (CTI) queues and routes itself: it waits in that system's queue, and
    # our router never offers it; the PBX's events put it on an agent.
    external_routing = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["service", "state", "queued_at"], name="interaction_queue"),
            models.Index(fields=["agent", "state"], name="interaction_agent_load"),
            models.Index(fields=["queued_at"], name="interaction_queued_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"


class ConversationParticipant(models.Model):
    """Another agent in a conversation (a chat conference). The owner stays ``conversation.agent``
    until they leave; then the participant who joined first takes over (a completed transfer)."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "agent"],
                condition=Q(left_at__isnull=True),
                name="participant_one_active_per_agent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent} in {self.conversation}"


class Offer(models.Model):
    """An interaction proposed to an agent. At most one live offer per interaction."""

    class State(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.OFFERED)
    is_transfer = models.BooleanField(default=False)
    is_conference = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["interaction"],
                condition=Q(state="offered", is_conference=False),
                name="offer_one_live_per_interaction",
            )
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="offer_live_expiry")]

    def __str__(self) -> str:
        return f"Offer #{self.pk} {self.state}"


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
    # A system line: its text's code and parameters (rendered in the reader's language; ``body``
    # keeps the sentence in the site's language). See conversations.system_lines.
    system_code = models.CharField(max_length=40, blank=True)
    system_params = models.JSONField(default=dict, blank=True)
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
