"""``OPTIONS`` answers the operation's name and description (and ``Allow``) without building
serializers or looking objects up: the schema at /api/schema/ documents the rest."""

from rest_framework.metadata import BaseMetadata
from rest_framework.request import Request


class ApiMetadata(BaseMetadata):
    def determine_metadata(self, request: Request, view) -> dict:
        return {"name": view.get_view_name(), "description": view.get_view_description()}
