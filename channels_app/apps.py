from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = _("Channels")

    def ready(self) -> None:
        from conversations.models import Channel
        from conversations.ports import register_sender, register_sender_addresses
        from conversations.stored_text import stored_text_register

        from . import tasks  # noqa: F401 (registered for the beat and by-name jobs)
        from .conversation_ops import AGENT_LINES
        from .services import entry_point_addresses
        from .sms.adapters import sms_sender_from_settings
        from .webchat.sender import ChatSender

        stored_text_register(*AGENT_LINES)
        register_sender(Channel.SMS, sms_sender_from_settings())
        register_sender(Channel.CHAT, ChatSender())
        register_sender_addresses(
            Channel.SMS, lambda service_id: entry_point_addresses(Channel.SMS, service_id)
        )
