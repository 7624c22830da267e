"""The phone simulator: Twilio's side of phone calls, played locally (demo mode without Twilio
credentials, as ``make run`` is). It is a telephony adapter like ``TwilioTelephony``: the call
commands reach it the same way, and it answers with the same callbacks Twilio would post (the
same service functions the webhooks call). The people's side (the caller, the agent's phone)
is played on the phone simulator page (``/channels/phone/``)."""

from __future__ import annotations

import io
import math
import secrets
import struct
import time
import wave

from .telephony import Participant


def tone_wav(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """What the simulator's recordings sound like: a soft two-tone beep, mono WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = []
        for n in range(int(seconds * rate)):
            frequency = 440 if (n // rate) % 2 == 0 else 660
            samples.append(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * frequency * n / rate)))
            )
        out.writeframes(b"".join(samples))
    return buffer.getvalue()


def conference_recorded(call) -> None:
    """Like Twilio after a recorded conference: the recording's callback (its audio is the
    simulator's tone)."""
    from . import phone

    if call.recording_mode != "off" and call.answered_at is not None:
        phone.phone_recording_report(
            call_id=call.pk,
            recording_sid="RE" + secrets.token_hex(16),
            url="simulator:recording",
            status="completed",
        )


def _call_id(conference: str) -> int:
    return int(conference.rsplit("-", 1)[1])  # cc-call-<id>


def _sequence() -> int:
    return time.time_ns() // 1000


class SimulatedTelephony:
    """Acts on a command at once, as Twilio's callbacks would report it."""

    def redirect(self, call_sid: str, twiml: str) -> None:
        """The customer's leg takes new TwiML (into the conference, back to a queue)."""

    def add_participant(self, conference: str, participant: Participant) -> str:
        from . import phone

        agent_id = int(participant.label.rsplit("-", 1)[1])
        phone.phone_agent_leg_report(
            call_id=_call_id(conference), agent_id=agent_id, status="ringing"
        )
        return "CA" + secrets.token_hex(16)

    def remove_participant(self, conference: str, label: str) -> None:
        """The agent's phone leaves the conference (nothing to report)."""

    def hold(self, conference: str, label: str, *, on: bool, hold_url: str) -> None:
        from . import phone

        event = "participant-hold" if on else "participant-unhold"
        phone.phone_conference_event(
            call_id=int(conference.rsplit("-", 1)[1]),
            event=event,
            label=label,
            sequence=_sequence(),
        )

    def mute(self, conference: str, label: str, *, on: bool) -> None:
        from . import phone

        event = "participant-mute" if on else "participant-unmute"
        phone.phone_conference_event(
            call_id=int(conference.rsplit("-", 1)[1]),
            event=event,
            label=label,
            sequence=_sequence(),
        )

    def hang_up(self, call_sid: str) -> None:
        from . import phone

        call = phone.phone_status_report(call_sid=call_sid, status="completed")
        if call is not None:
            conference_recorded(call)

    def dial(self, *, to: str, caller_id: str, twiml: str, status_callback: str) -> str:
        """The customer's phone rings (the simulator page answers it)."""
        return "CA" + secrets.token_hex(16)

    def recording_audio(self, url: str) -> tuple[bytes, str]:
        return tone_wav(), "audio/wav"
