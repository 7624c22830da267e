from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Contact(models.Model):
    """A customer. Everything they do, on any channel, lands under one contact.

    A merged contact keeps its row (``merged_into`` points at the survivor) so an undo can restore
    it with the same id; it no longer owns identities or conversations and is hidden from lists.
    """

    first_name = models.CharField(_("first name"), max_length=120, blank=True)
    last_name = models.CharField(_("last name"), max_length=120, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    do_not_text = models.BooleanField(_("do not text"), default=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="absorbed",
        verbose_name=_("merged into"),
    )
    merged_at = models.DateTimeField(_("merged at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="contact_name"),
            models.Index(fields=["company"], name="contact_company"),
        ]
        permissions = [
            ("merge_contact", _("Can merge contacts, undo merges and move conversations")),
            ("import_contact", _("Can import contacts from CSV")),
            ("export_contact", _("Can export contacts to CSV")),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or gettext("Contact %(id)s") % {"id": self.pk}

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class Identity(models.Model):
    """One address of a contact. Unique on (kind, value): one identity belongs to one contact."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        WEBCHAT = "webchat", _("Web-chat visitor")
        MESSENGER = "messenger", _("Messenger id")
        EXTERNAL = "external", _("External CRM id")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=320)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_kind_value_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class ContactMerge(models.Model):
    """What a merge changed, kept so that an undo restores both contacts exactly.

    ``survivor_before``/``merged_before`` are the field values before the merge,
    ``survivor_after`` what the merge wrote (an undo keeps fields edited since),
    ``identity_ids`` the identities moved from the merged contact, ``participants`` the undo data
    of other apps (conversations moved, duplicate links rewritten), keyed by participant name.
    """

    survivor = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="merges_lost")
    field_choices = models.JSONField(default=dict, blank=True)
    survivor_before = models.JSONField(default=dict)
    survivor_after = models.JSONField(default=dict)
    merged_before = models.JSONField(default=dict)
    identity_ids = models.JSONField(default=list)
    participants = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contact merge")

    def __str__(self) -> str:
        return f"#{self.merged_id} → #{self.survivor_id}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None


class ContactImport(models.Model):
    """One CSV upload: the file waits here between upload and column mapping; then the report."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for column mapping")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=255, blank=True)
    content = models.TextField(blank=True)
    delimiter = models.CharField(max_length=1, default=",")
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    report = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contact import")

    def __str__(self) -> str:
        return f"{self.filename or 'CSV'} ({self.get_status_display()})"
