"""Export contacts as CSV (the format contacts_import reads back)."""

import csv
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from contacts.selectors import contacts_export_rows


class Command(BaseCommand):
    help = "Export contacts (all, or those matching --query) as CSV to a file or stdout."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", "-o", default="-", help="File path; - for stdout")
        parser.add_argument("--query", "-q", default="", help="Same search as the Contacts page")

    def handle(self, *args, **options) -> None:
        if options["output"] == "-":
            self._write(self.stdout if self.stdout else sys.stdout, options["query"])
            return
        with Path(options["output"]).open("w", newline="", encoding="utf-8") as handle:
            count = self._write(handle, options["query"])
        self.stderr.write(f"{count} contacts written to {options['output']}")

    def _write(self, handle, query: str) -> int:
        writer = csv.writer(handle)
        count = -1
        for row in contacts_export_rows(query=query):
            writer.writerow(row)
            count += 1
        return count
