from django.contrib import admin

from contactcenter.admin_mixins import AuditedAdmin, ReadOnlyAdmin

from .models import (
    ChatNotice,
    ChatSession,
    ChatTranscriptRequest,
    EntryPoint,
    LocalOutboxItem,
    WebChatSettings,
)


@admin.register(EntryPoint)
class EntryPointAdmin(AuditedAdmin):
    list_display = ["name", "channel", "address", "service", "active"]
    list_filter = ["channel", "active", "service"]
    list_select_related = ["service"]
    search_fields = ["name", "address", "service__name"]
    autocomplete_fields = ["service"]


@admin.register(LocalOutboxItem)
class LocalOutboxItemAdmin(ReadOnlyAdmin):
    """What the built-in local SMS adapter "sent" (no provider configured)."""

    list_display = ["id", "from_address", "to_address", "body", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["to_address", "from_address", "body"]


@admin.register(WebChatSettings)
class WebChatSettingsAdmin(AuditedAdmin):
    list_display = ["entry_point", "title", "prechat_enabled", "offline_form_enabled"]
    list_select_related = ["entry_point"]
    search_fields = ["entry_point__name", "entry_point__address", "title"]
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
