"""Agent desktop pages: thin adapters over selectors and services."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from contactcenter.http import domain_errors_as_json
from contactcenter.realtime import latest_event_id

from . import selectors, services
from .models import AgentState


def _desktop_context(request: HttpRequest) -> dict:
    return {
        # Read before the data: anything committed after this is replayed over the websocket.
        "last_event_id": latest_event_id(),
        "conversations": selectors.active_conversations(user=request.user),
        "profile": selectors.agent_profile_for(user=request.user),
        "agent_states": [AgentState.READY, AgentState.NOT_READY],
    }


@login_required
@require_GET
def desktop(request: HttpRequest) -> HttpResponse:
    return render(request, "conversations/desktop.html", _desktop_context(request))


@login_required
@require_GET
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    context = _desktop_context(request)
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    context.update(
        conversation=conversation,
        messages=selectors.timeline_messages(conversation=conversation),
        interactions=list(conversation.interactions.all()),
    )
    return render(request, "conversations/desktop.html", context)


@login_required
@require_GET
def conversation_list_fragment(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "conversations/_conversation_list.html",
        {"conversations": selectors.active_conversations(user=request.user)},
    )


@login_required
@require_GET
def conversation_messages_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    after = request.GET.get("after", "0")
    messages = selectors.timeline_messages(
        conversation=conversation, after_id=int(after) if after.isdigit() else 0
    )
    return render(request, "conversations/_messages.html", {"messages": messages})


@login_required
@require_POST
@domain_errors_as_json
def conversation_reply(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    message = services.message_send(
        conversation=conversation,
        user=request.user,
        body=request.POST.get("body", ""),
        channel=request.POST.get("channel") or None,
        client_token=request.POST.get("client_token", "")[:64],
    )
    return JsonResponse({"message_id": message.pk, "status": message.status}, status=201)


@login_required
@require_POST
@domain_errors_as_json
def conversation_close(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    conversation = services.conversation_close(conversation=conversation, user=request.user)
    return JsonResponse({"conversation_id": conversation.pk, "status": conversation.status})


@login_required
@require_POST
@domain_errors_as_json
def agent_state(request: HttpRequest) -> HttpResponse:
    profile = services.agent_state_set(
        user=request.user,
        state=request.POST.get("state", ""),
        reason=request.POST.get("reason", "")[:120],
    )
    return JsonResponse({"state": profile.state, "reason": profile.not_ready_reason})
