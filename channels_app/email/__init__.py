"""The email channel: inbound by webhook (raw MIME) and IMAP polling, outbound through SMTP (or
the local outbox), threading, loop guards, attachments and the email parts of the desktop."""
