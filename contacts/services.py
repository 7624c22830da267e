"""Writers for contacts and identities."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from .models import Contact, Identity
from .normalize import normalize_identity


@dataclass
class Recognition:
    """Result of recognizing a customer from the identities an inbound interaction carries."""

    contact: Contact
    created: bool
    candidates: list[Contact] = field(default_factory=list)

    @property
    def possible_duplicate(self) -> bool:
        return len(self.candidates) > 1


def contact_recognize(
    *, identities: list[tuple[str, str]], first_name: str = "", last_name: str = ""
) -> Recognition:
    """Find the contact owning any of ``identities`` (kind, raw value) or create one.

    Values are normalized first. Identities nobody owns are attached to the recognized contact.
    When they point at several contacts nothing is merged: the first match wins and the others
    are returned as candidates so the agent sees "possible duplicate".
    Must run inside the caller's transaction.
    """
    normalized = [(kind, normalize_identity(kind, raw)) for kind, raw in identities]
    owners: list[Contact] = []
    known: set[tuple[str, str]] = set()
    for kind, value in normalized:
        identity = Identity.objects.select_related("contact").filter(kind=kind, value=value).first()
        if identity:
            known.add((kind, value))
            if identity.contact not in owners:
                owners.append(identity.contact)
    created = not owners
    contact = (
        owners[0] if owners else Contact.objects.create(first_name=first_name, last_name=last_name)
    )
    if not created and not (contact.first_name or contact.last_name) and (first_name or last_name):
        contact.first_name, contact.last_name = first_name, last_name
        contact.save(update_fields=["first_name", "last_name", "updated_at"])
    for kind, value in normalized:
        if (kind, value) not in known:
            _identity_attach(contact=contact, kind=kind, value=value)
    return Recognition(contact=contact, created=created, candidates=owners)


def _identity_attach(*, contact: Contact, kind: str, value: str) -> Identity:
    """Insert guarded by the unique constraint: a racing insert makes us reuse the winner's row."""
    try:
        with transaction.atomic():
            return Identity.objects.create(contact=contact, kind=kind, value=value)
    except IntegrityError:
        return Identity.objects.get(kind=kind, value=value)
