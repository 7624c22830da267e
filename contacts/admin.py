from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from contactcenter.admin_mixins import ReadOnlyAdmin
from contactcenter.exceptions import DomainError, ValidationError

from .forms import merge_choices_from_post, merge_rows, merge_selected
from .models import Contact, ContactImport, ContactMerge, Identity
from .normalize import normalize_identity
from .permissions import can_merge
from .services import contact_merge, contact_merge_undo, merge_default_choices


class IdentityAdminForm(forms.ModelForm):
    """Admin edits go through the same normalization as everything else."""

    class Meta:
        model = Identity
        fields = ["contact", "kind", "value"]

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if kind and value:
            try:
                cleaned["value"] = normalize_identity(kind, value)
            except ValidationError as exc:
                self.add_error("value", exc.message)
            else:
                self.instance.value = cleaned["value"]
        return cleaned


class IdentityInline(admin.TabularInline):
    model = Identity
    form = IdentityAdminForm
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["id", "first_name", "last_name", "company", "do_not_text", "merged_into"]
    list_filter = [("merged_into", admin.EmptyFieldListFilter), "do_not_text"]
    list_select_related = ["merged_into"]
    search_fields = ["first_name", "last_name", "company", "identities__value"]
    readonly_fields = ["merged_into", "merged_at", "created_at", "updated_at"]
    inlines = [IdentityInline]
    actions = ["merge_selected"]

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return can_merge(request.user)

    @admin.action(description=_("Merge the two selected contacts…"), permissions=["merge"])
    def merge_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        contacts = list(queryset.order_by("pk")[:3])
        if len(contacts) != 2:
            self.message_user(request, _("Select exactly two contacts to merge."), messages.ERROR)
            return None
        first, second = contacts
        if request.POST.get("confirm"):
            survivor, merged = (
                (second, first) if request.POST.get("survivor") == str(second.pk) else contacts
            )
            try:
                merge = contact_merge(
                    survivor=survivor,
                    merged=merged,
                    field_choices=merge_choices_from_post(request.POST, survivor, merged),
                    user=request.user,
                )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return None
            self.message_user(
                request,
                _("Contact #%(merged)s was merged into #%(survivor)s.")
                % {"merged": merge.merged_id, "survivor": merge.survivor_id},
                messages.SUCCESS,
            )
            return None
        defaults = merge_default_choices(first, second)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Merge contacts"),
            "opts": self.model._meta,
            "queryset": contacts,
            "contact": first,
            "other": second,
            "rows": merge_rows(first, second, merge_selected(defaults, first, second)),
            "contact_identities": list(first.identities.all()),
            "other_identities": list(second.identities.all()),
        }
        return TemplateResponse(request, "contacts/admin_merge.html", context)


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    form = IdentityAdminForm
    list_display = ["id", "kind", "value", "contact", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["value", "contact__first_name", "contact__last_name"]
    list_select_related = ["contact"]
    autocomplete_fields = ["contact"]


@admin.register(ContactMerge)
class ContactMergeAdmin(admin.ModelAdmin):
    list_display = ["id", "merged", "survivor", "created_by", "created_at", "undone_at"]
    list_select_related = ["merged", "survivor", "created_by"]
    list_filter = [("undone_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = [
        "=survivor__id",
        "=merged__id",
        "survivor__first_name",
        "survivor__last_name",
        "created_by__username",
    ]
    actions = ["undo_selected"]
    readonly_fields = [field.name for field in ContactMerge._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return can_merge(request.user) or super().has_view_permission(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_merge(request.user) or super().has_module_permission(request)

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return can_merge(request.user)

    @admin.action(description=_("Undo the selected merges"), permissions=["merge"])
    def undo_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Newest first, so a merge made on top of another is undone before it.
        for merge in queryset.order_by("-created_at", "-id"):
            try:
                contact_merge_undo(merge=merge, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"#{merge.pk}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("Merge #%(id)s undone.") % {"id": merge.pk})


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnlyAdmin):
    """What was imported and the report of rejected rows (written by the importer only)."""

    list_display = ["id", "filename", "status", "created_by", "created_at", "finished_at"]
    list_select_related = ["created_by"]
    list_filter = ["status", "created_at"]
    search_fields = ["filename", "created_by__username"]
    exclude = ["content"]
    readonly_fields = [
        "filename",
        "status",
        "created_by",
        "created_at",
        "finished_at",
        "headers",
        "mapping",
        "report",
        "delimiter",
    ]
