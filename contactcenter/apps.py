from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_roles(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    """After ``migrate`` (and a test database's flush): the role groups exist, and Administrators
    hold the permissions of every model, including models added after the roles migration.

    post_migrate is sent once per app, in order, each time after that app's permissions are
    created: acting on the last app's sees every app's permissions."""
    from django.apps import apps

    from .roles import roles_ensure

    if sender is list(apps.get_app_configs())[-1]:
        roles_ensure(using=using)


class ContactCenterConfig(AppConfig):
    default = True
    name = "contactcenter"
    verbose_name = _("Contact center core")

    def ready(self) -> None:
        from django.urls import register_converter

        from . import tasks  # noqa: F401 (registered for the beat and by-name jobs)
        from .api.fields import IdConverter

        register_converter(IdConverter, "id")
        # Connected after django.contrib.auth's own handler, which creates the permissions.
        post_migrate.connect(ensure_roles, dispatch_uid="contactcenter-ensure-roles")


class ContactCenterAdminConfig(admin_apps.AdminConfig):
    """The admin with the contact center's site: extra pages (reports, links to the floor view)
    registered by the apps through ``contactcenter.admin_site``."""

    default = False
    default_site = "contactcenter.admin_site.ContactCenterAdminSite"
