"""A conversation's custom fields: what integrations attach to it (a CRM case id, a ticket URL)."""

from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import ValidationError
from contacts.services import clean_custom_fields

from .. import events
from ..models import Conversation, CustomFieldDefinition
from ..selectors import conversation_audiences
from .guards import ensure_participant

FIELD_TEXT_MAX = 1000
YES_WORDS = {"yes", "true", "1", "on", "y", "sí", "si"}
NO_WORDS = {"no", "false", "0", "off", "n"}


def conversation_custom_fields_set(
    *, conversation: Conversation, user: AbstractBaseUser, custom_fields: object
) -> Conversation:
    """Replace the conversation's custom fields (closed conversations too: a CRM may link a case
    afterwards). Same rules as a contact's: names to text, numbers, true/false or empty."""
    cleaned = clean_custom_fields(custom_fields)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        ensure_participant(conversation, user, allow_closed=True)
        if conversation.custom_fields == cleaned:
            return conversation
        conversation.custom_fields = cleaned
        conversation.save(update_fields=["custom_fields"])
        realtime.publish(
            audiences=conversation_audiences(conversation),
            type=events.CONVERSATION_UPDATED,
            payload=events.conversation_payload(conversation, fields=sorted(cleaned)),
        )
    return conversation


def _parse_field(definition: CustomFieldDefinition, raw: object) -> object:
    """One value as the agent's form (text) or the API (JSON) gives it -> what is stored, or
    None for empty. Raises ValueError with the reason, in the agent's words."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = definition.kind
    if kind == CustomFieldDefinition.Kind.YES_NO:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in YES_WORDS:
            return True
        if text in NO_WORDS:
            return False
        raise ValueError(gettext("Choose yes or no."))
    if kind == CustomFieldDefinition.Kind.NUMBER:
        if isinstance(raw, bool):
            raise ValueError(gettext("Enter a number."))
        try:
            number = Decimal(str(raw).strip().replace(",", "."))
        except InvalidOperation:
            raise ValueError(gettext("Enter a number.")) from None
        if not number.is_finite():
            raise ValueError(gettext("Enter a number."))
        return int(number) if number == number.to_integral_value() else float(number)
    text = str(raw).strip()
    if kind == CustomFieldDefinition.Kind.CHOICE and text not in definition.options:
        raise ValueError(
            gettext("Choose one of: %(options)s.") % {"options": ", ".join(definition.options)}
        )
    if len(text) > FIELD_TEXT_MAX:
        raise ValueError(gettext("At most %(count)s characters.") % {"count": FIELD_TEXT_MAX})
    return text


def service_field_definitions(service_id: int) -> list[CustomFieldDefinition]:
    return list(
        CustomFieldDefinition.objects.filter(service_id=service_id, active=True).order_by(
            "position", "id"
        )
    )


def conversation_fields_fill(
    *, conversation: Conversation, user: AbstractBaseUser, values: dict
) -> Conversation:
    """The agent fills in the service's fields during the conversation or its wrap-up. Only the
    service's active fields are read from ``values`` (others are left as they are, including
    what integrations set); an empty value clears the field. Every invalid value is reported at
    once, nothing is saved then."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        ensure_participant(conversation, user)
        updated = dict(conversation.custom_fields)
        errors: dict[str, list[str]] = {}
        for definition in service_field_definitions(conversation.service_id):
            if definition.key not in values:
                continue
            try:
                value = _parse_field(definition, values[definition.key])
            except ValueError as error:
                errors[definition.key] = [f"{definition.label}: {error}"]
                continue
            if value is None:
                updated.pop(definition.key, None)
            else:
                updated[definition.key] = value
        if errors:
            first = next(iter(errors.values()))[0]
            raise ValidationError(first, field=next(iter(errors)), fields=errors)
        if updated == conversation.custom_fields:
            return conversation
        changed = sorted(
            key
            for key in set(updated) | set(conversation.custom_fields)
            if updated.get(key) != conversation.custom_fields.get(key)
        )
        conversation.custom_fields = updated
        conversation.save(update_fields=["custom_fields"])
        realtime.publish(
            audiences=conversation_audiences(conversation),
            type=events.CONVERSATION_UPDATED,
            payload=events.conversation_payload(conversation, fields=changed),
        )
    return conversation


def required_fields_missing(conversation: Conversation) -> list[CustomFieldDefinition]:
    """The service's required fields this conversation has no value for."""
    return [
        definition
        for definition in service_field_definitions(conversation.service_id)
        if definition.required and conversation.custom_fields.get(definition.key) in (None, "")
    ]


def ensure_required_fields(conversation: Conversation) -> None:
    """Wrap-up (and resolving a case) wait until the service's required fields are filled."""
    missing = required_fields_missing(conversation)
    if missing:
        message = gettext("Fill in the required fields first: %(labels)s.") % {
            "labels": ", ".join(definition.label for definition in missing)
        }
        raise ValidationError(
            message,
            field="custom_fields",
            fields={definition.key: [message] for definition in missing},
        )
