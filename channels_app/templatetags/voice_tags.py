"""The softphone's texts, translated for the page (``static/voice/softphone.js`` reads them)."""

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def softphone_strings() -> SafeString:
    return json_script(
        {
            "failed": gettext("The request failed (%(status)s)."),
            "microphone_refused": gettext(
                "The browser refused the microphone. Allow it for this site (the icon in the "
                "address bar), then try again."
            ),
            "no_microphone": gettext("No microphone was found. Connect one and try again."),
            "microphone_failed": gettext("The microphone could not be used: %(error)s"),
            "microphone_n": gettext("Microphone %(n)s"),
            "mute": gettext("Mute"),
            "unmute": gettext("Unmute"),
            "audio_connecting": gettext("Connecting audio…"),
            "audio_connected": gettext("Audio connected"),
            "audio_lost": gettext("Audio lost: the customer's connection dropped."),
            "sound_blocked": gettext("The browser blocked the sound: click the page to hear it."),
            "recording_failed": gettext("A part of the recording could not be saved: %(error)s"),
        },
        "softphone-strings",
    )
