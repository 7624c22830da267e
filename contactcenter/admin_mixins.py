"""Pieces every app's admin uses.

- :class:`AuditedAdmin`: additions, changes and deletions made in the admin (settings: services,
  entry points, users...) go to the audit log too, in the admin's transaction.
- :class:`ReadOnlyAdmin`: rows only services write (events, the audit log, offers...) are shown,
  never added, edited or deleted through the admin.
"""

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .audit import audit_record
from .models import AuditAction


def _change_summary(message: object) -> list:
    """The admin's change message (a JSON-able list) as the record's details."""
    return message if isinstance(message, list) else [str(message)] if message else []


class AuditedAdmin(admin.ModelAdmin):
    def log_addition(self, request: HttpRequest, obj: Model, message: object):
        audit_record(
            actor=request.user,
            action=AuditAction.SETTING_ADDED,
            target=obj,
            details={"change": _change_summary(message)},
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: object):
        audit_record(
            actor=request.user,
            action=AuditAction.SETTING_CHANGED,
            target=obj,
            details={"change": _change_summary(message)},
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet | list):
        for obj in queryset:
            audit_record(actor=request.user, action=AuditAction.SETTING_DELETED, target=obj)
        return super().log_deletions(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable (with the view permission), never written through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
