"""Events about contacts: to supervisors and to the agents holding the contact's open
conversations (found through ``ports.contact_audiences``)."""

from contactcenter import realtime

from . import ports
from .models import Contact


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
