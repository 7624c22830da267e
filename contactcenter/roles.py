"""Roles: three Django groups with permissions, created by a migration
(``contactcenter/migrations/0003_roles.py``).

- **Agent**: works conversations on the desktop; never reaches the admin.
- **Supervisor**: the floor view, monitoring, whisper and barge-in, assigning, transferring and
  closing conversations, forcing agents' states, reports; read-only admin. Scoped to the services
  of their teams (``conversations.permissions``).
- **Administrator**: everything, on every service; configures services, entry points, users.

Staff status (``is_staff``) is what lets a user into the admin and gives their websocket the
supervisors' events, so it goes with the role: :func:`user_role_set` sets both together.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from .audit import audit_record
from .exceptions import ValidationError
from .models import AuditAction

AGENT = "Agent"
SUPERVISOR = "Supervisor"
ADMINISTRATOR = "Administrator"
ROLES = (AGENT, SUPERVISOR, ADMINISTRATOR)
ROLE_LABELS = {
    AGENT: gettext_lazy("Agent"),
    SUPERVISOR: gettext_lazy("Supervisor"),
    ADMINISTRATOR: gettext_lazy("Administrator"),
}
#: The roles that enter the admin (``is_staff``).
STAFF_ROLES = (SUPERVISOR, ADMINISTRATOR)

#: Apps whose models' ``view_`` permissions Supervisors hold (a read-only admin).
SUPERVISOR_VIEW_APPS = ("contactcenter", "contacts", "conversations", "channels_app")
#: Models whose rows hold integrations' secrets: Administrators only, even to view.
ADMINISTRATOR_ONLY_MODELS = (
    ("contactcenter", "apitoken"),
    ("contactcenter", "webhooksubscription"),
    ("contactcenter", "webhookdelivery"),
    ("channels_app", "apichannelsettings"),
)
#: Apps whose every permission Administrators hold, including models added later.
ADMINISTRATOR_APPS = (*SUPERVISOR_VIEW_APPS, "auth", "admin", "axes")
#: The roles' own permissions (app label, codename), besides the above.
ROLE_PERMISSIONS = {
    AGENT: [
        ("contacts", "view_contact"),
        ("contacts", "add_contact"),
        ("contacts", "change_contact"),
        ("contacts", "view_identity"),
        ("contacts", "add_identity"),
        ("contacts", "delete_identity"),
    ],
    SUPERVISOR: [
        ("conversations", "view_floor"),
        ("conversations", "monitor_conversation"),
        ("conversations", "manage_conversation"),
        ("conversations", "assign_interaction"),
        ("conversations", "view_reports"),
        ("conversations", "force_agent_state"),
        ("contacts", "merge_contact"),
        ("contacts", "import_contact"),
        ("contacts", "export_contact"),
        ("axes", "view_accessattempt"),
        ("axes", "delete_accessattempt"),
        ("axes", "view_accessfailurelog"),
        ("axes", "view_accesslog"),
    ],
    ADMINISTRATOR: [],
}


def user_role(user: AbstractBaseUser) -> str:
    """The highest role the user holds ("" when none). A superuser counts as an Administrator."""
    if getattr(user, "is_superuser", False):
        return ADMINISTRATOR
    names = {group.name for group in user.groups.all()}
    for role in reversed(ROLES):
        if role in names:
            return role
    return ""


def user_role_set(*, actor: AbstractBaseUser | None, user: AbstractBaseUser, role: str) -> None:
    """Give ``user`` exactly one role (its group) and the staff status that goes with it."""
    if role not in ROLES:
        raise ValidationError(gettext("Unknown role."), field="role")
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        before = user_role(user)
        groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
        if role not in groups:
            raise ValidationError(
                gettext("The role groups are missing: run the migrations."), field="role"
            )
        user.groups.remove(*(group for name, group in groups.items() if name != role))
        user.groups.add(groups[role])
        staff = role in STAFF_ROLES
        if user.is_staff != staff:
            user.is_staff = staff
            user.save(update_fields=["is_staff"])
        if before != role:
            audit_record(
                actor=actor,
                action=AuditAction.ROLE_CHANGED,
                target=user,
                target_repr=user.get_username(),
                details={"from": before, "to": role},
            )


def roles_ensure(*, using: str = "default") -> None:
    """Create any missing role group with its permissions, and give the Administrator group the
    permissions of models added since (runs after every ``migrate`` and test-database flush).
    Groups that exist keep what administrators made of them; only Administrator gains."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    permissions = Permission.objects.using(using)
    groups = Group.objects.using(using)
    for role in ROLES:
        group, created = groups.get_or_create(name=role)
        if role == ADMINISTRATOR:
            wanted = permissions.filter(content_type__app_label__in=ADMINISTRATOR_APPS).exclude(
                group=group
            )
        elif created:
            wanted = Q(pk__in=[])
            for app_label, codename in ROLE_PERMISSIONS[role]:
                wanted |= Q(content_type__app_label=app_label, codename=codename)
            if role == SUPERVISOR:
                hidden = Q(pk__in=[])
                for app_label, model in ADMINISTRATOR_ONLY_MODELS:
                    hidden |= Q(content_type__app_label=app_label, content_type__model=model)
                wanted |= (
                    Q(
                        content_type__app_label__in=SUPERVISOR_VIEW_APPS,
                        codename__startswith="view_",
                    )
                    & ~hidden
                )
            wanted = permissions.filter(wanted)
        else:
            continue
        group.permissions.add(*wanted)


def user_staff_sync(*, user: AbstractBaseUser) -> None:
    """After groups were edited by hand (the admin's user form): a user holding the Supervisor or
    Administrator group is staff. Users without a role keep the staff status they were given."""
    if user.is_superuser or user_role(user) not in STAFF_ROLES or user.is_staff:
        return
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
    user.is_staff = True
