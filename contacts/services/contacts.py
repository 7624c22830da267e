"""Writers for contacts and their identities."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from contactcenter.exceptions import Conflict, NotFound, ValidationError

from .. import events
from ..events import contact_payload, publish_contact_event
from ..models import Contact, Identity
from ..normalize import normalize_identity

EDITABLE_FIELDS = ("first_name", "last_name", "company", "notes", "custom_fields", "do_not_text")
CUSTOM_FIELDS_MAX = 50
CUSTOM_KEY_MAX = 60
CUSTOM_VALUE_MAX = 1000


def contacts_lock(pks: list[int]) -> dict[int, Contact]:
    """Lock contacts in a stable order (ascending id) so two writers never deadlock."""
    contacts = list(Contact.objects.select_for_update().filter(pk__in=set(pks)).order_by("pk"))
    found = {contact.pk: contact for contact in contacts}
    missing = set(pks) - set(found)
    if missing:
        raise NotFound(gettext("Contact %(id)s not found.") % {"id": min(missing)}, field="contact")
    return found


def ensure_not_merged(contact: Contact) -> None:
    if contact.merged_into_id:
        raise Conflict(
            gettext(
                "Contact #%(merged)s was merged into contact #%(survivor)s; change that contact "
                "instead."
            )
            % {"merged": contact.pk, "survivor": contact.merged_into_id},
            field="contact",
            contact_id=contact.merged_into_id,
        )


def clean_contact_fields(data: dict) -> dict:
    """Validate editable fields; raise ValidationError naming the first bad one."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationError(
            gettext("'%(name)s' is not an editable contact field.") % {"name": name}, field=name
        )
    cleaned: dict = {}
    for name, value in data.items():
        if name == "custom_fields":
            cleaned[name] = clean_custom_fields(value)
        elif name == "do_not_text":
            if not isinstance(value, bool):
                raise ValidationError(gettext("Must be true or false."), field=name)
            cleaned[name] = value
        else:
            text = "" if value is None else value
            if not isinstance(text, str):
                raise ValidationError(gettext("Must be text."), field=name)
            text = text.strip()
            limit = Contact._meta.get_field(name).max_length
            if limit and len(text) > limit:
                raise ValidationError(
                    gettext("At most %(limit)s characters (this is %(length)s).")
                    % {"limit": limit, "length": len(text)},
                    field=name,
                )
            cleaned[name] = text
    return cleaned


def clean_custom_fields(value: object) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(
            gettext("Custom fields must be an object of names to values."), field="custom_fields"
        )
    if len(value) > CUSTOM_FIELDS_MAX:
        raise ValidationError(
            gettext("At most %(count)s custom fields.") % {"count": CUSTOM_FIELDS_MAX},
            field="custom_fields",
        )
    cleaned = {}
    for key, item in value.items():
        name = str(key).strip()
        if not name or len(name) > CUSTOM_KEY_MAX:
            raise ValidationError(
                gettext("Custom field names must be 1 to %(limit)s characters ('%(name)s').")
                % {"limit": CUSTOM_KEY_MAX, "name": key},
                field="custom_fields",
            )
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValidationError(
                gettext("Custom field '%(name)s' must be text, a number, true/false or empty.")
                % {"name": name},
                field="custom_fields",
            )
        if "\x00" in name or (isinstance(item, str) and "\x00" in item):
            raise ValidationError(
                gettext("Custom field '%(name)s' contains a null character.")
                % {"name": name.replace("\x00", "")},
                field="custom_fields",
            )
        if isinstance(item, str) and len(item) > CUSTOM_VALUE_MAX:
            raise ValidationError(
                gettext("Custom field '%(name)s' is longer than %(limit)s characters.")
                % {"name": name, "limit": CUSTOM_VALUE_MAX},
                field="custom_fields",
            )
        cleaned[name] = item
    return cleaned


def identity_owner_conflict(*, kind: str, value: str, owner: Contact, field: str) -> Conflict:
    label = Identity.Kind(kind).label
    return Conflict(
        f"{label} {value} already belongs to contact #{owner.pk} ({owner.display_name}).",
        field=field,
        contact_id=owner.pk,
        contact_name=owner.display_name,
    )


def _normalize_all(identities: list[tuple[str, str]], field: str) -> list[tuple[str, str]]:
    normalized = []
    for index, (kind, raw) in enumerate(identities):
        normalized.append((kind, normalize_identity(kind, raw, field=f"{field}[{index}].value")))
    return list(dict.fromkeys(normalized))


def contact_create(
    *,
    user: AbstractBaseUser | None,
    identities: list[tuple[str, str]] | None = None,
    **fields: object,
) -> Contact:
    """Create a contact with its identities; 409 naming the owner if one is already taken."""
    cleaned = clean_contact_fields(fields)
    normalized = _normalize_all(identities or [], "identities")
    with transaction.atomic():
        for index, (kind, value) in enumerate(normalized):
            owner = Identity.objects.select_related("contact").filter(kind=kind, value=value)
            found = owner.first()
            if found:
                raise identity_owner_conflict(
                    kind=kind, value=value, owner=found.contact, field=f"identities[{index}]"
                )
        contact = Contact.objects.create(**cleaned)
        for index, (kind, value) in enumerate(normalized):
            _identity_insert(contact=contact, kind=kind, value=value, field=f"identities[{index}]")
        publish_contact_event(
            type=events.CONTACT_CREATED, contact_ids=[contact.pk], payload=contact_payload(contact)
        )
    return contact


def contact_update(*, contact: Contact, user: AbstractBaseUser | None, data: dict) -> Contact:
    """Change editable fields; only what changed is saved and announced."""
    cleaned = clean_contact_fields(data)
    with transaction.atomic():
        contact = contacts_lock([contact.pk])[contact.pk]
        ensure_not_merged(contact)
        changed = [name for name, value in cleaned.items() if getattr(contact, name) != value]
        if changed:
            for name in changed:
                setattr(contact, name, cleaned[name])
            contact.save(update_fields=[*changed, "updated_at"])
            publish_contact_event(
                type=events.CONTACT_UPDATED,
                contact_ids=[contact.pk],
                payload=contact_payload(contact, fields=changed),
            )
    return contact


def identity_add(
    *, contact: Contact, kind: str, value: str, user: AbstractBaseUser | None, field: str = "value"
) -> Identity:
    """Attach an identity. Adding one the contact already has returns it (idempotent); one owned
    by another contact is a Conflict naming that contact (nothing is merged silently)."""
    normalized = normalize_identity(kind, value, field=field)
    with transaction.atomic():
        contact = contacts_lock([contact.pk])[contact.pk]
        ensure_not_merged(contact)
        existing = (
            Identity.objects.select_related("contact").filter(kind=kind, value=normalized).first()
        )
        if existing:
            if existing.contact_id == contact.pk:
                return existing
            raise identity_owner_conflict(
                kind=kind, value=normalized, owner=existing.contact, field=field
            )
        identity = _identity_insert(contact=contact, kind=kind, value=normalized, field=field)
        publish_contact_event(
            type=events.CONTACT_UPDATED,
            contact_ids=[contact.pk],
            payload=contact_payload(contact, fields=["identities"]),
        )
    return identity


def identity_remove(*, identity: Identity, user: AbstractBaseUser | None) -> None:
    with transaction.atomic():
        contact = contacts_lock([identity.contact_id])[identity.contact_id]
        deleted, _ = Identity.objects.filter(pk=identity.pk, contact=contact).delete()
        if deleted:
            publish_contact_event(
                type=events.CONTACT_UPDATED,
                contact_ids=[contact.pk],
                payload=contact_payload(contact, fields=["identities"]),
            )


def _identity_insert(*, contact: Contact, kind: str, value: str, field: str) -> Identity:
    try:
        with transaction.atomic():
            return Identity.objects.create(contact=contact, kind=kind, value=value)
    except IntegrityError as exc:
        owner = Identity.objects.select_related("contact").filter(kind=kind, value=value).first()
        if owner is None:
            raise
        raise identity_owner_conflict(
            kind=kind, value=value, owner=owner.contact, field=field
        ) from exc


def contact_set_do_not_text(*, contact: Contact, value: bool, reason: str = "") -> bool:
    """Set or clear the SMS opt-out (an inbound STOP / START keyword). Idempotent: True only when
    this call changed the flag. A merged contact's survivor carries the flag."""
    with transaction.atomic():
        locked = contacts_lock([contact.pk])[contact.pk]
        while locked.merged_into_id:
            locked = contacts_lock([locked.merged_into_id])[locked.merged_into_id]
        if locked.do_not_text == value:
            return False
        locked.do_not_text = value
        locked.save(update_fields=["do_not_text", "updated_at"])
        publish_contact_event(
            type=events.CONTACT_UPDATED,
            contact_ids=[locked.pk],
            payload=contact_payload(locked, fields=["do_not_text"], reason=reason),
        )
    contact.do_not_text = value
    return True
