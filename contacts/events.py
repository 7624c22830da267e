"""Events about contacts: to supervisors and to the agents holding the contact's open
conversations (found through ``ports.contact_audiences``)."""

from contactcenter import realtime

from . import ports
from .models import Contact

#: A contact was created (from the contacts pages, the API, an import).
CONTACT_CREATED = "contact.created"
#: A contact's fields, identities or opt-outs changed.
CONTACT_UPDATED = "contact.updated"
#: Two contacts were merged (``merged_into_id`` names the survivor).
CONTACT_MERGED = "contact.merged"
#: A merge was undone.
CONTACT_MERGE_UNDONE = "contact.merge_undone"
#: A CSV import finished (to supervisors).
CONTACTS_IMPORTED = "contacts.imported"

ALL = (CONTACT_CREATED, CONTACT_UPDATED, CONTACT_MERGED, CONTACT_MERGE_UNDONE, CONTACTS_IMPORTED)


def contact_payload(contact: Contact, **extra: object) -> dict:
    return {
        "contact_id": contact.pk,
        "display_name": contact.display_name,
        "merged_into_id": contact.merged_into_id,
        **extra,
    }


def publish_contact_event(*, type: str, contact_ids: list[int], payload: dict) -> None:
    """Append the event in the caller's transaction (rung after commit)."""
    audiences = [realtime.SUPERVISORS, *ports.contact_audiences(contact_ids)]
    realtime.publish(audiences=audiences, type=type, payload=payload)
