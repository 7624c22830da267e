from django.contrib import admin

from .models import Contact, Identity


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["id", "first_name", "last_name", "company", "do_not_text", "created_at"]
    search_fields = ["first_name", "last_name", "company", "identities__value"]
    inlines = [IdentityInline]


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "value", "contact"]
    list_filter = ["kind"]
    search_fields = ["value"]
    list_select_related = ["contact"]
    raw_id_fields = ["contact"]
