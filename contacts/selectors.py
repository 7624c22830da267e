"""Reads for the contacts pages, the API and exports."""

import json
import re
from collections.abc import Iterator

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext

from contactcenter.exceptions import NotFound, ValidationError

from . import ports
from .models import Contact, ContactImport, ContactMerge, Identity
from .normalize import normalize_email, normalize_phone
from .permissions import can_merge, can_view_contacts

PAGE_SIZE = 25
CONVERSATION_REFERENCE = re.compile(r"^#?\s*C-?\s*\d+$", re.IGNORECASE)
PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{5,}$")
SEARCH_PREFIXES = ("phone", "email", "company", "name", "external")
EXPORT_IDENTITY_KINDS = tuple(Identity.Kind.values)
FORMULA_START = ("=", "@", "\t", "\r")


def contacts_active() -> QuerySet[Contact]:
    """Contacts that were not merged away."""
    return Contact.objects.filter(merged_into__isnull=True)


def with_identities(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    return queryset.prefetch_related(
        Prefetch("identities", queryset=Identity.objects.order_by("kind", "id"))
    )


def _has_identity(**filters: object) -> Exists:
    return Exists(Identity.objects.filter(contact=OuterRef("pk"), **filters))


def _search_phone(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    try:
        return queryset.filter(_has_identity(kind=Identity.Kind.PHONE, value=normalize_phone(text)))
    except ValidationError:
        digits = re.sub(r"\D", "", text)
        if len(digits) < 3:
            return queryset.none()
        return queryset.filter(_has_identity(kind=Identity.Kind.PHONE, value__contains=digits))


def _search_email(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    try:
        return queryset.filter(_has_identity(kind=Identity.Kind.EMAIL, value=normalize_email(text)))
    except ValidationError:
        if not text:
            return queryset.none()
        return queryset.filter(_has_identity(kind=Identity.Kind.EMAIL, value__icontains=text))


def _search_terms(
    queryset: QuerySet[Contact], text: str, *, names_only: bool = False
) -> QuerySet[Contact]:
    for term in text.split():
        match = Q(first_name__icontains=term) | Q(last_name__icontains=term)
        if not names_only:
            match |= Q(company__icontains=term) | _has_identity(value__icontains=term)
        queryset = queryset.filter(match)
    return queryset


def _search_reference(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    compact = re.sub(r"\s+", "", text.lstrip("#"))
    ids = ports.resolve_reference(compact)
    return queryset.filter(pk__in=ids) if ids else queryset.none()


def contact_search(*, query: str = "") -> QuerySet[Contact]:
    """Contacts matching ``query``, newest first.

    Free text matches every word against name, company and any identity; a whole phone number or
    email address (any format that normalizes) matches that identity exactly; ``C-1042`` or
    ``#C-1042`` finds the contact of that conversation; prefixes narrow the search: ``phone:``,
    ``email:``, ``company:``, ``name:``, ``external:``.
    """
    queryset = contacts_active()
    text = (query or "").strip()
    if not text:
        return queryset
    prefix, separator, rest = text.partition(":")
    key, rest = prefix.strip().lower(), rest.strip()
    if separator and key in SEARCH_PREFIXES:
        if key == "phone":
            return _search_phone(queryset, rest)
        if key == "email":
            return _search_email(queryset, rest)
        if key == "company":
            return queryset.filter(company__icontains=rest) if rest else queryset.none()
        if key == "name":
            return _search_terms(queryset, rest, names_only=True)
        return queryset.filter(_has_identity(kind=Identity.Kind.EXTERNAL, value=rest))
    if CONVERSATION_REFERENCE.match(text):
        return _search_reference(queryset, text)
    if "@" in text and " " not in text:
        return _search_email(queryset, text)
    if PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 5:
        # A phone number (any format), or digits that are part of another identity (a CRM id).
        return _search_phone(queryset, text) | _search_terms(queryset, text)
    return _search_terms(queryset, text)


def contact_lookup(
    *, phone: str | None = None, email: str | None = None, external: str | None = None
) -> QuerySet[Contact]:
    """Exact lookup by an identity written in any format that normalizes (API ``?phone=``)."""
    queryset = contacts_active()
    if phone is not None:
        value = normalize_phone(phone, field="phone")
        queryset = queryset.filter(_has_identity(kind=Identity.Kind.PHONE, value=value))
    if email is not None:
        value = normalize_email(email, field="email")
        queryset = queryset.filter(_has_identity(kind=Identity.Kind.EMAIL, value=value))
    if external is not None:
        queryset = queryset.filter(_has_identity(kind=Identity.Kind.EXTERNAL, value=external))
    return queryset


def contact_get(*, pk: int) -> Contact:
    """The contact with its identities (merged contacts too: callers redirect to the survivor)."""
    contact = with_identities(Contact.objects.select_related("merged_into")).filter(pk=pk).first()
    if contact is None:
        raise NotFound(gettext("Contact not found."), field="contact")
    return contact


def contact_get_for_user(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> Contact:
    """The contact if ``user`` works with contacts (agents and supervisors share them); NotFound
    otherwise, as for a contact that does not exist."""
    if not can_view_contacts(user):
        raise NotFound(gettext("Contact not found."), field="contact")
    return contact_get(pk=pk)


def identity_get(*, contact: Contact, pk: int) -> Identity:
    identity = Identity.objects.filter(contact=contact, pk=pk).first()
    if identity is None:
        raise NotFound(gettext("Identity not found."), field="identity")
    return identity


def contact_merges(*, contact: Contact, limit: int = 20) -> list[ContactMerge]:
    """Merges this contact took part in, newest first (for the history and its undo buttons)."""
    return list(
        ContactMerge.objects.filter(Q(survivor=contact) | Q(merged=contact))
        .select_related("survivor", "merged", "created_by", "undone_by")
        .order_by("-created_at", "-id")[:limit]
    )


def contact_merge_get_for_user(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> ContactMerge:
    """A merge, for users who may merge (others get NotFound)."""
    if not can_merge(user):
        raise NotFound(gettext("Merge not found."), field="merge")
    return contact_merge_get(pk=pk)


def contact_merge_get(*, pk: int) -> ContactMerge:
    merge = ContactMerge.objects.select_related("survivor", "merged").filter(pk=pk).first()
    if merge is None:
        raise NotFound(gettext("Merge not found."), field="merge")
    return merge


def contact_import_get(*, pk: int) -> ContactImport:
    contact_import = ContactImport.objects.filter(pk=pk).first()
    if contact_import is None:
        raise NotFound(gettext("Import not found."))
    return contact_import


# --- Export ---------------------------------------------------------------------------------

EXPORT_HEADER = [
    "id",
    "first_name",
    "last_name",
    "company",
    "notes",
    "do_not_text",
    *EXPORT_IDENTITY_KINDS,
    "custom_fields",
    "created_at",
]


def csv_safe(value: str) -> str:
    """Keep spreadsheets from running a cell as a formula (CSV injection); the importer strips
    the quote again. Phone numbers such as +14155550100 are left alone."""
    if value.startswith(FORMULA_START) or (
        value.startswith(("+", "-")) and not re.fullmatch(r"[+-][\d\s().;+-]*", value)
    ):
        return "'" + value
    return value


def contacts_export_rows(*, query: str = "") -> Iterator[list[str]]:
    """The header, then one row per contact, streamed in chunks (never the whole table)."""
    yield EXPORT_HEADER
    queryset = with_identities(contact_search(query=query)).order_by("pk")
    for contact in queryset.iterator(chunk_size=500):
        by_kind: dict[str, list[str]] = {kind: [] for kind in EXPORT_IDENTITY_KINDS}
        for identity in contact.identities.all():
            by_kind.setdefault(identity.kind, []).append(identity.value)
        row = [
            str(contact.pk),
            contact.first_name,
            contact.last_name,
            contact.company,
            contact.notes,
            "yes" if contact.do_not_text else "no",
            *("; ".join(by_kind[kind]) for kind in EXPORT_IDENTITY_KINDS),
            json.dumps(contact.custom_fields, ensure_ascii=False) if contact.custom_fields else "",
            contact.created_at.isoformat(),
        ]
        yield [csv_safe(cell) for cell in row]
