"""Forms of the contacts pages. They parse and show errors; the services validate and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Contact, Identity
from .services.csv_import import CUSTOM_PREFIX, IDENTITY_TARGETS, IGNORE
from .services.merge import BOTH, EITHER, FIELD_CHOICES

FIELD_LABELS = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "company": _("Company"),
    "notes": _("Notes"),
    "custom_fields": _("Custom fields"),
    "do_not_text": _("Do not text"),
}


def custom_fields_as_text(custom_fields: dict) -> str:
    return "\n".join(
        f"{key}: {'' if value is None else value}" for key, value in custom_fields.items()
    )


class ContactForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=120, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=120, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    custom_fields = forms.CharField(
        label=_("Custom fields"),
        required=False,
        help_text=_("One per line: name: value"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    do_not_text = forms.BooleanField(label=_("Do not text (SMS opt-out)"), required=False)

    def __init__(self, *args: object, contact: Contact | None = None, **kwargs: object) -> None:
        self.original_custom = dict(contact.custom_fields) if contact else {}
        if contact is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "company": contact.company,
                "notes": contact.notes,
                "custom_fields": custom_fields_as_text(contact.custom_fields),
                "do_not_text": contact.do_not_text,
            }
        super().__init__(*args, **kwargs)

    def clean_custom_fields(self) -> dict:
        parsed: dict = {}
        for number, line in enumerate(self.cleaned_data["custom_fields"].splitlines(), start=1):
            if not line.strip():
                continue
            name, separator, value = line.partition(":")
            name, value = name.strip(), value.strip()
            if not separator or not name:
                raise forms.ValidationError(
                    _("Line %(number)s: write it as 'name: value'."), params={"number": number}
                )
            if name in parsed:
                raise forms.ValidationError(
                    _("Line %(number)s: '%(name)s' appears twice."),
                    params={"number": number, "name": name},
                )
            original = self.original_custom.get(name)
            keeps_type = original is not None and str(original) == value
            parsed[name] = original if keeps_type else value
        return parsed


class ContactCreateForm(ContactForm):
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("Email"), max_length=320, required=False)


class IdentityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Identity.Kind.choices)
    value = forms.CharField(label=_("Value"), max_length=320)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


def import_target_choices(headers: list[str]) -> list[tuple[str, str]]:
    identity_labels = dict(Identity.Kind.choices)
    choices = [
        (IGNORE, _("Ignore this column")),
        ("first_name", _("First name")),
        ("last_name", _("Last name")),
        ("full_name", _("Full name (first word is the first name)")),
        ("company", _("Company")),
        ("notes", _("Notes")),
        ("do_not_text", _("Do not text (yes/no)")),
        ("custom_fields", _("Custom fields (JSON object)")),
        *[(kind, identity_labels[kind]) for kind in IDENTITY_TARGETS],
    ]
    for header in headers:
        name = header.strip()[:60]
        if name:
            label = _("Custom field “%(name)s”") % {"name": name}
            choices.append((f"{CUSTOM_PREFIX}{name}", label))
    return list(dict.fromkeys(choices))


class ImportMappingForm(forms.Form):
    overwrite = forms.BooleanField(
        label=_("Replace existing non-empty values (otherwise only empty fields are filled)"),
        required=False,
    )

    def __init__(self, *args: object, headers: list[str], initial_mapping: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = import_target_choices(headers)
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("Column %(number)s") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=initial_mapping.get(str(index), IGNORE),
            )

    def column_fields(self) -> list:
        return [self[f"col_{index}"] for index in range(len(self.headers))]

    def mapping(self) -> dict[int, str]:
        return {
            index: self.cleaned_data.get(f"col_{index}") or IGNORE
            for index in range(len(self.headers))
        }


# --- Merge: which contact stays and, per field, whose value wins ----------------------------


def merge_rows(contact: Contact, other: Contact, selected: dict[str, str]) -> list[dict]:
    extra_labels = {BOTH: _("Keep both"), EITHER: _("Opted out if either is")}
    rows = []
    for name, allowed in FIELD_CHOICES.items():
        rows.append(
            {
                "name": name,
                "label": FIELD_LABELS[name],
                "left": getattr(contact, name),
                "right": getattr(other, name),
                "extra": [(choice, extra_labels[choice]) for choice in allowed[2:]],
                "selected": selected.get(name, str(contact.pk)),
            }
        )
    return rows


def merge_selected(choices: dict[str, str], survivor: Contact, merged: Contact) -> dict:
    sides = {"survivor": str(survivor.pk), "merged": str(merged.pk)}
    return {name: sides.get(choice, choice) for name, choice in choices.items()}


def merge_choices_from_post(post, survivor: Contact, merged: Contact) -> dict[str, str]:
    choices = {}
    for name, allowed in FIELD_CHOICES.items():
        raw = post.get(f"field_{name}", "")
        if raw == str(survivor.pk):
            choices[name] = "survivor"
        elif raw == str(merged.pk):
            choices[name] = "merged"
        elif raw in allowed[2:]:
            choices[name] = raw
    return choices
