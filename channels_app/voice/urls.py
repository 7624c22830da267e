from django.urls import path

from . import cti_api, simulator_views, twilio_views, views

urlpatterns = [
    path("voice/conversations/<int:pk>/call/", views.call_start, name="voice-call-start"),
    path("voice/conversations/<int:pk>/dial/", views.phone_call_start, name="voice-phone-start"),
    path("voice/contacts/<int:pk>/dial/", views.contact_call, name="voice-contact-dial"),
    path("voice/calls/<int:pk>/answer/", views.call_answer, name="voice-call-answer"),
    path("voice/calls/<int:pk>/hold/", views.call_hold, name="voice-call-hold"),
    path("voice/calls/<int:pk>/resume/", views.call_resume, name="voice-call-resume"),
    path("voice/calls/<int:pk>/dtmf/", views.call_dtmf, name="voice-call-dtmf"),
    path("voice/calls/<int:pk>/mute/", views.call_mute, name="voice-call-mute"),
    path("voice/calls/<int:pk>/unmute/", views.call_unmute, name="voice-call-unmute"),
    path("voice/calls/<int:pk>/hang-up/", views.call_hang_up, name="voice-call-hang-up"),
    path("voice/calls/<int:pk>/signal/", views.call_signal, name="voice-call-signal"),
    path("voice/calls/<int:pk>/consult/", views.call_consult, name="voice-call-consult"),
    path(
        "voice/calls/<int:pk>/consult/cancel/",
        views.call_consult_cancel,
        name="voice-call-consult-cancel",
    ),
    path(
        "voice/calls/<int:pk>/consult/transfer/",
        views.call_consult_transfer,
        name="voice-call-consult-transfer",
    ),
    path("voice/calls/<int:pk>/merge/", views.call_merge, name="voice-call-merge"),
    path("voice/calls/<int:pk>/recording/", views.recording_chunk, name="voice-recording-chunk"),
    path("voice/recordings/<int:pk>/", views.recording_play, name="voice-recording"),
    path("channels/phone/", simulator_views.phone_simulator, name="phone-simulator"),
    path("webhooks/twilio/voice/", twilio_views.voice_inbound, name="twilio-voice-inbound"),
    path("webhooks/twilio/voice/wait/", twilio_views.voice_wait, name="twilio-voice-wait"),
    path(
        "webhooks/twilio/voice/queue-left/",
        twilio_views.voice_queue_left,
        name="twilio-voice-queue-left",
    ),
    path("webhooks/twilio/voice/status/", twilio_views.voice_status, name="twilio-voice-status"),
    path("webhooks/twilio/voice/agent/", twilio_views.voice_agent_leg, name="twilio-voice-agent"),
    path(
        "webhooks/twilio/voice/conference/",
        twilio_views.voice_conference,
        name="twilio-voice-conference",
    ),
    path(
        "webhooks/twilio/voice/recording/",
        twilio_views.voice_recording,
        name="twilio-voice-recording",
    ),
    path(
        "webhooks/twilio/voice/voicemail/",
        twilio_views.voice_voicemail,
        name="twilio-voice-voicemail",
    ),
    path(
        "webhooks/twilio/voice/voicemail/done/",
        twilio_views.voice_voicemail_done,
        name="twilio-voice-voicemail-done",
    ),
    path("api/v1/cti/events/", cti_api.CtiEventApi.as_view(), name="cti-events"),
    path("api/v1/cti/calls/<str:call_id>/", cti_api.CtiCallApi.as_view(), name="cti-call"),
]
