from celery import shared_task

from . import realtime


@shared_task(ignore_result=True)
def prune_events() -> int:
    return realtime.prune_events()
