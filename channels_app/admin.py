from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from contactcenter.admin_mixins import AuditedAdmin, ReadOnlyAdmin

from .models import (
    ApiChannelSettings,
    CallCommand,
    CallLeg,
    CallRecording,
    ChatNotice,
    ChatSession,
    ChatTranscriptRequest,
    CtiEvent,
    EmailAttachment,
    EmailDetails,
    EmailMailbox,
    EmailReceipt,
    EmailSignature,
    EntryPoint,
    LocalOutboxItem,
    VoiceCall,
    WebChatSettings,
)

PASSWORD_FIELDS = ("imap_password", "smtp_password")


class EmailMailboxForm(forms.ModelForm):
    """Passwords are write-only: never rendered back into the page; left empty, the stored one
    is kept."""

    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )
    smtp_password = forms.CharField(
        label=_("SMTP password"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = EmailMailbox
        fields = [
            "from_name",
            "language",
            "auto_acknowledge",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_folder",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
        ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._stored_passwords = {name: getattr(self.instance, name) for name in PASSWORD_FIELDS}

    def save(self, commit: bool = True) -> EmailMailbox:
        mailbox = super().save(commit=False)
        for name in PASSWORD_FIELDS:
            setattr(mailbox, name, self.cleaned_data.get(name) or self._stored_passwords[name])
        if commit:
            mailbox.save()
        return mailbox


class EmailMailboxInline(admin.StackedInline):
    model = EmailMailbox
    form = EmailMailboxForm
    extra = 0
    max_num = 1
    can_delete = True
    verbose_name = _("mailbox (email entry points)")
    readonly_fields = ["last_polled_at", "last_error"]
    fieldsets = [
        (None, {"fields": ["from_name", "language", "auto_acknowledge"]}),
        (
            _("IMAP (incoming)"),
            {
                "fields": [
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_username",
                    "imap_password",
                    "imap_folder",
                    "last_polled_at",
                    "last_error",
                ]
            },
        ),
        (
            _("SMTP (outgoing)"),
            {
                "fields": [
                    "smtp_host",
                    "smtp_port",
                    "smtp_security",
                    "smtp_username",
                    "smtp_password",
                ]
            },
        ),
    ]


@admin.register(EntryPoint)
class EntryPointAdmin(AuditedAdmin):
    list_display = ["name", "channel", "address", "service", "active"]
    list_filter = ["channel", "active", "service"]
    list_select_related = ["service"]
    search_fields = ["name", "address", "service__name"]
    autocomplete_fields = ["service"]
    inlines = [EmailMailboxInline]


@admin.register(EmailSignature)
class EmailSignatureAdmin(AuditedAdmin):
    list_display = ["service", "agent"]
    list_filter = ["service"]
    list_select_related = ["service", "agent"]
    raw_id_fields = ["agent"]


@admin.register(EmailReceipt)
class EmailReceiptAdmin(ReadOnlyAdmin):
    """Auto-replies and bounces that were recorded, not stored as customer messages."""

    list_display = ["received_at", "kind", "message_id", "entry_point", "detail"]
    list_filter = ["kind"]
    list_select_related = ["entry_point"]
    search_fields = ["message_id", "detail"]
    raw_id_fields = ["original"]


@admin.register(EmailDetails)
class EmailDetailsAdmin(ReadOnlyAdmin):
    """The headers of each email message (what threading matches on)."""

    list_display = ["header_id", "kind", "subject", "from_address", "date", "message"]
    list_filter = ["kind"]
    search_fields = ["header_id", "in_reply_to", "subject", "from_address"]
    raw_id_fields = ["message"]


@admin.register(EmailAttachment)
class EmailAttachmentAdmin(ReadOnlyAdmin):
    """Files of emails (downloaded only from the conversation, by those who may see it)."""

    list_display = ["filename", "content_type", "size", "message"]
    list_filter = ["content_type"]
    search_fields = ["filename"]
    raw_id_fields = ["message"]
    exclude = ["file"]


@admin.register(LocalOutboxItem)
class LocalOutboxItemAdmin(ReadOnlyAdmin):
    """What the built-in local adapters "sent" (no SMS or email provider configured)."""

    list_display = ["id", "channel", "from_address", "to_address", "subject", "created_at"]
    list_filter = ["channel", "created_at"]
    search_fields = ["to_address", "from_address", "subject", "body"]


@admin.register(WebChatSettings)
class WebChatSettingsAdmin(AuditedAdmin):
    list_display = ["entry_point", "title", "prechat_enabled", "web_calls", "offline_form_enabled"]
    list_select_related = ["entry_point"]
    search_fields = ["entry_point__name", "entry_point__address", "title"]
    autocomplete_fields = ["entry_point"]


class ApiChannelSettingsForm(forms.ModelForm):
    reply_url = forms.URLField(
        label=_("Reply URL"),
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
    )

    class Meta:
        model = ApiChannelSettings
        fields = ["entry_point", "reply_url", "secret"]


@admin.register(ApiChannelSettings)
class ApiChannelSettingsAdmin(admin.ModelAdmin):
    """Where an API channel's replies go. The inbound side needs an API token whose user has the
    permission "Can post customers' messages into API channels"."""

    form = ApiChannelSettingsForm
    list_display = ["entry_point", "reply_url"]
    list_select_related = ["entry_point"]
    search_fields = ["entry_point__name", "entry_point__address", "reply_url"]
    autocomplete_fields = ["entry_point"]


class ChatNoticeInline(admin.TabularInline):
    model = ChatNotice
    extra = 0
    can_delete = False
    readonly_fields = ["code", "params", "created_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ChatTranscriptRequestInline(admin.TabularInline):
    model = ChatTranscriptRequest
    extra = 0
    can_delete = False
    readonly_fields = ["email", "status", "requested_at", "processed_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "entry_point",
        "state",
        "customer_name",
        "email",
        "agent_name",
        "conversation",
        "created_at",
        "ended_at",
    ]
    list_filter = ["state", "end_reason", "entry_point", "created_at"]
    list_select_related = ["entry_point", "conversation"]
    search_fields = ["visitor_id", "email", "first_name", "last_name", "page_url"]
    inlines = [ChatNoticeInline, ChatTranscriptRequestInline]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        """Sessions are the chat's own state: written by the web chat services only."""
        return [field.name for field in ChatSession._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CallLegInline(admin.TabularInline):
    model = CallLeg
    extra = 0
    can_delete = False
    readonly_fields = ["party", "agent", "joined_at", "left_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CallRecordingInline(admin.TabularInline):
    """Recordings are played from the conversation (by those who may see it), not downloaded
    from here."""

    model = CallRecording
    extra = 0
    can_delete = False
    fields = ["segment", "content_type", "chunks", "size", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CtiEventInline(admin.TabularInline):
    """What the phone system reported, in arrival order (a late event shows as not applied)."""

    model = CtiEvent
    extra = 0
    can_delete = False
    fields = ["received_at", "event", "sequence", "applied", "payload"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CallCommandInline(admin.TabularInline):
    """What was asked of the telephony provider for the call, and how it went."""

    model = CallCommand
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "args", "state", "attempts", "error", "done_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(VoiceCall)
class VoiceCallAdmin(ReadOnlyAdmin):
    """Calls: who was on them, how long they rang, talked and were held (the voice services
    write them)."""

    list_display = [
        "id",
        "kind",
        "state",
        "interaction",
        "ringing_at",
        "answered_at",
        "ended_at",
        "end_reason",
        "hold_seconds",
    ]
    list_filter = ["kind", "provider", "state", "end_reason", "ringing_at"]
    list_select_related = ["interaction"]
    search_fields = ["provider_call_id"]
    raw_id_fields = ["interaction", "chat_session"]
    inlines = [CallLegInline, CallRecordingInline, CallCommandInline, CtiEventInline]
