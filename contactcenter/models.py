from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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


class AuditAction(models.TextChoices):
    """What somebody did. Supervisors' actions, merges, moves, roles and settings changes."""

    AGENT_STATE_FORCED = "agent.state_forced", _("Forced an agent's state")
    AGENT_LOGGED_OUT = "agent.logged_out", _("Logged an agent out")
    INTERACTION_ASSIGNED = "interaction.assigned", _("Assigned a waiting interaction")
    CONVERSATION_TRANSFERRED = "conversation.transferred", _("Transferred a conversation")
    CONVERSATION_CLOSED = "conversation.closed", _("Closed a conversation")
    CONVERSATION_MONITORED = "conversation.monitored", _("Monitored a conversation")
    CONVERSATION_WHISPERED = "conversation.whispered", _("Whispered to an agent")
    CONVERSATION_BARGED = "conversation.barged", _("Barged in on a conversation")
    CONVERSATION_MOVED = "conversation.moved", _("Moved a conversation to another contact")
    CONTACT_MERGED = "contact.merged", _("Merged two contacts")
    CONTACT_MERGE_UNDONE = "contact.merge_undone", _("Undid a contact merge")
    ROLE_CHANGED = "user.role_changed", _("Changed a user's role")
    SETTING_ADDED = "setting.added", _("Added a setting")
    SETTING_CHANGED = "setting.changed", _("Changed a setting")
    SETTING_DELETED = "setting.deleted", _("Deleted a setting")


class AuditRecord(models.Model):
    """Who did what to which conversation, contact, agent or setting, and when (append only)."""

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    action = models.CharField(_("what"), max_length=40, choices=AuditAction.choices)
    target_type = models.ForeignKey(
        ContentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kind of object"),
    )
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_repr = models.CharField(_("object"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["action", "created_at"], name="audit_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} · {self.get_action_display()} · {self.target_repr}"
