"""What the email channel does when something happens to other channels' interactions (the
lifecycle port): a chat that ends sends the transcripts its customer asked for."""

from conversations.ports import Lifecycle, LifecycleEvent

from ..models import ChatTranscriptRequest
from .services import chat_transcript_email


def transcripts_on_chat_end(event: LifecycleEvent) -> None:
    """The chat interaction ended: its pending transcript requests are written to the email
    outbox, in the same transaction as the end."""
    if event.kind != Lifecycle.ENDED or event.interaction is None:
        return
    pending = ChatTranscriptRequest.objects.filter(
        session__interaction_id=event.interaction.pk,
        status=ChatTranscriptRequest.Status.PENDING,
    ).values_list("id", flat=True)
    for request_id in list(pending):
        chat_transcript_email(request_id=request_id)
