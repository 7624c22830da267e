"""Poll the IMAP mailboxes of email entry points now (what Celery beat does every
EMAIL_IMAP_POLL_SECONDS), e.g. ``manage.py email_poll --address support@example.com``."""

from django.core.management.base import BaseCommand, CommandError

from channels_app.email.imap import mailbox_poll, mailboxes_to_poll
from channels_app.models import EmailMailbox


class Command(BaseCommand):
    help = "Fetch and process new email from the IMAP mailboxes (each message once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--address", help="Only the mailbox of this email entry point.")
        parser.add_argument("--limit", type=int, default=200, help="Messages per mailbox.")

    def handle(self, *args: object, **options: object) -> None:
        ids = mailboxes_to_poll()
        if options["address"]:
            ids = list(
                EmailMailbox.objects.filter(
                    pk__in=ids, entry_point__address__iexact=options["address"]
                ).values_list("id", flat=True)
            )
            if not ids:
                raise CommandError(f"No IMAP mailbox for {options['address']}.")
        for mailbox_id in ids:
            report = mailbox_poll(mailbox_id=mailbox_id, limit=options["limit"])
            if report.busy:
                self.stdout.write(f"mailbox {mailbox_id}: being polled elsewhere")
            elif report.error:
                self.stderr.write(f"mailbox {mailbox_id}: {report.error}")
            else:
                self.stdout.write(
                    f"mailbox {mailbox_id}: {report.stored} stored, "
                    f"{report.duplicates} already known, {report.rejected} passed over"
                )
