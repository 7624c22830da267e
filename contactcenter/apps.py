from django.apps import AppConfig


class ContactCenterConfig(AppConfig):
    name = "contactcenter"
    verbose_name = "Contact center core"
