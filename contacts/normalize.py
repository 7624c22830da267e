"""Normalization of identity values: the same address written any way becomes one value."""

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext

from contactcenter.exceptions import ValidationError

from .models import Identity


def normalize_phone(raw: str, *, field: str = "phone", region: str | None = None) -> str:
    """Return E.164 for a phone written in any common format; raise ValidationError if invalid."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(gettext("A phone number is required."), field=field)
    try:
        number = phonenumbers.parse(text, region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _phone_parse_problem(exc.error_type) % {"value": raw}, field=field
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            gettext("'%(value)s' is not a valid phone number.") % {"value": raw}, field=field
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone_parse_problem(error_type: int) -> str:
    """What is wrong with a number the phone library could not read, in plain words (not the
    library's English)."""
    problems = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: gettext(
            "'%(value)s' is not a phone number we can place: write it with its country code, "
            "for example +1 415 555 0100."
        ),
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: gettext(
            "'%(value)s' is too short to be a phone number."
        ),
        phonenumbers.NumberParseException.TOO_SHORT_NSN: gettext(
            "'%(value)s' is too short to be a phone number."
        ),
        phonenumbers.NumberParseException.TOO_LONG: gettext(
            "'%(value)s' is too long to be a phone number."
        ),
    }
    return problems.get(
        error_type,
        gettext("'%(value)s' is not a phone number: write its digits, for example 415 555 0100."),
    )


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Lower-case the address and IDNA-encode its domain."""
    text = (raw or "").strip()
    local, sep, domain = text.rpartition("@")
    if not sep or not local or not domain or " " in text or "." not in domain:
        raise ValidationError(
            gettext("'%(value)s' is not an email address.") % {"value": raw}, field=field
        )
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError(
            gettext("'%(value)s' has an invalid domain.") % {"value": raw}, field=field
        ) from exc
    return f"{local}@{ascii_domain}".lower()


def normalize_identity(kind: str, raw: str, *, field: str | None = None) -> str:
    if kind == Identity.Kind.PHONE:
        return normalize_phone(raw, field=field or "phone")
    if kind == Identity.Kind.EMAIL:
        return normalize_email(raw, field=field or "email")
    if kind not in Identity.Kind.values:
        raise ValidationError(
            gettext("Unknown identity kind '%(kind)s'.") % {"kind": kind}, field=field or "kind"
        )
    value = (raw or "").strip()
    if not value:
        raise ValidationError(gettext("A value is required."), field=field or kind)
    return value
