from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = _("Channels")

    def ready(self) -> None:
        from contactcenter.realtime import register_event_types
        from conversations.models import Channel
        from conversations.ports import (
            register_agent_activity,
            register_conversation_details,
            register_interaction_timers,
            register_lifecycle_listener,
            register_sender,
            register_sender_addresses,
            register_timeline_extras,
        )

        from . import (
            conversation_ops,  # noqa: F401 (its system texts are registered)
            tasks,  # noqa: F401 (registered for the beat and by-name jobs)
        )
        from .api_channel.sender import ApiChannelSender
        from .email.adapters import EmailSender
        from .email.details import email_details
        from .email.lifecycle import transcripts_on_chat_end
        from .email.timeline import email_timeline_extras
        from .services import entry_point_addresses
        from .sms.adapters import sms_sender_from_settings
        from .voice import events as voice_events
        from .voice.lifecycle import voice_lifecycle
        from .voice.selectors import call_timers
        from .voice.timeline import voice_timeline_extras
        from .webchat.activity import ChatActivity
        from .webchat.details import chat_details
        from .webchat.lifecycle import chat_lifecycle
        from .webchat.sender import ChatSender

        register_sender(Channel.SMS, sms_sender_from_settings())
        register_sender(Channel.CHAT, ChatSender())
        register_sender(Channel.EMAIL, EmailSender())
        register_sender(Channel.API, ApiChannelSender())
        register_sender_addresses(
            Channel.SMS, lambda service_id: entry_point_addresses(Channel.SMS, service_id)
        )
        register_sender_addresses(
            Channel.EMAIL, lambda service_id: entry_point_addresses(Channel.EMAIL, service_id)
        )
        register_lifecycle_listener(Channel.CHAT, chat_lifecycle)
        register_lifecycle_listener(Channel.CHAT, transcripts_on_chat_end)
        register_agent_activity(Channel.CHAT, ChatActivity())
        register_conversation_details(Channel.CHAT, chat_details)
        register_conversation_details(Channel.EMAIL, email_details)
        register_timeline_extras(Channel.EMAIL, email_timeline_extras)
        register_lifecycle_listener(Channel.VOICE, voice_lifecycle)
        register_timeline_extras(Channel.VOICE, voice_timeline_extras)
        register_timeline_extras(Channel.VOICEMAIL, voice_timeline_extras)
        register_interaction_timers(Channel.VOICE, call_timers)
        register_event_types(voice_events.CATALOGUE)
        from contacts.ports import register_phone_dialer

        from .voice.selectors import contact_dial_url

        register_phone_dialer(contact_dial_url)
