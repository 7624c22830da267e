import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command

from contactcenter import roles
from conversations.permissions import is_supervisor, supervised_services


def row_counts():
    return {
        model._meta.label: model.objects.count()
        for app in ("contacts", "conversations", "channels_app", "auth")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_logs_in_the_demo_users():
    call_command("seed_demo")
    first = row_counts()
    call_command("seed_demo")

    assert row_counts() == first
    assert first["contacts.Contact"] >= 3
    assert first["conversations.Conversation"] >= 3
    assert first["channels_app.EntryPoint"] >= 4
    for username, role in (
        ("admin", roles.ADMINISTRATOR),
        ("supervisor", roles.SUPERVISOR),
        ("agent1", roles.AGENT),
        ("agent2", roles.AGENT),
    ):
        user = authenticate(username=username, password=username)
        assert user is not None
        assert roles.user_role(user) == role
        assert user.is_staff == (role != roles.AGENT)
    supervisor = authenticate(username="supervisor", password="supervisor")
    assert is_supervisor(supervisor)
    assert sorted(supervised_services(supervisor).values_list("name", flat=True)) == ["Support"]
    assert supervised_services(authenticate(username="admin", password="admin")) is None
