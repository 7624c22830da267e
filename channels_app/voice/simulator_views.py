"""The phone simulator page (``/channels/phone/``): the people's side of phone calls without
Twilio, in demo mode (``make run``) and for supervisors only, like the local outbox. A caller
dials a voice number (and hears the queue, or leaves a voicemail after hours), an agent's phone
is answered, a customer answers or hangs up. Each button calls what Twilio's webhook or
callback would, so the desktop shows the calls exactly as with Twilio."""

import secrets

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import DomainError
from conversations.models import Channel

from ..models import CallCommand, EntryPoint, VoiceCall
from ..views import demo_tools_allowed
from . import phone, twiml, voicemail
from .simulator import conference_recorded

RECENT_CALLS = 20


class SimulatedCallForm(forms.Form):
    from_number = forms.CharField(label=_("Caller's phone"), max_length=40)
    entry_point = forms.ModelChoiceField(
        label=_("Dials"), queryset=EntryPoint.objects.filter(channel=Channel.VOICE, active=True)
    )


def _sid() -> str:
    return "CA" + secrets.token_hex(16)


def _act(action: str, call: VoiceCall) -> str:
    """One move of a person on a call: what Twilio would report of it."""
    sid = call.provider_call_id
    if action == "agent-answers":
        phone.phone_agent_leg_report(
            call_id=call.pk, agent_id=call.interaction.agent_id or 0, status="answered"
        )
        return gettext("The agent answered their phone.")
    if action == "customer-answers":
        phone.phone_status_report(call_sid=sid, status="in-progress", call_id=call.pk)
        return gettext("The customer answered.")
    if action == "customer-declines":
        phone.phone_status_report(call_sid=sid, status="no-answer", call_id=call.pk)
        return gettext("The customer did not answer.")
    if action == "hang-up":
        call = phone.phone_status_report(call_sid=sid, status="completed", call_id=call.pk)
        if call is not None:
            conference_recorded(call)
        return gettext("The customer hung up.")
    raise Http404("unknown action")


@login_required
def phone_simulator(request: HttpRequest) -> HttpResponse:
    if not demo_tools_allowed(request.user):
        raise Http404("demo tools are off")
    form = SimulatedCallForm(request.POST if request.POST.get("simulate") == "call" else None)
    heard = ""
    if request.method == "POST" and request.POST.get("simulate") == "call" and form.is_valid():
        entry_point = form.cleaned_data["entry_point"]
        try:
            route = phone.phone_call_receive(
                incoming=phone.IncomingCall(
                    call_sid=_sid(),
                    from_number=form.cleaned_data["from_number"],
                    to_number=entry_point.address,
                )
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if route.kind == "voicemail":
                return _voicemail_form(request, form, route.service)
            messages.success(request, gettext("Call placed: the caller waits in the queue."))
            return redirect("phone-simulator")
    elif request.method == "POST" and request.POST.get("simulate") == "voicemail":
        try:
            voicemail.voicemail_receive(
                recording=voicemail.VoicemailRecording(
                    call_sid=_sid(),
                    recording_sid="RE" + secrets.token_hex(16),
                    url="simulator:voicemail",
                    status="completed",
                    duration="12",
                    from_number=request.POST.get("from_number", ""),
                    to_number=request.POST.get("to_number", ""),
                )
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, gettext("Voicemail left: it waits in the service's queue."))
        return redirect("phone-simulator")
    elif request.method == "POST" and request.POST.get("call"):
        call = VoiceCall.objects.select_related("interaction").filter(
            pk=request.POST["call"], provider=phone.PROVIDER
        )
        call = call.first()
        if call is None:
            raise Http404("no such call")
        messages.success(request, _act(request.POST.get("action", ""), call))
        return redirect("phone-simulator")
    calls = list(
        VoiceCall.objects.filter(provider=phone.PROVIDER)
        .exclude(end_reason="voicemail")
        .select_related("interaction__conversation__contact", "interaction__agent__agent_profile")
        .order_by("-ringing_at", "-id")[:RECENT_CALLS]
    )
    commands = list(
        CallCommand.objects.filter(call__in=calls)
        .order_by("-id")
        .values("call_id", "action", "state", "error", "created_at")[:50]
    )
    return render(
        request,
        "channels_app/phone_simulator.html",
        {"form": form, "calls": calls, "commands": commands, "heard": heard},
    )


def _voicemail_form(request: HttpRequest, form: SimulatedCallForm, service) -> HttpResponse:
    """Closed: what the caller hears, and a button to leave the message."""
    data = form.cleaned_data
    return render(
        request,
        "channels_app/phone_simulator_voicemail.html",
        {
            "twiml": twiml.voicemail(service, data["from_number"], data["entry_point"].address),
            "service": service,
            "from_number": data["from_number"],
            "to_number": data["entry_point"].address,
        },
    )
