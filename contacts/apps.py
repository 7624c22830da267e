from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from contactcenter.realtime import register_event_types

        from .events import CATALOGUE

        register_event_types(CATALOGUE)
