"""Events about contacts: to supervisors and to the agents holding the contact's open
conversations (found through ``ports.contact_audiences``)."""

from contactcenter import realtime

from . import ports
from .models import Contact

#: A contact was created (API, contacts page, import).
CONTACT_CREATED = "contact.created"
#: A contact's fields or identities changed.
CONTACT_UPDATED = "contact.updated"
#: Two contacts were merged into one.
CONTACT_MERGED = "contact.merged"
#: A merge was undone.
CONTACT_MERGE_UNDONE = "contact.merge_undone"
#: A CSV import created or updated contacts.
CONTACTS_IMPORTED = "contacts.imported"

#: Every event type of this catalogue with its description (webhook subscriptions, API docs).
CATALOGUE = {
    CONTACT_CREATED: "A contact was created.",
    CONTACT_UPDATED: "A contact's fields or identities changed.",
    CONTACT_MERGED: "Two contacts were merged into one.",
    CONTACT_MERGE_UNDONE: "A merge of two contacts was undone.",
    CONTACTS_IMPORTED: "A CSV import created or updated contacts.",
}

ALL = tuple(CATALOGUE)


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
