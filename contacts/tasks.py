from celery import shared_task

from .api.idempotency import prune_idempotency_keys


@shared_task(ignore_result=True)
def prune_idempotency_keys_task() -> int:
    """Forget Idempotency-Keys older than ``IDEMPOTENCY_KEY_TTL_HOURS`` (default 24)."""
    return prune_idempotency_keys()
