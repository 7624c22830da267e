"""Pages of the channels app: the local outbox (what the built-in SMS and email adapters
'sent'), with forms to play the customer: an SMS, or an email (possibly answering one of ours).

Demo tools: they exist only in demo mode (``DEMO_MODE``, set by ``make run``), and then only for
supervisors. Anyone else gets 404: the forms write inbound customer messages (opt-outs included)
and the list shows every agent's outbound SMS and email."""

import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import DomainError
from conversations.models import Channel

from .email.services import email_receive
from .email.simulate import customer_email, reply_subject_for
from .models import EntryPoint, LocalOutboxItem
from .services import InboundSms, sms_receive

OUTBOX_PAGE = 100


class SimulatedSmsForm(forms.Form):
    from_number = forms.CharField(label=_("Customer's phone"), max_length=40)
    entry_point = forms.ModelChoiceField(
        label=_("To entry point"), queryset=EntryPoint.objects.filter(channel=Channel.SMS)
    )
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 2}))


class SimulatedEmailForm(forms.Form):
    prefix = "email"

    from_address = forms.EmailField(label=_("Customer's email"), max_length=320)
    from_name = forms.CharField(label=_("Customer's name"), max_length=120, required=False)
    entry_point = forms.ModelChoiceField(
        label=_("To entry point"), queryset=EntryPoint.objects.filter(channel=Channel.EMAIL)
    )
    in_reply_to = forms.ModelChoiceField(
        label=_("In reply to"),
        queryset=LocalOutboxItem.objects.filter(channel=Channel.EMAIL),
        required=False,
        help_text=_("An email of the outbox the customer answers."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=500, required=False)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}))


def demo_tools_allowed(user) -> bool:
    return bool(settings.DEMO_MODE and user.is_authenticated and user.is_active and user.is_staff)


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    if not demo_tools_allowed(request.user):
        raise Http404("demo tools are off")
    is_email = request.method == "POST" and request.POST.get("simulate") == "email"
    form = SimulatedSmsForm(request.POST if request.method == "POST" and not is_email else None)
    email_form = SimulatedEmailForm(request.POST if is_email else None)
    if is_email and email_form.is_valid():
        data = email_form.cleaned_data
        answered = data["in_reply_to"]
        subject = data["subject"] or (reply_subject_for(answered.subject) if answered else "")
        raw = customer_email(
            from_address=data["from_address"],
            from_name=data["from_name"],
            to_address=data["entry_point"].address,
            subject=subject,
            body=data["body"],
            in_reply_to=answered.email_message_id if answered else "",
        )
        try:
            email_receive(raw=raw, entry_point=data["entry_point"])
        except DomainError as exc:
            email_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Inbound email simulated."))
            return redirect("channels-outbox")
    elif request.method == "POST" and not is_email and form.is_valid():
        try:
            sms_receive(
                sms=InboundSms(
                    message_sid=f"SIM{uuid.uuid4().hex}",
                    from_number=form.cleaned_data["from_number"],
                    to_number=form.cleaned_data["entry_point"].address,
                    body=form.cleaned_data["body"],
                )
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Inbound SMS simulated."))
            return redirect("channels-outbox")
    items = LocalOutboxItem.objects.all()[:OUTBOX_PAGE]
    return render(
        request,
        "channels_app/outbox.html",
        {"form": form, "email_form": email_form, "items": items},
    )
