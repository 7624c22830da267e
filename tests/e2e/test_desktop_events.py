"""For every event type the desktop consumes: an open page that applied the event shows what a
freshly rendered page shows (ARCHITECTURE.md section 4, "test it").

Each case opens the page, causes one change the way production causes it (a Twilio webhook or an
agent's action over HTTP on the live server, so the change rings the page's socket), waits for
the visible update, checks the page never reloaded, and compares it with the same URL rendered
in a new tab: the Active Conversations list, the timeline rows (data-* attributes and text), the
state selector. Timers' text is left out. The two events a conversation's own page applies by
reloading (a new leg, its close) are checked to reload it once: the new document then shows a
later live change itself, although the server replays it the last seconds of events.

The offer expiry is written by this process, whose ring cannot reach the server's pages: that
page learns it from the log at its next heartbeat, which the test brings forward with
Playwright's clock instead of waiting 20 s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conversations import services
from conversations.models import Message, MessageStatus, NotReadyReason, Offer
from tests.conftest import TWILIO_TEST_SID, TWILIO_TEST_TOKEN
from tests.factories import IdentityFactory
from tests.support.browser import assert_same_page, login, mark_page, wait_until_live
from tests.support.twilio_standin import new_sid, signed_post

from .desktop import (
    CUSTOMER,
    ENTRY_POINT,
    accepted_sms_conversation,
    assert_matches_fresh_render,
    expect_list_items,
    inbound_sms,
    offered,
    post_as,
    record_frames,
    send_sms,
    wait_for_agent_event,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEARTBEAT = "00:21"  # a bit more than realtime.js's 20 s heartbeat


@dataclass
class World:
    page: object
    server: object
    twilio: object
    agent: object
    objects: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    event: str
    prepare: Callable[[World], str]  # the state before the page opens; returns the page's path
    cause: Callable[[World], None]
    settled: Callable[[World], None]  # the visible update to wait for
    user: str = "agent_a"
    from_this_process: bool = False  # no ring: the page catches up at its next heartbeat
    # For the events a page applies by reloading: a later live change the same (new) document
    # must show, though the server replayed it the last seconds of events, this one included.
    follow_up: Callable[[World], None] | None = None
    where: str = ""  # tells two cases of one event apart

    @property
    def id(self) -> str:
        return f"{self.event}-{self.where}" if self.where else self.event


# --- message.created / message.status_changed: the open conversation ---------------------------


def open_conversation(world: World) -> str:
    conversation = accepted_sms_conversation(world.agent, "Where is my parcel?")
    world.objects["conversation"] = conversation
    return f"/conversations/{conversation.pk}/"


def customer_texts_again(world: World) -> None:
    send_sms(world.twilio, world.server, "It was due on Monday.")


def second_line_shown(world: World) -> None:
    expect(world.page.locator("#timeline .message")).to_have_count(2)
    expect(world.page.locator("#timeline .message").nth(1)).to_contain_text("due on Monday")


def conversation_with_a_sent_reply(world: World) -> str:
    path = open_conversation(world)
    conversation = world.objects["conversation"]
    now = timezone.now()
    world.objects["reply"] = Message.objects.create(
        conversation=conversation,
        interaction=conversation.interactions.get(),
        channel="sms",
        direction=Message.Direction.OUTBOUND,
        body="We are on it.",
        sender=world.agent,
        status=MessageStatus.SENT,
        provider_id=new_sid(),
        created_at=now,
        status_changed_at=now,
    )
    return path


def twilio_reports_delivery(world: World) -> None:
    reply = world.objects["reply"]
    response = signed_post(
        f"{world.server.url}/webhooks/twilio/sms/status/?message={reply.pk}",
        {
            "MessageSid": reply.provider_id,
            "SmsSid": reply.provider_id,
            "MessageStatus": "delivered",
            "SmsStatus": "delivered",
            "AccountSid": TWILIO_TEST_SID,
            "From": ENTRY_POINT,
            "To": CUSTOMER,
            "ApiVersion": "2010-04-01",
        },
        auth_token=TWILIO_TEST_TOKEN,
    )
    assert response.status == 204, response.body


def reply_delivered(world: World) -> None:
    status = world.page.locator("#timeline .message.outbound .status")
    expect(status).to_have_attribute("data-status", "delivered")


# --- offers and assignment: the desktop's list ----------------------------------------------


def desktop_with_an_offer(world: World) -> str:
    world.objects["offer"] = offered(world.agent, inbound_sms("Hello, anyone there?"))
    return "/"


def empty_desktop(world: World) -> str:
    return "/"


def accept_in_another_tab(world: World) -> None:
    response = post_as(world.page, f"/offers/{world.objects['offer'].pk}/accept/")
    assert response.ok, response.text()


def reject_in_another_tab(world: World) -> None:
    response = post_as(world.page, f"/offers/{world.objects['offer'].pk}/reject/")
    assert response.ok, response.text()


def offer_expires(world: World) -> None:
    offer = world.objects["offer"]
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.offer_expire(offer_id=offer.pk)


def conversation_listed_and_offer_gone(world: World) -> None:
    expect_list_items(world.page, 1)
    expect(world.page.locator("#conversation-list .offer")).to_have_count(0)


def offer_listed(world: World) -> None:
    expect(world.page.locator("#conversation-list .offer")).to_have_count(1)


def offer_gone(world: World) -> None:
    expect(world.page.locator("#conversation-list .offer")).to_have_count(0)


def offer_gone_and_agent_not_ready(world: World) -> None:
    offer_gone(world)
    expect(world.page.locator("#agent-state")).to_have_value("not_ready|missed offer")


def unassigned_conversation_listed(world: World) -> None:
    expect_list_items(world.page, 1)
    expect(world.page.locator("#conversation-list .conversation-item")).to_contain_text(
        "Unassigned"
    )


# --- ending: wrap-up and close ----------------------------------------------------------------


def desktop_with_a_conversation(world: World) -> str:
    open_conversation(world)
    return "/"


def desktop_with_a_conversation_in_wrap_up(world: World) -> str:
    open_conversation(world)
    services.conversation_end(conversation=world.objects["conversation"], user=world.agent)
    return "/"


def end_in_another_tab(world: World) -> None:
    response = post_as(world.page, f"/conversations/{world.objects['conversation'].pk}/end/")
    assert response.ok, response.text()


def wrap_up_in_another_tab(world: World) -> None:
    response = post_as(
        world.page,
        f"/conversations/{world.objects['conversation'].pk}/wrap-up/",
        {"disposition": "", "notes": "Parcel found."},
    )
    assert response.ok, response.text()


def conversation_in_wrap_up(world: World) -> None:
    expect(world.page.locator("#conversation-list .conversation-item")).to_contain_text("Wrap-up")
    expect(world.page.locator("#agent-state")).to_have_attribute("data-state", "acw")


def conversation_gone(world: World) -> None:
    expect_list_items(world.page, 0)
    expect(world.page.locator("#agent-state")).to_have_value("ready|")


# --- applied by a reload: a new leg, the close of the open conversation -----------------------

OTHER_PHONE = "+14155550188"


def conversation_with_a_second_phone(world: World) -> str:
    path = open_conversation(world)
    IdentityFactory(contact=world.objects["conversation"].contact, value=OTHER_PHONE)
    return path


def text_the_other_phone_from_another_tab(world: World) -> None:
    conversation = world.objects["conversation"]
    response = post_as(
        world.page,
        f"/conversations/{conversation.pk}/reply/",
        {"body": "Texting your other phone.", "channel": "sms", "to": OTHER_PHONE},
    )
    assert response.status == 201, response.text()


def second_sms_leg_shown(world: World) -> None:
    expect(world.page.locator(".workspace-header .channel-sms")).to_have_count(2)


def other_phone_answers(world: World) -> None:
    send_sms(world.twilio, world.server, "Got it on my other phone.", phone=OTHER_PHONE)
    expect(world.page.locator("#timeline .message.inbound")).to_have_count(2)
    outbound = world.page.locator("#timeline .message.outbound .status")
    expect(outbound).to_have_attribute("data-status", "delivered")


def conversation_page_in_wrap_up(world: World) -> str:
    NotReadyReason.objects.create(name="Lunch")
    desktop_with_a_conversation_in_wrap_up(world)
    return f"/conversations/{world.objects['conversation'].pk}/"


def conversation_shown_closed(world: World) -> None:
    expect(world.page.locator("#conversation-status")).to_have_attribute("data-status", "closed")


def lunch_break(world: World) -> None:
    lunch_break_in_another_tab(world)
    not_ready_for_lunch(world)


# --- agent state ------------------------------------------------------------------------------


def desktop_with_break_reasons(world: World) -> str:
    NotReadyReason.objects.create(name="Lunch")
    return "/"


def lunch_break_in_another_tab(world: World) -> None:
    response = post_as(world.page, "/agent/state/", {"state": "not_ready", "reason": "Lunch"})
    assert response.ok, response.text()


def not_ready_for_lunch(world: World) -> None:
    expect(world.page.locator("#agent-state")).to_have_value("not_ready|Lunch")


def busy_desktop_with_break_reasons(world: World) -> str:
    NotReadyReason.objects.create(name="Lunch")
    return desktop_with_a_conversation(world)


def lunch_pending(world: World) -> None:
    expect(world.page.locator("#agent-state")).to_have_attribute("data-state", "busy")
    expect(world.page.locator("#agent-state-pending")).to_have_text(
        "then Not Ready: Lunch (pending)"
    )


CASES = [
    Case("message.created", open_conversation, customer_texts_again, second_line_shown),
    Case(
        "message.status_changed",
        conversation_with_a_sent_reply,
        twilio_reports_delivery,
        reply_delivered,
    ),
    Case(
        "conversation.created",
        empty_desktop,
        customer_texts_again,
        unassigned_conversation_listed,
        user="supervisor",
    ),
    Case(
        "conversation.assigned",
        desktop_with_an_offer,
        accept_in_another_tab,
        conversation_listed_and_offer_gone,
    ),
    Case("offer.created", empty_desktop, customer_texts_again, offer_listed),
    Case("offer.rejected", desktop_with_an_offer, reject_in_another_tab, offer_gone),
    Case(
        "offer.expired",
        desktop_with_an_offer,
        offer_expires,
        offer_gone_and_agent_not_ready,
        from_this_process=True,
    ),
    Case(
        "conversation.wrap_up",
        desktop_with_a_conversation,
        end_in_another_tab,
        conversation_in_wrap_up,
    ),
    Case(
        "conversation.closed",
        desktop_with_a_conversation_in_wrap_up,
        wrap_up_in_another_tab,
        conversation_gone,
    ),
    Case(
        "agent.state_changed",
        desktop_with_break_reasons,
        lunch_break_in_another_tab,
        not_ready_for_lunch,
    ),
    Case(
        "agent.state_requested",
        busy_desktop_with_break_reasons,
        lunch_break_in_another_tab,
        lunch_pending,
    ),
    Case(
        "interaction.started",
        conversation_with_a_second_phone,
        text_the_other_phone_from_another_tab,
        second_sms_leg_shown,
        follow_up=other_phone_answers,
    ),
    Case(
        "conversation.closed",
        conversation_page_in_wrap_up,
        wrap_up_in_another_tab,
        conversation_shown_closed,
        follow_up=lunch_break,
        where="on-its-page",
    ),
]


@pytest.fixture
def service_with_slow_offers(service_a):
    """Offers that outlive the test: only the case that expires one does so."""
    service_a.offer_timeout_seconds = 600
    service_a.save(update_fields=["offer_timeout_seconds"])
    return service_a


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_page_that_applied_the_event_equals_a_fresh_render(
    case, page, shared_asgi_server, shared_twilio_standin, agent_a, supervisor,
    service_with_slow_offers, sms_entry_point_a,
):  # fmt: skip
    world = World(page=page, server=shared_asgi_server, twilio=shared_twilio_standin, agent=agent_a)
    record_frames(page.context)
    if case.from_this_process:
        page.clock.install()
    path = case.prepare(world)
    login(page, shared_asgi_server.url, case.user)
    if path != "/":
        page.goto(f"{shared_asgi_server.url}{path}")
        wait_until_live(page)
    marker = mark_page(page)
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))

    case.cause(world)
    if case.from_this_process:
        page.clock.fast_forward(HEARTBEAT)
    case.settled(world)

    wait_for_agent_event(page, case.event)
    if case.follow_up is not None:
        wait_until_live(page)
        marker = mark_page(page)
        case.follow_up(world)
    assert_same_page(page, marker)
    assert len(loads) == (0 if case.follow_up is None else 1), loads
    assert_matches_fresh_render(page)
