"""Merge two contacts into one, and undo it.

Nothing is ever merged silently: recognition only flags "possible duplicate"; a user with the
merge permission decides here which contact survives and which field values win.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter.audit import audit_record
from contactcenter.exceptions import Conflict, PermissionDenied, ValidationError
from contactcenter.models import AuditAction

from .. import events, ports
from ..events import contact_payload, publish_contact_event
from ..models import Contact, ContactMerge, Identity
from ..permissions import can_merge
from .contacts import contacts_lock

MERGE_FIELDS = ("first_name", "last_name", "company", "notes", "custom_fields", "do_not_text")
SURVIVOR, MERGED, BOTH, EITHER = "survivor", "merged", "both", "either"
# Which choices each field accepts; the first is what "both"/"either" mean for that field.
FIELD_CHOICES = {
    "first_name": (SURVIVOR, MERGED),
    "last_name": (SURVIVOR, MERGED),
    "company": (SURVIVOR, MERGED),
    # notes: keep one side's, or both one after the other (the default: notes move over)
    "notes": (SURVIVOR, MERGED, BOTH),
    # custom fields are always united; the choice decides who wins a key both have
    "custom_fields": (SURVIVOR, MERGED),
    # an SMS opt-out is kept if either contact opted out, unless a side is chosen explicitly
    "do_not_text": (SURVIVOR, MERGED, EITHER),
}


def contact_snapshot(contact: Contact) -> dict:
    return {name: getattr(contact, name) for name in MERGE_FIELDS}


def merge_default_choices(survivor: Contact, merged: Contact) -> dict[str, str]:
    """Survivor wins, except that an empty survivor field takes the merged contact's value."""
    choices = {}
    for name in ("first_name", "last_name", "company"):
        empty = not getattr(survivor, name) and getattr(merged, name)
        choices[name] = MERGED if empty else SURVIVOR
    choices.update(notes=BOTH, custom_fields=SURVIVOR, do_not_text=EITHER)
    return choices


def clean_field_choices(
    field_choices: dict | None, survivor: Contact, merged: Contact
) -> dict[str, str]:
    choices = merge_default_choices(survivor, merged)
    for name, choice in (field_choices or {}).items():
        if name not in FIELD_CHOICES:
            raise ValidationError(
                gettext("'%(name)s' is not a mergeable field (%(fields)s).")
                % {"name": name, "fields": ", ".join(MERGE_FIELDS)},
                field=f"field_choices.{name}",
            )
        if choice not in FIELD_CHOICES[name]:
            raise ValidationError(
                gettext("'%(choice)s' is not a choice for %(name)s (%(choices)s).")
                % {"choice": choice, "name": name, "choices": ", ".join(FIELD_CHOICES[name])},
                field=f"field_choices.{name}",
            )
        choices[name] = choice
    return choices


def merge_values(survivor: Contact, merged: Contact, choices: dict[str, str]) -> dict:
    """The survivor's field values after the merge."""
    values = {}
    for name in ("first_name", "last_name", "company"):
        source = merged if choices[name] == MERGED else survivor
        values[name] = getattr(source, name)
    if choices["notes"] == BOTH:
        parts = [note for note in (survivor.notes.strip(), merged.notes.strip()) if note]
        values["notes"] = "\n\n".join(dict.fromkeys(parts))
    else:
        values["notes"] = (merged if choices["notes"] == MERGED else survivor).notes
    if choices["custom_fields"] == MERGED:
        values["custom_fields"] = {**survivor.custom_fields, **merged.custom_fields}
    else:
        values["custom_fields"] = {**merged.custom_fields, **survivor.custom_fields}
    if choices["do_not_text"] == EITHER:
        values["do_not_text"] = survivor.do_not_text or merged.do_not_text
    else:
        source = merged if choices["do_not_text"] == MERGED else survivor
        values["do_not_text"] = source.do_not_text
    return values


def _ensure_can_merge(user: AbstractBaseUser | None) -> None:
    if user is None or not can_merge(user):
        raise PermissionDenied(gettext("You do not have permission to merge contacts."))


def contact_merge(
    *,
    survivor: Contact,
    merged: Contact,
    field_choices: dict | None = None,
    user: AbstractBaseUser | None,
) -> ContactMerge:
    """Merge ``merged`` into ``survivor``: chosen field values, identities, conversations (through
    the merge participants) and notes move over; ``merged`` keeps its row, marked merged, so that
    :func:`contact_merge_undo` can restore it."""
    _ensure_can_merge(user)
    if survivor.pk == merged.pk:
        raise ValidationError(gettext("A contact cannot be merged into itself."), field="merged")
    with transaction.atomic():
        locked = contacts_lock([survivor.pk, merged.pk])
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        for contact, role in ((survivor, "survivor"), (merged, "merged")):
            if contact.merged_into_id:
                raise Conflict(
                    gettext("Contact #%(merged)s was already merged into contact #%(survivor)s.")
                    % {"merged": contact.pk, "survivor": contact.merged_into_id},
                    field=role,
                    contact_id=contact.merged_into_id,
                )
        choices = clean_field_choices(field_choices, survivor, merged)
        survivor_before, merged_before = contact_snapshot(survivor), contact_snapshot(merged)
        values = merge_values(survivor, merged, choices)
        for name, value in values.items():
            setattr(survivor, name, value)
        survivor.save()

        identity_ids = list(
            Identity.objects.filter(contact=merged).order_by("pk").values_list("pk", flat=True)
        )
        Identity.objects.filter(pk__in=identity_ids).update(contact=survivor)
        participants = {
            participant.name: participant.merge(survivor=survivor, merged=merged)
            for participant in ports.merge_participants()
        }
        now = timezone.now()
        merged.merged_into, merged.merged_at = survivor, now
        merged.save(update_fields=["merged_into", "merged_at", "updated_at"])
        merge = ContactMerge.objects.create(
            survivor=survivor,
            merged=merged,
            field_choices=choices,
            survivor_before=survivor_before,
            survivor_after=contact_snapshot(survivor),
            merged_before=merged_before,
            identity_ids=identity_ids,
            participants=participants,
            created_by=user,
        )
        audit_record(
            actor=user,
            action=AuditAction.CONTACT_MERGED,
            target=survivor,
            target_repr=f"#{merged.pk} → #{survivor.pk} {survivor.display_name}",
            details={"merge_id": merge.pk, "merged_id": merged.pk, "survivor_id": survivor.pk},
        )
        publish_contact_event(
            type=events.CONTACT_MERGED,
            contact_ids=[survivor.pk],
            payload=contact_payload(survivor, merged_id=merged.pk, merge_id=merge.pk),
        )
    return merge


def contact_merge_undo(*, merge: ContactMerge, user: AbstractBaseUser | None) -> ContactMerge:
    """Restore both contacts as they were before ``merge``: fields, identities, conversations.

    A survivor field edited since the merge keeps its new value. Conversations opened on the
    survivor after the merge stay there. Undoing twice does nothing the second time.
    """
    _ensure_can_merge(user)
    with transaction.atomic():
        merge = ContactMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at:
            return merge
        locked = contacts_lock([merge.survivor_id, merge.merged_id])
        survivor, merged = locked[merge.survivor_id], locked[merge.merged_id]
        if survivor.merged_into_id:
            later = (
                ContactMerge.objects.filter(merged=survivor, undone_at__isnull=True)
                .values_list("pk", flat=True)
                .first()
            )
            raise Conflict(
                gettext(
                    "Contact #%(merged)s was merged into contact #%(survivor)s afterwards; undo "
                    "that merge first."
                )
                % {"merged": survivor.pk, "survivor": survivor.merged_into_id},
                field="merge",
                merge_id=later,
            )
        if merged.merged_into_id != survivor.pk:
            raise Conflict(
                gettext("Contact #%(merged)s is no longer merged into #%(survivor)s.")
                % {"merged": merged.pk, "survivor": survivor.pk},
                field="merge",
            )
        for name, before in merge.survivor_before.items():
            if getattr(survivor, name) == merge.survivor_after.get(name):
                setattr(survivor, name, before)
        survivor.save()
        Identity.objects.filter(pk__in=merge.identity_ids, contact=survivor).update(contact=merged)
        registered = {participant.name: participant for participant in ports.merge_participants()}
        for name, data in reversed(list(merge.participants.items())):
            if name in registered:
                registered[name].undo(survivor=survivor, merged=merged, data=data)
        for name, before in merge.merged_before.items():
            setattr(merged, name, before)
        merged.merged_into, merged.merged_at = None, None
        merged.save()
        merge.undone_at, merge.undone_by = timezone.now(), user
        merge.save(update_fields=["undone_at", "undone_by"])
        audit_record(
            actor=user,
            action=AuditAction.CONTACT_MERGE_UNDONE,
            target=survivor,
            target_repr=f"#{merged.pk} ↛ #{survivor.pk} {survivor.display_name}",
            details={"merge_id": merge.pk, "merged_id": merged.pk, "survivor_id": survivor.pk},
        )
        publish_contact_event(
            type=events.CONTACT_MERGE_UNDONE,
            contact_ids=[survivor.pk, merged.pk],
            payload=contact_payload(survivor, merged_id=merged.pk, merge_id=merge.pk),
        )
    return merge
