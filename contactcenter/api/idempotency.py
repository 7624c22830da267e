"""``Idempotency-Key`` for API POSTs: a retried request gets the first one's response instead of
doing the work twice; the same key with another request is refused (422).

The key row is written in the same transaction as the work, so a request that fails stores
nothing and may be retried; a concurrent duplicate waits on the unique key and then replays the
committed response. Keys are per user (every token of a user shares them) and kept
``IDEMPOTENCY_KEY_TTL_HOURS``."""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from ..exceptions import IdempotencyKeyReused, ValidationError
from ..models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces

PARAMETER = OpenApiParameter(
    HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (printable ASCII, at most 255 characters), e.g. a UUID. Repeating the "
        "request with the same key returns the first response (header `Idempotent-Replayed: "
        "true`) and does nothing again; the same key with another body is a 422."
    ),
)


def _fingerprint(request: Request) -> str:
    data = request.data
    if hasattr(data, "lists"):
        data = dict(data.lists())
    text = json.dumps(
        {"method": request.method, "path": request.get_full_path(), "data": data},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an API view's creating ``post`` (the schema then documents the header)."""

    @wraps(method)
    def wrapper(view, request: Request, *args: object, **kwargs: object) -> Response:
        key = request.headers.get(HEADER, "")
        if not key:
            return method(view, request, *args, **kwargs)
        if not KEY_PATTERN.match(key):
            raise ValidationError(
                gettext(
                    "%(header)s must be printable ASCII without spaces, at most %(limit)s "
                    "characters."
                )
                % {"header": HEADER, "limit": MAX_KEY_LENGTH},
                field=HEADER,
            )
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=request.user, key=key, fingerprint=fingerprint
                    )
            except IntegrityError:
                record = IdempotencyKey.objects.get(user=request.user, key=key)
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused(
                        gettext("This %(header)s was already used for a different request.")
                        % {"header": HEADER},
                        field=HEADER,
                    ) from None
                replay = Response(record.response, status=record.status_code)
                replay[REPLAYED_HEADER] = "true"
                return replay
            response = method(view, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                record.status_code = response.status_code
                record.response = response.data
                record.save(update_fields=["status_code", "response"])
            else:
                transaction.set_rollback(True)  # nothing stored: the client may retry
            return response

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper


def is_idempotent(handler: object) -> bool:
    return bool(getattr(handler, "idempotent", False))


def prune_idempotency_keys(*, older_than_hours: int | None = None) -> int:
    hours = older_than_hours or settings.IDEMPOTENCY_KEY_TTL_HOURS
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
