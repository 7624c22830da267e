"""What the desktop's context panel shows beside a conversation: the contact, their other
conversations, the conversation's documents and its service's fields. Reads only, a fixed
number of queries whatever the contact's history."""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from contacts.models import Contact, Identity
from contacts.permissions import can_merge
from contacts.ports import Activity

from . import ports
from .activities import field_display, recent_activities
from .models import Conversation, CustomFieldDefinition, Interaction
from .selectors import phone_display

PANEL_ACTIVITIES = 10


@dataclass(frozen=True)
class FieldRow:
    """One of the service's fields as the agent's form shows it."""

    definition: CustomFieldDefinition
    value: str  # what the input holds ("yes"/"no" for a flag)
    display: str
    missing: bool  # required and empty


@dataclass(frozen=True)
class IdentityRow:
    kind: str
    kind_label: str
    value: str
    display: str


@dataclass
class ContextPanel:
    contact: Contact
    identities: list[IdentityRow]
    duplicates: list[Contact]
    can_merge: bool
    activities: list[Activity]
    activities_total: int
    details: list[tuple[str, list[ports.DetailItem]]]
    fields: list[FieldRow] = field(default_factory=list)

    @property
    def missing_labels(self) -> list[str]:
        return [row.definition.label for row in self.fields if row.missing]


def _identity_row(identity: Identity) -> IdentityRow:
    display = identity.value
    if identity.kind == Identity.Kind.PHONE:
        display = phone_display(identity.value)
    return IdentityRow(
        kind=identity.kind,
        kind_label=identity.get_kind_display(),
        value=identity.value,
        display=display,
    )


def _field_rows(conversation: Conversation) -> list[FieldRow]:
    values = conversation.custom_fields or {}
    rows = []
    definitions = CustomFieldDefinition.objects.filter(
        service_id=conversation.service_id, active=True
    ).order_by("position", "id")
    for definition in definitions:
        value = values.get(definition.key)
        empty = value in (None, "")
        if isinstance(value, bool):
            form_value = "yes" if value else "no"
        else:
            form_value = "" if value is None else str(value)
        rows.append(
            FieldRow(
                definition=definition,
                value=form_value,
                display=field_display(definition, value),
                missing=definition.required and empty,
            )
        )
    return rows


def _grouped(items: list[ports.DetailItem]) -> list[tuple[str, list[ports.DetailItem]]]:
    groups: dict[str, list[ports.DetailItem]] = {}
    for item in items:
        groups.setdefault(item.group, []).append(item)
    return list(groups.items())


def context_panel(
    *, conversation: Conversation, interactions: list[Interaction], user: AbstractBaseUser
) -> ContextPanel:
    contact = conversation.contact
    identities = [
        _identity_row(identity)
        for identity in Identity.objects.filter(contact_id=contact.pk).order_by("kind", "id")
        if identity.kind != Identity.Kind.WEBCHAT
    ]
    duplicates = [
        candidate
        for candidate in conversation.duplicate_candidates.filter(merged_into__isnull=True)
        if candidate.pk != contact.pk
    ]
    activities, total = recent_activities(
        contact_id=contact.pk, user=user, exclude_id=conversation.pk, limit=PANEL_ACTIVITIES
    )
    details = ports.conversation_details(
        conversation, (interaction.channel for interaction in interactions)
    )
    return ContextPanel(
        contact=contact,
        identities=identities,
        duplicates=duplicates,
        # The permission read only when there is something to merge.
        can_merge=bool(duplicates) and can_merge(user),
        activities=activities,
        activities_total=total,
        details=_grouped(details),
        fields=_field_rows(conversation),
    )
