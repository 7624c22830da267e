"""What timelines show under a call's last line: its recordings, playable by whoever may read
the timeline (the files are served only to them, ``views.recording_play``)."""

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from conversations.models import Channel, Message

from ..models import CallRecording

ENDING_CODES = ("voice_ended", "voice_ended_customer", "voice_ended_agent")


def voice_timeline_extras(messages: list[Message]) -> dict[int, str]:
    """Recordings under the line that ends their call, a voicemail's under the voicemail."""
    endings = {
        message.interaction_id: message.pk
        for message in messages
        if message.interaction_id
        and (
            message.system_code in ENDING_CODES
            or (message.channel == Channel.VOICEMAIL and message.kind == Message.Kind.TEXT)
        )
    }
    if not endings:
        return {}
    recordings: dict[int, list[CallRecording]] = {}
    stored = CallRecording.objects.filter(call__interaction_id__in=list(endings), size__gt=0)
    for recording in stored.select_related("call"):
        recordings.setdefault(recording.call.interaction_id, []).append(recording)
    return {
        endings[interaction_id]: SafeString(
            render_to_string("channels_app/voice/_recordings.html", {"recordings": items})
        )
        for interaction_id, items in recordings.items()
    }
