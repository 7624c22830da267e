"""Jobs the writers start after commit, named (tasks import services, never the reverse)."""

from contactcenter.jobs import enqueue_on_commit

ROUTE_SERVICE = "conversations.tasks.route_service"
EXPIRE_OFFER = "conversations.tasks.expire_offer"
DELIVER_MESSAGE = "conversations.tasks.deliver_message"


def route_service_on_commit(service_id: int) -> None:
    """Route the service's queue once the caller's transaction commits."""
    enqueue_on_commit(ROUTE_SERVICE, service_id)


def expire_offer_on_commit(offer_id: int, *, after_seconds: float) -> None:
    enqueue_on_commit(EXPIRE_OFFER, offer_id, countdown=after_seconds)


def deliver_message_on_commit(message_id: int) -> None:
    enqueue_on_commit(DELIVER_MESSAGE, message_id)
