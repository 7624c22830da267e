"""Input and output serializers of the contacts API (no model serializers: the services write)."""

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from contactcenter.api.fields import IdField

from ..models import Contact, Identity
from ..services.merge import FIELD_CHOICES


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A phone", value={"kind": "phone", "value": "(415) 555-0100"}, request_only=True
        ),
        OpenApiExample(
            "A phone, normalized",
            value={"id": 30, "kind": "phone", "value": "+14155550100"},
            response_only=True,
        ),
    ]
)
class IdentitySerializer(serializers.Serializer):
    """One serializer (one schema component) for identities in and out; ``id`` is output only."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=Identity.Kind.choices)
    value = serializers.CharField(
        max_length=320, help_text="Input: any format that normalizes. Output: normalized."
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
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
                "identities": [{"id": 30, "kind": "phone", "value": "+14155550100"}],
                "created_at": "2026-01-05T10:00:00Z",
                "updated_at": "2026-01-05T10:00:00Z",
            },
            response_only=True,
        )
    ]
)
class ContactOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    company = serializers.CharField()
    notes = serializers.CharField()
    custom_fields = serializers.DictField()
    do_not_text = serializers.BooleanField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    identities = IdentitySerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _text(name: str) -> serializers.CharField:
    return serializers.CharField(
        max_length=Contact._meta.get_field(name).max_length,
        allow_blank=True,
        required=False,
        trim_whitespace=True,
    )


class ContactFieldsInputSerializer(serializers.Serializer):
    first_name = _text("first_name")
    last_name = _text("last_name")
    company = _text("company")
    notes = serializers.CharField(allow_blank=True, required=False)
    custom_fields = serializers.DictField(required=False)
    do_not_text = serializers.BooleanField(required=False)


class ContactCreateInputSerializer(ContactFieldsInputSerializer):
    identities = IdentitySerializer(many=True, required=False)


class ContactMergeInputSerializer(serializers.Serializer):
    survivor = IdField(help_text="The contact that stays.")
    merged = IdField(help_text="The contact merged into the survivor.")
    field_choices = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Which value wins per field: "
        + "; ".join(f"{name}: {'/'.join(choices)}" for name, choices in FIELD_CHOICES.items())
        + ". Unspecified fields: the survivor's unless empty, notes both, SMS opt-out either.",
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A merge",
            value={
                "id": 5,
                "survivor": 12,
                "merged": 15,
                "field_choices": {"company": "merged"},
                "identity_ids": [31, 32],
                "created_at": "2026-01-05T10:00:00Z",
                "created_by": 1,
                "undone_at": None,
                "undone_by": None,
            },
            response_only=True,
        )
    ]
)
class ContactMergeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survivor = serializers.IntegerField(source="survivor_id")
    merged = serializers.IntegerField(source="merged_id")
    field_choices = serializers.DictField()
    identity_ids = serializers.ListField(child=serializers.IntegerField())
    created_at = serializers.DateTimeField()
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    undone_at = serializers.DateTimeField(allow_null=True)
    undone_by = serializers.IntegerField(source="undone_by_id", allow_null=True)
