"""``Idempotency-Key`` for API POSTs: a retried request gets the first one's response instead of
doing the work twice. The key row is written in the same transaction as the work, so a request
that fails stores nothing and may be retried; a concurrent duplicate waits on the unique key and
then replays the committed response."""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.exceptions import Conflict, ValidationError

from ..models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _fingerprint(request: Request) -> str:
    data = request.data
    if hasattr(data, "lists"):
        data = dict(data.lists())
    text = json.dumps(
        {"method": request.method, "path": request.path, "data": data},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an APIView's ``post``."""

    @wraps(method)
    def wrapper(view, request: Request, *args: object, **kwargs: object) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return method(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ValidationError(
                gettext("%(header)s must be at most %(limit)s characters.")
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
                    raise Conflict(
                        gettext("This %(header)s was already used for a different request.")
                        % {"header": HEADER},
                        field=HEADER,
                    ) from None
                replay = Response(record.response, status=record.status_code)
                replay["Idempotent-Replayed"] = "true"
                return replay
            response = method(view, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                record.status_code = response.status_code
                record.response = response.data
                record.save(update_fields=["status_code", "response"])
            else:
                transaction.set_rollback(True)  # nothing stored: the client may retry
            return response

    return wrapper


def prune_idempotency_keys(*, older_than_hours: int | None = None) -> int:
    hours = older_than_hours or getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", 24)
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
