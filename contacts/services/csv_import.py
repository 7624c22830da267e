"""CSV import: every row is created, updated, left unchanged or rejected with its line number and
the reason; nothing is dropped silently. Rows are matched on their identities, so importing the
same file again creates nothing new."""

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import DomainError, PermissionDenied, ValidationError

from .. import events
from ..events import contact_payload, publish_contact_event
from ..models import Contact, ContactImport, Identity
from ..normalize import normalize_identity
from ..permissions import can_import
from .contacts import CUSTOM_KEY_MAX, clean_contact_fields, contacts_lock

IGNORE = ""
IDENTITY_TARGETS = tuple(Identity.Kind.values)
TEXT_TARGETS = ("first_name", "last_name", "company", "notes")
SCALAR_TARGETS = (*TEXT_TARGETS, "full_name", "custom_fields", "do_not_text")
CUSTOM_PREFIX = "custom:"
MULTI_VALUE_SEPARATOR = re.compile(r"[;|\n]")
TRUE_WORDS = {"1", "true", "yes", "y", "x", "on"}
FALSE_WORDS = {"", "0", "false", "no", "n", "off"}

HEADER_GUESSES = {
    "first name": "first_name",
    "firstname": "first_name",
    "given name": "first_name",
    "forename": "first_name",
    "last name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family name": "last_name",
    "name": "full_name",
    "full name": "full_name",
    "contact name": "full_name",
    "company": "company",
    "organization": "company",
    "organisation": "company",
    "account": "company",
    "notes": "notes",
    "note": "notes",
    "comments": "notes",
    "phone": "phone",
    "phones": "phone",
    "phone number": "phone",
    "telephone": "phone",
    "tel": "phone",
    "mobile": "phone",
    "mobile phone": "phone",
    "cell": "phone",
    "work phone": "phone",
    "home phone": "phone",
    "email": "email",
    "emails": "email",
    "e mail": "email",
    "email address": "email",
    "mail": "email",
    "webchat": "webchat",
    "web chat visitor": "webchat",
    "messenger": "messenger",
    "messenger id": "messenger",
    "external": "external",
    "external id": "external",
    "crm id": "external",
    "custom fields": "custom_fields",
    "do not text": "do_not_text",
    "sms opt out": "do_not_text",
}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    blank_lines: int = 0
    rejected: list[dict] = field(default_factory=list)

    def reject(self, line: int, reason: str, values: dict | None = None) -> None:
        self.rejected.append({"line": line, "reason": reason, "values": values or {}})

    def as_dict(self) -> dict:
        return asdict(self)


def _header_key(header: str) -> str:
    return " ".join(re.sub(r"[-_./]+", " ", header.strip().lower()).split())


def guess_mapping(headers: list[str]) -> dict[int, str]:
    """A first mapping from header names; unknown columns are ignored, and each single-valued
    field is taken by the first column that names it."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        target = HEADER_GUESSES.get(_header_key(header), IGNORE)
        if target.startswith(CUSTOM_PREFIX) or target in IDENTITY_TARGETS:
            mapping[index] = target
        elif target and target not in taken:
            mapping[index] = target
            taken.add(target)
        else:
            mapping[index] = IGNORE
    return mapping


def is_valid_target(target: str) -> bool:
    if target.startswith(CUSTOM_PREFIX):
        return 0 < len(target[len(CUSTOM_PREFIX) :].strip()) <= CUSTOM_KEY_MAX
    return target == IGNORE or target in IDENTITY_TARGETS or target in SCALAR_TARGETS


def clean_mapping(mapping: dict, headers: list[str]) -> dict[int, str]:
    cleaned: dict[int, str] = {}
    for raw_index, raw_target in mapping.items():
        try:
            index = int(raw_index)
        except (TypeError, ValueError):
            raise ValidationError(
                gettext("'%(value)s' is not a column number.") % {"value": raw_index},
                field="mapping",
            ) from None
        if not 0 <= index < len(headers):
            raise ValidationError(
                gettext("The file has no column %(number)s.") % {"number": index + 1},
                field="mapping",
            )
        target = (raw_target or "").strip()
        if not is_valid_target(target):
            raise ValidationError(
                gettext("'%(target)s' is not a contact field (column '%(column)s').")
                % {"target": target, "column": headers[index]},
                field="mapping",
            )
        cleaned[index] = target
    scalars = [t for t in cleaned.values() if t in SCALAR_TARGETS or t.startswith(CUSTOM_PREFIX)]
    for target in scalars:
        if scalars.count(target) > 1:
            raise ValidationError(
                gettext("Only one column can be mapped to '%(target)s'.") % {"target": target},
                field=f"mapping.{target}",
            )
    if not any(target in IDENTITY_TARGETS for target in cleaned.values()):
        raise ValidationError(
            gettext(
                "Map at least one column to a phone, email or other identity: rows are matched on "
                "them, so importing the file again does not create duplicates."
            ),
            field="mapping",
        )
    return cleaned


def decode_upload(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            gettext("The file is not UTF-8 text (byte %(byte)s); save it as 'CSV UTF-8'.")
            % {"byte": exc.start + 1},
            field="file",
        ) from exc


def sniff_delimiter(text: str) -> str:
    sample = text[:8192]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def read_headers(text: str, delimiter: str) -> list[str]:
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        if any(cell.strip() for cell in row):
            return [cell.strip() for cell in row]
    raise ValidationError(gettext("The file is empty: no header row was found."), field="file")


def _parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(
        gettext("'%(value)s' is not yes/no.") % {"value": text}, field="do_not_text"
    )


@dataclass
class _ParsedRow:
    fields: dict
    custom: dict
    identities: list[tuple[str, str]]


def _parse_row(cells: list[str], mapping: dict[int, str], headers: list[str]) -> _ParsedRow:
    """Raise ValidationError with every problem of the row."""
    fields: dict = {}
    custom: dict = {}
    identities: list[tuple[str, str]] = []
    errors: list[str] = []
    for index, target in mapping.items():
        raw = _unquote_formula(cells[index].strip())
        column = f"{headers[index]} (column {index + 1})"
        if target == IGNORE or (not raw and target != "do_not_text"):
            continue
        try:
            if target in IDENTITY_TARGETS:
                for part in MULTI_VALUE_SEPARATOR.split(raw):
                    if part.strip():
                        identities.append((target, normalize_identity(target, part, field=column)))
            elif target == "full_name":
                first, _, last = raw.partition(" ")
                fields.setdefault("first_name", first.strip())
                fields.setdefault("last_name", last.strip())
            elif target == "do_not_text":
                fields["do_not_text"] = _parse_bool(raw)
            elif target == "custom_fields":
                custom.update(_parse_custom_json(raw))
            elif target.startswith(CUSTOM_PREFIX):
                custom[target[len(CUSTOM_PREFIX) :].strip()] = raw
            else:
                fields[target] = raw
        except ValidationError as exc:
            errors.append(f"{column}: {exc.message}")
    if not errors:
        try:
            fields = clean_contact_fields({**fields, "custom_fields": custom})
            custom = fields.pop("custom_fields")
        except ValidationError as exc:
            errors.append(f"{exc.field}: {exc.message}")
    if not errors and not identities:
        errors.append(
            gettext(
                "No phone, email or other identity: the row cannot be matched again on re-import."
            )
        )
    if errors:
        raise ValidationError("; ".join(errors))
    return _ParsedRow(fields=fields, custom=custom, identities=list(dict.fromkeys(identities)))


def _unquote_formula(text: str) -> str:
    """Undo the quote our export puts before cells a spreadsheet would run as a formula."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=@+-\t\r":
        return text[1:]
    return text


def _parse_custom_json(raw: str) -> dict:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValidationError(
            gettext("not valid JSON (%(error)s).") % {"error": exc.msg}, field="custom_fields"
        ) from exc
    if not isinstance(value, dict):
        raise ValidationError(gettext("must be a JSON object."), field="custom_fields")
    return value


def _numbered_rows(text: str, delimiter: str, report: ImportReport):
    """Yield (first line number, cells) for every data row; the header row is skipped."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header_seen = False
    last_line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.rows += 1
            report.reject(reader.line_num, gettext("Unreadable CSV: %(error)s.") % {"error": exc})
            last_line = reader.line_num
            continue
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            if header_seen:
                report.blank_lines += 1
            continue
        if not header_seen:
            header_seen = True
            continue
        yield line, cells


def contacts_import_csv(
    *,
    content: str,
    mapping: dict,
    user: AbstractBaseUser | None,
    delimiter: str | None = None,
    overwrite: bool = False,
) -> ImportReport:
    """Import contacts from CSV text whose first non-blank row is the header.

    ``mapping`` maps column numbers (0-based) to a target: a contact field (``first_name``,
    ``last_name``, ``full_name``, ``company``, ``notes``, ``do_not_text``, ``custom_fields`` as a
    JSON object, ``custom:<name>``), an identity kind (``phone``, ``email``, ``webchat``,
    ``messenger``, ``external``; several values in one cell separated by ``;``) or ``""`` to
    ignore. A row matching one existing contact by any identity updates it (blank fields are
    filled; ``overwrite`` replaces non-blank ones too; an SMS opt-out is never cleared). A row
    whose identities belong to different contacts, repeat an earlier row of the file, or fail
    validation is rejected with its reason.
    """
    delimiter = delimiter or sniff_delimiter(content)
    headers = read_headers(content, delimiter)
    mapping = clean_mapping(mapping, headers)
    report = ImportReport()
    seen: dict[tuple[str, str], int] = {}
    for line, cells in _numbered_rows(content, delimiter, report):
        report.rows += 1
        values = dict(zip(headers, cells, strict=False))
        if len(cells) != len(headers):
            report.reject(
                line,
                gettext("The row has %(count)s fields; the header has %(header)s.")
                % {"count": len(cells), "header": len(headers)},
                values,
            )
            continue
        try:
            parsed = _parse_row(cells, mapping, headers)
        except ValidationError as exc:
            report.reject(line, exc.message, values)
            continue
        repeated = [(kind, value) for kind, value in parsed.identities if (kind, value) in seen]
        if repeated:
            kind, value = repeated[0]
            report.reject(
                line,
                gettext("Duplicate of line %(line)s: %(kind)s %(value)s is already on that row.")
                % {"line": seen[(kind, value)], "kind": Identity.Kind(kind).label, "value": value},
                values,
            )
            continue
        try:
            with transaction.atomic():
                outcome = _import_row(parsed, overwrite=overwrite)
        except DomainError as exc:
            report.reject(line, exc.message, values)
            continue
        except IntegrityError:
            report.reject(
                line,
                gettext("Another change to the same contact happened meanwhile; import again."),
                values,
            )
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        for identity in parsed.identities:
            seen[identity] = line
    if report.created or report.updated:
        realtime.publish(
            audiences=realtime.SUPERVISORS,
            type=events.CONTACTS_IMPORTED,
            payload={
                "created": report.created,
                "updated": report.updated,
                "rejected": len(report.rejected),
                "user_id": getattr(user, "pk", None),
            },
        )
    return report


def _import_row(parsed: _ParsedRow, *, overwrite: bool) -> str:
    """Apply one valid row inside its own transaction; return created/updated/unchanged."""
    query = Q()
    for kind, value in parsed.identities:
        query |= Q(kind=kind, value=value)
    owners = list(
        Identity.objects.filter(query).select_related("contact").order_by("contact_id", "id")
    )
    owner_ids = list(dict.fromkeys(identity.contact_id for identity in owners))
    if len(owner_ids) > 1:
        parts = [
            gettext("%(kind)s %(value)s belongs to contact #%(id)s (%(name)s)")
            % {
                "kind": identity.get_kind_display(),
                "value": identity.value,
                "id": identity.contact_id,
                "name": identity.contact.display_name,
            }
            for identity in owners
        ]
        raise ValidationError(
            gettext("%(owners)s. Merge those contacts first; nothing was changed.")
            % {"owners": "; ".join(dict.fromkeys(parts))}
        )
    if not owner_ids:
        contact = Contact.objects.create(**parsed.fields, custom_fields=parsed.custom)
        for kind, value in parsed.identities:
            Identity.objects.create(contact=contact, kind=kind, value=value)
        return "created"
    contact = contacts_lock(owner_ids)[owner_ids[0]]
    changed = []
    for name, value in parsed.fields.items():
        current = getattr(contact, name)
        if name == "do_not_text":
            if value and not current:
                contact.do_not_text = True
                changed.append(name)
        elif value and value != current and (overwrite or not current):
            setattr(contact, name, value)
            changed.append(name)
    custom = dict(contact.custom_fields)
    for key, value in parsed.custom.items():
        if key not in custom or (overwrite and custom[key] != value):
            custom[key] = value
    if custom != contact.custom_fields:
        contact.custom_fields = custom
        changed.append("custom_fields")
    known = {(identity.kind, identity.value) for identity in owners}
    for kind, value in parsed.identities:
        if (kind, value) not in known:
            Identity.objects.create(contact=contact, kind=kind, value=value)
            if "identities" not in changed:
                changed.append("identities")
    if not changed:
        return "unchanged"
    contact.save()
    publish_contact_event(
        type=events.CONTACT_UPDATED,
        contact_ids=[contact.pk],
        payload=contact_payload(contact, fields=changed),
    )
    return "updated"


# --- The two-step page flow: upload, then map columns and run --------------------------------


def _ensure_can_import(user: AbstractBaseUser | None) -> None:
    if user is None or not can_import(user):
        raise PermissionDenied(gettext("You do not have permission to import contacts."))


def contact_import_start(
    *, user: AbstractBaseUser, filename: str, data: bytes, max_bytes: int
) -> ContactImport:
    """Keep an uploaded file until its columns are mapped."""
    _ensure_can_import(user)
    if len(data) > max_bytes:
        raise ValidationError(
            gettext(
                "The file is %(size)s bytes; the limit is %(limit)s. Use the contacts_import "
                "management command for larger files."
            )
            % {"size": f"{len(data):,}", "limit": f"{max_bytes:,}"},
            field="file",
        )
    text = decode_upload(data)
    delimiter = sniff_delimiter(text)
    headers = read_headers(text, delimiter)
    return ContactImport.objects.create(
        created_by=user,
        filename=filename[:255],
        content=text,
        delimiter=delimiter,
        headers=headers,
        mapping={str(k): v for k, v in guess_mapping(headers).items()},
    )


def contact_import_run(
    *, contact_import: ContactImport, mapping: dict, user: AbstractBaseUser, overwrite: bool = False
) -> ContactImport:
    _ensure_can_import(user)
    with transaction.atomic():
        contact_import = ContactImport.objects.select_for_update().get(pk=contact_import.pk)
        if contact_import.status != ContactImport.Status.PENDING:
            return contact_import  # a double submit imports once
        cleaned = clean_mapping(mapping, contact_import.headers)
        contact_import.status = ContactImport.Status.RUNNING
        contact_import.save(update_fields=["status"])
    report = contacts_import_csv(
        content=contact_import.content,
        mapping=cleaned,
        user=user,
        delimiter=contact_import.delimiter,
        overwrite=overwrite,
    )
    with transaction.atomic():
        contact_import = ContactImport.objects.select_for_update().get(pk=contact_import.pk)
        contact_import.mapping = {str(k): v for k, v in cleaned.items()}
        contact_import.report = report.as_dict()
        contact_import.status = ContactImport.Status.DONE
        contact_import.finished_at = timezone.now()
        contact_import.content = ""  # rejected rows keep their values in the report
        contact_import.save()
    return contact_import
