"""Reports (/admin/reports/): a hand-computed example over two days in New York time, whose day
boundary is not UTC's; the CSV is the page's table; query counts do not grow with rows; only
supervisors and administrators see them, each their own services."""

import csv
import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from conversations.models import Conversation, Interaction
from tests.factories import (
    AgentProfileFactory,
    ConversationFactory,
    DispositionFactory,
    InteractionFactory,
    ServiceFactory,
    TeamFactory,
)
from tests.utils import count_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

NEW_YORK = {"date_from": "2026-01-14", "date_to": "2026-01-15", "tz": "America/New_York"}
HEADERS = [
    "Offered",
    "Answered",
    "Abandoned",
    "Abandoned (all)",
    "Short abandons",
    "Service level %",
    "ASA (m:ss)",
    "AHT (m:ss)",
    "Transfers",
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def contact(
    service,
    queued: str,
    *,
    agent=None,
    answer=None,
    abandon=None,
    talk=None,
    wrap_up=None,
    channel="chat",
    transfers=0,
):
    """One interaction queued at ``queued`` (UTC), answered or abandoned after so many seconds,
    talked ``talk`` seconds and wrapped up ``wrap_up`` seconds."""
    queued_at = at(queued)
    answered_at = queued_at + timedelta(seconds=answer) if answer is not None else None
    abandoned_at = queued_at + timedelta(seconds=abandon) if abandon is not None else None
    ended_at = abandoned_at or (answered_at + timedelta(seconds=talk) if talk else None)
    return InteractionFactory(
        conversation__service=service,
        conversation__agent=agent,
        conversation__opened_at=queued_at,
        service=service,
        channel=channel,
        agent=agent,
        state=Interaction.State.ENDED if ended_at else Interaction.State.ACTIVE,
        started_at=queued_at,
        queued_at=queued_at,
        answered_at=answered_at,
        abandoned_at=abandoned_at,
        ended_at=ended_at,
        wrap_up_ended_at=ended_at + timedelta(seconds=wrap_up) if wrap_up else None,
        transfers=transfers,
    )


@pytest.fixture
def example(settings):
    """Two services, two agents, two New York days (UTC-5)."""
    settings.SHORT_ABANDON_SECONDS = 5
    support = ServiceFactory(name="Support", service_level_seconds=20)
    sales = ServiceFactory(name="Sales", service_level_seconds=30)
    ana = AgentProfileFactory(user__username="ana", display_name="Ana").user
    ben = AgentProfileFactory(user__username="ben", display_name="Ben").user
    TeamFactory(name="Front", services=[support])
    TeamFactory(name="Deals", services=[sales])
    rows = {
        # January 14 in New York
        1: contact(support, "2026-01-14T14:00:00", agent=ana, answer=10, talk=300, wrap_up=60),
        2: contact(support, "2026-01-14T14:10:00", agent=ben, answer=30, talk=200, wrap_up=40),
        3: contact(support, "2026-01-14T15:00:00", abandon=3, channel="sms"),
        4: contact(support, "2026-01-14T16:00:00", abandon=25),
        # 23:30 on the 14th in New York, the 15th in UTC
        5: contact(sales, "2026-01-15T04:30:00", agent=ana, answer=12, talk=100),
        # January 15 in New York
        6: contact(
            support, "2026-01-15T05:30:00", agent=ana, answer=20, talk=400, wrap_up=20,
            transfers=1,
        ),
        7: contact(sales, "2026-01-15T15:00:00", abandon=10, channel="sms"),
        8: contact(support, "2026-01-16T04:59:59", agent=ben, answer=8),  # still talking
        # Outside the two New York days
        9: contact(support, "2026-01-16T05:00:00", agent=ana, answer=1, talk=10),
        10: contact(support, "2026-01-14T04:59:59", agent=ana, answer=1, talk=10),
    }  # fmt: skip
    resolved = DispositionFactory(service=support, name="Resolved")
    escalated = DispositionFactory(service=support, name="Escalated")
    for number, disposition in ((1, resolved), (2, resolved), (6, escalated), (5, None)):
        Conversation.objects.filter(pk=rows[number].conversation_id).update(
            status=Conversation.Status.CLOSED,
            disposition=disposition,
            closed_at=rows[number].ended_at + timedelta(minutes=1),
        )
    return {"support": support, "sales": sales, "ana": ana, "ben": ben, "rows": rows}


class TableParser(HTMLParser):
    """The cells of ``#report-table``, row by row (header, body and total rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.inside = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("id", "report-table") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page_table(client, url: str, query: dict) -> list[list[str]]:
    response = client.get(url, query)
    assert response.status_code == 200, response.content[:2000]
    parser = TableParser()
    parser.feed(response.content.decode())
    return parser.rows


def csv_table(client, url: str, query: dict) -> list[list[str]]:
    response = client.get(url, {**query, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


REPORT = reverse("admin:reports")


def test_per_service_matches_the_hand_computed_figures(admin_client, example):
    rows = page_table(admin_client, REPORT, {**NEW_YORK, "by": "service"})

    assert rows == [
        ["Service", *HEADERS],
        # Sales: #5 answered in 12 s (≤ 30), #7 abandoned after 10 s (≥ 5: counted, ≤ 30: not late)
        ["Sales", "2", "1", "1", "1", "0", "100.0", "0:12", "1:40", "0"],
        # Support: #1 #2 #6 #8 answered (10, 30, 20, 8 s: three within 20 s), #4 abandoned after
        # 25 s (late), #3 after 3 s (short: left out). SL 3 / (4 + 1); ASA 68 / 4; AHT
        # (360 + 240 + 420) / 3 = 340 s; #8 still talking has no handle time yet.
        ["Support", "6", "4", "1", "2", "1", "60.0", "0:17", "5:40", "1"],
        ["Total", "8", "5", "2", "3", "1", "66.7", "0:16", "4:40", "1"],
    ]


def test_per_agent_matches_the_hand_computed_figures(admin_client, example):
    rows = page_table(admin_client, REPORT, {**NEW_YORK, "by": "agent"})

    assert rows[1:4] == [
        # Ana: #1 (10 s), #5 (12 s), #6 (20 s): all within; AHT (360 + 100 + 420) / 3 = 293 s
        ["Ana", "3", "3", "0", "0", "0", "100.0", "0:14", "4:53", "1"],
        # Ben: #2 (30 s, late), #8 (8 s); AHT only #2 (ended): 240 s
        ["Ben", "2", "2", "0", "0", "0", "50.0", "0:19", "4:00", "0"],
        # Nobody answered #3 (short), #4 (late abandon), #7
        ["No agent", "3", "0", "2", "3", "1", "0.0", "", "", "0"],
    ]


def test_days_follow_the_report_time_zone_not_utc(admin_client, example):
    new_york = page_table(admin_client, REPORT, {**NEW_YORK, "by": "day"})
    utc = page_table(admin_client, REPORT, {**NEW_YORK, "tz": "UTC", "by": "day"})

    assert new_york[1:3] == [
        ["2026-01-14", "5", "3", "1", "2", "1", "50.0", "0:17", "3:53", "0"],
        ["2026-01-15", "3", "2", "1", "1", "0", "100.0", "0:14", "7:00", "1"],
    ]
    # In UTC, #10 (04:59:59 on the 14th) is in, #5 (04:30) is on the 15th, #8 on the 16th.
    assert [row[:2] for row in utc[1:-1]] == [["2026-01-14", "5"], ["2026-01-15", "3"]]


def test_hours_channels_and_teams(admin_client, example):
    hours = page_table(admin_client, REPORT, {**NEW_YORK, "by": "hour"})
    assert [row[:2] for row in hours[1:-1]] == [
        ["00:00", "1"],
        ["09:00", "2"],
        ["10:00", "2"],
        ["11:00", "1"],
        ["23:00", "2"],
    ]
    channels = page_table(admin_client, REPORT, {**NEW_YORK, "by": "channel"})
    assert [row[:3] for row in channels[1:-1]] == [["Chat", "6", "5"], ["SMS", "2", "0"]]
    teams = page_table(admin_client, REPORT, {**NEW_YORK, "by": "team"})
    assert [row[:3] for row in teams[1:-1]] == [["Deals", "2", "1"], ["Front", "6", "4"]]


def test_without_short_abandons_configured_every_abandon_counts(admin_client, example, settings):
    settings.SHORT_ABANDON_SECONDS = 0
    rows = page_table(admin_client, REPORT, {**NEW_YORK, "by": "service"})
    assert rows[2] == ["Support", "6", "4", "2", "2", "0", "60.0", "0:17", "5:40", "1"]


def test_filters_narrow_to_a_service_and_a_channel(admin_client, example):
    rows = page_table(
        admin_client,
        REPORT,
        {**NEW_YORK, "by": "agent", "service": example["support"].pk, "channel": "chat"},
    )
    assert [row[:2] for row in rows[1:]] == [
        ["Ana", "2"],
        ["Ben", "2"],
        ["No agent", "1"],
        ["Total", "5"],
    ]


@pytest.mark.parametrize("by", ["service", "agent", "team", "channel", "day", "hour"])
def test_the_csv_is_the_table_on_the_page(admin_client, example, by):
    query = {**NEW_YORK, "by": by}
    page = page_table(admin_client, REPORT, query)
    assert csv_table(admin_client, REPORT, query) == page[:-1]  # the page adds a total row


def test_dispositions_report_and_its_csv(admin_client, example):
    url = reverse("admin:reports-dispositions")
    rows = page_table(admin_client, url, NEW_YORK)
    assert rows == [
        ["Service", "Disposition", "Conversations"],
        ["Sales", "No disposition", "1"],
        ["Support", "Escalated", "1"],
        ["Support", "Resolved", "2"],
    ]
    assert csv_table(admin_client, url, NEW_YORK) == rows


def test_bad_filters_are_a_400_naming_the_field(admin_client):
    response = admin_client.get(REPORT, {"tz": "Mars/Olympus"})
    assert response.status_code == 400
    assert "error-tz" in response.content.decode()
    response = admin_client.get(REPORT, {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert response.status_code == 400
    assert "error-date_to" in response.content.decode()
    response = admin_client.get(REPORT, {"date_from": "2020-01-01", "date_to": "2026-01-01"})
    assert "error-date_to" in response.content.decode()


def test_a_supervisor_sees_the_reports_of_their_services_only(
    client, supervisor, service_a, service_b
):
    contact(service_a, "2026-01-14T14:00:00", answer=5, talk=10)
    contact(service_b, "2026-01-14T14:00:00", answer=5, talk=10)
    client.force_login(supervisor)

    rows = page_table(client, REPORT, {**NEW_YORK, "by": "service"})

    assert [row[0] for row in rows[1:]] == ["Service A", "Total"]


@pytest.mark.parametrize("persona", ["agent_a", "agent_b", "outsider"])
def test_agents_never_reach_the_reports(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    for url in (REPORT, reverse("admin:reports-dispositions")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def _rows(by: str, count: int, offset: int) -> None:
    """``count`` more rows of the ``by`` report (one interaction per group)."""
    for n in range(offset, offset + count):
        service = ServiceFactory()
        agent = AgentProfileFactory().user
        if by == "team":
            TeamFactory(services=[service])
        day = datetime(2025, 11, 1, 15, tzinfo=UTC) + timedelta(days=n if by == "day" else 0)
        hour = timedelta(hours=n % 24 if by == "hour" else 0)
        contact(
            service,
            (day + hour).replace(tzinfo=None).isoformat(),
            agent=agent,
            answer=5,
            talk=60,
            wrap_up=10,
            channel=["chat", "sms", "email", "voice"][n % 4],
        )
        conversation = ConversationFactory(service=service, status=Conversation.Status.CLOSED)
        Conversation.objects.filter(pk=conversation.pk).update(
            closed_at=day, disposition=DispositionFactory(service=service)
        )


@pytest.mark.parametrize(
    "by", ["service", "agent", "team", "channel", "day", "hour", "dispositions"]
)
def test_every_report_runs_the_same_queries_at_2_and_50_rows(admin_client, by):
    url = reverse("admin:reports-dispositions") if by == "dispositions" else REPORT
    query = {"date_from": "2025-11-01", "date_to": "2025-12-31", "tz": "UTC"}
    if by != "dispositions":
        query["by"] = by
    _rows(by, 2, 0)
    admin_client.get(url, query)
    two = count_queries(lambda: admin_client.get(url, query))
    two_csv = count_queries(lambda: csv_table(admin_client, url, query))
    _rows(by, 48, 2)

    rows = page_table(admin_client, url, query)
    assert count_queries(lambda: admin_client.get(url, query)) == two
    assert count_queries(lambda: csv_table(admin_client, url, query)) == two_csv
    expected = {"channel": 4, "hour": 24}.get(by, 50)
    assert len(rows) - 1 - (0 if by == "dispositions" else 1) == expected
