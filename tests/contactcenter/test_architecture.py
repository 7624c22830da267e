"""Rules of the code base that a linter does not check by itself."""

import ast
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings

from channels_app.webchat import events as chat_events
from contactcenter.embedded_beat import unregistered_tasks
from contacts import events as contact_events
from conversations import events as conversation_events

ROOT = Path(__file__).resolve().parents[2]
APPS = ("contactcenter", "contacts", "conversations", "channels_app")
EVENT_TYPES = {*conversation_events.ALL, *contact_events.ALL, *chat_events.ALL}


# Audit actions are another vocabulary (what somebody did), some of whose codes read like event
# types; they are defined once, in the audit log's model.
NOT_EVENTS = {ROOT / "contactcenter" / "models.py"}


def app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or path.name == "events.py" or path in NOT_EVENTS:
                continue
            yield path


def test_event_types_are_spelled_only_in_the_event_catalogues():
    """Every event type is a constant of an ``events.py``; nothing else writes it as a string
    (a typo would be an event nobody listens to)."""
    found = []
    for path in app_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        examples = {
            id(node) for example in documentation_examples(tree) for node in ast.walk(example)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and node.value in EVENT_TYPES
                and id(node) not in examples
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert found == []


def documentation_examples(tree: ast.AST):
    """The API schema's examples (``OpenApiExample(...)``, ``_example(...)``, ``*_EXAMPLE*``
    constants): what a reader sees, never what code emits or listens to."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in ("OpenApiExample", "_example"):
                yield node
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and "EXAMPLE" in target.id for target in node.targets
        ):
            yield node


def test_the_catalogues_do_not_spell_one_type_twice():
    for catalogue in (conversation_events, contact_events, chat_events):
        assert len(set(catalogue.ALL)) == len(catalogue.ALL)


def test_every_task_of_the_beat_schedule_is_registered():
    """What the embedded beat (make run) and a worker run by name exists: the apps import their
    tasks modules when they are ready."""
    assert unregistered_tasks() == []
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in current_app.tasks


@pytest.mark.parametrize("name", sorted(settings.CELERY_TASK_ROUTES))
def test_every_routed_task_is_registered(name):
    assert name in current_app.tasks
