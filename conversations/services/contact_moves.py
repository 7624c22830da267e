"""Conversations follow contact merges (a ``contacts.ports`` merge participant), and a single
conversation can be moved to another contact."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.audit import audit_record
from contactcenter.exceptions import Conflict, NotFound, PermissionDenied
from contactcenter.models import AuditAction
from contacts import ports
from contacts.models import Contact
from contacts.permissions import can_merge
from contacts.services import contacts_lock

from .. import events
from ..models import Conversation
from ..selectors import conversation_audiences
from ..system_lines import SystemLine
from .timeline import system_line_add

PARTICIPANT = "conversations"
CandidateLink = Conversation.duplicate_candidates.through


def merge_conversations(*, survivor: Contact, merged: Contact) -> dict:
    """Move every conversation of ``merged`` to ``survivor`` and rewrite "possible duplicate"
    links: between the two they are settled (removed), elsewhere they now name the survivor.
    Returns what :func:`undo_merge_conversations` needs. Both contacts are locked by the caller."""
    moved = list(
        Conversation.objects.filter(contact=merged).order_by("pk").values_list("pk", flat=True)
    )
    Conversation.objects.filter(pk__in=moved).update(contact=survivor)
    settled = list(
        CandidateLink.objects.filter(
            conversation__contact=survivor, contact_id__in=[survivor.pk, merged.pk]
        ).values_list("pk", "conversation_id", "contact_id")
    )
    retargeted = list(
        CandidateLink.objects.filter(contact=merged)
        .exclude(conversation__contact=survivor)
        .values_list("pk", "conversation_id", "contact_id")
    )
    removed_rows = sorted(settled + retargeted)
    removed = [[conversation_id, contact_id] for _, conversation_id, contact_id in removed_rows]
    CandidateLink.objects.filter(pk__in=[pk for pk, _, _ in removed_rows]).delete()
    retarget_ids = list(dict.fromkeys(conversation_id for _, conversation_id, _ in retargeted))
    already = set(
        CandidateLink.objects.filter(
            conversation_id__in=retarget_ids, contact=survivor
        ).values_list("conversation_id", flat=True)
    )
    added = [[pk, survivor.pk] for pk in retarget_ids if pk not in already]
    CandidateLink.objects.bulk_create(
        [CandidateLink(conversation_id=c, contact_id=k) for c, k in added]
    )
    return {"moved": moved, "links_removed": removed, "links_added": added}


def undo_merge_conversations(*, survivor: Contact, merged: Contact, data: dict) -> None:
    """Put back what :func:`merge_conversations` changed. Conversations moved elsewhere since
    stay where they are; those opened on the survivor after the merge stay on the survivor."""
    Conversation.objects.filter(pk__in=data.get("moved", []), contact=survivor).update(
        contact=merged
    )
    for conversation_id, contact_id in data.get("links_added", []):
        CandidateLink.objects.filter(
            conversation_id=conversation_id, contact_id=contact_id
        ).delete()
    CandidateLink.objects.bulk_create(
        [
            CandidateLink(conversation_id=conversation_id, contact_id=contact_id)
            for conversation_id, contact_id in data.get("links_removed", [])
        ],
        ignore_conflicts=True,
    )


def conversation_move(
    *, conversation: Conversation, to_contact: Contact, user: AbstractBaseUser | None
) -> Conversation:
    """Move one conversation to another contact (it was recognized as the wrong person).

    Contacts are locked before the conversation, in the same order as merges and inbound, so the
    three never deadlock. A system note in the timeline records who moved it from whom.
    """
    if user is None or not can_merge(user):
        raise PermissionDenied(gettext("You do not have permission to move conversations."))
    with transaction.atomic():
        from_id = (
            Conversation.objects.filter(pk=conversation.pk)
            .values_list("contact_id", flat=True)
            .first()
        )
        if from_id is None:
            raise NotFound(gettext("Conversation not found."))
        contacts = contacts_lock([from_id, to_contact.pk])
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.contact_id != from_id:
            raise Conflict(
                gettext("The conversation changed contact meanwhile; try again."), field="contact"
            )
        source, target = contacts[from_id], contacts[to_contact.pk]
        if target.merged_into_id:
            raise Conflict(
                gettext("Contact #%(merged)s was merged into contact #%(survivor)s.")
                % {"merged": target.pk, "survivor": target.merged_into_id},
                field="contact",
                contact_id=target.merged_into_id,
            )
        if source.pk == target.pk:
            return conversation
        conversation.contact = target
        conversation.save(update_fields=["contact"])
        conversation.duplicate_candidates.remove(target)
        system_line_add(
            conversation=conversation,
            interaction=None,
            sender=user,
            text=SystemLine.MOVED,
            params={
                "from_id": source.pk,
                "from_name": source.display_name,
                "to_id": target.pk,
                "to_name": target.display_name,
                "user": user.get_username(),
            },
        )
        audit_record(
            actor=user,
            action=AuditAction.CONVERSATION_MOVED,
            target=conversation,
            target_repr=conversation.number,
            details={"from_contact_id": source.pk, "to_contact_id": target.pk},
        )
        audiences = [
            *conversation_audiences(conversation),
            *ports.contact_audiences([source.pk, target.pk]),
        ]
        payload = {
            "conversation_id": conversation.pk,
            "number": conversation.number,
            "from_contact_id": source.pk,
            "contact_id": target.pk,
            "contact_name": target.display_name,
        }
        realtime.publish(
            audiences=audiences, type=events.CONVERSATION_CONTACT_CHANGED, payload=payload
        )
    return conversation


def register() -> None:
    ports.register_merge_participant(
        ports.MergeParticipant(
            name=PARTICIPANT, merge=merge_conversations, undo=undo_merge_conversations
        )
    )
