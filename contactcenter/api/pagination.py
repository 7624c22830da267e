"""Pagination of API lists: numbered pages (``?page=``, ``?page_size=`` up to 200), and cursors
for long, growing lists such as messages (``?cursor=`` from ``next``/``previous``)."""

from rest_framework.pagination import CursorPagination, PageNumberPagination

MAX_PAGE_SIZE = 200


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class IdCursorPagination(CursorPagination):
    """Oldest first, by id: stable while new rows arrive."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
