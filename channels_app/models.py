import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations.models import Channel, Service


class EntryPoint(models.Model):
    """An address customers use (phone number, email address, chat widget) mapped to a service."""

    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(
        _("address"),
        max_length=320,
        help_text=_("E.164 phone number, email address, or the chat widget's slug."),
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="entry_points")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["channel", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address"], name="entry_point_unique_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()} {self.address})"


class LocalOutboxItem(models.Model):
    """What the built-in local adapters 'sent' (no SMS provider, no SMTP server configured): the
    demo's outbox at /channels/outbox/. Emails keep their subject, CC and Message-ID."""

    message_id = models.BigIntegerField(unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    from_address = models.CharField(max_length=320)
    to_address = models.CharField(max_length=320)
    cc = models.CharField(max_length=2000, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    email_message_id = models.CharField(max_length=255, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        if self.subject:
            return f"{self.subject} → {self.to_address}"
        return f"{self.from_address} → {self.to_address}"

    @property
    def provider_id(self) -> str:
        return f"LOCAL{self.pk:030d}"


# --- API channel --------------------------------------------------------------------------------


def new_api_channel_secret() -> str:
    return "apisec_" + secrets.token_urlsafe(32)


class ApiChannelSettings(models.Model):
    """An API channel entry point (channel API, address = a slug): an external system posts its
    customers' messages to ``/api/v1/channels/api/<slug>/messages/``, and agents' replies are
    POSTed to ``reply_url``, signed with ``secret``."""

    entry_point = models.OneToOneField(
        EntryPoint, on_delete=models.CASCADE, related_name="api_channel"
    )
    reply_url = models.URLField(
        _("reply URL"),
        max_length=2000,
        help_text=_("Agents' replies are POSTed here as signed JSON."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=128,
        default=new_api_channel_secret,
        help_text=_("The receiving system verifies the X-CC-Signature of each reply with it."),
    )

    class Meta:
        verbose_name = _("API channel settings")
        verbose_name_plural = _("API channel settings")
        permissions = [
            ("post_api_inbound", _("Can post customers' messages into API channels")),
        ]

    def __str__(self) -> str:
        return str(self.entry_point)


# --- Web chat -----------------------------------------------------------------------------------


class PreChatField(models.TextChoices):
    HIDDEN = "hidden", _("Not asked")
    OPTIONAL = "optional", _("Optional")
    REQUIRED = "required", _("Required")


class WebChatSettings(models.Model):
    """How the chat widget of one chat entry point behaves. Without a row, the defaults apply."""

    entry_point = models.OneToOneField(
        EntryPoint, on_delete=models.CASCADE, related_name="webchat_settings"
    )
    title = models.CharField(
        _("title"), max_length=120, blank=True, help_text=_("Defaults to the entry point's name.")
    )
    greeting = models.TextField(_("greeting"), blank=True)
    prechat_enabled = models.BooleanField(_("pre-chat form"), default=True)
    prechat_name = models.CharField(
        _("name"), max_length=10, choices=PreChatField.choices, default=PreChatField.REQUIRED
    )
    prechat_email = models.CharField(
        _("email"), max_length=10, choices=PreChatField.choices, default=PreChatField.REQUIRED
    )
    prechat_phone = models.CharField(
        _("phone"), max_length=10, choices=PreChatField.choices, default=PreChatField.OPTIONAL
    )
    prechat_question = models.CharField(
        _("question"), max_length=10, choices=PreChatField.choices, default=PreChatField.REQUIRED
    )
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        help_text=_(
            "Websites that may embed the widget, one origin per line "
            "(e.g. https://www.example.com), or * for any. Empty: only this server's own pages."
        ),
    )
    web_calls = models.BooleanField(
        _("web calls"),
        default=False,
        help_text=_(
            "Customers can call from the widget (Call us) and talk in their browser; "
            "routed like any call of the service."
        ),
    )
    offline_form_enabled = models.BooleanField(
        _("offline message form"),
        default=True,
        help_text=_(
            "Outside the service's business hours or with nobody available, customers can "
            "leave a message (it becomes an email conversation)."
        ),
    )
    inactivity_timeout_seconds = models.PositiveIntegerField(
        _("inactivity timeout (seconds)"),
        null=True,
        blank=True,
        help_text=_("Empty: the server default (WEBCHAT_INACTIVITY_SECONDS)."),
    )
    max_message_length = models.PositiveIntegerField(
        _("maximum message length"),
        null=True,
        blank=True,
        help_text=_("Empty: the server default (WEBCHAT_MAX_MESSAGE_LENGTH)."),
    )

    class Meta:
        verbose_name = _("web chat settings")
        verbose_name_plural = _("web chat settings")

    def __str__(self) -> str:
        return str(self.entry_point)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .webchat.config import parse_origins

        try:
            parse_origins(self.allowed_origins)
        except ValueError as exc:
            raise ValidationError({"allowed_origins": str(exc)}) from exc


class ChatSession(models.Model):
    """One visitor's chat on a chat entry point: the channel details of a chat interaction.

    The visitor is known only by the id inside their signed token. The session is bound to its
    conversation and interaction by the first message. ``idle_since``/``warn_at``/``expires_at``
    drive the inactivity timeout (only while an agent is on the chat).
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ENDED = "ended", _("Ended")

    class EndReason(models.TextChoices):
        CUSTOMER = "customer", _("Ended by the customer")
        AGENT = "agent", _("Ended by the agent")
        INACTIVITY = "inactivity", _("Customer inactive")
        LEFT = "left", _("Customer left while waiting")

    entry_point = models.ForeignKey(
        EntryPoint, on_delete=models.PROTECT, related_name="chat_sessions"
    )
    visitor_id = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    end_reason = models.CharField(max_length=12, choices=EndReason.choices, blank=True)
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    email = models.CharField(max_length=320, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    question = models.TextField(
        blank=True, help_text=_("The question asked in the pre-chat form (also the first message).")
    )
    language = models.CharField(max_length=12, blank=True)
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_sessions",
    )
    interaction = models.ForeignKey(
        "conversations.Interaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_sessions",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The agent the customer was last told about."),
    )
    agent_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    idle_since = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    inactivity_seconds = models.PositiveIntegerField(default=600)
    page_url = models.CharField(max_length=2000, blank=True)
    page_title = models.CharField(max_length=300, blank=True)
    page_changed_at = models.DateTimeField(null=True, blank=True)
    agent_read_up_to = models.BigIntegerField(default=0)
    queue_position = models.PositiveIntegerField(null=True, blank=True)
    queue_wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    customer_seen_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Last sign of the customer's widget (socket open).")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry_point", "visitor_id"],
                condition=Q(state="open"),
                name="chat_session_one_open_per_visitor",
            )
        ]
        indexes = [
            models.Index(fields=["state", "expires_at"], name="chat_session_expiry"),
            models.Index(fields=["state", "warn_at"], name="chat_session_warning"),
            models.Index(fields=["entry_point", "visitor_id"], name="chat_session_visitor"),
        ]

    def __str__(self) -> str:
        return f"Chat #{self.pk} ({self.get_state_display()})"

    @property
    def audience(self) -> str:
        """The event-log audience (and channel-layer group) of the customer's widget."""
        return chat_audience(self.pk)

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def customer_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def chat_audience(session_id: int) -> str:
    return f"chat.{session_id}"


class ChatNotice(models.Model):
    """A system line the customer sees in their transcript ("Alex joined the chat"), stored as a
    code and parameters so it is shown in the customer's language."""

    class Code(models.TextChoices):
        AGENT_JOINED = "agent_joined", _("Agent joined")
        AGENT_TRANSFERRED = "agent_transferred", _("Transferred")
        TRANSFERRED_TO_SERVICE = "transferred_to_service", _("Transferred to a service")
        AGENT_LEFT = "agent_left", _("Agent left")
        PARTICIPANT_JOINED = "participant_joined", _("Another agent joined")
        PARTICIPANT_LEFT = "participant_left", _("Another agent left")
        INACTIVITY_WARNING = "inactivity_warning", _("Inactivity warning")
        ENDED = "ended", _("Chat ended")

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="notices")
    code = models.CharField(max_length=30, choices=Code.choices)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.code} #{self.pk}"


class ChatTranscriptRequest(models.Model):
    """A customer asked for the chat transcript by email. It is written to the email outbox once
    the chat has ended (``queued``; ``message`` then shows its delivery), at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        QUEUED = "queued", _("Email queued")
        FAILED = "failed", _("Failed")

    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="transcript_requests"
    )
    email = models.CharField(max_length=320)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The transcript email in the outbox."),
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "email"], name="chat_transcript_request_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="chat_transcript_pending")]

    def __str__(self) -> str:
        return f"Transcript of chat #{self.session_id} to {self.email}"


# --- Email --------------------------------------------------------------------------------------


class EmailMailbox(models.Model):
    """The IMAP and SMTP settings of an email entry point (its address is the mailbox's).

    Passwords are write-only in admin and never logged. The poll cursor (UIDVALIDITY + the last
    UID processed) makes every message of the mailbox processed once; ``poll_lease_until`` keeps
    two polls of one mailbox from running at once (a crashed poll's lease runs out).
    """

    class Security(models.TextChoices):
        SSL = "ssl", _("SSL/TLS")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("None (loopback only)")

    entry_point = models.OneToOneField(EntryPoint, on_delete=models.CASCADE, related_name="mailbox")
    from_name = models.CharField(
        _("sender name"), max_length=120, blank=True, help_text=_("Defaults to the service name.")
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Of automatic replies. Empty: the site's language."),
    )
    auto_acknowledge = models.BooleanField(
        _("acknowledge new emails"),
        default=False,
        help_text=_(
            "Answer a customer's new email with an automatic acknowledgement carrying the case "
            "number (never an auto-reply or a bounce)."
        ),
    )
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), null=True, blank=True)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_username = models.CharField(_("IMAP user"), max_length=255, blank=True)
    imap_password = models.CharField(_("IMAP password"), max_length=255, blank=True)
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    smtp_host = models.CharField(
        _("SMTP host"),
        max_length=255,
        blank=True,
        help_text=_("Empty: the server's default (EMAIL_HOST), else the local outbox."),
    )
    smtp_port = models.PositiveIntegerField(_("SMTP port"), null=True, blank=True)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(_("SMTP user"), max_length=255, blank=True)
    smtp_password = models.CharField(_("SMTP password"), max_length=255, blank=True)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    imap_last_uid = models.BigIntegerField(default=0, editable=False)
    poll_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, editable=False)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.entry_point.address

    def __repr__(self) -> str:  # never the passwords
        return f"<EmailMailbox {self.pk} {self.entry_point_id}>"

    @property
    def polls(self) -> bool:
        return bool(self.imap_host and self.imap_username)


class EmailKind(models.TextChoices):
    REGULAR = "regular", _("Email")
    AUTO_REPLY = "auto_reply", _("Automatic reply")
    AUTOMATIC = "automatic", _("Sent automatically")


class EmailDetails(models.Model):
    """What an email message carries beyond its text (``Message.body``: what the customer or
    agent wrote, without the quoted history). Inbound and outbound; ``header_id`` is the
    normalized Message-ID (our own for outbound, set when queued) that threads replies."""

    message = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="email"
    )
    kind = models.CharField(max_length=12, choices=EmailKind.choices, default=EmailKind.REGULAR)
    header_id = models.CharField(
        max_length=255, db_index=True, help_text="The Message-ID header, without brackets."
    )
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    subject = models.CharField(max_length=500, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    reply_to = models.CharField(max_length=320, blank=True)
    html = models.TextField(blank=True, help_text="Sanitized (nh3); shown sandboxed.")
    quoted_text = models.TextField(blank=True)
    signature = models.TextField(blank=True)
    date = models.DateTimeField(null=True, blank=True)
    skipped_attachments = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("email details")
        verbose_name_plural = _("email details")

    def __str__(self) -> str:
        return self.subject or self.header_id


def email_attachment_path(instance: "EmailAttachment", filename: str) -> str:
    """Files are stored under a random name: the sender's file name is only ever metadata."""
    import uuid

    now = timezone.now()
    return f"email/{now:%Y/%m}/{uuid.uuid4().hex}"


class EmailAttachment(models.Model):
    """A file of an email (received or sent), under MEDIA_ROOT; served only through the
    permission-checked download view, never as a static file."""

    message = models.ForeignKey(
        "conversations.Message", on_delete=models.CASCADE, related_name="email_attachments"
    )
    file = models.FileField(upload_to=email_attachment_path, max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class EmailSignature(models.Model):
    """The signature of a service's emails, for one agent or (agent empty) every agent.
    Placeholders: {{ agent.name }}, {{ service.name }}."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="email_signatures")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: every agent of the service."),
    )
    text = models.TextField(_("signature"))

    class Meta:
        verbose_name = _("email signature")
        verbose_name_plural = _("email signatures")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "agent"], name="email_signature_unique_agent"
            ),
            models.UniqueConstraint(
                fields=["service"],
                condition=Q(agent__isnull=True),
                name="email_signature_unique_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.agent or '*'}"


class EmailReceipt(models.Model):
    """An inbound email that did not become a message (a bounce, an auto-reply with nothing to
    attach to, our own email coming back): remembered by Message-ID so it is handled once."""

    class Kind(models.TextChoices):
        BOUNCE = "bounce", _("Bounce")
        DELAYED = "delayed", _("Delivery delayed")
        IGNORED = "ignored", _("Ignored")

    message_id = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    entry_point = models.ForeignKey(
        EntryPoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    original = models.ForeignKey(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The outbound email a bounce is about."),
    )
    detail = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.message_id}"


# --- Voice ---------------------------------------------------------------------------------------


class VoiceCall(models.Model):
    """The call of a voice interaction: who is on it, where it stands, how long it was held.

    A web call's audio flows between the customer's widget and the agent's desktop (WebRTC); the
    server only relays the signaling as events of the call and records what happened. Telephone
    calls (a provider, a PBX) use the same model with their own ``provider_call_id``.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting for an agent")
        RINGING = "ringing", _("Ringing")
        CONNECTED = "connected", _("Connected")
        ON_HOLD = "on_hold", _("On hold")
        ENDED = "ended", _("Ended")

    class Kind(models.TextChoices):
        WEB = "web", _("Web call")
        PHONE = "phone", _("Phone call")

    class EndReason(models.TextChoices):
        CUSTOMER = "customer", _("The customer hung up")
        AGENT = "agent", _("The agent hung up")
        DECLINED = "declined", _("The customer declined")
        NO_ANSWER = "no_answer", _("No answer")
        CUSTOMER_GONE = "customer_gone", _("The customer's browser went away")
        AGENT_GONE = "agent_gone", _("The agent's desktop went away")
        VOICEMAIL = "voicemail", _("A voicemail")
        ENDED = "ended", _("Ended with the conversation")

    interaction = models.OneToOneField(
        "conversations.Interaction", on_delete=models.CASCADE, related_name="voice_call"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WEB)
    chat_session = models.ForeignKey(
        ChatSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    provider_call_id = models.CharField(max_length=120, blank=True)
    provider = models.CharField(
        max_length=10,
        blank=True,
        choices=[("cti", _("Phone system (CTI)")), ("twilio", "Twilio")],
        help_text=_("Who carries a phone call's audio and reports its steps."),
    )
    #: The highest sequence number of the provider's events applied to the call (hold, resume,
    #: transfers): an older event that arrives late is kept but changes nothing.
    provider_sequence = models.BigIntegerField(default=0)
    #: The provider's last reported status of the customer's call leg (Twilio's CallStatus),
    #: kept so callbacks move it forward only.
    provider_status = models.CharField(max_length=20, blank=True)
    #: The agent's line as the provider reported it: muted (Twilio calls).
    agent_muted = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RINGING)
    end_reason = models.CharField(max_length=14, choices=EndReason.choices, blank=True)
    recording_mode = models.CharField(max_length=10, default="off")
    ringing_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    hold_started_at = models.DateTimeField(null=True, blank=True)
    hold_seconds = models.PositiveIntegerField(default=0)
    recording_deleted_at = models.DateTimeField(null=True, blank=True)
    # A consultation: the agent on the call talks to another agent (the customer on hold), then
    # hands the call over or merges the three into a conference.
    consult_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    consult_state = models.CharField(
        max_length=12,
        blank=True,
        choices=[
            ("ringing", _("Consulting: ringing")),
            ("talking", _("Consulting")),
            ("conference", _("Conference")),
        ],
    )
    version = models.PositiveIntegerField(
        default=0, help_text=_("Counts the changes told to the pages (an older view is stale).")
    )

    class Meta:
        ordering = ["-ringing_at", "-id"]
        permissions = [("report_cti_calls", _("Can report phone calls (CTI events)"))]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_call_id"],
                condition=~Q(provider_call_id=""),
                name="voice_call_provider_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Call #{self.pk} ({self.get_state_display()})"

    @property
    def is_live(self) -> bool:
        return self.state != self.State.ENDED

    def talk_seconds(self, now=None) -> int:
        """Seconds since the answer (to the end), hold included."""
        if self.answered_at is None:
            return 0
        end = self.ended_at or now or timezone.now()
        return max(0, int((end - self.answered_at).total_seconds()))

    def total_hold_seconds(self, now=None) -> int:
        held = self.hold_seconds
        if self.hold_started_at is not None:
            end = self.ended_at or now or timezone.now()
            held += max(0, int((end - self.hold_started_at).total_seconds()))
        return held


class CallLeg(models.Model):
    """One party's time on a call: the customer, the agent who took it, an agent consulted or
    conferenced in. Joined and left times say who talked to whom and for how long."""

    class Party(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        CONSULTED = "consulted", _("Consulted agent")

    call = models.ForeignKey(VoiceCall, on_delete=models.CASCADE, related_name="legs")
    party = models.CharField(max_length=10, choices=Party.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_party_display()} on call #{self.call_id}"


def call_recording_path(instance: "CallRecording", filename: str) -> str:
    import uuid

    now = timezone.now()
    return f"recordings/{now:%Y/%m}/{uuid.uuid4().hex}.webm"


class CallRecording(models.Model):
    """A recording of a call (both sides mixed in the agent's browser), uploaded in chunks while
    the call runs. A page that reloads mid-call starts a new ``segment``: each segment is a file
    that plays on its own."""

    call = models.ForeignKey(VoiceCall, on_delete=models.CASCADE, related_name="recordings")
    segment = models.CharField(max_length=40)
    file = models.FileField(upload_to=call_recording_path)
    content_type = models.CharField(max_length=100, default="audio/webm")
    #: Where the telephony provider keeps it (fetched once into ``file``).
    source_url = models.CharField(max_length=2000, blank=True)
    chunks = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "segment"], name="call_recording_segment")
        ]

    def __str__(self) -> str:
        return f"Recording #{self.pk} of call #{self.call_id}"


class CtiEvent(models.Model):
    """One event a phone system reported about a call (``POST /api/v1/cti/events/``), kept once
    per (call id, event, sequence): a repeated event is told by this table's unique constraint
    and changes nothing."""

    class Kind(models.TextChoices):
        NEW = "new", _("New call")
        RINGING = "ringing", _("Ringing")
        ANSWERED = "answered", _("Answered")
        HOLD = "hold", _("Hold")
        RESUME = "resume", _("Resume")
        TRANSFERRED = "transferred", _("Transferred")
        HUNG_UP = "hungup", _("Hung up")

    call_ref = models.CharField(_("PBX call id"), max_length=120)
    event = models.CharField(max_length=12, choices=Kind.choices)
    sequence = models.BigIntegerField()
    call = models.ForeignKey(
        VoiceCall, on_delete=models.CASCADE, related_name="cti_events", null=True, blank=True
    )
    applied = models.BooleanField(
        default=True, help_text=_("False: it arrived after a later event and changed nothing.")
    )
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = _("CTI event")
        verbose_name_plural = _("CTI events")
        constraints = [
            models.UniqueConstraint(fields=["call_ref", "event", "sequence"], name="cti_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.call_ref} {self.event} #{self.sequence}"


class CallCommand(models.Model):
    """A control of a phone call sent to the telephony provider (connect the agent, hold,
    resume, mute, hang up, transfer, dial): kept until the provider took it, so a worker or a
    provider that fails does not lose it. A call's commands run one at a time, in order; a
    transient failure is retried with backoff (``OUTBOUND_MAX_RETRIES``), a permanent one is
    written in the timeline. The call's state follows the provider's callbacks, never a
    command's success."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    call = models.ForeignKey(VoiceCall, on_delete=models.CASCADE, related_name="commands")
    action = models.CharField(max_length=20)
    args = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("call command")
        verbose_name_plural = _("call commands")
        indexes = [models.Index(fields=["state", "created_at"], name="call_command_pending")]

    def __str__(self) -> str:
        return f"{self.action} ({self.get_state_display()}) of call #{self.call_id}"
