"""Pages of the web chat: the customer's chat page (also the widget's iframe), a demo page that
embeds the widget, and the agent's chat panel fragment on the desktop."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from contactcenter.exceptions import NotFound
from conversations.selectors import conversation_get_for_agent

from ..models import ChatSession, ChatTranscriptRequest
from ..voice.selectors import softphone_for
from . import services
from .config import ChatConfig, chat_config
from .forms import OfflineForm, PreChatForm, TranscriptForm


def _own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}".lower()


def _embedding_origin(request: HttpRequest) -> str:
    """The origin of the page that framed us, from the Referer (sent as an origin by default
    cross-origin); empty when the browser did not say."""
    referer = request.headers.get("Referer", "")
    parts = urlsplit(referer)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def _content_security_policy(request: HttpRequest, config: ChatConfig | None) -> str:
    host = request.get_host()
    socket = f"wss://{host}" if request.is_secure() else f"ws://{host}"
    ancestors = config.frame_ancestors() if config else "*"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {socket}",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )


def _activate_requested_language(request: HttpRequest) -> None:
    """``?lang=`` from the embedding page's <html lang>, when we speak it."""
    requested = (request.GET.get("lang") or "").strip().lower()
    codes = {code for code, _ in settings.LANGUAGES}
    for candidate in (requested, requested.split("-")[0]):
        if candidate in codes:
            translation.activate(candidate)
            request.LANGUAGE_CODE = candidate
            return


def widget_strings() -> dict[str, str]:
    """The texts chat.js shows, translated here (the page carries them as JSON)."""
    return {
        "call_ringing": gettext("We are calling you. Answer to talk with us in your browser."),
        "call_connecting": gettext("Connecting the call…"),
        "call_waiting": gettext("Waiting for an agent to take your call…"),
        "call_agent_ringing": gettext("Calling… an agent will answer shortly."),
        "call_connected": gettext("On the call %(time)s"),
        "call_on_hold": gettext("You are on hold. Please stay on the line."),
        "call_ended": gettext("The call has ended. You can keep chatting."),
        "call_mute": gettext("Mute"),
        "call_unmute": gettext("Unmute"),
        "call_microphone_refused": gettext(
            "Your browser did not let us use the microphone. Allow it for this site, then "
            "answer again."
        ),
        "call_no_microphone": gettext("No microphone was found on this device."),
        "agent_joined": gettext("%(name)s joined the chat."),
        "agent_left": gettext("%(name)s left the chat. You are back in the queue."),
        "agent_transferred": gettext("%(previous)s transferred you to %(name)s."),
        "transferred_to_service": gettext(
            "%(previous)s transferred you to %(service)s. Please wait for the next agent."
        ),
        "participant_joined": gettext("%(name)s joined the chat too."),
        "participant_left": gettext("%(name)s left the chat."),
        "ended_customer": gettext("You ended the chat."),
        "ended_agent": gettext("The agent ended the chat."),
        "ended_inactivity": gettext("The chat ended because there was no activity."),
        "ended_left": gettext("The chat ended: you left while waiting."),
        "ended_header": gettext("Chat ended"),
        "connecting_agent": gettext("Connecting you to an agent…"),
        "no_agent": gettext("No agent is available right now; you keep your place in the queue."),
        "inactivity_warning": gettext(
            "Are you still there? Without a reply, this chat ends at %(time)s."
        ),
        "chatting_with": gettext("You are chatting with %(name)s"),
        "waiting": gettext("Waiting for an agent…"),
        "queue_position": gettext("You are number %(position)s in the queue."),
        "queue_wait": gettext("Estimated wait: about %(minutes)s min."),
        "queue_wait_short": gettext("Estimated wait: less than a minute."),
        "typing": gettext("%(name)s is typing…"),
        "agent": gettext("Agent"),
        "you": gettext("You"),
        "sending": gettext("Sending…"),
        "sent": gettext("Sent"),
        "read": gettext("Read"),
        "not_sent": gettext("Not sent"),
        "connecting": gettext("Connecting…"),
        "reconnecting": gettext("Connection lost. Reconnecting…"),
        "closed": gettext("We are closed right now."),
        "unavailable": gettext("Nobody is available to chat right now."),
        "leave_message": gettext("Leave us a message and we will answer by email."),
        "try_later": gettext("Please try again later."),
        "offline_sent": gettext("Thank you! We will answer by email."),
        "transcript_requested": gettext("We will email the transcript to %(email)s."),
        "error": gettext("Something went wrong. Please try again."),
        "too_long": gettext("The message is %(length)s characters long; the limit is %(limit)s."),
        "open_chat": gettext("Chat with us"),
        "close_chat": gettext("Close the chat window"),
        "frame_title": gettext("Chat"),
        "unread": gettext("%(count)s new messages"),
    }


@xframe_options_exempt
@require_GET
def chat_page(request: HttpRequest, slug: str) -> HttpResponse:
    _activate_requested_language(request)
    try:
        entry_point = services.chat_entry_point(slug=slug)
    except NotFound:
        return _unavailable(request, None, gettext("This chat does not exist."), status=404)
    config = chat_config(entry_point)
    embedder = _embedding_origin(request)
    framed = request.GET.get("embed") == "1" or request.headers.get("Sec-Fetch-Dest") == "iframe"
    if (
        framed
        and embedder
        and embedder != _own_origin(request)
        and not config.allows_origin(embedder)
    ):
        return _unavailable(
            request, None, gettext("This chat is not available on this website."), status=403
        )
    context = {
        "config": config,
        "slug": entry_point.address,
        "embedded": request.GET.get("embed") == "1",
        "prechat_form": PreChatForm(config=config),
        "offline_form": OfflineForm(),
        "transcript_form": TranscriptForm(),
        "strings": widget_strings(),
        "ws_path": f"/ws/chat/{entry_point.address}/",
    }
    response = render(request, "webchat/chat.html", context)
    response["Content-Security-Policy"] = _content_security_policy(request, config)
    patch_vary_headers(response, ["Accept-Language"])
    return response


def _unavailable(request: HttpRequest, config, reason: str, *, status: int) -> HttpResponse:
    response = render(request, "webchat/unavailable.html", {"reason": reason}, status=status)
    response["Content-Security-Policy"] = _content_security_policy(request, config)
    return response


@xframe_options_exempt
@require_GET
def demo_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A sample website page with the one-line widget embed, to try the widget."""
    try:
        entry_point = services.chat_entry_point(slug=slug)
    except NotFound:
        return _unavailable(request, None, gettext("This chat does not exist."), status=404)
    return render(request, "webchat/demo.html", {"entry_point": entry_point})


@login_required
@require_GET
def conversation_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The channel details of a conversation for the desktop: the chat (customer's page, pre-chat
    answers, transcript requests) and the contact's SMS opt-out."""
    conversation = conversation_get_for_agent(user=request.user, pk=pk)
    chat = (
        ChatSession.objects.filter(conversation=conversation)
        .select_related("entry_point")
        .order_by("-id")
        .first()
    )
    transcript_requests = (
        list(ChatTranscriptRequest.objects.filter(session=chat).order_by("-id")[:5]) if chat else []
    )
    return render(
        request,
        "channels_app/_conversation_panel.html",
        {
            "conversation": conversation,
            "contact": conversation.contact,
            "chat": chat,
            "transcript_requests": transcript_requests,
            "softphone": softphone_for(
                conversation=conversation, user=request.user, chat_open=bool(chat and chat.is_open)
            ),
        },
    )
