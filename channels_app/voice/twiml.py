"""What Twilio does with a caller, as TwiML (written with the ``twilio`` library's
``VoiceResponse``), in the service's language."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from twilio.twiml.voice_response import Dial, VoiceResponse

from conversations.models import Service

from ..models import VoiceCall
from .telephony import conference_name

#: Twilio's <Say> language per site language.
SAY_LANGUAGE = {"en": "en-US", "es": "es-ES"}
#: Longest voicemail, in seconds.
VOICEMAIL_MAX_SECONDS = 180


def hold_music_url() -> str:
    return settings.TWILIO_HOLD_MUSIC_URL


def _say(response: VoiceResponse, text: str, service: Service) -> None:
    response.say(text, language=SAY_LANGUAGE.get(service.voice_language, "en-US"))


def _queue_name(service: Service) -> str:
    return f"cc-service-{service.pk}"


def queue(call: VoiceCall, service: Service) -> str:
    """The caller is greeted, then waits (hold music and their place, from the wait URL) until
    an agent takes the call and the call is moved into its conference."""
    response = VoiceResponse()
    with translation.override(service.voice_language):
        greeting = service.voice_greeting or gettext(
            "Thank you for calling %(service)s. Please hold: an agent will be with you shortly."
        ) % {"service": service.name}
        _say(response, greeting, service)
    _enqueue(response, call, service)
    return str(response)


def _enqueue(response: VoiceResponse, call: VoiceCall, service: Service) -> None:
    response.enqueue(
        _queue_name(service),
        wait_url=_url("twilio-voice-wait", call=call.pk),
        wait_url_method="POST",
        action=_url("twilio-voice-queue-left", call=call.pk),
    )


def back_to_queue(call: VoiceCall) -> str:
    """A call sent to a service's queue (a transfer) waits there again."""
    service = call.interaction.service or call.interaction.conversation.service
    response = VoiceResponse()
    _enqueue(response, call, service)
    return str(response)


def wait(position: int, service: Service) -> str:
    """Played while the caller waits, again each time it ends: their place, then music."""
    response = VoiceResponse()
    if position:
        with translation.override(service.voice_language):
            text = ngettext(
                "You are next in line.",
                "You are number %(position)s in line.",
                position,
            ) % {"position": position}
        _say(response, text, service)
    response.play(hold_music_url())
    return str(response)


def into_conference(call: VoiceCall) -> str:
    """The customer's leg joins the call's conference (hold music until the agent answers; the
    conference ends when the customer leaves). Recorded when the service records calls."""
    response = VoiceResponse()
    dial = Dial()
    options = {
        "beep": "false",
        "start_conference_on_enter": False,
        "end_conference_on_exit": True,
        "wait_url": hold_music_url(),
        "wait_method": "GET",
        "participant_label": "customer",
        "status_callback": _url("twilio-voice-conference", call=call.pk),
        "status_callback_event": "hold mute",
    }
    if call.recording_mode != "off":
        options["record"] = "record-from-start"
        options["recording_status_callback"] = _url("twilio-voice-recording", call=call.pk)
        options["recording_status_callback_event"] = "completed"
    dial.conference(conference_name(call.pk), **options)
    response.append(dial)
    return str(response)


def _url(name: str, **query: object) -> str:
    """Our URL for Twilio: absolute with ``PUBLIC_BASE_URL`` (TwiML sent through the REST API has
    no page to be relative to), else relative to the webhook Twilio called."""
    base = (settings.PUBLIC_BASE_URL or "").rstrip("/")
    return f"{base}{reverse(name)}?{urlencode(query)}"


def voicemail(service: Service, from_number: str, to_number: str, *, closed: bool = True) -> str:
    """Closed (or nobody answered): a message, then a recording after the beep (its callback
    stores it)."""
    response = VoiceResponse()
    # Twilio's recording callback does not say who called: the (signed) URL does.
    numbers = {"from": from_number, "to": to_number}
    with translation.override(service.voice_language):
        if closed:
            message = service.voice_closed_message or gettext(
                "Thank you for calling %(service)s. We are closed now. Please leave a message "
                "after the tone and we will call you back."
            ) % {"service": service.name}
        else:
            message = gettext(
                "Nobody can take your call right now. Please leave a message after the tone and "
                "we will call you back."
            )
        _say(response, message, service)
        response.record(
            max_length=VOICEMAIL_MAX_SECONDS,
            play_beep=True,
            action=_url("twilio-voice-voicemail-done", **numbers),
            recording_status_callback=_url("twilio-voice-voicemail", **numbers),
            recording_status_callback_event="completed",
        )
        _say(response, gettext("We did not receive a message. Goodbye."), service)
    return str(response)


def voicemail_for(call: VoiceCall) -> str:
    """Nobody took the call (no answer, or the caller waited too long): leave a message."""
    interaction = call.interaction
    service = interaction.service or interaction.conversation.service
    return voicemail(
        service, interaction.customer_address, interaction.service_address, closed=False
    )


def leave_queue() -> str:
    response = VoiceResponse()
    response.leave()
    return str(response)


def goodbye(service: Service) -> str:
    response = VoiceResponse()
    with translation.override(service.voice_language):
        _say(response, gettext("Thank you. Goodbye."), service)
    response.hangup()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())
