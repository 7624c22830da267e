from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        # Implement the ports the contacts app defines (contacts never imports conversations).
        from contactcenter.realtime import register_event_types

        from . import activities, tasks  # noqa: F401 (tasks registered for by-name jobs)
        from .events import CATALOGUE
        from .services import contact_moves

        activities.register()
        contact_moves.register()
        register_event_types(CATALOGUE)
