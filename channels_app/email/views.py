"""Pages of the email channel, all permission-scoped through the conversation selectors: the
composer's send endpoint, attachment downloads, and an email's formatted (HTML) version shown
inert in a sandboxed frame."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from contactcenter.http import domain_errors_as_json
from conversations.selectors import conversation_get_for_agent, message_get_for_agent

from ..models import EmailAttachment, EmailDetails
from .sanitize import email_html_for_display
from .services import email_send

#: Shown in the browser; anything else downloads (SVG and HTML can carry scripts).
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
MAX_INLINE_IMAGES_BYTES = 5 * 1024 * 1024


@login_required
@require_POST
@domain_errors_as_json
def email_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = conversation_get_for_agent(user=request.user, pk=pk)
    ask_address = request.POST.get("email_new_address", "").strip()
    message = email_send(
        conversation=conversation,
        user=request.user,
        body=request.POST.get("body", ""),
        subject=request.POST.get("email_subject", ""),
        to_address="" if ask_address else request.POST.get("to", ""),
        new_address=ask_address,
        cc=request.POST.get("email_cc", ""),
        from_address=request.POST.get("email_from", ""),
        files=request.FILES.getlist("email_attachments"),
        client_token=request.POST.get("client_token", "")[:64],
    )
    return JsonResponse({"message_id": message.pk, "status": message.status}, status=201)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    """An email's file, to those who may see its conversation (others: 404)."""
    attachment = get_object_or_404(EmailAttachment, pk=pk)
    message_get_for_agent(user=request.user, pk=attachment.message_id)
    inline = attachment.content_type in INLINE_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _html_page(body: str) -> str:
    """A document around the sanitized fragment: our own fixed markup, nothing of the email's
    outside ``body`` (which ``email_html_for_display`` produced with nh3)."""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">'
        "<style>body{font-family:system-ui,sans-serif;font-size:14px;margin:8px;"
        "overflow-wrap:anywhere}img{max-width:100%;height:auto}"
        "blockquote{border-left:3px solid #ccd;margin:0 0 0 4px;padding-left:8px;color:#555}"
        "</style></head><body>" + body + "</body></html>"
    )


@xframe_options_sameorigin
@login_required
@require_GET
def email_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The formatted version of an email, inert: sanitized again here, then served with a
    policy that allows no script, no form, no frame, no request anywhere -- remote images only
    when the agent asked (``?images=1``) -- and a sandbox, inside a sandboxed frame."""
    message = message_get_for_agent(user=request.user, pk=pk)
    details = EmailDetails.objects.filter(message=message).first()
    if details is None or not details.html:
        return HttpResponse(gettext("This email has no formatted version."), status=404)
    remote = request.GET.get("images") == "1"
    inline_images = {}
    budget = MAX_INLINE_IMAGES_BYTES
    for attachment in EmailAttachment.objects.filter(
        message=message, content_type__in=INLINE_TYPES
    ).exclude(content_id=""):
        if attachment.size > budget:
            continue
        budget -= attachment.size
        with attachment.file.open("rb") as handle:
            inline_images[attachment.content_id] = (attachment.content_type, handle.read())
    body = email_html_for_display(details.html, remote_images=remote, inline_images=inline_images)
    response = HttpResponse(_html_page(body), content_type="text/html; charset=utf-8")
    images = "data: https: http:" if remote else "data:"
    response["Content-Security-Policy"] = (
        f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
        "sandbox allow-popups allow-popups-to-escape-sandbox"
    )
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
