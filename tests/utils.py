from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(action: Callable[[], object]) -> int:
    """How many SQL queries ``action`` runs (used to compare a page at 2 and at N rows)."""
    with CaptureQueriesContext(connection) as context:
        action()
    return len(context.captured_queries)
