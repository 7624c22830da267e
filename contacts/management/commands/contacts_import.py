"""Import contacts from a CSV file; prints the report (every rejected row with line and reason)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contactcenter.exceptions import DomainError
from contacts.services import contacts_import_csv, guess_mapping
from contacts.services.csv_import import decode_upload, read_headers, sniff_delimiter


class Command(BaseCommand):
    help = (
        "Import contacts from CSV. Columns are mapped from their names (Phone, Email, First "
        "name...) unless --map is given. Re-importing the same file creates no duplicates."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="CSV file (UTF-8), first row = column names; - for stdin")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=TARGET",
            help="Map a column (its name or #number, 1-based) to first_name, last_name, "
            "full_name, company, notes, do_not_text, custom_fields, custom:<name>, phone, email, "
            "webchat, messenger, external, or '' to ignore. Repeatable; replaces the guess for "
            "that column.",
        )
        parser.add_argument(
            "--overwrite", action="store_true", help="Replace non-empty values of known contacts"
        )
        parser.add_argument("--delimiter", default=None, help="Default: detected")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON")

    def handle(self, *args, **options) -> None:
        path = options["path"]
        try:
            data = (
                self.stdin.buffer.read()
                if path == "-" and hasattr(self.stdin, "buffer")
                else Path(path).read_bytes()
            )
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            text = decode_upload(data)
            delimiter = options["delimiter"] or sniff_delimiter(text)
            headers = read_headers(text, delimiter)
            mapping = guess_mapping(headers)
            mapping.update(self._explicit_mapping(options["map"], headers))
            report = contacts_import_csv(
                content=text,
                mapping=mapping,
                user=None,
                delimiter=delimiter,
                overwrite=options["overwrite"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        used = ", ".join(f"{headers[i]}→{t}" for i, t in sorted(mapping.items()) if t)
        self.stdout.write(f"Columns: {used}")
        self.stdout.write(
            f"Rows: {report.rows}; created {report.created}, updated {report.updated}, "
            f"unchanged {report.unchanged}, rejected {len(report.rejected)}"
            + (f"; blank lines skipped {report.blank_lines}" if report.blank_lines else "")
        )
        for item in report.rejected:
            self.stdout.write(f"line {item['line']}: {item['reason']}")

    def _explicit_mapping(self, items: list[str], headers: list[str]) -> dict[int, str]:
        mapping: dict[int, str] = {}
        for item in items:
            column, separator, target = item.partition("=")
            if not separator:
                raise CommandError(f"--map {item!r}: write it as COLUMN=TARGET.")
            column = column.strip()
            if column.startswith("#") and column[1:].isdigit():
                index = int(column[1:]) - 1
            elif column in headers:
                index = headers.index(column)
            else:
                raise CommandError(f"--map {item!r}: no column {column!r} in {headers}.")
            mapping[index] = target.strip()
        return mapping
