"""Routing under real concurrency: several processes on PostgreSQL (FOR UPDATE SKIP LOCKED)."""

import subprocess
import sys
import time

import pytest
from django.db import connection

from conversations.models import Interaction, Offer
from tests.conftest import IN_CI
from tests.factories import AgentProfileFactory, ServiceFactory
from tests.support.live_server import REPO_ROOT, database_env, subprocess_env

PROCESSES = 5
CHATS_PER_PROCESS = 10


@pytest.fixture
def postgres_required():
    if connection.vendor != "postgresql":
        message = "needs PostgreSQL (set DATABASE_URL); row locks are what this test proves"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.django_db(transaction=True)
def test_fifty_chats_from_five_processes_never_exceed_any_agents_capacity(postgres_required):
    service = ServiceFactory(name="Concurrent chat")
    agents = [AgentProfileFactory(services=[service]).user for _ in range(10)]
    env = subprocess_env({**database_env(connection.settings_dict), "REDIS_URL": ""})
    start_at = time.time() + 3
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.conversations.concurrent_inbound",
                str(service.pk),
                str(i * CHATS_PER_PROCESS),
                str(CHATS_PER_PROCESS),
                str(start_at),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    outputs = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        outputs.append(out)
        assert worker.returncode == 0, out

    for agent in agents:
        assert Offer.objects.filter(agent=agent, state=Offer.State.OFFERED).count() == 4
    assert (
        Interaction.objects.filter(service=service, state=Interaction.State.OFFERED).count() == 40
    )
    assert Interaction.objects.filter(service=service, state=Interaction.State.QUEUED).count() == 10
    # No interaction was ever offered twice.
    assert Offer.objects.count() == 40
