"""The README's table of what each role may do, checked: every row is tried as an agent, a
supervisor (of team A: service A) and an administrator, every admin URL of every registered model
included, and what happens must be what the table says.

A scoped row ("their teams' services") is tried on something of service A and of service B: a
supervisor reaches A only, an administrator both.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from conversations.models import Interaction
from tests import factories
from tests.factories import InteractionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

README = Path(__file__).resolve().parents[2] / "README.md"
ROLES = ("Agent", "Supervisor", "Administrator")
PERSONAS = {"Agent": "agent_a", "Supervisor": "supervisor", "Administrator": "administrator"}


def readme_table() -> dict[str, dict[str, str]]:
    """The rows of the table under "### Roles and permissions": what -> {role: cell}."""
    text = README.read_text()
    section = text[text.index("### Roles and permissions") :]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["What", *ROLES]
    table = {}
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] in table or len(cells) != 4:
            break  # the next table of the section
        table[cells[0]] = dict(zip(ROLES, cells[1:], strict=True))
    return table


@dataclass
class World:
    client: object
    agent_a: object
    agent_b: object
    service_a: object
    service_b: object
    handled_a: Interaction
    handled_b: Interaction
    waiting_a: Interaction
    waiting_b: Interaction


def handled(service, agent):
    now = timezone.now()
    return InteractionFactory(
        conversation__service=service,
        conversation__agent=agent,
        service=service,
        channel="chat",
        agent=agent,
        state=Interaction.State.ACTIVE,
        queued_at=now,
        answered_at=now,
    )


def waiting(service):
    return InteractionFactory(
        conversation__service=service,
        conversation__agent=None,
        service=service,
        channel="chat",
        agent=None,
        state=Interaction.State.QUEUED,
        queued_at=timezone.now(),
    )


@pytest.fixture
def world(client, agent_a, agent_b, service_a, service_b, supervisor, administrator):
    return World(
        client=client,
        agent_a=agent_a,
        agent_b=agent_b,
        service_a=service_a,
        service_b=service_b,
        handled_a=handled(service_a, agent_a),
        handled_b=handled(service_b, agent_b),
        waiting_a=waiting(service_a),
        waiting_b=waiting(service_b),
    )


JSON = {"HTTP_ACCEPT": "application/json"}


def ok(response) -> bool:
    return response.status_code == 200


def post_ok(world, url, data=None) -> bool:
    return ok(world.client.post(url, data or {}, **JSON))


# --- What one row means, tried on A and B -----------------------------------------------------


def scoped(check: Callable[[World, str], bool]) -> Callable[[World], tuple[bool, bool]]:
    """``check(world, "a"|"b")`` on service A's things and service B's."""
    return lambda world: (check(world, "a"), check(world, "b"))


def conversation(world, side):
    return (world.handled_a if side == "a" else world.handled_b).conversation


def floor(world, side):
    response = world.client.get(reverse("floor"))
    if not ok(response):
        return False
    panels = [
        world.client.get(reverse("floor-panel", args=[name])) for name in ("services", "agents")
    ]
    return (
        all(ok(p) for p in panels) and conversation(world, side).number in response.content.decode()
    )


def monitor(world, side):
    return ok(world.client.get(reverse("monitor", args=[conversation(world, side).pk])))


def whisper_and_barge(world, side):
    pk = conversation(world, side).pk
    return post_ok(world, reverse("supervisor-whisper", args=[pk]), {"body": "psst"}) and post_ok(
        world, reverse("supervisor-barge", args=[pk]), {"body": "hello"}
    )


def assign(world, side):
    interaction = world.waiting_a if side == "a" else world.waiting_b
    agent = world.agent_a if side == "a" else world.agent_b
    return post_ok(world, reverse("supervisor-assign", args=[interaction.pk]), {"agent": agent.pk})


def admin_action(world, label: str, action: str, pk: int) -> None:
    world.client.post(admin_url(label, "changelist"), {"action": action, "_selected_action": [pk]})


def transfer_and_close(world, side):
    """On the monitor page's actions, then with the admin's action on another conversation."""
    item = conversation(world, side)
    target = f"service:{item.service_id}"
    pages = post_ok(
        world, reverse("supervisor-transfer", args=[item.pk]), {"target": target}
    ) and post_ok(world, reverse("supervisor-close", args=[item.pk]))
    other = handled(world.service_a if side == "a" else world.service_b, None).conversation
    admin_action(world, "conversations.Conversation", "close_selected", other.pk)
    other.refresh_from_db()
    return pages and other.status != "open"


def force_agent(world, side):
    """On the floor view's actions, then with the admin's action."""
    agent = world.agent_a if side == "a" else world.agent_b
    pages = post_ok(
        world, reverse("supervisor-agent-state", args=[agent.pk]), {"state": "not_ready|"}
    ) and post_ok(world, reverse("supervisor-agent-log-out", args=[agent.pk]))
    admin_action(world, "conversations.AgentProfile", "force_ready", agent.agent_profile.pk)
    agent.agent_profile.refresh_from_db()
    return pages and agent.agent_profile.state in ("ready", "busy")  # busy: they have a chat


def reports(world, side):
    response = world.client.get(reverse("admin:reports"), {"by": "service"})
    name = (world.service_a if side == "a" else world.service_b).name
    return ok(response) and f">{name}<" in response.content.decode()


def queue_api(world, side):
    service = world.service_a if side == "a" else world.service_b
    return ok(world.client.get(reverse("api-service-queue", args=[service.pk])))


# --- Admin URLs --------------------------------------------------------------------------------

SCOPED_VIEW = [
    "conversations.Conversation",
    "conversations.Interaction",
    "conversations.Message",
    "conversations.Offer",
    "conversations.Service",
    "conversations.Disposition",
    "conversations.AgentProfile",
]
GLOBAL_VIEW = [
    "contacts.Contact",
    "contacts.Identity",
    "contacts.ContactMerge",
    "contacts.ContactImport",
    "contactcenter.IdempotencyKey",
    "conversations.Team",
    "conversations.Skill",
    "conversations.NotReadyReason",
    "conversations.CannedResponse",
    "channels_app.EntryPoint",
    "channels_app.WebChatSettings",
    "channels_app.ChatSession",
    "channels_app.VoiceCall",
    "channels_app.LocalOutboxItem",
    "channels_app.EmailSignature",
    "channels_app.EmailDetails",
    "channels_app.EmailAttachment",
    "channels_app.EmailReceipt",
    "contactcenter.Event",
    "contactcenter.AuditRecord",
]
CONFIGURATION = [
    "conversations.Service",
    "conversations.Skill",
    "conversations.Team",
    "conversations.Disposition",
    "conversations.NotReadyReason",
    "conversations.CannedResponse",
    "channels_app.EntryPoint",
    "channels_app.WebChatSettings",
    "channels_app.EmailSignature",
    "conversations.AgentProfile",
    "contacts.Contact",
    "contacts.Identity",
]
USERS = [
    "auth.User",
    "auth.Group",
    "contactcenter.ApiToken",
    "contactcenter.WebhookSubscription",
    "channels_app.ApiChannelSettings",
]
#: django-axes' login throttling: supervisors see it and unlock (delete an attempt).
LOGINS = ["axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog"]
#: Written by the webhook dispatcher; Administrators view them (and retry), nobody edits them.
WEBHOOK_DELIVERIES = ["contactcenter.WebhookDelivery"]
WRITTEN_BY_SERVICES = [
    "conversations.Conversation",
    "conversations.Interaction",
    "conversations.Message",
    "conversations.Offer",
    "channels_app.ChatSession",
    "channels_app.VoiceCall",
    "contacts.ContactMerge",
    "contacts.ContactImport",
    "contactcenter.IdempotencyKey",
    "channels_app.LocalOutboxItem",
    "channels_app.EmailDetails",
    "channels_app.EmailAttachment",
    "channels_app.EmailReceipt",
    "contactcenter.Event",
    "contactcenter.AuditRecord",
]


def admin_url(label: str, view: str, *args) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model.lower()}_{view}", args=args)


def an_object(world, label: str, side: str = "a"):
    """A row of ``label`` belonging to service A (or B) where rows belong to a service."""
    from tests.contactcenter.test_admin import FACTORIES

    service = world.service_a if side == "a" else world.service_b
    interaction = world.handled_a if side == "a" else world.handled_b
    made = {
        "conversations.Conversation": lambda: interaction.conversation,
        "conversations.Interaction": lambda: interaction,
        "conversations.Message": lambda: factories.MessageFactory(interaction=interaction),
        "conversations.Offer": lambda: factories.OfferFactory(
            interaction=interaction, agent=interaction.agent
        ),
        "conversations.Service": lambda: service,
        "conversations.Disposition": lambda: factories.DispositionFactory(service=service),
        "conversations.AgentProfile": lambda: interaction.agent.agent_profile,
    }
    return made[label]() if label in made else FACTORIES[label]()


def can_view(world, label, side) -> bool:
    obj = an_object(world, label, side)
    client = world.client
    return ok(client.get(admin_url(label, "changelist"))) and ok(
        client.get(admin_url(label, "change", obj.pk))
    )


def admin_view(labels: list[str]) -> Callable[[World, str], bool]:
    return lambda world, side: all(can_view(world, label, side) for label in labels)


def can_write(world, label) -> bool:
    """Add page, change form with fields, delete page: all open."""
    obj = an_object(world, label)
    client = world.client
    change = client.get(admin_url(label, "change", obj.pk))
    return (
        ok(client.get(admin_url(label, "add")))
        and ok(change)
        and bool(change.context["has_change_permission"])
        and ok(client.get(admin_url(label, "delete", obj.pk)))
    )


def cannot_write(world, label) -> bool:
    """No add page, no delete page, no editable change form."""
    obj = an_object(world, label)
    client = world.client
    change = client.get(admin_url(label, "change", obj.pk))
    return (
        not ok(client.get(admin_url(label, "add")))
        and not ok(client.get(admin_url(label, "delete", obj.pk)))
        and (not ok(change) or not change.context["has_change_permission"])
    )


GLOBAL, SERVICES, AGENTS = "global", "services", "agents"

#: README row -> (what its cells mean, the check). A global check says yes or no; a scoped one
#: answers for service A's things and for service B's.
CHECKS: dict[str, tuple[str, Callable]] = {
    "Desktop `/` and contacts `/contacts/`": (
        GLOBAL,
        lambda w: ok(w.client.get("/")) and ok(w.client.get(reverse("contact-list"))),
    ),
    "Floor view `/supervisor/` and its panels": (SERVICES, scoped(floor)),
    "Monitor a conversation `/supervisor/conversations/<id>/`": (SERVICES, scoped(monitor)),
    "Whisper and barge in": (SERVICES, scoped(whisper_and_barge)),
    "Assign waiting work": (SERVICES, scoped(assign)),
    "Transfer or close a conversation": (SERVICES, scoped(transfer_and_close)),
    "Force an agent's state or log them out": (AGENTS, scoped(force_agent)),
    "Reports `/admin/reports/`": (SERVICES, scoped(reports)),
    "Admin: enter `/admin/`": (GLOBAL, lambda w: ok(w.client.get(reverse("admin:index")))),
    "Admin: view conversations, interactions, messages, offers, services, dispositions, agent "
    "profiles": (SERVICES, scoped(admin_view(SCOPED_VIEW))),
    "Admin: view contacts, identities, merges, imports, idempotency keys, teams, skills, "
    "reasons, canned responses, entry points, web chat, local SMS outbox, events, audit log": (
        GLOBAL,
        lambda w: admin_view(GLOBAL_VIEW)(w, "a"),
    ),
    "Admin: add, change, delete configuration (services, skills, teams, dispositions, reasons, "
    "canned responses, entry points, web chat settings, agent profiles, contacts, identities)": (
        GLOBAL,
        lambda w: all(can_write(w, label) for label in CONFIGURATION),
    ),
    "Admin: users, groups, API tokens, webhook subscriptions, API channel settings": (
        GLOBAL,
        lambda w: all(can_view(w, label, "a") and can_write(w, label) for label in USERS),
    ),
    "Admin: view login attempts and logs; unlock a locked-out user (delete the attempt)": (
        GLOBAL,
        lambda w: (
            all(can_view(w, label, "a") for label in LOGINS)
            and ok(
                w.client.get(
                    admin_url("axes.AccessAttempt", "delete", an_object(w, "axes.AccessAttempt").pk)
                )
            )
        ),
    ),
    "Admin: view webhook deliveries": (
        GLOBAL,
        lambda w: all(can_view(w, label, "a") for label in WEBHOOK_DELIVERIES),
    ),
    "Admin: add, change or delete conversations, interactions, messages, offers, chat sessions, "
    "merges, imports, idempotency keys, local SMS outbox, events, audit log": (
        GLOBAL,
        lambda w: not all(cannot_write(w, label) for label in WRITTEN_BY_SERVICES),
    ),
    "Contacts: merge, import, export": (
        GLOBAL,
        lambda w: (
            ok(w.client.get(reverse("contact-import-upload")))
            and ok(w.client.get(reverse("contact-export")))
        ),
    ),
    "API `/api/v1/services/<id>/queue/`": (SERVICES, scoped(queue_api)),
}


def meaning(kind: str, role: str, result) -> str:
    """What the table would say for this outcome of the check."""
    if kind == GLOBAL:
        return "yes" if result else "no"
    on_a, on_b = result
    if on_b and not on_a:
        return f"service B only?! {result}"
    if not on_a:
        return "no"
    if kind == AGENTS:
        return "every agent" if on_b else "their teams' agents"
    if on_b:
        return "every service"
    return "their services" if role == "Agent" else "their teams' services"


def test_the_readme_table_has_exactly_the_rows_this_test_checks():
    assert list(readme_table()) == list(CHECKS)


def test_every_registered_admin_model_is_in_a_row():
    covered = (
        set(SCOPED_VIEW)
        | set(GLOBAL_VIEW)
        | set(CONFIGURATION)
        | set(USERS)
        | set(WEBHOOK_DELIVERIES)
        | set(LOGINS)
    )
    assert {model._meta.label for model in admin.site._registry} <= covered
    assert (
        set(WRITTEN_BY_SERVICES)
        | set(CONFIGURATION)
        | set(USERS)
        | set(WEBHOOK_DELIVERIES)
        | set(LOGINS)
        >= covered
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", list(CHECKS))
def test_each_role_may_do_what_the_readme_says(request, world, row, role):
    user = request.getfixturevalue(PERSONAS[role])
    world.client.force_login(user)

    kind, check = CHECKS[row]
    result = check(world)

    assert meaning(kind, role, result) == readme_table()[row][role], json.dumps(
        {"row": row, "role": role, "result": result}
    )


def test_agents_never_reach_any_admin_url(world, agent_a):
    world.client.force_login(agent_a)
    for model in admin.site._registry:
        label = model._meta.label
        for url in (admin_url(label, "changelist"), admin_url(label, "add")):
            response = world.client.get(url)
            assert response.status_code == 302, url
            assert re.match(r"^/admin/login/", response["Location"]), url
