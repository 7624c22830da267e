"""The three roles as groups with permissions (README, "Roles and permissions").

The lists are frozen here, as of this migration. Models added later give their permissions to the
Administrator group through ``contactcenter.apps.grant_administrator_permissions`` (post_migrate).
"""

from django.db import migrations

APPS = ("contactcenter", "contacts", "conversations", "channels_app")

SUPERVISOR_PERMISSIONS = [
    ("conversations", "view_floor"),
    ("conversations", "monitor_conversation"),
    ("conversations", "manage_conversation"),
    ("conversations", "assign_interaction"),
    ("conversations", "view_reports"),
    ("conversations", "force_agent_state"),
    ("contacts", "merge_contact"),
    ("contacts", "import_contact"),
    ("contacts", "export_contact"),
]
AGENT_PERMISSIONS = [
    ("contacts", "view_contact"),
    ("contacts", "add_contact"),
    ("contacts", "change_contact"),
    ("contacts", "view_identity"),
    ("contacts", "add_identity"),
    ("contacts", "delete_identity"),
]
ADMINISTRATOR_APPS = (*APPS, "auth", "admin")


def _ensure_permissions(apps) -> None:
    """Permissions are normally created after migrations (post_migrate): create them now."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_contenttypes(app_config, verbosity=0, apps=apps)
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def create_roles(apps, schema_editor) -> None:
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(pairs):
        query = Permission.objects.none()
        for app_label, codename in pairs:
            query = query | Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            )
        return list(query)

    views = Permission.objects.filter(
        content_type__app_label__in=APPS, codename__startswith="view_"
    )
    agent, _ = Group.objects.get_or_create(name="Agent")
    agent.permissions.add(*permissions(AGENT_PERMISSIONS))
    supervisor, _ = Group.objects.get_or_create(name="Supervisor")
    supervisor.permissions.add(*permissions(SUPERVISOR_PERMISSIONS), *views)
    administrator, _ = Group.objects.get_or_create(name="Administrator")
    administrator.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=ADMINISTRATOR_APPS)
    )


def remove_roles(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Agent", "Supervisor", "Administrator"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contactcenter", "0002_audit_log"),
        ("contacts", "0002_merge_import_idempotency"),
        ("conversations", "0009_supervision"),
        ("channels_app", "0002_webchat"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
