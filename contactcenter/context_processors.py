from django.conf import settings
from django.http import HttpRequest


def demo_mode(request: HttpRequest) -> dict:
    """Pages show the demo tools' links only in demo mode."""
    return {"demo_mode": settings.DEMO_MODE}
