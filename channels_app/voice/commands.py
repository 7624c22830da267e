"""Controls of phone calls for the telephony provider, kept as ``CallCommand`` rows and run by a
Celery task after the writing transaction commits (one call's commands one at a time, in
order). What a command does at the provider is in ``phone.command_perform``."""

from __future__ import annotations

from contactcenter.jobs import enqueue_on_commit

from ..models import CallCommand, VoiceCall

RUN_TASK = "channels_app.tasks.voice_commands_run"


def command_add(call: VoiceCall, action: str, **args: object) -> CallCommand:
    """Queue ``action`` for the provider (inside the caller's transaction)."""
    command = CallCommand.objects.create(call=call, action=action, args=args)
    enqueue_on_commit(RUN_TASK, call.pk)
    return command
