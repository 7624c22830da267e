"""The agent's state widget in the top bar of every agent page (desktop, contacts, outbox)."""

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from contactcenter.realtime import page_cursor

from .models import AgentProfile, AgentState, NotReadyReason


@dataclass
class StateWidget:
    profile: AgentProfile
    not_ready_reasons: list[NotReadyReason]
    reason_names: set[str]
    state_labels: dict[str, str]
    event_cursor: int

    @property
    def pending_label(self) -> str:
        """ "Not Ready: Lunch" while busy, when the agent asked for it after the current work."""
        if self.profile.requested_state != AgentState.NOT_READY:
            return ""
        label = str(AgentState.NOT_READY.label)
        reason = self.profile.requested_reason
        return f"{label}: {reason}" if reason else label


def state_widget(*, profile: AgentProfile, event_cursor: int) -> StateWidget:
    """The widget of ``profile``; ``event_cursor`` read before the profile (a change after it is
    replayed by the page's socket). The desktop builds it from what it reads anyway."""
    reasons = list(NotReadyReason.objects.filter(active=True))
    return StateWidget(
        profile=profile,
        not_ready_reasons=reasons,
        reason_names={reason.name for reason in reasons},
        state_labels={state.value: str(state.label) for state in AgentState},
        event_cursor=event_cursor,
    )


def _widget(user) -> StateWidget | None:
    cursor = page_cursor()
    profile = AgentProfile.objects.filter(user_id=user.pk).first()
    if profile is None:
        return None  # not an agent (a supervisor or an administrator without a profile)
    return state_widget(profile=profile, event_cursor=cursor)


def agent_state(request: HttpRequest) -> dict:
    """Read only when a page shows the widget (fragments rendered with the same context never
    touch it, so they cost no query for it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"state_widget": SimpleLazyObject(lambda: _widget(user) or False)}
