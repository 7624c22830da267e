"""Conversation pieces of the contacts section: an activity's timeline (lazy, paginated) and
"move this conversation to another contact", as pages, an API endpoint and an admin action
(``move_to_contact``: add it to ``ConversationAdmin.actions`` to offer it)."""

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.fields import IdField
from contactcenter.api.idempotency import idempotent
from contactcenter.exceptions import Conflict, DomainError, PermissionDenied, ValidationError
from contacts import selectors as contact_selectors
from contacts.permissions import can_merge, can_view_contacts

from .activities import activity_timeline
from .selectors import conversation_get_for_agent
from .services import conversation_move

MOVE_SEARCH_PAGE = 10


def _require_viewer(request: HttpRequest) -> None:
    if not can_view_contacts(request.user):
        raise PermissionDenied(gettext("Only agents and supervisors work with contacts."))


@login_required
@require_GET
def activity_timeline_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A conversation's timeline, newest page first; ``?before=<message id>`` pages back.
    ``?partial=1`` returns the fragment the contact page inserts when an activity is expanded."""
    _require_viewer(request)
    before = request.GET.get("before", "")
    conversation, legs, timeline, has_earlier = activity_timeline(
        user=request.user, pk=pk, before_id=int(before) if before.isdigit() else None
    )
    context = {
        "conversation": conversation,
        "legs": legs,
        "timeline": timeline,
        "has_earlier": has_earlier,
        "earliest_id": timeline[0].pk if timeline else None,
        "legs_shown": not before,
    }
    template = "contacts/_timeline.html" if request.GET.get("partial") else "contacts/timeline.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def conversation_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick the contact this conversation really belongs to, and move it there."""
    _require_viewer(request)
    if not can_merge(request.user):
        raise PermissionDenied(gettext("You do not have permission to move conversations."))
    conversation = conversation_get_for_agent(user=request.user, pk=pk)
    error = ""
    if request.method == "POST":
        target_id = request.POST.get("contact", "")
        try:
            if not target_id.isdigit():
                raise ValidationError(gettext("Choose a contact."), field="contact")
            target = contact_selectors.contact_get(pk=int(target_id))
            conversation_move(conversation=conversation, to_contact=target, user=request.user)
        except (ValidationError, Conflict) as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("Conversation %(number)s moved to this contact.")
                % {"number": conversation.number},
            )
            return redirect("contact-detail", target.pk)
    query = request.GET.get("q", "").strip()
    page = None
    if query:
        found = contact_selectors.contact_search(query=query).exclude(pk=conversation.contact_id)
        page = Paginator(contact_selectors.with_identities(found), MOVE_SEARCH_PAGE).get_page(
            request.GET.get("page")
        )
    return render(
        request,
        "contacts/conversation_move.html",
        {"conversation": conversation, "query": query, "page": page, "error": error},
        status=409 if error else 200,
    )


class ConversationMoveInputSerializer(serializers.Serializer):
    contact = IdField(help_text="The contact the conversation belongs to.")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Moved",
            value={"conversation_id": 42, "number": "C-1042", "contact": 15},
            response_only=True,
        )
    ]
)
class ConversationMoveOutputSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    contact = serializers.IntegerField(source="contact_id")


class ConversationMoveApi(GenericAPIView):
    """Move the conversation to the contact it really belongs to (users who may merge)."""

    serializer_class = ConversationMoveOutputSerializer
    schema_tags = ["conversations"]

    @extend_schema(
        operation_id="conversations_move_to_contact",
        request=ConversationMoveInputSerializer,
        responses={
            200: ConversationMoveOutputSerializer,
            403: OpenApiResponse(description="No permission to move conversations."),
            404: OpenApiResponse(description="Conversation or contact not found."),
            409: OpenApiResponse(description="The target contact was merged away."),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        conversation = conversation_get_for_agent(user=request.user, pk=pk)
        serializer = ConversationMoveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not can_merge(request.user):
            raise PermissionDenied(gettext("You do not have permission to move conversations."))
        target = contact_selectors.contact_get_for_user(
            user=request.user, pk=serializer.validated_data["contact"]
        )
        moved = conversation_move(conversation=conversation, to_contact=target, user=request.user)
        return Response(ConversationMoveOutputSerializer(moved).data, status=status.HTTP_200_OK)


@admin.action(description=gettext_lazy("Move to another contact…"))
def move_to_contact(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    if not can_merge(request.user):
        modeladmin.message_user(
            request, _("You do not have permission to move conversations."), messages.ERROR
        )
        return None
    conversations = list(queryset.select_related("contact").order_by("pk"))
    target_id = request.POST.get("contact", "").strip().lstrip("#")
    if request.POST.get("confirm") and target_id.isdigit():
        try:
            target = contact_selectors.contact_get(pk=int(target_id))
            for conversation in conversations:
                conversation_move(conversation=conversation, to_contact=target, user=request.user)
        except DomainError as exc:
            modeladmin.message_user(request, exc.message, messages.ERROR)
            return None
        modeladmin.message_user(
            request,
            _("%(count)s conversation(s) moved to %(name)s.")
            % {"count": len(conversations), "name": target.display_name},
            messages.SUCCESS,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Move conversations to another contact"),
        "opts": modeladmin.model._meta,
        "conversations": conversations,
        "error": _("Enter the number of the contact.") if request.POST.get("confirm") else "",
    }
    return TemplateResponse(request, "contacts/admin_move.html", context)
