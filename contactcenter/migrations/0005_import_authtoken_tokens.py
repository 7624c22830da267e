"""Keep the keys of ``rest_framework.authtoken`` working: each becomes an API token with every
scope (they acted as their user with full powers). The old table is left in place, unused."""

import hashlib

from django.db import migrations

PREFIX_LENGTH = 12
ALL_SCOPES = ["read", "write", "cti", "webhooks"]


def import_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("contactcenter", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        prefix = key[:PREFIX_LENGTH]
        if ApiToken.objects.filter(prefix=prefix).exists():
            continue
        ApiToken.objects.create(
            user_id=user_id,
            name="Migrated token",
            prefix=prefix,
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            scopes=ALL_SCOPES,
            created_at=created,
        )


class Migration(migrations.Migration):
    dependencies = [("contactcenter", "0004_api_tokens_idempotency_webhooks")]

    operations = [migrations.RunPython(import_tokens, migrations.RunPython.noop)]
