from django.contrib import admin

from .models import EntryPoint, LocalOutboxItem


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
