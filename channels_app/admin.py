from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    ChatNotice,
    ChatSession,
    ChatTranscriptRequest,
    EmailMailbox,
    EmailReceipt,
    EmailSignature,
    EntryPoint,
    LocalOutboxItem,
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
class EntryPointAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "address", "service", "active"]
    list_filter = ["channel", "active", "service"]
    list_select_related = ["service"]
    search_fields = ["name", "address"]
    inlines = [EmailMailboxInline]


@admin.register(EmailSignature)
class EmailSignatureAdmin(admin.ModelAdmin):
    list_display = ["service", "agent"]
    list_filter = ["service"]
    list_select_related = ["service", "agent"]
    raw_id_fields = ["agent"]


@admin.register(EmailReceipt)
class EmailReceiptAdmin(admin.ModelAdmin):
    list_display = ["received_at", "kind", "message_id", "entry_point", "detail"]
    list_filter = ["kind"]
    list_select_related = ["entry_point"]
    search_fields = ["message_id", "detail"]
    raw_id_fields = ["original"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(LocalOutboxItem)
class LocalOutboxItemAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "from_address", "to_address", "subject", "created_at"]
    list_filter = ["channel"]
    search_fields = ["to_address", "subject", "body"]


@admin.register(WebChatSettings)
class WebChatSettingsAdmin(admin.ModelAdmin):
    list_display = ["entry_point", "title", "prechat_enabled", "offline_form_enabled"]
    list_select_related = ["entry_point"]
    search_fields = ["entry_point__name", "entry_point__address", "title"]
    autocomplete_fields = ["entry_point"]


class ChatNoticeInline(admin.TabularInline):
    model = ChatNotice
    extra = 0
    can_delete = False
    readonly_fields = ["code", "params", "created_at"]


class ChatTranscriptRequestInline(admin.TabularInline):
    model = ChatTranscriptRequest
    extra = 0
    readonly_fields = ["email", "status", "requested_at", "processed_at"]


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
    list_filter = ["state", "end_reason", "entry_point"]
    list_select_related = ["entry_point", "conversation"]
    search_fields = ["visitor_id", "email", "first_name", "last_name", "page_url"]
    raw_id_fields = ["conversation", "interaction", "agent"]
    readonly_fields = [
        "visitor_id",
        "created_at",
        "ended_at",
        "idle_since",
        "warn_at",
        "expires_at",
    ]
    inlines = [ChatNoticeInline, ChatTranscriptRequestInline]
