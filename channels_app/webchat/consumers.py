"""Websocket consumers of the web chat.

``CustomerChatConsumer`` at ``/ws/chat/<entry point slug>/``: the customer's widget. No login: the
first frame is a hello carrying the signed visitor token (a new visitor gets one). Protocol (JSON):

  client -> {"type": "hello", "token": T|null, "page": {"url", "title"}, "language": "en"}
  server -> {"type": "welcome", "token": T', "renewed": bool, "config": {...},
             "availability": "open"|"closed"|"unavailable", "session": {...}|null}
            ``renewed`` is true when the token sent was forged, tampered with or expired: the
            browser is then a new visitor and sees nothing of the old chat.
  client -> {"type": "prechat", "fields": {...}, "client_id"}  -> "session" or "form_errors"
  client -> {"type": "message", "client_id", "body"}            -> "ack" (+ the "event")
  client -> {"type": "typing", "typing": bool} | {"type": "page", "page": {...}}
  client -> {"type": "seen", "up_to": message id}   (the agent's lines shown to the customer)
  client -> {"type": "end"} | {"type": "restart"} | {"type": "transcript", "fields": {...}}
  client -> {"type": "offline", "fields": {...}, "client_id"}  -> "offline_sent"/"form_errors"
  client -> {"type": "ping"}  -> missed events, then {"type": "pong"}
  client -> {"type": "prechat", ..., "call": true}  "Call us": the session starts with a call
  client -> {"type": "call_request"}  "Call us" during the chat
  client -> {"type": "call_answer"|"call_decline"|"call_hangup", "call_id"}  a web call
  client -> {"type": "call_signal", "call_id", "kind": "answer"|"ice"|"renegotiate", "peer",
             "data"}  WebRTC signaling, relayed to the agent's desktop as a ``voice.signal``
  server -> {"type": "event", "event": {"id", "type", "payload"}} for chat.message (hydrated),
            chat.notice, chat.agent, chat.queue, chat.read, chat.warning, chat.ended, voice.call
            (a call's state), voice.signal (the agent's offer and ICE candidates)
  server -> {"type": "queue", "position", "wait_seconds"} when the service's queue moved
  server -> {"type": "typing", "typing": bool, "name"} (the agent), {"type": "error", "code",
            "detail", "field", "client_id"} for anything refused: nothing is dropped silently.

What happens on the agent's side reaches the widget as events of the session's audience, written
by the chat's lifecycle listener in the same transaction as the change: this consumer never polls.
The agent's typing and read receipts come from the agent's own socket (the agent activity port).
"""

import asyncio
import json
import logging
from collections import deque

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation

from contactcenter import realtime
from contactcenter.exceptions import DomainError, NotFound
from contactcenter.http import scope_client_address
from contactcenter.ws import EventStreamConsumer
from conversations.models import MessageStatus

from ..models import ChatSession
from ..voice import services as voice
from . import events, selectors, services
from .config import chat_config
from .forms import OfflineForm, PreChatForm, TranscriptForm, split_name
from .tokens import InvalidToken, visitor_token_issue, visitor_token_read

logger = logging.getLogger(__name__)

MAX_FRAME_CHARS = 20_000
MAX_FRAMES_PER_SECOND = 15
TYPING_ACTIVITY_SECONDS = 15


def _language(value: object) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    if isinstance(value, str):
        value = value.strip().lower()
        for candidate in (value, value.split("-")[0]):
            if candidate in codes:
                return candidate
    return settings.LANGUAGE_CODE


def _as_int(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def _form_errors(form) -> dict:
    return {form.add_prefix(name): [str(e) for e in errors] for name, errors in form.errors.items()}


QUEUE_REFRESH_SECONDS = 1.0


class CustomerChatConsumer(EventStreamConsumer):
    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.entry_point = await database_sync_to_async(self._entry_point)(slug)
        if self.entry_point is None:
            await self.close(code=4404)
            return
        self.visitor = None
        self.address = scope_client_address(self.scope)
        self.session_id: int | None = None
        self.conversation_id: int | None = None
        self.session_open = False
        self.frames: deque[float] = deque()
        self.language = settings.LANGUAGE_CODE
        self.page: services.Page | None = None
        self.groups_joined: set[str] = set()
        self.stream: realtime.EventCursor | None = None
        self.audiences: list[str] = []
        self.shown: set[tuple[str, int]] = set()  # ("message"|"notice", id) already on screen
        self.last_activity = 0.0
        self.last_queue_refresh = 0.0
        await self.accept()

    @staticmethod
    def _entry_point(slug: str):
        try:
            return services.chat_entry_point(slug=slug)
        except NotFound:
            return None

    async def disconnect(self, code: int) -> None:
        for group in list(getattr(self, "groups_joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "session_id", None) and self.visitor is not None:
            await self._mark_seen()  # the widget left: the queue grace period starts now

    async def _mark_seen(self) -> None:
        await database_sync_to_async(services.chat_customer_seen)(
            session_id=self.session_id, visitor_id=self.visitor.visitor_id
        )

    # --- frames in ------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self._error("too_large", self._t("That was too long to send."))
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_request", self._t("The widget sent something unreadable."))
            return
        if not isinstance(content, dict):
            await self._error("bad_request", self._t("The widget sent something unreadable."))
            return
        now = asyncio.get_running_loop().time()
        self.frames.append(now)
        while self.frames and now - self.frames[0] > 1:
            self.frames.popleft()
        if len(self.frames) > MAX_FRAMES_PER_SECOND:
            await self._error(
                "rate_limited",
                self._t("You are sending messages too quickly. Please wait a moment."),
                client_id=content.get("client_id"),
            )
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict, **kwargs: object) -> None:
        kind = content.get("type")
        if kind == "hello":
            await self._hello(content)
            return
        if self.visitor is None:
            await self._error("hello_first", self._t("Not connected yet. Please wait."))
            return
        handler = {
            "prechat": self._prechat,
            "message": self._message,
            "typing": self._typing,
            "page": self._page,
            "seen": self._seen,
            "end": self._end,
            "restart": self._restart,
            "transcript": self._transcript,
            "offline": self._offline,
            "ping": self._ping,
            "call_request": self._call_request,
            "call_answer": self._call_action,
            "call_decline": self._call_action,
            "call_hangup": self._call_action,
            "call_signal": self._call_signal,
        }.get(kind)
        if handler is None:
            await self._error("bad_request", self._t("The widget sent something unreadable."))
            return
        try:
            await handler(content)
        except DomainError as exc:
            await self._error(
                exc.code, exc.message, field=exc.field, client_id=content.get("client_id")
            )

    def _t(self, text: str) -> str:
        with translation.override(self.language):
            return translation.gettext(text)

    async def _call(self, fn, /, **kwargs):
        """Run a service in a thread, in the customer's language (for the errors it raises)."""

        def run():
            with translation.override(self.language):
                return fn(**kwargs)

        return await database_sync_to_async(run)()

    # --- hello and session state ------------------------------------------------------------

    async def _hello(self, content: dict) -> None:
        self.language = _language(content.get("language"))
        self.page = services.Page.from_client(content.get("page"))
        token = content.get("token")
        renewed = False
        visitor = None
        if token:
            try:
                visitor = visitor_token_read(token, entry_point_id=self.entry_point.pk)
            except InvalidToken as exc:
                logger.info("webchat %s: refused visitor token (%s)", self.entry_point.pk, exc)
                renewed = True
        # A fresh signature every hello: the token's age counts from the last visit.
        visitor = visitor_token_issue(
            entry_point_id=self.entry_point.pk, visitor_id=visitor.visitor_id if visitor else None
        )
        self.visitor = visitor
        state = await self._call(self._hello_state)
        await self.send_json(
            {
                "type": "welcome",
                "token": visitor.token,
                "renewed": renewed,
                "config": state["config"],
                "availability": state["availability"],
                "session": state["session"],
            }
        )
        if state["session"]:
            await self._follow(state["session"])

    def _hello_state(self) -> dict:
        config = chat_config(self.entry_point)
        session = services.open_session_for(
            entry_point=self.entry_point, visitor_id=self.visitor.visitor_id
        )
        snapshot = None
        if session is not None:
            if self.page:
                services.chat_page_update(
                    session_id=session.pk, visitor_id=self.visitor.visitor_id, page=self.page
                )
            services.chat_customer_seen(session_id=session.pk, visitor_id=self.visitor.visitor_id)
            session.refresh_from_db()
            snapshot = selectors.session_snapshot(session=session)
        return {
            "config": config.public(),
            "availability": services.chat_availability(entry_point=self.entry_point),
            "session": snapshot,
        }

    async def _follow(self, snapshot: dict) -> None:
        """Stream the session's events from the snapshot's event id on."""
        if self.session_id != snapshot["id"]:
            self.conversation_id = None
        self.session_id = snapshot["id"]
        self.session_open = snapshot["state"] == ChatSession.State.OPEN
        self.shown.update(("message", message["id"]) for message in snapshot["messages"])
        self.shown.update(("notice", notice["id"]) for notice in snapshot["notices"])
        audience = realtime_audience(self.session_id)
        await self._join(audience)
        if snapshot.get("service_id"):
            # Rings only (queue moved): the service's events are never streamed to a customer.
            await self._join(realtime.service_audience(snapshot["service_id"]))
        if self.stream is None or self.stream.audiences != [audience]:
            self.audiences = [audience]
            self.stream = realtime.EventCursor([audience], cursor=snapshot["event_cursor"])
        await self._catch_up()

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def _leave_all(self) -> None:
        for group in list(self.groups_joined):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined.clear()

    async def _send_session(self, session_id: int) -> None:
        snapshot = await self._call(self._snapshot, session_id=session_id)
        await self.send_json({"type": "session", "session": snapshot})
        await self._follow(snapshot)

    def _snapshot(self, *, session_id: int) -> dict:
        session = ChatSession.objects.get(pk=session_id, visitor_id=self.visitor.visitor_id)
        return selectors.session_snapshot(session=session)

    # --- customer actions -------------------------------------------------------------------

    async def _prechat(self, content: dict) -> None:
        if self.session_open:
            await self._send_session(self.session_id)
            return
        config = await database_sync_to_async(chat_config)(self.entry_point)
        fields = content.get("fields") if isinstance(content.get("fields"), dict) else {}
        form = PreChatForm(data=fields, config=config)
        with translation.override(self.language):
            valid = form.is_valid()
            if not valid:
                await self.send_json(
                    {"type": "form_errors", "form": "prechat", "errors": _form_errors(form)}
                )
                return
        data = form.cleaned_data
        first, last = split_name(data.get("name", ""))
        answers = services.PreChatAnswers(
            first_name=first,
            last_name=last,
            email=data.get("email", ""),
            phone=data.get("phone", ""),
            question=data.get("question", ""),
        )
        session = await self._call(
            services.chat_session_start,
            entry_point=self.entry_point,
            visitor_id=self.visitor.visitor_id,
            answers=answers,
            page=self.page,
            language=self.language,
            address=self.address,
        )
        try:
            if content.get("call"):  # "Call us" instead of "Start the chat"
                await self._call(
                    voice.web_call_request,
                    session_id=session.pk,
                    visitor_id=self.visitor.visitor_id,
                )
            elif answers.question:
                await self._call(
                    services.chat_message_receive,
                    session_id=session.pk,
                    visitor_id=self.visitor.visitor_id,
                    body=answers.question,
                    client_id=str(content.get("client_id") or ""),
                )
        finally:
            await self._send_session(session.pk)

    async def _message(self, content: dict) -> None:
        client_id = str(content.get("client_id") or "")
        new_session = False
        if self.session_id and not self.session_open:
            await self._error(
                "invalid_state",
                self._t("This chat has ended."),
                field="session",
                client_id=client_id,
            )
            return
        if not self.session_open:
            config = await database_sync_to_async(chat_config)(self.entry_point)
            if config.prechat_enabled:
                await self._error(
                    "prechat_required",
                    self._t("Please fill in the form first."),
                    client_id=client_id,
                )
                return
            session = await self._call(
                services.chat_session_start,
                entry_point=self.entry_point,
                visitor_id=self.visitor.visitor_id,
                page=self.page,
                language=self.language,
                address=self.address,
            )
            self.session_id, new_session = session.pk, True
        message = await self._call(
            services.chat_message_receive,
            session_id=self.session_id,
            visitor_id=self.visitor.visitor_id,
            body=content.get("body") if isinstance(content.get("body"), str) else "",
            client_id=client_id,
        )
        await self.send_json({"type": "ack", "client_id": client_id, "message_id": message.pk})
        if new_session:
            await self._send_session(self.session_id)
        else:
            await self._catch_up()

    async def _typing(self, content: dict) -> None:
        if not self.session_open:
            return
        typing = bool(content.get("typing"))
        if not self.conversation_id:
            self.conversation_id = await database_sync_to_async(self._conversation_id)()
        if self.conversation_id:
            await self.channel_layer.group_send(
                realtime.activity_group(self.conversation_id),
                {
                    "type": "activity.typing",
                    "conversation_id": self.conversation_id,
                    "typing": typing,
                },
            )
        loop = asyncio.get_running_loop()
        if typing and loop.time() - self.last_activity > TYPING_ACTIVITY_SECONDS:
            self.last_activity = loop.time()
            await self._call(
                services.chat_customer_activity,
                session_id=self.session_id,
                visitor_id=self.visitor.visitor_id,
            )

    def _conversation_id(self) -> int | None:
        return (
            ChatSession.objects.filter(pk=self.session_id, visitor_id=self.visitor.visitor_id)
            .values_list("conversation_id", flat=True)
            .first()
        )

    async def _page(self, content: dict) -> None:
        page = services.Page.from_client(content.get("page"))
        if page is None:
            return
        self.page = page
        if self.session_open:
            await self._call(
                services.chat_page_update,
                session_id=self.session_id,
                visitor_id=self.visitor.visitor_id,
                page=page,
            )

    async def _seen(self, content: dict) -> None:
        if self.session_id:
            await self._call(
                services.chat_agent_messages_progress,
                session_id=self.session_id,
                visitor_id=self.visitor.visitor_id,
                up_to=_as_int(content.get("up_to")),
                status=MessageStatus.READ,
            )

    async def _end(self, content: dict) -> None:
        if self.session_open:
            await self._call(
                services.chat_end, session_id=self.session_id, visitor_id=self.visitor.visitor_id
            )
            await self._catch_up()

    # --- web calls (the agent calls the customer in this browser) ---------------------------

    async def _call_action(self, content: dict) -> None:
        if not self.session_id:
            await self._error("no_call", self._t("There is no call."))
            return
        action = {
            "call_answer": voice.web_call_answer,
            "call_decline": voice.web_call_decline,
            "call_hangup": voice.customer_hang_up,
        }[content["type"]]
        await self._call(
            action,
            call_id=_as_int(content.get("call_id")),
            session_id=self.session_id,
            visitor_id=self.visitor.visitor_id,
        )
        await self._catch_up()

    async def _call_request(self, content: dict) -> None:
        """ "Call us" during the chat."""
        if not self.session_id or not self.session_open:
            await self._error("no_chat", self._t("Start the chat first."))
            return
        await self._call(
            voice.web_call_request, session_id=self.session_id, visitor_id=self.visitor.visitor_id
        )
        await self._catch_up()

    async def _call_signal(self, content: dict) -> None:
        if not self.session_id:
            await self._error("no_call", self._t("There is no call."))
            return
        await self._call(
            voice.customer_signal,
            call_id=_as_int(content.get("call_id")),
            session_id=self.session_id,
            visitor_id=self.visitor.visitor_id,
            kind=str(content.get("kind", "")),
            peer=content.get("peer", ""),
            data=content.get("data"),
        )

    async def _restart(self, content: dict) -> None:
        """After an ended chat: back to the start (pre-chat form or offline form)."""
        if self.session_open:
            return
        await self._leave_all()
        self.session_id = None
        state = await self._call(self._hello_state)
        await self.send_json(
            {
                "type": "welcome",
                "token": self.visitor.token,
                "renewed": False,
                "config": state["config"],
                "availability": state["availability"],
                "session": state["session"],
            }
        )
        if state["session"]:
            await self._follow(state["session"])

    async def _transcript(self, content: dict) -> None:
        if not self.session_id:
            await self._error("no_chat", self._t("There is nothing to send yet."), field="email")
            return
        fields = content.get("fields") if isinstance(content.get("fields"), dict) else {}
        form = TranscriptForm(data=fields)
        with translation.override(self.language):
            if not form.is_valid():
                await self.send_json(
                    {"type": "form_errors", "form": "transcript", "errors": _form_errors(form)}
                )
                return
        request = await self._call(
            services.chat_transcript_request,
            session_id=self.session_id,
            visitor_id=self.visitor.visitor_id,
            email=form.cleaned_data["email"],
        )
        await self.send_json({"type": "transcript_requested", "email": request.email})

    async def _offline(self, content: dict) -> None:
        config = await database_sync_to_async(chat_config)(self.entry_point)
        if not config.offline_form_enabled:
            await self._error("offline_disabled", self._t("Please try again later."))
            return
        fields = content.get("fields") if isinstance(content.get("fields"), dict) else {}
        form = OfflineForm(data=fields)
        with translation.override(self.language):
            if not form.is_valid():
                await self.send_json(
                    {"type": "form_errors", "form": "offline", "errors": _form_errors(form)}
                )
                return
        data = form.cleaned_data
        first, last = split_name(data["name"])
        await self._call(
            services.chat_offline_message,
            entry_point=self.entry_point,
            visitor_id=self.visitor.visitor_id,
            offline=services.OfflineMessage(
                first_name=first,
                last_name=last,
                email=data["email"],
                phone=data.get("phone", ""),
                message=data["message"],
            ),
            client_id=str(content.get("client_id") or ""),
            language=self.language,
            address=self.address,
        )
        await self.send_json({"type": "offline_sent"})

    async def _ping(self, content: dict) -> None:
        if self.session_id and self.session_open:
            await self._mark_seen()
        for group in self.groups_joined:  # re-join: a dead socket's membership lapses
            await self.channel_layer.group_add(group, self.channel_name)
        await self._catch_up()
        await self.send_json({"type": "pong", "cursor": self.cursor})

    # --- events out -------------------------------------------------------------------------

    async def event_ring(self, message: dict) -> None:
        audience = message.get("audience", "")
        if audience.startswith("service."):
            await self._queue_moved()
        elif audience in self.groups_joined:
            await self._catch_up()

    async def _queue_moved(self) -> None:
        """The service's queue changed: a waiting customer sees their new place (at most once a
        second; a read, nothing written)."""
        if not (self.session_id and self.session_open):
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self.last_queue_refresh < QUEUE_REFRESH_SECONDS:
            return
        self.last_queue_refresh = loop.time()
        standing = await database_sync_to_async(services.chat_queue_standing)(
            session_id=self.session_id
        )
        if standing is not None:
            await self.send_json({"type": "queue", **standing})

    async def chat_typing(self, message: dict) -> None:
        if self.session_open:
            await self.send_json(
                {"type": "typing", "typing": bool(message.get("typing")), "name": message["name"]}
            )

    async def _catch_up(self) -> None:
        if not self.session_id or self.stream is None:
            return
        events = await database_sync_to_async(self.stream.pump)()
        await self._send_events([event.as_message() for event in events])

    async def _send_events(self, fresh: list[dict]) -> None:
        if not fresh:
            return
        message_ids = [
            event["payload"].get("message_id")
            for event in fresh
            if event["type"] == events.CHAT_MESSAGE and event["payload"].get("message_id")
        ]
        hydrated = {}
        if message_ids:
            hydrated = await database_sync_to_async(self._hydrate)(message_ids)
        for event in fresh:
            payload = dict(event["payload"])
            shown = None
            if event["type"] == events.CHAT_MESSAGE:
                view = hydrated.get(payload.get("message_id"))
                if view is None:  # not visible (yet): a later catch-up tries again
                    continue
                payload["message"] = view
                shown = ("message", view["id"])
            elif event["type"] == events.CHAT_NOTICE:
                shown = ("notice", payload["notice"]["id"])
            if event["type"] == events.CHAT_ENDED:
                self.session_open = False
            if shown is not None:
                if shown in self.shown:
                    continue  # already in the snapshot the widget has
                self.shown.add(shown)
            await self.send_json(
                {
                    "type": "event",
                    "event": {"id": event["id"], "type": event["type"], "payload": payload},
                }
            )

    def _hydrate(self, message_ids: list[int]) -> dict[int, dict]:
        session = ChatSession.objects.filter(
            pk=self.session_id, visitor_id=self.visitor.visitor_id
        ).first()
        if session is None:
            return {}
        views = selectors.session_messages(session=session, ids=message_ids)
        agent_lines = [view["id"] for view in views if view["from"] == "agent"]
        if agent_lines:
            services.chat_agent_messages_progress(
                session_id=session.pk,
                visitor_id=session.visitor_id,
                up_to=max(agent_lines),
                status=MessageStatus.DELIVERED,
            )
        return {view["id"]: view for view in views}

    async def _error(self, code: str, detail: str, *, field=None, client_id=None) -> None:
        await self.send_json(
            {
                "type": "error",
                "code": code,
                "detail": detail,
                "field": field,
                "client_id": client_id,
            }
        )


def realtime_audience(session_id: int) -> str:
    from ..models import chat_audience

    return chat_audience(session_id)
