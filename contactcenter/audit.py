"""The audit log's one writer. Every app records who did what through :func:`audit_record`, inside
the transaction of the change it records (so a rolled-back change leaves no record)."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditAction, AuditRecord

TARGET_REPR_MAX = 200


def actor_display_name(user: AbstractBaseUser | None) -> str:
    """The name the log keeps for ``user`` (kept even if the user is deleted later)."""
    if user is None:
        return ""
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    username = user.get_username()
    return f"{full_name} ({username})" if full_name else username


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: AuditAction | str,
    target: models.Model | None = None,
    target_repr: str = "",
    details: dict | None = None,
) -> AuditRecord:
    """Append one record: ``actor`` did ``action`` to ``target`` (a conversation, a contact, an
    agent's profile, a setting...). ``details`` is a small JSON-able dict (ids, states, reasons)."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditRecord.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor_display_name(actor)[:150],
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_repr=(target_repr or (str(target) if target is not None else ""))[:TARGET_REPR_MAX],
        details=details or {},
    )


def audit_exists(
    *,
    actor: AbstractBaseUser,
    action: AuditAction | str,
    target: models.Model,
    since: datetime | None = None,
) -> bool:
    """Whether ``actor`` already did ``action`` to ``target`` (since ``since``)."""
    records = AuditRecord.objects.filter(
        actor=actor,
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
    )
    if since is not None:
        records = records.filter(created_at__gte=since)
    return records.exists()
