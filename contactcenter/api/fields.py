"""Ids in the API (paths, bodies, filters) are bounded: an id no row can have is a 404 or a 400
naming the field, never a database overflow (a 500)."""

import django_filters
from django import forms
from rest_framework import serializers

#: Largest id the API accepts (JavaScript's safe integers; well inside PostgreSQL's bigint).
MAX_ID = 2**53 - 1


class IdConverter:
    """``<id:pk>`` in URL patterns: 1 to 15 digits (anything longer is no such object)."""

    regex = "[0-9]{1,15}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class IdField(serializers.IntegerField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
