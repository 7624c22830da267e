"""Contacts API: thin adapters over selectors and services; domain errors become 4xx in
``contactcenter.api.exception_handler``."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from .. import selectors, services
from ..permissions import can_view_contacts
from .idempotency import HEADER, idempotent
from .serializers import (
    ContactCreateInputSerializer,
    ContactFieldsInputSerializer,
    ContactMergeInputSerializer,
    ContactMergeOutputSerializer,
    ContactOutputSerializer,
    IdentitySerializer,
)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Repeat a POST safely: the same key returns the first response.",
)
ERRORS = {
    400: OpenApiResponse(description="Invalid input; the body names the field."),
    403: OpenApiResponse(description="Not allowed."),
    404: OpenApiResponse(description="Not found."),
    409: OpenApiResponse(description="Conflict, e.g. an identity owned by another contact."),
}


class CanViewContacts(BasePermission):
    message = "Only agents and supervisors work with contacts."

    def has_permission(self, request: Request, view: object) -> bool:
        return can_view_contacts(request.user)


class ContactsApiView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanViewContacts]
    serializer_class = ContactOutputSerializer

    def contact_output(self, pk: int) -> dict:
        return ContactOutputSerializer(selectors.contact_get(pk=pk)).data


class ContactListCreateApi(ContactsApiView):
    @extend_schema(
        operation_id="contacts_list",
        parameters=[
            OpenApiParameter("q", description="Search: name, company, identity, C-1042, prefixes"),
            OpenApiParameter("phone", description="Exact lookup; any format that normalizes"),
            OpenApiParameter("email", description="Exact lookup; any case"),
            OpenApiParameter("external", description="Exact lookup by external CRM id"),
        ],
        responses={200: ContactOutputSerializer(many=True), 400: ERRORS[400]},
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
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ContactCreateInputSerializer,
        responses={201: ContactOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]},
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
    @extend_schema(operation_id="contacts_retrieve", responses={200: ContactOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.contact_output(pk))

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        contact = selectors.contact_get(pk=pk)
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
        responses={200: ContactOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]},
    )
    def put(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        operation_id="contacts_partial_update",
        request=ContactFieldsInputSerializer,
        responses={200: ContactOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]},
    )
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)


class ContactIdentityListApi(ContactsApiView):
    @extend_schema(
        operation_id="contacts_identities_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=IdentitySerializer,
        responses={201: IdentitySerializer, 400: ERRORS[400], 409: ERRORS[409]},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        contact = selectors.contact_get(pk=pk)
        serializer = IdentitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity = services.identity_add(
            contact=contact, user=request.user, field="value", **serializer.validated_data
        )
        return Response(IdentitySerializer(identity).data, status=status.HTTP_201_CREATED)


class ContactIdentityDetailApi(ContactsApiView):
    @extend_schema(operation_id="contacts_identities_destroy", responses={204: None})
    def delete(self, request: Request, pk: int, identity_pk: int) -> Response:
        contact = selectors.contact_get(pk=pk)
        identity = selectors.identity_get(contact=contact, pk=identity_pk)
        services.identity_remove(identity=identity, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactMergeCreateApi(ContactsApiView):
    serializer_class = ContactMergeOutputSerializer

    @extend_schema(
        operation_id="contacts_merges_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ContactMergeInputSerializer,
        responses={201: ContactMergeOutputSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = ContactMergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        merge = services.contact_merge(
            survivor=selectors.contact_get(pk=data["survivor"]),
            merged=selectors.contact_get(pk=data["merged"]),
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
        return Response(ContactMergeOutputSerializer(selectors.contact_merge_get(pk=pk)).data)


class ContactMergeUndoApi(ContactsApiView):
    serializer_class = ContactMergeOutputSerializer

    @extend_schema(
        operation_id="contacts_merges_undo",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=None,
        responses={200: ContactMergeOutputSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        merge = services.contact_merge_undo(
            merge=selectors.contact_merge_get(pk=pk), user=request.user
        )
        return Response(ContactMergeOutputSerializer(merge).data)
