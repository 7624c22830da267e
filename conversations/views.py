"""Agent desktop pages: thin adapters over selectors and services."""

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from contactcenter.exceptions import NotFound, ValidationError
from contactcenter.http import domain_errors_as_json
from contactcenter.realtime import page_cursor
from contactcenter.ws import revoke_session_sockets
from contacts.services import contact_update

from . import selectors, services
from .context_panel import context_panel
from .context_processors import state_widget
from .models import (
    Conversation,
    Disposition,
    Interaction,
    MessageStatus,
    Service,
)
from .ports import sender_addresses
from .system_lines import system_texts_without_parameters

CONTACT_INLINE_FIELDS = ("first_name", "last_name", "company")


def _list_context(request: HttpRequest) -> dict:
    return {
        "conversations": selectors.active_conversations(user=request.user),
        "offers": selectors.pending_offers(user=request.user),
        "reply_threshold_seconds": settings.AGENT_REPLY_THRESHOLD_SECONDS,
    }


def _queues_context(request: HttpRequest) -> dict:
    return {"queues": selectors.work_queues(user=request.user)}


def _desktop_context(request: HttpRequest) -> dict:
    # Read before the data: anything committed after this is replayed over the websocket.
    cursor = page_cursor()
    # The desktop makes its user an agent (a profile, Not Ready), shown by the top bar's state
    # widget, built here from what the page reads anyway (instead of the context processor's).
    profile = selectors.agent_profile_for(user=request.user)
    return {
        "event_cursor": cursor,
        "state_widget": state_widget(profile=profile, event_cursor=cursor),
        **_list_context(request),
        **_queues_context(request),
        "desktop_strings": _desktop_strings(),
    }


def _desktop_strings() -> dict:
    """The texts desktop.js shows, in the agent's language (the page carries them as JSON)."""
    return {
        "error": gettext("Error %(status)s"),
        "network_error": gettext("The server could not be reached. Try again."),
        "sms_counter": gettext("%(length)s characters · %(encoding)s · %(segments)s SMS"),
        "countdown": gettext("%(seconds)s s"),
        "call_from": gettext("Phone call from %(number)s"),
        "statuses": {status.value: str(status.label) for status in MessageStatus},
        "error_texts": system_texts_without_parameters(),
    }


@login_required
@require_GET
def desktop(request: HttpRequest) -> HttpResponse:
    return render(request, "conversations/desktop.html", _desktop_context(request))


@login_required
@require_GET
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    except NotFound:
        if not selectors.was_handled_by(user=request.user, conversation_id=pk):
            raise
        # It was this agent's (a reload after a transfer, a conference they left): say so.
        messages.info(
            request,
            gettext("Conversation %(number)s is no longer yours: it was transferred or closed.")
            % {"number": Conversation(pk=pk).number},
        )
        return redirect("desktop")
    context = _desktop_context(request)
    interactions = list(conversation.interactions.all())
    context.update(
        conversation=conversation,
        timeline=selectors.timeline_messages(conversation=conversation),
        interactions=interactions,
        # The context panel is fetched by the page right after it loads (its own request,
        # conversation_context_fragment): the conversation shows first, its context next.
        missing_fields=[
            definition.label for definition in services.required_fields_missing(conversation)
        ]
        if conversation.status == Conversation.Status.WRAP_UP
        else [],
        transfer=selectors.transfer_targets(user=request.user),
        people=selectors.conversation_people(conversation=conversation, user=request.user),
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
def conversation_context_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The context panel alone: the desktop re-reads it when the contact or the conversation
    changes (in another tab, by another agent, by an integration)."""
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    interactions = list(conversation.interactions.all())
    return render(
        request,
        "conversations/_context_panel.html",
        {
            "conversation": conversation,
            "interactions": interactions,
            "panel": context_panel(
                conversation=conversation, interactions=interactions, user=request.user
            ),
            "canned_responses": selectors.canned_responses_for(
                conversation=conversation, user=request.user
            ),
        },
    )


@login_required
@require_POST
@domain_errors_as_json
def conversation_contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Inline edit of the conversation's contact from the context panel (name, company)."""
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    data = {name: request.POST[name] for name in CONTACT_INLINE_FIELDS if name in request.POST}
    contact = contact_update(contact=conversation.contact, user=request.user, data=data)
    return JsonResponse({"contact_id": contact.pk, "name": contact.display_name})


@login_required
@require_POST
@domain_errors_as_json
def conversation_fields(request: HttpRequest, pk: int) -> HttpResponse:
    """The agent saves the service's fields of this conversation (the panel's Details tab)."""
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    prefix = "field-"
    values = {
        name[len(prefix) :]: value
        for name, value in request.POST.items()
        if name.startswith(prefix)
    }
    conversation = services.conversation_fields_fill(
        conversation=conversation, user=request.user, values=values
    )
    return JsonResponse({"custom_fields": conversation.custom_fields})


@login_required
@require_GET
def conversation_list_fragment(request: HttpRequest) -> HttpResponse:
    """The whole list, or with ``?conversation=<id>`` only that entry (an empty answer when it
    left the list)."""
    only = request.GET.get("conversation", "")
    if not only:
        return render(request, "conversations/_conversation_list.html", _list_context(request))
    if not only.isdigit():
        return HttpResponse(gettext("Give a conversation id."), status=400)
    items = selectors.active_conversations(user=request.user, pk=int(only))
    if not items:
        return HttpResponse("")
    return render(
        request,
        "conversations/_conversation_item.html",
        {"item": items[0], "reply_threshold_seconds": settings.AGENT_REPLY_THRESHOLD_SECONDS},
    )


@login_required
@require_GET
def work_queues_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "conversations/_work_queues.html", _queues_context(request))


@login_required
@require_POST
@domain_errors_as_json
def interaction_pull(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a waiting interaction from My queue or a service queue (the service checks that the
    agent works that service and may be offered it)."""
    interaction = Interaction.objects.filter(pk=pk).first()
    if interaction is None:
        raise NotFound(gettext("Interaction not found."))
    offer = services.interaction_pull(interaction=interaction, user=request.user)
    return JsonResponse(
        {
            "offer_id": offer.pk,
            "state": offer.state,
            "conversation_url": reverse("conversation-detail", args=[interaction.conversation_id]),
        }
    )


@login_required
@require_POST
@domain_errors_as_json
def case_pend(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    conversation = services.case_pend(
        conversation=conversation,
        user=request.user,
        reason=request.POST.get("reason", ""),
        follow_up_at=_local_datetime(request.POST.get("follow_up_at", ""), field="follow_up_at"),
    )
    return JsonResponse({"conversation_id": conversation.pk, "case_state": conversation.case_state})


@login_required
@require_POST
@domain_errors_as_json
def case_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    conversation = services.case_resolve(
        conversation=conversation,
        user=request.user,
        disposition=_disposition(request.POST.get("disposition", "")),
        notes=request.POST.get("notes", "")[:10_000],
    )
    return JsonResponse({"conversation_id": conversation.pk, "case_state": conversation.case_state})


def _local_datetime(raw: str, *, field: str) -> datetime | None:
    """A ``datetime-local`` value, in the agent's time zone."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError(gettext("Enter a date and time."), field=field) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return value


def _disposition(raw: str) -> Disposition | None:
    if not raw:
        return None
    disposition = Disposition.objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
    if disposition is None:
        raise ValidationError(gettext("Unknown disposition."), field="disposition")
    return disposition


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
    conversation = services.conversation_wrap_up(
        conversation=conversation,
        user=request.user,
        disposition=_disposition(request.POST.get("disposition", "")),
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
    return JsonResponse(
        {
            "state": profile.state,
            "reason": profile.not_ready_reason,
            "requested_state": profile.requested_state,
            "requested_reason": profile.requested_reason,
        }
    )


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


class AgentLoginView(LoginView):
    """Log in: an agent who was logged out starts in the state their profile asks for (Ready on
    login) or Not Ready with the configured default reason."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.agent_logged_in(user=form.get_user())
        return response


class AgentLogoutView(LogoutView):
    """Log out: the agent is Logged out (no more offers) and the sockets of this session close."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated:
            services.agent_logging_out(user=request.user)
            revoke_session_sockets(request.session.session_key)
        return super().post(request, *args, **kwargs)
