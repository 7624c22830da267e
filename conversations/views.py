"""Agent desktop pages: thin adapters over selectors and services."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from contactcenter.exceptions import ValidationError
from contactcenter.http import domain_errors_as_json
from contactcenter.realtime import latest_event_id

from . import selectors, services
from .models import AgentState, Disposition, MessageStatus, NotReadyReason, Service
from .ports import sender_addresses
from .stored_text import stored_text_fixed_translations


def _list_context(request: HttpRequest) -> dict:
    return {
        "conversations": selectors.active_conversations(user=request.user),
        "offers": selectors.pending_offers(user=request.user),
        "reply_threshold_seconds": settings.AGENT_REPLY_THRESHOLD_SECONDS,
    }


def _desktop_context(request: HttpRequest) -> dict:
    reasons = list(NotReadyReason.objects.filter(active=True))
    return {
        # Read before the data: anything committed after this is replayed over the websocket.
        "last_event_id": latest_event_id(),
        **_list_context(request),
        "profile": selectors.agent_profile_for(user=request.user),
        "agent_states": [AgentState.READY, AgentState.NOT_READY],
        "not_ready_reasons": reasons,
        "reason_names": {reason.name for reason in reasons},
        "state_labels": {state.value: str(state.label) for state in AgentState},
        "desktop_strings": _desktop_strings(),
    }


def _desktop_strings() -> dict:
    """The texts desktop.js shows, in the agent's language (the page carries them as JSON)."""
    return {
        "error": gettext("Error %(status)s"),
        "network_error": gettext("The server could not be reached. Try again."),
        "sms_counter": gettext("%(length)s characters · %(encoding)s · %(segments)s SMS"),
        "countdown": gettext("%(seconds)s s"),
        "statuses": {status.value: str(status.label) for status in MessageStatus},
        "stored_texts": stored_text_fixed_translations(),
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
        timeline=selectors.timeline_messages(conversation=conversation),
        interactions=list(conversation.interactions.all()),
        transfer=selectors.transfer_targets(user=request.user),
        participants=list(
            conversation.participants.filter(left_at__isnull=True).select_related(
                "agent__agent_profile"
            )
        ),
        composer_targets=selectors.composer_targets(conversation=conversation),
        sender_numbers=sender_addresses(channel="sms", service_id=conversation.service_id),
        canned_responses=selectors.canned_responses_for(
            conversation=conversation, user=request.user
        ),
        dispositions=list(conversation.service.dispositions.filter(active=True)),
    )
    return render(request, "conversations/desktop.html", context)


@login_required
@require_GET
def conversation_list_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "conversations/_conversation_list.html", _list_context(request))


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
        to_address=request.POST.get("to", ""),
        from_address=request.POST.get("from", ""),
    )
    return JsonResponse({"message_id": message.pk, "status": message.status}, status=201)


@login_required
@require_POST
@domain_errors_as_json
def conversation_end(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    conversation = services.conversation_end(conversation=conversation, user=request.user)
    return JsonResponse({"conversation_id": conversation.pk, "status": conversation.status})


@login_required
@require_POST
@domain_errors_as_json
def conversation_wrap_up(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    raw = request.POST.get("disposition", "")
    disposition = None
    if raw:
        disposition = Disposition.objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
        if disposition is None:
            raise ValidationError(gettext("Unknown disposition."), field="disposition")
    conversation = services.conversation_wrap_up(
        conversation=conversation,
        user=request.user,
        disposition=disposition,
        notes=request.POST.get("notes", "")[:10_000],
    )
    return JsonResponse({"conversation_id": conversation.pk, "status": conversation.status})


@login_required
@require_POST
@domain_errors_as_json
def conversation_note(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    message = services.note_add(
        conversation=conversation, user=request.user, body=request.POST.get("body", "")
    )
    return JsonResponse({"message_id": message.pk}, status=201)


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


@login_required
@require_POST
@domain_errors_as_json
def offer_accept(request: HttpRequest, pk: int) -> HttpResponse:
    offer = services.offer_accept(offer_id=pk, user=request.user)
    return JsonResponse(
        {
            "offer_id": offer.pk,
            "state": offer.state,
            "conversation_url": reverse(
                "conversation-detail", args=[offer.interaction.conversation_id]
            ),
        }
    )


@login_required
@require_POST
@domain_errors_as_json
def offer_reject(request: HttpRequest, pk: int) -> HttpResponse:
    offer = services.offer_reject(offer_id=pk, user=request.user)
    return JsonResponse({"offer_id": offer.pk, "state": offer.state})


@login_required
@require_POST
@domain_errors_as_json
def conversation_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    target = request.POST.get("target", "")
    kind, _, raw_id = target.partition(":")
    if not raw_id.isdigit() or kind not in ("service", "agent"):
        raise ValidationError(
            gettext("Choose a service or an agent to transfer to."), field="target"
        )
    if kind == "service":
        service = Service.objects.filter(pk=int(raw_id)).first()
        if service is None:
            raise ValidationError(gettext("Unknown service."), field="target")
        services.transfer_to_service(conversation=conversation, user=request.user, service=service)
    else:
        agent = get_user_model().objects.filter(pk=int(raw_id)).first()
        if agent is None:
            raise ValidationError(gettext("Unknown agent."), field="target")
        services.transfer_to_agent(conversation=conversation, user=request.user, target=agent)
    return JsonResponse({"conversation_id": conversation.pk, "transferred": True})


@login_required
@require_POST
@domain_errors_as_json
def conversation_conference(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    raw = request.POST.get("agent", "")
    target = get_user_model().objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
    if target is None:
        raise ValidationError(gettext("Choose an agent to invite."), field="agent")
    offer = services.conference_invite(conversation=conversation, user=request.user, target=target)
    return JsonResponse({"offer_id": offer.pk, "state": offer.state}, status=201)


@login_required
@require_POST
@domain_errors_as_json
def conversation_leave(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    conversation = services.conversation_leave(conversation=conversation, user=request.user)
    return JsonResponse({"conversation_id": conversation.pk, "agent_id": conversation.agent_id})


@login_required
@require_POST
@domain_errors_as_json
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.message_get_for_agent(user=request.user, pk=pk)
    retried = services.message_retry(message=message, user=request.user)
    return JsonResponse({"message_id": retried.pk, "status": retried.status}, status=201)


class AgentLogoutView(LogoutView):
    """Log out, and stop routing to the agent first (Not Ready "logging out")."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated:
            services.agent_logging_out(user=request.user)
        return super().post(request, *args, **kwargs)
