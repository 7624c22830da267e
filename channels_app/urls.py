from django.urls import path

from . import views
from .sms import webhooks

urlpatterns = [
    path("webhooks/twilio/sms/", webhooks.sms_inbound, name="twilio-sms-inbound"),
    path("webhooks/twilio/sms/status/", webhooks.sms_status, name="twilio-sms-status"),
    path("channels/outbox/", views.outbox, name="channels-outbox"),
]
