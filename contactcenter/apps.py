from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactCenterConfig(AppConfig):
    name = "contactcenter"
    verbose_name = _("Contact center core")

    def ready(self) -> None:
        from . import tasks  # noqa: F401 (registered for the beat and by-name jobs)
