from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "audience", "created_at"]
    list_filter = ["type"]
    search_fields = ["audience"]
    readonly_fields = ["audience", "type", "payload", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
