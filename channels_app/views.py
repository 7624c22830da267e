"""Pages of the channels app: the local SMS outbox, with a form to simulate a customer's SMS."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import DomainError
from conversations.models import Channel

from .models import EntryPoint, LocalOutboxItem
from .services import InboundSms, sms_receive

OUTBOX_PAGE = 100


class SimulatedSmsForm(forms.Form):
    from_number = forms.CharField(label=_("Customer's phone"), max_length=40)
    entry_point = forms.ModelChoiceField(
        label=_("To entry point"), queryset=EntryPoint.objects.filter(channel=Channel.SMS)
    )
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 2}))


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    form = SimulatedSmsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
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
    return render(request, "channels_app/outbox.html", {"form": form, "items": items})
