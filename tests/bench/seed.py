"""Seed the bench database fast: a service, its SMS entry point and agents through the ORM (one
password hash for all), then contacts, closed conversations, their interactions and messages by
``INSERT ... SELECT generate_series`` inside PostgreSQL (no row crosses the wire).

Run as ``python -m tests.bench.seed '<json scale>'`` with the bench settings; prints the ids the
benchmarks need as one JSON line.
"""

from __future__ import annotations

import json
import sys

import django

SMS_NUMBER = "+15005550006"
PASSWORD = "bench-password"
OPEN_PER_AGENT = 3
AGENTS_WITH_WORK = 10
LONG_CONVERSATION_MESSAGES = 2000


def _base(agents: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from channels_app.models import EntryPoint
    from conversations.models import AgentProfile, AgentState, Service

    service = Service.objects.create(
        name="Bench", channels=["sms"], auto_accept_channels=[], offer_timeout_seconds=600
    )
    EntryPoint.objects.create(name="Bench SMS", channel="sms", address=SMS_NUMBER, service=service)
    password = make_password(PASSWORD)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"bench{n}", password=password) for n in range(agents)]
    )
    profiles = AgentProfile.objects.bulk_create(
        [
            AgentProfile(user=user, display_name=f"Bench agent {n}", state=AgentState.NOT_READY)
            for n, user in enumerate(users)
        ]
    )
    through = AgentProfile.services.through
    through.objects.bulk_create(
        [through(agentprofile_id=profile.pk, service_id=service.pk) for profile in profiles]
    )
    return {"service_id": service.pk, "user_ids": [user.pk for user in users]}


def _bulk(cursor, *, service_id: int, user_ids: list[int], scale: dict) -> dict:
    contacts, conversations, messages = scale["contacts"], scale["conversations"], scale["messages"]
    seeded_agents = user_ids[: min(len(user_ids), 60)]
    cursor.execute(
        """
        insert into contacts_contact (id, first_name, last_name, company, notes, custom_fields,
            do_not_text, created_at, updated_at)
        select g, 'Bench', 'Contact ' || g, '', '', '{}', false,
            now() - interval '200 days', now() - interval '200 days'
        from generate_series(1, %(contacts)s) g;
        insert into contacts_identity (kind, value, created_at, contact_id)
        select 'phone', '+1202' || (2000000 + g)::text, now() - interval '200 days', g
        from generate_series(1, %(contacts)s) g;
        insert into conversations_conversation (id, status, opened_at, closed_at, wrap_up_notes,
            last_message_at, agent_id, contact_id, service_id, case_state, pending_reason,
            custom_fields)
        select g, 'closed', now() - make_interval(mins => g), now() - make_interval(mins => g) +
            interval '5 min', '', now() - make_interval(mins => g) + interval '4 min',
            (%(agents)s::int[])[1 + g %% cardinality(%(agents)s::int[])],
            1 + g %% %(contacts)s, %(service)s, 'closed', '', '{}'
        from generate_series(1, %(conversations)s) g;
        insert into conversations_interaction (id, channel, direction, state, customer_address,
            service_address, started_at, ended_at, answered_at, queued_at, agent_id,
            conversation_id, priority, required_skills, service_id, transfers)
        select c.id, 'sms', 'inbound', 'ended', '+1202' || (2000000 + c.contact_id)::text,
            %(number)s, c.opened_at, c.closed_at, c.opened_at, c.opened_at, c.agent_id, c.id, 0,
            '{}', c.service_id, 0
        from conversations_conversation c;
        insert into conversations_message (channel, direction, kind, body, attachments, status,
            provider_id, error_code, error_message, client_token, attempts, created_at,
            status_changed_at, conversation_id, interaction_id, sender_id, system_code,
            system_params)
        select 'sms', case when g %% 2 = 0 then 'inbound' else 'outbound' end, 'text',
            'Bench message ' || g, '[]', case when g %% 2 = 0 then 'received' else 'delivered' end,
            'SMBENCH' || g, '', '', '', 0, now() - interval '1 day', now() - interval '1 day',
            1 + g %% %(conversations)s, 1 + g %% %(conversations)s, null, '', '{}'
        from generate_series(1, %(messages)s) g;
        """,
        {
            "contacts": contacts,
            "conversations": conversations,
            "messages": messages,
            "agents": seeded_agents,
            "service": service_id,
            "number": SMS_NUMBER,
        },
    )
    for table in ("contacts_contact", "conversations_conversation", "conversations_interaction"):
        cursor.execute(
            f"select setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(select coalesce(max(id), 1) from {table}))"
        )
    return _open_work(cursor, service_id=service_id, user_ids=user_ids, contacts=contacts)


def _open_work(cursor, *, service_id: int, user_ids: list[int], contacts: int) -> dict:
    """Open SMS conversations of the first agents (their Active Conversations), the first
    agent's holding a long one."""
    open_ids: dict[int, list[int]] = {}
    for n, user_id in enumerate(user_ids[:AGENTS_WITH_WORK]):
        # The second agent has one open conversation: the desktop's query count must not differ.
        for k in range(1 if n == 1 else OPEN_PER_AGENT):
            contact_id = 1 + (n * OPEN_PER_AGENT + k) % contacts
            cursor.execute(
                """
                with c as (
                    insert into conversations_conversation (status, opened_at, wrap_up_notes,
                        last_message_at, agent_id, contact_id, service_id, case_state,
                        pending_reason, custom_fields)
                    values ('open', now(), '', now(), %(agent)s, %(contact)s, %(service)s,
                        'open', '', '{}') returning id)
                insert into conversations_interaction (channel, direction, state,
                    customer_address, service_address, started_at, answered_at, queued_at,
                    agent_id, conversation_id, priority, required_skills, service_id, transfers)
                select 'sms', 'inbound', 'active', '+1202' || (2000000 + %(contact)s)::text,
                    %(number)s, now(), now(), now(), %(agent)s, c.id, 0, '{}', %(service)s, 0
                from c returning conversation_id, id
                """,
                {
                    "agent": user_id,
                    "contact": contact_id,
                    "service": service_id,
                    "number": SMS_NUMBER,
                },
            )
            conversation_id, _interaction_id = cursor.fetchone()
            open_ids.setdefault(user_id, []).append(conversation_id)
    long_id = open_ids[user_ids[0]][0]
    cursor.execute(
        """
        insert into conversations_message (channel, direction, kind, body, attachments, status,
            provider_id, error_code, error_message, client_token, attempts, created_at,
            status_changed_at, conversation_id, interaction_id, sender_id, system_code,
            system_params)
        select 'sms', 'inbound', 'text', 'Long conversation line ' || g, '[]', 'received',
            'SMLONG' || g, '', '', '', 0, now() - make_interval(secs => %(n)s - g),
            now(), %(conversation)s, i.id, null, '', '{}'
        from generate_series(1, %(n)s) g,
            (select id from conversations_interaction where conversation_id = %(conversation)s) i
        """,
        {"n": LONG_CONVERSATION_MESSAGES, "conversation": long_id},
    )
    cursor.execute("analyze")
    return {"open_conversations": {str(k): v for k, v in open_ids.items()}, "long_id": long_id}


def _sessions(user_ids: list[int]) -> dict[str, str]:
    """A logged-in session per agent, made directly (the login form hashes a password per
    login, a third of a second each): the benchmarks send it as the ``sessionid`` cookie."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    keys = {}
    for user in get_user_model().objects.filter(pk__in=user_ids):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys[str(user.pk)] = session.session_key
    return keys


def main(scale: dict) -> dict:
    django.setup()
    from django.db import connection, transaction

    with transaction.atomic():
        base = _base(scale["agents"])
        with connection.cursor() as cursor:
            work = _bulk(
                cursor, service_id=base["service_id"], user_ids=base["user_ids"], scale=scale
            )
    sessions = _sessions(base["user_ids"])
    return {**base, **work, "sessions": sessions, "sms_number": SMS_NUMBER}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
