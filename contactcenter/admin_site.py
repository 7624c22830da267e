"""The admin site of the contact center: Django's, plus pages the apps register here (reports) and
links shown on the admin index (the live floor view). ``contactcenter`` knows nothing of the apps
above it: they call :func:`admin_page_register` / :func:`admin_link_register` from their
``admin.py`` (imported by the admin's autodiscovery before the URLs are built)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AdminPage:
    """A page under ``/admin/<route>``, shown on the index to users holding ``permission``."""

    route: str
    view: Callable[..., HttpResponse]
    name: str
    title: str | Promise
    permission: str
    listed: bool = True


@dataclass(frozen=True)
class AdminLink:
    """A link on the admin index to a page outside the admin (e.g. the floor view)."""

    url_name: str
    title: str | Promise
    permission: str


_pages: dict[str, AdminPage] = {}
_links: dict[str, AdminLink] = {}


def admin_page_register(page: AdminPage) -> None:
    _pages[page.name] = page


def admin_link_register(link: AdminLink) -> None:
    _links[link.url_name] = link


class ContactCenterAdminSite(admin.AdminSite):
    site_header = _("Contact center administration")
    site_title = _("Contact center")
    index_title = _("Back office")

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(page.route, self.admin_view(page.view), name=page.name) for page in _pages.values()
        ]
        return [*extra, *super().get_urls()]

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        user = request.user
        context["supervision_links"] = [
            {"title": link.title, "url": reverse(link.url_name)}
            for link in _links.values()
            if user.is_active and user.has_perm(link.permission)
        ] + [
            {"title": page.title, "url": reverse(f"admin:{page.name}")}
            for page in _pages.values()
            if page.listed and user.is_active and user.has_perm(page.permission)
        ]
        return context
