"""The agent's call controls (JSON over POST, errors as ``{"error": ...}`` with a 4xx) and the
recordings, served only to those who may see the call's conversation."""

import json
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from contactcenter.exceptions import DomainError, ValidationError
from contactcenter.http import domain_errors_as_json
from conversations.selectors import conversation_get_for_agent

from ..models import CallRecording
from . import phone, services


def _json(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError(gettext("The request body is not JSON.")) from None
    if not isinstance(data, dict):
        raise ValidationError(gettext("The request body is not a JSON object."))
    return data


def _call(call) -> JsonResponse:
    return JsonResponse({"call": services.call_payload(call)})


@login_required
@require_POST
@domain_errors_as_json
def call_start(request: HttpRequest, pk: int) -> HttpResponse:
    call = services.web_call_start(conversation_id=pk, user=request.user)
    return JsonResponse({"call": services.call_payload(call)}, status=201)


@login_required
@require_POST
@domain_errors_as_json
def phone_call_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Click-to-call: Twilio rings the agent's phone, then the customer's number."""
    number = _json(request).get("number", "")
    if not isinstance(number, str):
        raise ValidationError(gettext("Give the number as text."), field="number")
    call = phone.phone_call_start(conversation_id=pk, user=request.user, number=number)
    return JsonResponse({"call": services.call_payload(call)}, status=201)


@login_required
@require_POST
def contact_call(request: HttpRequest, pk: int) -> HttpResponse:
    """The contact page's *Call*: a conversation of the agent with the contact holds the call
    (their open one, else a new one); the agent lands on it."""
    try:
        call = phone.phone_call_contact(
            contact_id=pk, user=request.user, number=request.POST.get("number", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("contact-detail", pk)
    return redirect("conversation-detail", call.interaction.conversation_id)


@login_required
@require_POST
@domain_errors_as_json
def call_answer(request: HttpRequest, pk: int) -> HttpResponse:
    return _call(services.call_answer(call_id=pk, user=request.user))


@login_required
@require_POST
@domain_errors_as_json
def call_hold(request: HttpRequest, pk: int) -> HttpResponse:
    return _call(services.call_hold(call_id=pk, user=request.user, hold=True))


@login_required
@require_POST
@domain_errors_as_json
def call_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _call(services.call_hold(call_id=pk, user=request.user, hold=False))


@login_required
@require_POST
@domain_errors_as_json
def call_mute(request: HttpRequest, pk: int) -> HttpResponse:
    return _call(services.call_mute(call_id=pk, user=request.user, mute=True))


@login_required
@require_POST
@domain_errors_as_json
def call_unmute(request: HttpRequest, pk: int) -> HttpResponse:
    return _call(services.call_mute(call_id=pk, user=request.user, mute=False))


@login_required
@require_POST
@domain_errors_as_json
def call_dtmf(request: HttpRequest, pk: int) -> HttpResponse:
    digits = _json(request).get("digits", "")
    return _call(services.call_dtmf(call_id=pk, user=request.user, digits=str(digits)))


@login_required
@require_POST
@domain_errors_as_json
def call_hang_up(request: HttpRequest, pk: int) -> HttpResponse:
    return _call(services.call_hang_up(call_id=pk, user=request.user))


@login_required
@require_POST
@domain_errors_as_json
def call_consult(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        target_id = int(_json(request).get("agent") or 0)
    except (TypeError, ValueError):
        raise ValidationError(gettext("Choose another agent."), field="agent") from None
    return _call(services.call_consult(call_id=pk, user=request.user, target_id=target_id))


@login_required
@require_POST
@domain_errors_as_json
def call_consult_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _call(services.call_consult_cancel(call_id=pk, user=request.user))


@login_required
@require_POST
@domain_errors_as_json
def call_merge(request: HttpRequest, pk: int) -> HttpResponse:
    return _call(services.call_merge(call_id=pk, user=request.user))


@login_required
@require_POST
@domain_errors_as_json
def call_consult_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    return _call(services.call_consult_transfer(call_id=pk, user=request.user))


@login_required
@require_POST
@domain_errors_as_json
def call_signal(request: HttpRequest, pk: int) -> HttpResponse:
    data = _json(request)
    services.agent_signal(
        call_id=pk,
        user=request.user,
        kind=str(data.get("kind", "")),
        peer=data.get("peer", ""),
        data=data.get("data"),
        to=str(data.get("to") or "customer"),
    )
    return JsonResponse({"ok": True})


@login_required
@require_POST
@domain_errors_as_json
def recording_chunk(request: HttpRequest, pk: int) -> HttpResponse:
    """One chunk of the agent browser's recording: ``?segment=S&seq=N``, the bytes as the body."""
    try:
        seq = int(request.GET.get("seq", ""))
    except ValueError:
        raise ValidationError(gettext("The chunk number is not valid."), field="seq") from None
    recording = services.recording_chunk_append(
        call_id=pk,
        user=request.user,
        segment=request.GET.get("segment", ""),
        seq=seq,
        data=request.body,
    )
    return JsonResponse({"recording_id": recording.pk, "chunks": recording.chunks})


@login_required
@require_GET
def recording_play(request: HttpRequest, pk: int) -> HttpResponse:
    """A recording, to those who may open its conversation (others: 404)."""
    recording = get_object_or_404(CallRecording.objects.select_related("call__interaction"), pk=pk)
    conversation_get_for_agent(user=request.user, pk=recording.call.interaction.conversation_id)
    if not recording.size:
        raise Http404(gettext("This recording is still being fetched from the phone system."))
    size = recording.file.size  # the file, not the row: a live call's recording still grows
    wanted = byte_range(request.headers.get("Range", ""), size)
    if wanted is None:
        response = FileResponse(recording.file.open("rb"), content_type=recording.content_type)
    elif wanted == UNSATISFIABLE:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted
        response = StreamingHttpResponse(
            _file_part(recording.file.open("rb"), start, end - start + 1),
            status=206,
            content_type=recording.content_type,
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"  # the player can seek
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


UNSATISFIABLE = (-1, -1)
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
PART_CHUNK = 64 * 1024


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range (first, last) an HTTP ``Range`` header asks of ``size`` bytes; None
    for the whole file (no header, or one we do not serve in parts: several ranges, other
    units), ``UNSATISFIABLE`` for a range outside the file."""
    match = RANGE.match(header.strip())
    if not match or not (match[1] or match[2]):
        return None
    if not match[1]:  # the last N bytes
        length = int(match[2])
        if length == 0:
            return UNSATISFIABLE
        return max(0, size - length), size - 1
    start = int(match[1])
    end = min(int(match[2]), size - 1) if match[2] else size - 1
    if start >= size or end < start:
        return UNSATISFIABLE
    return start, end


def _file_part(file, start: int, length: int):
    with file:
        file.seek(start)
        while length > 0:
            chunk = file.read(min(PART_CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
