from django.urls import path

from . import cti_api, views

urlpatterns = [
    path("voice/conversations/<int:pk>/call/", views.call_start, name="voice-call-start"),
    path("voice/calls/<int:pk>/answer/", views.call_answer, name="voice-call-answer"),
    path("voice/calls/<int:pk>/hold/", views.call_hold, name="voice-call-hold"),
    path("voice/calls/<int:pk>/resume/", views.call_resume, name="voice-call-resume"),
    path("voice/calls/<int:pk>/dtmf/", views.call_dtmf, name="voice-call-dtmf"),
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
    path("api/v1/cti/events/", cti_api.CtiEventApi.as_view(), name="cti-events"),
    path("api/v1/cti/calls/<str:call_id>/", cti_api.CtiCallApi.as_view(), name="cti-call"),
]
