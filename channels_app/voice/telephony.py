"""The telephony adapter: what the contact center asks of the provider that carries a phone
call's audio (Twilio Voice, through the ``twilio`` client library).

Each call lives in a Twilio conference named after it (``cc-call-<id>``): the customer joins it
when an agent takes the call; agents join and leave it as participants (labelled ``agent-<user
id>``), so hold, mute, transfers and recording are conference operations. Every method is one
or two REST requests; a failure raises :class:`TelephonyError` (``transient`` when a retry may
work). The services call the adapter only from Celery tasks (``CallCommand``)."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils.translation import gettext
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ..sms.adapters import TRANSIENT_HTTP_STATUSES, TWILIO_API_ORIGIN, BaseUrlHttpClient


class TelephonyError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass(frozen=True)
class Participant:
    """An agent to add to a call's conference."""

    label: str
    endpoint: str  # +E.164, sip:..., client:...
    caller_id: str
    status_callback: str


def _reason(exc: TwilioRestException) -> str:
    """Twilio's own message ("Call is not in-progress."), without the library's prefix."""
    message = exc.msg or str(exc)
    if message.startswith("Unable to ") and ": " in message:
        message = message.split(": ", 1)[1]
    return message


def _require_public_url(url: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise TelephonyError(
            gettext("Set PUBLIC_BASE_URL: Twilio needs it to report the call's steps."),
            transient=False,
        )


def conference_name(call_id: int) -> str:
    return f"cc-call-{call_id}"


def agent_label(user_id: int) -> str:
    return f"agent-{user_id}"


class TwilioTelephony:
    """Twilio Voice's REST API (``TWILIO_API_BASE_URL`` points it at a stand-in in tests)."""

    def __init__(self, *, account_sid: str, auth_token: str, base_url: str = "") -> None:
        http_client = BaseUrlHttpClient(base_url) if base_url else TwilioHttpClient(timeout=10.0)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.base_url = base_url.rstrip("/")

    def _run(self, request):
        try:
            return request()
        except TwilioRestException as exc:
            transient = exc.status in TRANSIENT_HTTP_STATUSES
            raise TelephonyError(_reason(exc), transient=transient) from exc
        except Exception as exc:  # connection refused, timeouts, DNS: worth a retry
            raise TelephonyError(f"Twilio unreachable: {exc}", transient=True) from exc

    def redirect(self, call_sid: str, twiml: str) -> None:
        """Give the customer's call new TwiML (into the conference, back to a queue)."""
        self._run(lambda: self.client.calls(call_sid).update(twiml=twiml))

    def add_participant(self, conference: str, participant: Participant) -> str:
        """Ring an agent into the conference; returns their leg's CallSid."""
        _require_public_url(participant.status_callback)
        created = self._run(
            lambda: self.client.conferences(conference).participants.create(
                from_=participant.caller_id,
                to=participant.endpoint,
                label=participant.label,
                start_conference_on_enter=True,
                end_conference_on_exit=False,
                beep="false",
                status_callback=participant.status_callback,
                status_callback_event=["ringing", "answered", "completed"],
                timeout=settings.VOICE_RING_SECONDS,
            )
        )
        return created.call_sid or ""

    def remove_participant(self, conference: str, label: str) -> None:
        try:
            self.client.conferences(conference).participants(label).delete()
        except TwilioRestException as exc:
            if exc.status == 404:
                return  # already gone (hung up, or never answered)
            raise TelephonyError(
                _reason(exc), transient=exc.status in TRANSIENT_HTTP_STATUSES
            ) from exc
        except Exception as exc:
            raise TelephonyError(f"Twilio unreachable: {exc}", transient=True) from exc

    def hold(self, conference: str, label: str, *, on: bool, hold_url: str) -> None:
        params = {"hold": on}
        if on and hold_url:
            params["hold_url"] = hold_url
        self._run(lambda: self.client.conferences(conference).participants(label).update(**params))

    def mute(self, conference: str, label: str, *, on: bool) -> None:
        self._run(lambda: self.client.conferences(conference).participants(label).update(muted=on))

    def hang_up(self, call_sid: str) -> None:
        self._run(lambda: self.client.calls(call_sid).update(status="completed"))

    def dial(self, *, to: str, caller_id: str, twiml: str, status_callback: str) -> str:
        """Call the customer (click-to-call); returns the new call's CallSid."""
        _require_public_url(status_callback)
        created = self._run(
            lambda: self.client.calls.create(
                to=to,
                from_=caller_id,
                twiml=twiml,
                status_callback=status_callback,
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                timeout=settings.VOICE_RING_SECONDS,
            )
        )
        return created.sid

    def recording_audio(self, url: str) -> tuple[bytes, str]:
        """The audio of a finished recording (WAV), read with the account's credentials (plain
        ``requests``: the client library's responses are text)."""
        media_url = url if url.endswith((".wav", ".mp3")) else f"{url}.wav"
        if self.base_url and media_url.startswith(TWILIO_API_ORIGIN):
            media_url = self.base_url + media_url[len(TWILIO_API_ORIGIN) :]
        try:
            response = requests.get(
                media_url, auth=(self.client.username, self.client.password), timeout=30
            )
        except requests.RequestException as exc:
            raise TelephonyError(f"Twilio unreachable: {exc}", transient=True) from exc
        if response.status_code != 200:
            raise TelephonyError(
                f"The recording could not be read ({response.status_code}).",
                # 404: Twilio may still be processing it
                transient=response.status_code in TRANSIENT_HTTP_STATUSES
                or response.status_code == 404,
            )
        return response.content, "audio/mpeg" if media_url.endswith(".mp3") else "audio/wav"


def telephony() -> TwilioTelephony | None:
    """The configured provider, or None (no Twilio credentials: phone calls cannot be made)."""
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        return None
    return TwilioTelephony(
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        base_url=settings.TWILIO_API_BASE_URL,
    )
