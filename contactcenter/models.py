from django.db import models


class Event(models.Model):
    """A durable, numbered fact shown to desktops. The channel layer only rings the doorbell."""

    id = models.BigAutoField(primary_key=True)
    audience = models.CharField(max_length=90, db_index=False)
    type = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["audience", "id"], name="event_audience_id")]

    def __str__(self) -> str:
        return f"#{self.id} {self.type} → {self.audience}"

    def as_message(self) -> dict:
        return {
            "id": self.id,
            "type": self.type,
            "audience": self.audience,
            "payload": self.payload,
            "at": self.created_at.isoformat(),
        }
