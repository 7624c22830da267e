"""The project's URLs plus the bare baselines under ``/bench/`` (bench processes only)."""

from django.urls import path

from contactcenter.urls import handler404, handler500
from contactcenter.urls import urlpatterns as project_urlpatterns

from . import views

__all__ = ["handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("bench/trivial/", views.trivial),
    path("bench/template/", views.template),
    path("bench/ring/", views.ring),
    path("bench/noop/", views.enqueue_noop),
    path("bench/backlog/", views.backlog),
    path("bench/backlog/purge/", views.backlog_purge),
    *project_urlpatterns,
]
