"""Every admin changelist runs the same number of queries at 2 and at 20 rows."""

import pytest
from django.urls import reverse

from tests import factories
from tests.utils import count_queries

CHANGELISTS = [
    ("conversations", "conversation", factories.ConversationFactory),
    ("conversations", "interaction", factories.InteractionFactory),
    ("conversations", "message", factories.MessageFactory),
    ("conversations", "service", factories.ServiceFactory),
    ("conversations", "agentprofile", factories.AgentProfileFactory),
    ("contacts", "contact", factories.ContactFactory),
    ("contacts", "identity", factories.IdentityFactory),
    ("channels_app", "entrypoint", factories.EntryPointFactory),
    ("contactcenter", "event", factories.EventFactory),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("app", "model", "factory"), CHANGELISTS)
def test_admin_changelist_query_count_is_constant(admin_client, app, model, factory):
    url = reverse(f"admin:{app}_{model}_changelist")
    factory.create_batch(2)
    admin_client.get(url)
    two = count_queries(lambda: admin_client.get(url))
    factory.create_batch(18)
    response = admin_client.get(url)
    assert response.status_code == 200
    assert count_queries(lambda: admin_client.get(url)) == two
