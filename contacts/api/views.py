"""Contacts API: thin adapters over selectors and services; domain errors become 4xx in
``contactcenter.api.exception_handler``.

Contacts are shared by agents and supervisors; users who are neither get 403 on the lists and
404 on every contact (as for one that does not exist)."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.idempotency import idempotent
from contactcenter.api.pagination import PagePagination

from .. import selectors, services
from ..models import Contact
from ..permissions import can_view_contacts
from .serializers import (
    ContactCreateInputSerializer,
    ContactFieldsInputSerializer,
    ContactMergeInputSerializer,
    ContactMergeOutputSerializer,
    ContactOutputSerializer,
    IdentitySerializer,
)

CONTACT_EXAMPLE = OpenApiExample(
    "A contact",
    value={
        "id": 12,
        "display_name": "Ana Díaz",
        "first_name": "Ana",
        "last_name": "Díaz",
        "company": "Acme",
        "notes": "",
        "custom_fields": {"tier": "gold"},
        "do_not_text": False,
        "merged_into": None,
        "identities": [
            {"id": 30, "kind": "phone", "value": "+14155550100"},
            {"id": 31, "kind": "email", "value": "ana@acme.example"},
        ],
        "created_at": "2026-01-05T10:00:00Z",
        "updated_at": "2026-01-05T10:00:00Z",
    },
    response_only=True,
)
CREATE_EXAMPLE = OpenApiExample(
    "New contact with two identities",
    value={
        "first_name": "Ana",
        "last_name": "Díaz",
        "company": "Acme",
        "custom_fields": {"tier": "gold"},
        "identities": [
            {"kind": "phone", "value": "(415) 555-0100"},
            {"kind": "email", "value": "Ana@Acme.example"},
        ],
    },
    request_only=True,
)


class CanViewContacts(BasePermission):
    message = "Only agents and supervisors work with contacts."

    def has_permission(self, request: Request, view: object) -> bool:
        return can_view_contacts(request.user)


class ContactsApiView(GenericAPIView):
    queryset = Contact.objects.none()  # the schema's model; reads go through the selectors
    serializer_class = ContactOutputSerializer
    pagination_class = None
    schema_tags = ["contacts"]

    def contact(self, pk: int):
        return selectors.contact_get_for_user(user=self.request.user, pk=pk)

    def contact_output(self, pk: int) -> dict:
        return ContactOutputSerializer(self.contact(pk)).data


class ContactListCreateApi(ContactsApiView):
    pagination_class = PagePagination
    permission_classes = [*GenericAPIView.permission_classes, CanViewContacts]

    @extend_schema(
        operation_id="contacts_list",
        parameters=[
            OpenApiParameter("q", description="Search: name, company, identity, C-1042, prefixes"),
            OpenApiParameter("phone", description="Exact lookup; any format that normalizes"),
            OpenApiParameter("email", description="Exact lookup; any case"),
            OpenApiParameter("external", description="Exact lookup by external CRM id"),
        ],
        responses={200: ContactOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        lookups = {
            name: request.query_params[name]
            for name in ("phone", "email", "external")
            if name in request.query_params
        }
        if lookups:
            queryset = selectors.contact_lookup(**lookups)
        else:
            queryset = selectors.contact_search(query=request.query_params.get("q", ""))
        page = self.paginate_queryset(selectors.with_identities(queryset))
        return self.get_paginated_response(ContactOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="contacts_create",
        request=ContactCreateInputSerializer,
        responses={201: ContactOutputSerializer},
        examples=[CREATE_EXAMPLE, CONTACT_EXAMPLE],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = ContactCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        identities = [(item["kind"], item["value"]) for item in data.pop("identities", [])]
        contact = services.contact_create(user=request.user, identities=identities, **data)
        return Response(self.contact_output(contact.pk), status=status.HTTP_201_CREATED)


class ContactDetailApi(ContactsApiView):
    @extend_schema(
        operation_id="contacts_retrieve",
        responses={200: ContactOutputSerializer},
        examples=[CONTACT_EXAMPLE],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.contact_output(pk))

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        contact = self.contact(pk)
        serializer = ContactFieldsInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if not partial:
            defaults = {"first_name": "", "last_name": "", "company": "", "notes": ""}
            data = {**defaults, "custom_fields": {}, "do_not_text": False, **data}
        services.contact_update(contact=contact, user=request.user, data=data)
        return Response(self.contact_output(pk))

    @extend_schema(
        operation_id="contacts_update",
        request=ContactFieldsInputSerializer,
        responses={200: ContactOutputSerializer},
    )
    def put(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        operation_id="contacts_partial_update",
        request=ContactFieldsInputSerializer,
        responses={200: ContactOutputSerializer},
        examples=[
            OpenApiExample(
                "Set a custom field", value={"custom_fields": {"tier": "gold"}}, request_only=True
            )
        ],
    )
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)


class ContactIdentityListApi(ContactsApiView):
    serializer_class = IdentitySerializer

    @extend_schema(
        operation_id="contacts_identities_list", responses={200: IdentitySerializer(many=True)}
    )
    def get(self, request: Request, pk: int) -> Response:
        contact = self.contact(pk)
        return Response(IdentitySerializer(contact.identities.all(), many=True).data)

    @extend_schema(
        operation_id="contacts_identities_create",
        request=IdentitySerializer,
        responses={201: IdentitySerializer},
        examples=[
            OpenApiExample(
                "Add a messenger id",
                value={"kind": "messenger", "value": "telegram:48213"},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        contact = self.contact(pk)
        serializer = IdentitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity = services.identity_add(
            contact=contact, user=request.user, field="value", **serializer.validated_data
        )
        return Response(IdentitySerializer(identity).data, status=status.HTTP_201_CREATED)


class ContactIdentityDetailApi(ContactsApiView):
    serializer_class = IdentitySerializer

    @extend_schema(operation_id="contacts_identities_retrieve")
    def get(self, request: Request, pk: int, identity_pk: int) -> Response:
        identity = selectors.identity_get(contact=self.contact(pk), pk=identity_pk)
        return Response(IdentitySerializer(identity).data)

    @extend_schema(operation_id="contacts_identities_destroy", responses={204: None})
    def delete(self, request: Request, pk: int, identity_pk: int) -> Response:
        identity = selectors.identity_get(contact=self.contact(pk), pk=identity_pk)
        services.identity_remove(identity=identity, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactMergeCreateApi(ContactsApiView):
    serializer_class = ContactMergeOutputSerializer
    permission_classes = [*GenericAPIView.permission_classes, CanViewContacts]

    @extend_schema(
        operation_id="contacts_merges_create",
        request=ContactMergeInputSerializer,
        responses={201: ContactMergeOutputSerializer},
        examples=[
            OpenApiExample(
                "Keep the survivor's name, the merged contact's company",
                value={"survivor": 12, "merged": 15, "field_choices": {"company": "merged"}},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = ContactMergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        merge = services.contact_merge(
            survivor=self.contact(data["survivor"]),
            merged=self.contact(data["merged"]),
            field_choices=data.get("field_choices"),
            user=request.user,
        )
        return Response(ContactMergeOutputSerializer(merge).data, status=status.HTTP_201_CREATED)


class ContactMergeDetailApi(ContactsApiView):
    serializer_class = ContactMergeOutputSerializer

    @extend_schema(
        operation_id="contacts_merges_retrieve", responses={200: ContactMergeOutputSerializer}
    )
    def get(self, request: Request, pk: int) -> Response:
        merge = selectors.contact_merge_get_for_user(user=request.user, pk=pk)
        return Response(ContactMergeOutputSerializer(merge).data)


class ContactMergeUndoApi(ContactsApiView):
    serializer_class = ContactMergeOutputSerializer

    @extend_schema(
        operation_id="contacts_merges_undo",
        request=None,
        responses={200: ContactMergeOutputSerializer},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        merge = services.contact_merge_undo(
            merge=selectors.contact_merge_get_for_user(user=request.user, pk=pk), user=request.user
        )
        return Response(ContactMergeOutputSerializer(merge).data)
