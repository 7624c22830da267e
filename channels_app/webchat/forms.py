"""The customer's forms (pre-chat, offline message, transcript request). They are rendered by the
chat page and submitted over the visitor's websocket; validation errors go back per field."""

from django import forms
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import ValidationError as DomainValidationError
from contacts.normalize import normalize_email, normalize_phone

from ..models import PreChatField
from .config import ChatConfig

NAME_MAX = 120
QUESTION_MAX = 2000
OFFLINE_MESSAGE_MAX = 5000


def split_name(full_name: str) -> tuple[str, str]:
    first, _, last = " ".join(full_name.split()).partition(" ")
    return first[:NAME_MAX], last[:NAME_MAX]


class ContactFieldsMixin:
    """Email and phone normalized the way contacts store them (one identity per address)."""

    def clean_email(self) -> str:
        value = self.cleaned_data.get("email", "")
        if not value:
            return ""
        try:
            return normalize_email(value)
        except DomainValidationError as exc:
            raise forms.ValidationError(_("Enter a valid email address.")) from exc

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone", "")
        if not value:
            return ""
        try:
            return normalize_phone(value)
        except DomainValidationError as exc:
            raise forms.ValidationError(
                _("Enter a valid phone number, with the country code if abroad.")
            ) from exc


def _field(name: str, required: bool, **kwargs) -> forms.Field:
    if name == "name":
        return forms.CharField(
            label=_("Your name"),
            max_length=NAME_MAX * 2,
            required=required,
            widget=forms.TextInput(attrs={"autocomplete": "name"}),
            **kwargs,
        )
    if name == "email":
        return forms.CharField(
            label=_("Email"),
            max_length=320,
            required=required,
            validators=[EmailValidator(message=_("Enter a valid email address."))],
            widget=forms.EmailInput(attrs={"autocomplete": "email"}),
            **kwargs,
        )
    if name == "phone":
        return forms.CharField(
            label=_("Phone"),
            max_length=40,
            required=required,
            widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
            **kwargs,
        )
    return forms.CharField(
        label=_("How can we help?"),
        max_length=QUESTION_MAX,
        required=required,
        widget=forms.Textarea(attrs={"rows": 3}),
        **kwargs,
    )


class PreChatForm(ContactFieldsMixin, forms.Form):
    """Only the fields the entry point asks for, each required or optional as configured."""

    prefix = "prechat"

    def __init__(self, *args, config: ChatConfig, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, mode in config.prechat.items():
            self.fields[name] = _field(name, mode == PreChatField.REQUIRED)


class OfflineForm(ContactFieldsMixin, forms.Form):
    prefix = "offline"

    name = _field("name", True)
    email = _field("email", True)
    phone = _field("phone", False)
    message = forms.CharField(
        label=_("Your message"),
        max_length=OFFLINE_MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TranscriptForm(ContactFieldsMixin, forms.Form):
    prefix = "transcript"

    email = _field("email", True)
