"""The web chat's lifecycle listener: what happens to a chat interaction (or its conversation) is
told to the customer's widget here, in the same transaction as the change — never found out by
polling. Registered on the lifecycle port in ``ChannelsAppConfig.ready``.
"""

from django.contrib.auth import get_user_model

from conversations.ports import Lifecycle, LifecycleEvent

from ..models import ChatNotice, ChatSession
from . import services


def chat_lifecycle(event: LifecycleEvent) -> None:
    for session in _open_sessions(event):
        _apply(event, session)


def _open_sessions(event: LifecycleEvent) -> list[ChatSession]:
    """The chat sessions the event is about, locked (the caller holds the conversation)."""
    sessions = ChatSession.objects.select_for_update(of=("self",)).filter(
        state=ChatSession.State.OPEN
    )
    if event.interaction is not None:
        sessions = sessions.filter(interaction_id=event.interaction.pk)
    else:
        sessions = sessions.filter(conversation_id=event.conversation.pk)
    return list(sessions.select_related("entry_point"))


def _user(user_id: int | None):
    if user_id is None:
        return None
    return get_user_model().objects.select_related("agent_profile").filter(pk=user_id).first()


def _apply(event: LifecycleEvent, session: ChatSession) -> None:
    kind = event.kind
    if kind == Lifecycle.QUEUED:
        if session.agent_id:
            services.session_agent_set(session, None)
        services.session_queue_update(session, event.interaction)
    elif kind == Lifecycle.OFFERED:
        services.session_queue_update(session, event.interaction, connecting=True)
    elif kind == Lifecycle.ASSIGNED:
        services.session_agent_set(session, _user(event.agent_id), joined=True)
    elif kind == Lifecycle.TRANSFERRED:
        if event.agent_id is not None:
            services.session_agent_set(
                session, _user(event.agent_id), previous=_user(event.previous_agent_id)
            )
        else:  # to a service's queue: told once, then the queue position follows
            service = event.conversation.service
            services.notice_add(
                session,
                ChatNotice.Code.TRANSFERRED_TO_SERVICE,
                previous=session.agent_name,
                service=service.name if service else "",
            )
            session.agent_id, session.agent_name = None, ""
            session.idle_since = session.warn_at = session.expires_at = session.warned_at = None
            session.save()
            services.publish_to_customer(session, services.events.CHAT_AGENT, {"name": None})
    elif kind == Lifecycle.PARTICIPANT_JOINED:
        user = _user(event.agent_id)
        services.notice_add(
            session,
            ChatNotice.Code.PARTICIPANT_JOINED,
            name=services.agent_display_name(user) if user else "",
        )
    elif kind == Lifecycle.PARTICIPANT_LEFT:
        user = _user(event.agent_id)
        services.notice_add(
            session,
            ChatNotice.Code.PARTICIPANT_LEFT,
            name=services.agent_display_name(user) if user else "",
        )
    elif kind in (Lifecycle.ENDED, Lifecycle.CLOSED):
        services.session_end(session, ChatSession.EndReason.AGENT)
