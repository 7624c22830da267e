from django.urls import include, path

from . import views
from .email import views as email_views
from .email import webhooks as email_webhooks
from .sms import webhooks
from .webchat import views as webchat_views

urlpatterns = [
    path("webhooks/twilio/sms/", webhooks.sms_inbound, name="twilio-sms-inbound"),
    path("webhooks/twilio/sms/status/", webhooks.sms_status, name="twilio-sms-status"),
    path("channels/outbox/", views.outbox, name="channels-outbox"),
    path("webhooks/email/inbound/", email_webhooks.email_inbound, name="email-inbound"),
    path(
        "channels/conversations/<int:pk>/email/",
        email_views.email_send_view,
        name="email-send",
    ),
    path(
        "channels/email/attachments/<int:pk>/",
        email_views.attachment_download,
        name="email-attachment",
    ),
    path("channels/email/messages/<int:pk>/html/", email_views.email_html, name="email-html"),
    path(
        "channels/conversations/<int:pk>/panel/",
        webchat_views.conversation_panel,
        name="channels-conversation-panel",
    ),
    path("chat/<slug:slug>/", webchat_views.chat_page, name="webchat-page"),
    path("chat/<slug:slug>/demo/", webchat_views.demo_page, name="webchat-demo"),
    path("", include("channels_app.api_channel.urls")),
    path("", include("channels_app.voice.urls")),
]
