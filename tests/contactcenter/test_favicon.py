"""Every page names the project's icon, and ``/favicon.ico`` leads to it: no 404 in the browser's
console on any agent, supervisor or admin page (issue 15's "favicon (404 on every page today)")."""

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

ICON = f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">'


def test_the_icon_is_a_static_file():
    path = finders.find("favicon.svg")
    assert path is not None
    with open(path, encoding="utf-8") as icon:
        assert icon.read().startswith("<svg")


@pytest.mark.django_db
def test_favicon_ico_redirects_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == static("favicon.svg")


@pytest.mark.django_db
def test_the_login_page_names_the_icon(client):
    assert ICON in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/contacts/", "/supervisor/", "/admin/", "/admin/contacts/contact/", "/admin/reports/"],
)
def test_agent_supervisor_and_admin_pages_name_the_icon(client, administrator, path):
    client.force_login(administrator)
    response = client.get(path, follow=True)
    assert response.status_code == 200, path
    assert ICON in response.content.decode(), path
