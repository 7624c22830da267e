"""Supervisor pages: the live floor view, its panels (fragments the page fetches when events
arrive), monitoring a conversation, and the supervisor actions. Thin adapters over
``conversations.floor`` (reads) and ``conversations.services.supervision`` (writes).

Actions answer JSON to the page's scripts (``Accept: application/json``) and otherwise redirect
back with a message, so they also work as plain forms.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from contactcenter.exceptions import DomainError, NotFound, PermissionDenied, ValidationError
from contactcenter.realtime import page_cursor

from . import floor, selectors, services
from .models import AgentState, Channel, Interaction, MessageStatus, NotReadyReason, Service
from .permissions import (
    ASSIGN,
    FORCE_AGENT_STATE,
    MANAGE_CONVERSATIONS,
    MONITOR,
    VIEW_FLOOR,
    can_supervise_conversation,
    may,
)
from .system_lines import system_texts_without_parameters

PANELS = ("services", "agents", "conversations")


def _require(request: HttpRequest, permission: str) -> None:
    if not may(request.user, permission):
        raise PermissionDenied(gettext("Only supervisors may do this."))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("floor")


def supervisor_action(permission: str) -> Callable:
    """POST only, the permission checked (403 otherwise); domain errors become a JSON 4xx or a
    message on the page the form came from."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @require_POST
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            _require(request, permission)
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                if _wants_json(request):
                    return JsonResponse(exc.as_dict(), status=exc.status_code)
                if isinstance(exc, PermissionDenied | NotFound):
                    raise
                messages.error(request, exc.message)
                return redirect(_next_url(request))

        return wrapper

    return decorator


def _done(request: HttpRequest, text: str, **data: object) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": text, **data})
    messages.success(request, text)
    return redirect(_next_url(request))


# --- The floor view ----------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _floor_url(request: HttpRequest) -> str:
    """The floor view with the current filters and pages (where plain forms come back to)."""
    query = request.GET.urlencode()
    return reverse("floor") + (f"?{query}" if query else "")


def _panel_context(request: HttpRequest, panel: str) -> dict:
    if panel != "services":
        return {"next_url": _floor_url(request), **_panel_only(request, panel)}
    return _panel_only(request, panel)


def _panel_only(request: HttpRequest, panel: str) -> dict:
    query = request.GET
    user = request.user
    if panel == "services":
        return {"services_page": floor.floor_services(user=user, page=query.get("sp", 1))}
    if panel == "agents":
        state = query.get("astate", "")
        return {
            "agents_page": floor.floor_agents(
                user=user,
                page=query.get("ap", 1),
                state=state if state in AgentState.values else "",
                service_id=_int(query.get("aservice")),
            ),
            "not_ready_reasons": list(NotReadyReason.objects.filter(active=True)),
            "can_force": may(user, FORCE_AGENT_STATE),
        }
    filters = floor.ConversationFilters.from_query(query)
    return {
        "conversations_page": floor.floor_conversations(
            user=user, filters=filters, page=query.get("cp", 1)
        ),
        "filters": filters,
        "assignable_agents": floor.agent_choices(user=user, logged_in_only=True)
        if may(user, ASSIGN)
        else [],
        "can_assign": may(user, ASSIGN),
        "can_monitor": may(user, MONITOR),
    }


def _floor_strings() -> dict:
    return {"error": gettext("Error %(status)s"), "network_error": gettext("Network error.")}


@login_required
@require_GET
def floor_view(request: HttpRequest) -> HttpResponse:
    """``/supervisor/``: per service figures, the agents board, conversations in progress."""
    _require(request, VIEW_FLOOR)
    context = {"event_cursor": page_cursor()}  # read first: later changes arrive as events
    for panel in PANELS:
        context.update(_panel_context(request, panel))
    context.update(
        services=floor.service_choices(user=request.user),
        agents=floor.agent_choices(user=request.user),
        channels=Channel.choices,
        agent_states=AgentState.choices,
        floor_strings=_floor_strings(),
        fragment_query=request.GET.urlencode(),
    )
    return render(request, "supervision/floor.html", context)


@login_required
@require_GET
def floor_panel(request: HttpRequest, panel: str) -> HttpResponse:
    """One panel of the floor view, rendered as on the full page (same query string)."""
    _require(request, VIEW_FLOOR)
    if panel not in PANELS:
        raise Http404(panel)
    return render(request, f"supervision/_{panel}.html", _panel_context(request, panel))


@login_required
@require_GET
def supervisor_queues(request: HttpRequest) -> HttpResponse:
    """The former live queue page: its figures are the floor view's services panel now."""
    _require(request, VIEW_FLOOR)
    return redirect("floor")


# --- Monitoring a conversation --------------------------------------------------------------


def _monitored(request: HttpRequest, pk: int):
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    if not can_supervise_conversation(request.user, conversation, MONITOR):
        raise NotFound(gettext("Conversation not found."))
    return conversation


@login_required
@require_GET
def monitor_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A live, read-only view of the conversation's timeline, with whisper, barge-in, transfer
    and close."""
    _require(request, MONITOR)
    event_cursor = page_cursor()
    conversation = _monitored(request, pk)
    interactions = list(conversation.interactions.all())
    if request.GET.get("fragment") == "header":
        return render(
            request,
            "supervision/_monitor_header.html",
            {"conversation": conversation, "interactions": interactions},
        )
    services.conversation_monitor(supervisor=request.user, conversation=conversation)
    return render(
        request,
        "supervision/monitor.html",
        {
            "event_cursor": event_cursor,
            "conversation": conversation,
            "interactions": interactions,
            "open_interactions": [i for i in interactions if i.state == Interaction.State.ACTIVE],
            "timeline": selectors.timeline_messages(conversation=conversation),
            "transfer_services": list(Service.objects.order_by("name")),
            "transfer_agents": floor.agent_choices(user=request.user, logged_in_only=True),
            "can_manage": may(request.user, MANAGE_CONVERSATIONS),
            "readonly": True,
            "monitor_strings": {
                **_floor_strings(),
                "statuses": {status.value: str(status.label) for status in MessageStatus},
                "error_texts": system_texts_without_parameters(),
            },
        },
    )


@login_required
@require_GET
def monitor_messages(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline rows after ``?after=<message id>`` (read-only, no actions)."""
    _require(request, MONITOR)
    conversation = _monitored(request, pk)
    after = request.GET.get("after", "0")
    rows = selectors.timeline_messages(
        conversation=conversation, after_id=int(after) if after.isdigit() else 0
    )
    return render(request, "conversations/_messages.html", {"messages": rows, "readonly": True})


# --- Actions -------------------------------------------------------------------------------------


def _agent_from(request: HttpRequest, field: str = "agent"):
    raw = request.POST.get(field, "")
    agent = get_user_model().objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
    if agent is None:
        raise ValidationError(gettext("Choose an agent."), field=field)
    return agent


def _user_or_404(pk: int):
    agent = get_user_model().objects.filter(pk=pk).first()
    if agent is None:
        raise NotFound(gettext("Agent not found."))
    return agent


@supervisor_action(FORCE_AGENT_STATE)
def agent_state_force(request: HttpRequest, pk: int) -> HttpResponse:
    state, _, reason = request.POST.get("state", "").partition("|")
    profile = services.supervisor_agent_state_force(
        supervisor=request.user,
        agent=_user_or_404(pk),
        state=state,
        reason=request.POST.get("reason", reason)[:120],
    )
    return _done(
        request,
        gettext("%(agent)s is now %(state)s.")
        % {"agent": profile.name, "state": profile.get_state_display()},
        state=profile.state,
        reason=profile.not_ready_reason,
    )


@supervisor_action(FORCE_AGENT_STATE)
def agent_log_out(request: HttpRequest, pk: int) -> HttpResponse:
    profile = services.supervisor_agent_log_out(supervisor=request.user, agent=_user_or_404(pk))
    return _done(
        request,
        gettext("%(agent)s is logged out.") % {"agent": profile.name},
        state=profile.state,
    )


@supervisor_action(ASSIGN)
def interaction_assign(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = Interaction.objects.filter(pk=pk).first()
    if interaction is None:
        raise NotFound(gettext("Interaction not found."))
    offer = services.interaction_assign(
        supervisor=request.user, interaction=interaction, agent=_agent_from(request)
    )
    text = (
        gettext("Assigned: the conversation is theirs.")
        if offer.state == "accepted"
        else gettext("Assigned: it is offered to the agent.")
    )
    return _done(request, text, offer_id=offer.pk, offer_state=offer.state)


@supervisor_action(MANAGE_CONVERSATIONS)
def conversation_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _monitored_for_action(request, pk)
    kind, _, raw_id = request.POST.get("target", "").partition(":")
    if not raw_id.isdigit() or kind not in ("service", "agent"):
        raise ValidationError(
            gettext("Choose a service or an agent to transfer to."), field="target"
        )
    if kind == "service":
        service = Service.objects.filter(pk=int(raw_id)).first()
        if service is None:
            raise ValidationError(gettext("Unknown service."), field="target")
        services.supervisor_transfer(
            supervisor=request.user, conversation=conversation, service=service
        )
    else:
        agent = get_user_model().objects.filter(pk=int(raw_id)).first()
        if agent is None:
            raise ValidationError(gettext("Unknown agent."), field="target")
        services.supervisor_transfer(
            supervisor=request.user, conversation=conversation, agent=agent
        )
    return _done(request, gettext("Transferred."))


@supervisor_action(MANAGE_CONVERSATIONS)
def conversation_close(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = services.supervisor_conversation_close(
        supervisor=request.user, conversation=_monitored_for_action(request, pk)
    )
    return _done(request, gettext("Closed."), status=conversation.status)


@supervisor_action(MONITOR)
def conversation_whisper(request: HttpRequest, pk: int) -> HttpResponse:
    message = services.conversation_whisper(
        supervisor=request.user,
        conversation=_monitored_for_action(request, pk),
        body=request.POST.get("body", ""),
    )
    return _done(request, gettext("Whispered to the agent."), message_id=message.pk)


@supervisor_action(MONITOR)
def conversation_barge(request: HttpRequest, pk: int) -> HttpResponse:
    message = services.conversation_barge(
        supervisor=request.user,
        conversation=_monitored_for_action(request, pk),
        body=request.POST.get("body", ""),
        channel=request.POST.get("channel") or None,
        client_token=request.POST.get("client_token", "")[:64],
    )
    return _done(request, gettext("Sent to the customer."), message_id=message.pk)


def _monitored_for_action(request: HttpRequest, pk: int):
    """The conversation (any the user may see; the service checks the supervisor's scope)."""
    return selectors.conversation_get_for_agent(user=request.user, pk=pk)
