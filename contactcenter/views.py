"""Health endpoints for monitoring and load balancers (no login; no secrets in the answers)."""

from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, Redis, channel layer, a live worker per queue and the beat: 200 or 503."""
    report = health.health_report()
    return JsonResponse(report.as_dict(), status=200 if report.healthy else 503)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Whether this process can serve requests now (database and channel layer): 200 or 503."""
    report = health.readiness_report()
    return JsonResponse(report.as_dict(), status=200 if report.healthy else 503)


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for ``/favicon.ico`` where a page names no icon (JSON, files): the same
    icon as the pages', instead of a 404 in the console."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
