"""Supervisors' read-only admin over models added after the roles (``0003_roles``): the email
channel's records, the idempotency keys (now in ``contactcenter``) and the login attempts, which
they may also delete (unlocking a locked-out agent); Administrators get all of ``axes``. The integrations'
credentials (API tokens, webhook subscriptions and deliveries, API channel settings) stay with
Administrators: they hold secrets."""

from django.db import migrations

SUPERVISOR_VIEWS = [
    ("channels_app", "view_emailsignature"),
    ("channels_app", "view_emaildetails"),
    ("channels_app", "view_emailattachment"),
    ("channels_app", "view_emailreceipt"),
    ("contactcenter", "view_idempotencykey"),
    # Login throttling (django-axes): see attempts and logs, unlock by deleting an attempt.
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("axes", "view_accessfailurelog"),
    ("axes", "view_accesslog"),
]
ADMINISTRATOR_ONLY = [
    ("contactcenter", "view_apitoken"),
    ("contactcenter", "view_webhooksubscription"),
    ("contactcenter", "view_webhookdelivery"),
    ("channels_app", "view_apichannelsettings"),
]


def _permissions(apps, pairs):
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_contenttypes(app_config, verbosity=0, apps=apps)
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    query = Permission.objects.none()
    for app_label, codename in pairs:
        query = query | Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        )
    return list(query)


def grant(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    supervisor = Group.objects.filter(name="Supervisor").first()
    if supervisor is None:
        return
    supervisor.permissions.add(*_permissions(apps, SUPERVISOR_VIEWS))
    supervisor.permissions.remove(*_permissions(apps, ADMINISTRATOR_ONLY))
    administrator = Group.objects.filter(name="Administrator").first()
    if administrator is not None:
        Permission = apps.get_model("auth", "Permission")
        administrator.permissions.add(*Permission.objects.filter(content_type__app_label="axes"))


def revoke(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    supervisor = Group.objects.filter(name="Supervisor").first()
    if supervisor is not None:
        supervisor.permissions.remove(*_permissions(apps, SUPERVISOR_VIEWS))


class Migration(migrations.Migration):
    dependencies = [
        ("contactcenter", "0005_import_authtoken_tokens"),
        ("channels_app", "0005_api_channel"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
