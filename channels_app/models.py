from django.db import models
from django.utils.translation import gettext_lazy as _

from conversations.models import Channel, Service


class EntryPoint(models.Model):
    """An address customers use (phone number, email address, chat widget) mapped to a service."""

    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(
        _("address"),
        max_length=320,
        help_text=_("E.164 phone number, email address, or the chat widget's slug."),
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="entry_points")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["channel", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address"], name="entry_point_unique_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()} {self.address})"


class LocalOutboxItem(models.Model):
    """What the built-in local SMS adapter 'sent' (no provider configured): the demo's outbox."""

    message_id = models.BigIntegerField(unique=True)
    from_address = models.CharField(max_length=320)
    to_address = models.CharField(max_length=320)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.from_address} → {self.to_address}"

    @property
    def provider_id(self) -> str:
        return f"LOCAL{self.pk:030d}"
