"""The Voice side of the Twilio stand-in (``tests/support/twilio_standin.py``): the REST resources
the application's ``twilio`` client calls for phone calls, and Twilio's webhooks and callbacks
to the application, signed like Twilio signs them.

REST (``/2010-04-01/Accounts/{AccountSid}/...``, basic auth): ``Calls/{CallSid}.json`` (update:
``Twiml``, ``Url``, ``Status``), ``Calls.json`` (create), ``Conferences/{name}/Participants.json``
(create), ``Conferences/{name}/Participants/{label}.json`` (update ``Hold``/``Muted``, delete),
``Recordings/{RecordingSid}.wav`` (the audio: a short WAV).

Like Twilio, after answering it posts the callbacks those requests cause: a participant's
``ringing`` (then ``answered`` when the test picks up their phone: :meth:`VoiceSide.answer`), the
conference's ``participant-hold``/``participant-unhold``/``participant-mute`` events to the
``statusCallback`` of the ``<Conference>`` the customer's call was given, and when a call is
hung up through the API its ``completed`` status (to the number's status callback URL,
:attr:`VoiceSide.status_url`) and the conference recording's callback.
:meth:`VoiceSide.place_call` plays an inbound call: Twilio's full webhook payload, signed.
"""

from __future__ import annotations

import io
import math
import re
import secrets
import struct
import threading
import wave
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

ACCOUNT = r"(?P<account>AC[0-9a-fA-F]{32})"
CALL_PATH = re.compile(rf"^/2010-04-01/Accounts/{ACCOUNT}/Calls/(?P<sid>CA[0-9a-f]{{32}})\.json$")
CALLS_PATH = re.compile(rf"^/2010-04-01/Accounts/{ACCOUNT}/Calls\.json$")
PARTICIPANTS_PATH = re.compile(
    rf"^/2010-04-01/Accounts/{ACCOUNT}/Conferences/(?P<conference>[^/]+)/Participants\.json$"
)
PARTICIPANT_PATH = re.compile(
    rf"^/2010-04-01/Accounts/{ACCOUNT}/Conferences/(?P<conference>[^/]+)/Participants/"
    r"(?P<label>[^/]+)\.json$"
)
RECORDING_PATH = re.compile(
    rf"^/2010-04-01/Accounts/{ACCOUNT}/Recordings/(?P<sid>RE[0-9a-f]{{32}})\.(?P<ext>wav|mp3)$"
)


def wav_tone(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A short 440 Hz tone, as Twilio's recordings are: mono 16-bit WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
            for n in range(int(seconds * rate))
        )
        out.writeframes(frames)
    return buffer.getvalue()


@dataclass
class Conference:
    name: str
    status_callback: str = ""
    recording_callback: str = ""
    record: bool = False
    sequence: int = 0
    participants: dict[str, dict] = field(default_factory=dict)


@dataclass
class PhoneCall:
    sid: str
    from_: str
    to: str
    direction: str
    status: str = "ringing"
    twiml: list[str] = field(default_factory=list)
    conference: str = ""
    status_callback: str = ""
    sequence: int = 0


class VoiceSide:
    def __init__(self, standin) -> None:
        self.standin = standin
        #: The number's "call status changes" webhook (Twilio console setting).
        self.status_url = ""
        #: The URL the number's "a call comes in" webhook was posted to (relative TwiML URLs
        #: resolve against it).
        self.webhook_url = ""
        self.calls: dict[str, PhoneCall] = {}
        self.conferences: dict[str, Conference] = {}
        self.recordings: dict[str, bytes] = {}

    def reset(self) -> None:
        self.status_url = self.webhook_url = ""
        self.calls.clear()
        self.conferences.clear()
        self.recordings.clear()

    # --- Twilio -> application ----------------------------------------------------------------

    def place_call(self, webhook_url: str, *, from_: str, to: str, caller_name: str = ""):
        """An inbound call: Twilio's "a call comes in" webhook, its full payload, signed.
        Returns (CallSid, the application's answer)."""
        from .twilio_standin import API_VERSION, signed_post

        sid = "CA" + secrets.token_hex(16)
        self.webhook_url = webhook_url
        self.calls[sid] = PhoneCall(sid=sid, from_=from_, to=to, direction="inbound")
        params = {
            "AccountSid": self.standin.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": sid,
            "CallStatus": "ringing",
            "CallToken": "%7B%22parentCallInfoToken%22%3A%22" + secrets.token_hex(8),
            "Called": to,
            "CalledCity": "SAN FRANCISCO",
            "CalledCountry": "US",
            "CalledState": "CA",
            "CalledZip": "94105",
            "Caller": from_,
            "CallerCity": "OAKLAND",
            "CallerCountry": "US",
            "CallerName": caller_name,
            "CallerState": "CA",
            "CallerZip": "94612",
            "Direction": "inbound",
            "From": from_,
            "FromCity": "OAKLAND",
            "FromCountry": "US",
            "FromState": "CA",
            "FromZip": "94612",
            "StirVerstat": "TN-Validation-Passed-A",
            "To": to,
            "ToCity": "SAN FRANCISCO",
            "ToCountry": "US",
            "ToState": "CA",
            "ToZip": "94105",
        }
        answer = signed_post(webhook_url, params, auth_token=self.standin.auth_token)
        self.calls[sid].twiml.append(answer.body)
        return sid, answer

    def add_call(self, sid: str, *, from_: str, to: str, direction: str = "inbound") -> None:
        """A call Twilio has (its webhook posted by the test itself)."""
        self.calls[sid] = PhoneCall(sid=sid, from_=from_, to=to, direction=direction)

    def post(self, url: str, params: dict[str, str]):
        """A signed callback from Twilio (recorded in ``standin.callbacks``)."""
        return self.standin._post_callback(
            url, {"AccountSid": self.standin.account_sid, "ApiVersion": "2010-04-01", **params}
        )

    def call_status(self, sid: str, status: str, **extra: str):
        """The customer's call's status callback (to :attr:`status_url`)."""
        call = self.calls[sid]
        call.status = status
        call.sequence += 1
        params = {
            "CallSid": sid,
            "CallStatus": status,
            "From": call.from_,
            "To": call.to,
            "Direction": call.direction,
            "SequenceNumber": str(call.sequence),
            "Timestamp": "Mon, 30 Nov 2026 18:00:00 +0000",
            "CallbackSource": "call-progress-events",
            **extra,
        }
        if status == "completed":
            params.setdefault("CallDuration", "42")
        return self.post(self.status_url, params)

    def participant(self, conference: str, label: str) -> dict:
        return self.conferences[conference].participants[label]

    def participant_status(self, conference: str, label: str, status: str):
        """The status callback of a participant's call leg (ringing, answered, completed…)."""
        participant = self.participant(conference, label)
        participant["status"] = status
        return self.post(
            participant["status_callback"],
            {
                "CallSid": participant["call_sid"],
                "CallStatus": status,
                "From": participant["from"],
                "To": participant["to"],
                "Direction": "outbound-api",
                "SequenceNumber": str(len(participant["events"])),
            },
        )

    def answer(self, conference: str, label: str):
        """The agent picks up their phone."""
        return self.participant_status(conference, label, "answered")

    def conference_event(self, conference: str, event: str, label: str, **extra: str):
        room = self.conferences[conference]
        room.sequence += 1
        participant = room.participants.get(label, {})
        return self.post(
            room.status_callback,
            {
                "ConferenceSid": "CF" + secrets.token_hex(16),
                "FriendlyName": conference,
                "StatusCallbackEvent": event,
                "ParticipantLabel": label,
                "CallSid": participant.get("call_sid", ""),
                "SequenceNumber": str(room.sequence),
                "Timestamp": "Mon, 30 Nov 2026 18:00:00 +0000",
                **extra,
            },
        )

    def _later(self, action) -> None:
        """Callbacks come after the API answered, asynchronously (as from Twilio)."""
        thread = threading.Thread(target=action, daemon=True)
        self.standin._callback_threads.append(thread)
        thread.start()

    # --- REST (called from the stand-in's handler threads) --------------------------------------

    def handle(self, request) -> tuple[int, dict | bytes] | None:

        path = request.path
        routes = (
            (CALL_PATH, "POST", self._update_call),
            (CALLS_PATH, "POST", self._create_call),
            (PARTICIPANTS_PATH, "POST", self._create_participant),
            (PARTICIPANT_PATH, "POST", self._update_participant),
            (PARTICIPANT_PATH, "DELETE", self._delete_participant),
            (RECORDING_PATH, "GET", self._recording),
        )
        for pattern, method, handler in routes:
            match = pattern.match(path)
            if match and request.method == method:
                refusal = self._refusal(request, match["account"])
                return refusal or handler(request, match)
        return None

    def _refusal(self, request, account: str) -> tuple[int, dict] | None:
        """Twilio's answers to bad credentials, another account, or a scripted failure."""
        from .twilio_standin import twilio_error

        standin = self.standin
        credentials = (request.auth_username, request.auth_password)
        if credentials != (standin.account_sid, standin.auth_token):
            return 401, twilio_error(401, 20003, "Authenticate")
        if account != standin.account_sid:
            return 404, twilio_error(
                404, 20404, f"The requested resource {request.path} was not found"
            )
        with standin._changed:
            failure = standin._failures.popleft() if standin._failures else None
        if failure:
            return failure.status, twilio_error(failure.status, failure.code, failure.message)
        return None

    def _call_json(self, call: PhoneCall, account: str) -> dict:
        return {
            "sid": call.sid,
            "account_sid": account,
            "from": call.from_,
            "to": call.to,
            "status": call.status,
            "direction": call.direction,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{account}/Calls/{call.sid}.json",
        }

    def _update_call(self, request, match):
        from .twilio_standin import twilio_error

        call = self.calls.get(match["sid"])
        if call is None:
            return 404, twilio_error(404, 20404, "The requested resource was not found")
        form = request.form
        if form.get("Twiml"):
            call.twiml.append(form["Twiml"])
            self._conference_from(call, form["Twiml"])
        if form.get("Status") == "completed":
            call.status = "completed"
            self._later(lambda: self._hung_up(call))
        return 200, self._call_json(call, match["account"])

    def _conference_from(self, call: PhoneCall, twiml: str) -> None:
        root = ET.fromstring(twiml)
        element = root.find("./Dial/Conference")
        if element is None:
            return
        name = (element.text or "").strip()
        room = self.conferences.setdefault(name, Conference(name=name))
        room.status_callback = element.get("statusCallback", "")
        room.recording_callback = element.get("recordingStatusCallback", "")
        room.record = element.get("record", "") == "record-from-start"
        call.conference = name
        room.participants[element.get("participantLabel") or "customer"] = {
            "call_sid": call.sid,
            "from": call.from_,
            "to": call.to,
            "status": "in-progress",
            "hold": False,
            "muted": False,
            "status_callback": "",
            "events": [],
        }

    def _hung_up(self, call: PhoneCall) -> None:
        if self.status_url:
            self.call_status(call.sid, "completed")
        room = self.conferences.get(call.conference)
        if room and room.record and room.recording_callback:
            sid = "RE" + secrets.token_hex(16)
            self.recordings[sid] = wav_tone(1.5)
            account = self.standin.account_sid
            self.post(
                room.recording_callback,
                {
                    "ConferenceSid": "CF" + secrets.token_hex(16),
                    "RecordingSid": sid,
                    "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{sid}",
                    "RecordingStatus": "completed",
                    "RecordingDuration": "2",
                    "RecordingChannels": "1",
                    "RecordingSource": "Conference",
                    "RecordingStartTime": "Mon, 30 Nov 2026 18:00:00 +0000",
                },
            )

    def _create_call(self, request, match):
        from .twilio_standin import twilio_error

        form = request.form
        if not form.get("To") or not form.get("From"):
            return 400, twilio_error(400, 21201, "No 'To' or 'From' number is specified")
        sid = "CA" + secrets.token_hex(16)
        call = PhoneCall(
            sid=sid,
            from_=form["From"],
            to=form["To"],
            direction="outbound-api",
            status="queued",
            status_callback=form.get("StatusCallback", ""),
        )
        self.calls[sid] = call
        if form.get("Twiml"):
            call.twiml.append(form["Twiml"])
            self._conference_from(call, form["Twiml"])
        if call.status_callback:
            self._later(lambda: self._outbound_progress(call, "ringing"))
        return 201, self._call_json(call, match["account"])

    def _outbound_progress(self, call: PhoneCall, status: str):
        call.status = status
        call.sequence += 1
        return self.post(
            call.status_callback,
            {
                "CallSid": call.sid,
                "CallStatus": status,
                "From": call.from_,
                "To": call.to,
                "Direction": "outbound-api",
                "SequenceNumber": str(call.sequence),
            },
        )

    def customer_answers(self, sid: str):
        """The customer picks up a call we dialled (click-to-call)."""
        return self._outbound_progress(self.calls[sid], "in-progress")

    def _create_participant(self, request, match):
        from .twilio_standin import twilio_error

        form = request.form
        if not form.get("To") or not form.get("From"):
            return 400, twilio_error(400, 21201, "No 'To' or 'From' number is specified")
        name = match["conference"]
        room = self.conferences.setdefault(name, Conference(name=name))
        label = form.get("Label") or ("CA" + secrets.token_hex(16))
        call_sid = "CA" + secrets.token_hex(16)
        room.participants[label] = {
            "call_sid": call_sid,
            "from": form["From"],
            "to": form["To"],
            "status": "queued",
            "hold": False,
            "muted": False,
            "status_callback": form.get("StatusCallback", ""),
            "events": form.get("StatusCallbackEvent", ""),
        }
        if room.participants[label]["status_callback"]:
            self._later(lambda: self.participant_status(name, label, "ringing"))
        return 201, self._participant_json(match["account"], name, label)

    def _participant_json(self, account: str, conference: str, label: str) -> dict:
        participant = self.conferences[conference].participants[label]
        return {
            "account_sid": account,
            "call_sid": participant["call_sid"],
            "label": label,
            "conference_sid": "CF" + secrets.token_hex(16),
            "hold": participant["hold"],
            "muted": participant["muted"],
            "status": participant["status"],
            "start_conference_on_enter": True,
            "end_conference_on_exit": False,
            "coaching": False,
            "call_sid_to_coach": None,
            "uri": f"/2010-04-01/Accounts/{account}/Conferences/{conference}/Participants/"
            f"{participant['call_sid']}.json",
        }

    def _update_participant(self, request, match):
        from .twilio_standin import twilio_error

        room = self.conferences.get(match["conference"])
        label = match["label"]
        if room is None or label not in room.participants:
            return 404, twilio_error(404, 20404, "The requested resource was not found")
        participant = room.participants[label]
        form = request.form
        if "Hold" in form:
            participant["hold"] = form["Hold"] == "true"
            event = "participant-hold" if participant["hold"] else "participant-unhold"
            self._later(lambda: self.conference_event(room.name, event, label))
        if "Muted" in form:
            participant["muted"] = form["Muted"] == "true"
            event = "participant-mute" if participant["muted"] else "participant-unmute"
            self._later(lambda: self.conference_event(room.name, event, label))
        return 200, self._participant_json(match["account"], room.name, label)

    def _delete_participant(self, request, match):
        from .twilio_standin import twilio_error

        room = self.conferences.get(match["conference"])
        label = match["label"]
        if room is None or label not in room.participants:
            return 404, twilio_error(404, 20404, "The requested resource was not found")
        participant = room.participants.pop(label)
        if participant.get("status_callback"):

            def left() -> None:
                self.post(
                    participant["status_callback"],
                    {"CallSid": participant["call_sid"], "CallStatus": "completed"},
                )

            self._later(left)
        return 204, b""

    def _recording(self, request, match):
        from .twilio_standin import twilio_error

        audio = self.recordings.get(match["sid"])
        if audio is None:
            return 404, twilio_error(404, 20404, "The requested resource was not found")
        return 200, audio

    # --- observation ----------------------------------------------------------------------------

    def rest_requests(self) -> list:
        """REST requests to the Voice resources, in arrival order: (method, what, form)."""
        found = []
        with self.standin._changed:
            for request in self.standin.requests:
                for kind, pattern in (
                    ("call", CALL_PATH),
                    ("calls", CALLS_PATH),
                    ("participants", PARTICIPANTS_PATH),
                    ("participant", PARTICIPANT_PATH),
                    ("recording", RECORDING_PATH),
                ):
                    if pattern.match(request.path):
                        found.append((request.method, kind, request))
        return found


def relative(base: str, url: str) -> str:
    return urljoin(base, url)
