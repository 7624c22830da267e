from django.urls import path

from . import views
from .sms import webhooks
from .webchat import views as webchat_views

urlpatterns = [
    path("webhooks/twilio/sms/", webhooks.sms_inbound, name="twilio-sms-inbound"),
    path("webhooks/twilio/sms/status/", webhooks.sms_status, name="twilio-sms-status"),
    path("channels/outbox/", views.outbox, name="channels-outbox"),
    path(
        "channels/conversations/<int:pk>/panel/",
        webchat_views.conversation_panel,
        name="channels-conversation-panel",
    ),
    path("chat/<slug:slug>/", webchat_views.chat_page, name="webchat-page"),
    path("chat/<slug:slug>/demo/", webchat_views.demo_page, name="webchat-demo"),
]
