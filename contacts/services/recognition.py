"""Recognition: which contact an inbound interaction comes from."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q

from ..models import Contact, Identity
from ..normalize import normalize_identity

MAX_MERGE_HOPS = 20
RACE_ATTEMPTS = 3


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
    *,
    identities: list[tuple[str, str]],
    first_name: str = "",
    last_name: str = "",
    savepoint: bool = True,
) -> Recognition:
    """Find the contact owning any of ``identities`` (kind, raw value) or create one.

    Values are normalized first. Identities nobody owns are attached to the recognized contact.
    When they point at several contacts nothing is merged: the first match wins and the others
    are returned as candidates so the agent sees "possible duplicate".

    A new customer writing several times at once is one contact: the identity's unique
    constraint decides the race. The loser's inserts are undone (a savepoint) and recognition
    runs again, now finding the winner's contact (PostgreSQL made the losing insert wait for the
    winner's commit). ``savepoint=False``: the caller's own transaction is the retry boundary
    (it rolls back and runs again on ``IntegrityError``), which saves two statements per new
    identity on a hot path.

    The recognized contact is locked (``select_for_update``) for the rest of the caller's
    transaction, so a merge running at the same time either waits for this inbound to commit and
    then moves what it wrote, or commits first and is followed here (``merged_into``): no inbound
    ever lands on a contact that has just been merged away. Must run inside the caller's
    transaction.
    """
    normalized = list(
        dict.fromkeys((kind, normalize_identity(kind, raw)) for kind, raw in identities)
    )
    if not savepoint:
        return _recognize_once(
            normalized, first_name=first_name, last_name=last_name, savepoint=False
        )
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            return _recognize_once(normalized, first_name=first_name, last_name=last_name)
        except IntegrityError:
            if attempt == RACE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _recognize_once(
    normalized: list[tuple[str, str]], *, first_name: str, last_name: str, savepoint: bool = True
) -> Recognition:
    owner_ids: list[int] = []
    known: set[tuple[str, str]] = set()
    identities = Identity.objects.filter(_any_of(normalized))
    locked: dict[int, Contact] = {}
    if len(normalized) == 1:
        # One identity (a phone number) can only name one contact: read and lock it at once.
        rows = list(identities.select_related("contact").select_for_update(of=("contact",)))
        owners = {(row.kind, row.value): row.contact_id for row in rows}
        locked = {row.contact_id: row.contact for row in rows}
    else:
        owners = {
            (kind, value): contact_id
            for kind, value, contact_id in identities.values_list("kind", "value", "contact_id")
        }
    for kind, value in normalized:
        owner_id = owners.get((kind, value))
        if owner_id is not None:
            known.add((kind, value))
            if owner_id not in owner_ids:
                owner_ids.append(owner_id)
    new = [(kind, value) for kind, value in normalized if (kind, value) not in known]
    if not owner_ids:
        # A racing transaction that created one of these identities first makes the insert raise
        # (after it committed): the savepoint undoes the contact created here too.
        with transaction.atomic(savepoint=savepoint):
            contact = Contact.objects.create(first_name=first_name, last_name=last_name)
            _add_identities(contact, new)
        return Recognition(contact=contact, created=True, candidates=[])
    contact = locked.get(owner_ids[0])
    if contact is None or contact.merged_into_id is not None:
        contact = contact_lock_current(owner_ids[0])
    candidates = [contact]
    for other_id in owner_ids[1:]:
        other = contact_current(other_id)
        if other.pk not in {c.pk for c in candidates}:
            candidates.append(other)
    if not (contact.first_name or contact.last_name) and (first_name or last_name):
        contact.first_name, contact.last_name = first_name, last_name
        contact.save(update_fields=["first_name", "last_name", "updated_at"])
    if new:
        # A savepoint only where an insert can lose a race: a known customer costs none.
        with transaction.atomic(savepoint=savepoint):
            _add_identities(contact, new)
    return Recognition(contact=contact, created=False, candidates=candidates)


def _add_identities(contact: Contact, pairs: list[tuple[str, str]]) -> None:
    Identity.objects.bulk_create(
        [Identity(contact=contact, kind=kind, value=value) for kind, value in pairs]
    )


def _any_of(pairs: list[tuple[str, str]]) -> Q:
    query = Q(pk__in=[])
    for kind, value in pairs:
        query |= Q(kind=kind, value=value)
    return query


def contact_lock_current(pk: int) -> Contact:
    """Lock the contact ``pk``, or the contact it was merged into (followed and locked)."""
    for _hop in range(MAX_MERGE_HOPS):
        contact = Contact.objects.select_for_update().get(pk=pk)
        if contact.merged_into_id is None:
            return contact
        pk = contact.merged_into_id
    raise RuntimeError(f"Merge chain longer than {MAX_MERGE_HOPS} from contact {pk}.")


def contact_current(pk: int) -> Contact:
    """The contact ``pk``, or the one it was (transitively) merged into; no lock."""
    for _hop in range(MAX_MERGE_HOPS):
        contact = Contact.objects.get(pk=pk)
        if contact.merged_into_id is None:
            return contact
        pk = contact.merged_into_id
    raise RuntimeError(f"Merge chain longer than {MAX_MERGE_HOPS} from contact {pk}.")
