"""Who may do what with contacts: Django permissions, which the roles carry
(``contactcenter.roles``: Supervisors and Administrators hold merge, import and export). Agents
see contacts: contacts are shared."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from . import ports


def _active(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_view_contacts(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not _active(user):
        return False
    return bool(ports.is_contact_viewer(user) or user.has_perm("contacts.view_contact"))


def can_merge(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Merge contacts, undo merges and move conversations between contacts."""
    return _active(user) and user.has_perm("contacts.merge_contact")


def can_import(user: AbstractBaseUser | AnonymousUser) -> bool:
    return _active(user) and user.has_perm("contacts.import_contact")


def can_export(user: AbstractBaseUser | AnonymousUser) -> bool:
    return _active(user) and user.has_perm("contacts.export_contact")
