from django.contrib import admin

from .models import (
    ChatNotice,
    ChatSession,
    ChatTranscriptRequest,
    EntryPoint,
    LocalOutboxItem,
    WebChatSettings,
)


@admin.register(EntryPoint)
class EntryPointAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "address", "service", "active"]
    list_filter = ["channel", "active", "service"]
    list_select_related = ["service"]
    search_fields = ["name", "address"]


@admin.register(LocalOutboxItem)
class LocalOutboxItemAdmin(admin.ModelAdmin):
    list_display = ["id", "from_address", "to_address", "body", "created_at"]
    search_fields = ["to_address", "body"]


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
