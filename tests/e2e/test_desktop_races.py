"""The desktop stays right when events arrive while a fragment fetch is still in flight.

Playwright holds one fragment request and answers it, later, with what the server returned (or
would have returned) before the change, so the race is reproduced on purpose instead of by luck.
"""

import pytest
from playwright.sync_api import expect

from tests.support.browser import login

from .test_sms_flow import ENTRY_POINT, accept_offer, send_sms

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class Holder:
    """Route handler that holds the first matching request once armed; lets others through."""

    def __init__(self, armed: bool = True):
        self.armed = armed
        self.held = []

    def __call__(self, route):
        if self.armed and not self.held:
            self.held.append(route)
        else:
            route.continue_()

    def route(self):
        assert self.held, "the page never requested the fragment"
        return self.held[0]


def event_frame(kind: str, status: str = ""):
    return lambda payload: f'"type": "{kind}"' in payload and status in payload


def let_page_handle_pending_events(page):
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")


def test_list_refreshes_again_when_an_event_arrives_during_a_refresh(
    page, asgi_server, twilio_standin, agent_a, sms_entry_point_a
):
    holder = Holder()
    page.route("**/conversations/fragment/list/", holder)
    with page.expect_websocket() as websocket:
        login(page, asgi_server.url, agent_a.username)  # going live refreshes the list: held
    before = page.inner_html("#conversation-list")  # what that refresh would have fetched

    with websocket.value.expect_event("framereceived", predicate=event_frame("offer.created")):
        send_sms(twilio_standin, asgi_server, "Hello?")
    let_page_handle_pending_events(page)
    holder.route().fulfill(status=200, content_type="text/html; charset=utf-8", body=before)

    expect(page.locator("#conversation-list .offer")).to_have_count(1)


def test_status_event_for_a_row_still_loading_is_applied_once_the_row_is_in(
    page, asgi_server, twilio_standin, agent_a, sms_entry_point_a
):
    twilio_standin.auto_callbacks = ()  # statuses are posted by hand below
    holder = Holder(armed=False)
    page.route("**/conversations/*/messages/?after=*", holder)
    login(page, asgi_server.url, agent_a.username)
    send_sms(twilio_standin, asgi_server, "Call me")
    with page.expect_websocket() as websocket:
        accept_offer(page, asgi_server)

    holder.armed = True
    page.fill("#composer-body", "Calling you now")
    page.click("#composer button[type=submit]")
    (request,) = twilio_standin.wait_for_message_requests(1)
    assert request.form["From"] == ENTRY_POINT
    expect(page.locator("#timeline .message.outbound")).to_have_count(0)  # its fetch is held
    # What the held fetch would have returned: the row before any status callback arrived.
    stale = holder.route().fetch()
    assert 'data-status="delivered"' not in stale.text()
    with websocket.value.expect_event(
        "framereceived", predicate=event_frame("message.status_changed", '"delivered"')
    ):
        for status in ("sent", "delivered"):
            assert twilio_standin.send_status_callback(request, status).status_code == 204
    let_page_handle_pending_events(page)
    holder.route().fulfill(response=stale)

    outbound = page.locator("#timeline .message.outbound")
    expect(outbound).to_have_count(1)
    expect(outbound.locator('.status[data-status="delivered"]')).to_be_visible()
