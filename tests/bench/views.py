"""The bare baselines, served by the same processes as the project's paths."""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.views.decorators.csrf import csrf_exempt

from .tasks import noop

BACKLOG_QUEUE = "maintenance"

BARE_GROUP = "bench-bare"
_TEMPLATE = engines["django"].from_string(
    "<!doctype html><html><head><title>{{ title }}</title></head>"
    "<body><h1>{{ title }}</h1><p>{{ user.get_username }}</p></body></html>"
)


@csrf_exempt
def trivial(request: HttpRequest) -> HttpResponse:
    """What the ingest webhook is measured against: the request and response only."""
    return HttpResponse("<Response/>", content_type="text/xml")


def template(request: HttpRequest) -> HttpResponse:
    """What the desktop pages are measured against: one small template, no query of its own."""
    return HttpResponse(_TEMPLATE.render({"title": "bench"}, request))


@csrf_exempt
def ring(request: HttpRequest) -> HttpResponse:
    """One ``group_send`` to the bare consumers, carrying the client's tag."""
    async_to_sync(get_channel_layer().group_send)(
        BARE_GROUP, {"type": "bench.ring", "tag": request.POST.get("tag", ""), "t": time.time()}
    )
    return HttpResponse("ok")


@csrf_exempt
def enqueue_noop(request: HttpRequest) -> HttpResponse:
    """What an agent's reply is measured against: one no-op task enqueued."""
    noop.delay(request.POST.get("run", ""))
    return HttpResponse("ok")


@csrf_exempt
def backlog(request: HttpRequest) -> HttpResponse:
    """Queue ``count`` real maintenance jobs (the close-out sweep for expired wrap-ups) on the
    outbound worker's other queue, as a worker back from an outage finds them."""
    from celery import current_app

    from conversations.tasks import expire_wrap_ups

    count = min(int(request.POST.get("count", "0")), 5000)
    with current_app.producer_or_acquire() as producer:
        for _ in range(count):
            expire_wrap_ups.apply_async(producer=producer, queue=BACKLOG_QUEUE)
    return HttpResponse(str(count))


@csrf_exempt
def backlog_purge(request: HttpRequest) -> HttpResponse:
    """Drop what is left of the backlog (between rounds); answers how many jobs were left."""
    from celery import current_app

    with current_app.connection_for_write() as connection:
        left = connection.default_channel.queue_purge(BACKLOG_QUEUE) or 0
    return HttpResponse(str(left))
