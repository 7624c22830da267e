"""Reports as admin pages (``/admin/reports/``, ``/admin/reports/dispositions/``): a filter form,
a chart, the table, and the same table as CSV (``?format=csv``). Thin adapters over
``conversations.reports``; the table is built once and rendered both ways, so the CSV is what the
page shows."""

import csv
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from contactcenter.admin_site import AdminPage, admin_page_register
from contactcenter.exceptions import PermissionDenied

from . import reports
from .models import Channel, Service
from .permissions import VIEW_REPORTS, in_scope, may
from .templatetags.conversation_tags import seconds_duration

ROWS_PER_PAGE = 100


# --- The form ---------------------------------------------------------------------------------


def _default_zone(user) -> str:
    try:
        return user.agent_profile.time_zone or settings.TIME_ZONE
    except ObjectDoesNotExist:
        return settings.TIME_ZONE


class ReportForm(forms.Form):
    date_from = forms.DateField(label=gettext_lazy("From"), required=False)
    date_to = forms.DateField(label=gettext_lazy("To (inclusive)"), required=False)
    tz = forms.CharField(label=gettext_lazy("Time zone"), required=False, max_length=60)
    by = forms.ChoiceField(
        label=gettext_lazy("Per"), choices=reports.GroupBy.CHOICES, required=False
    )
    service = forms.ModelChoiceField(
        label=gettext_lazy("Service"), queryset=Service.objects.none(), required=False
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=[("", "—"), *Channel.choices], required=False
    )

    def __init__(self, *args: object, user, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["service"].queryset = in_scope(Service.objects.order_by("name"), user, "pk")
        self.fields["tz"].widget.attrs["placeholder"] = _default_zone(user)
        self.fields["date_from"].widget.input_type = "date"
        self.fields["date_to"].widget.input_type = "date"

    def clean_tz(self) -> zoneinfo.ZoneInfo:
        name = (self.cleaned_data.get("tz") or "").strip() or _default_zone(self.user)
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError(
                gettext("Unknown time zone “%(name)s”.") % {"name": name}
            ) from exc

    def clean(self) -> dict:
        data = super().clean()
        zone = data.get("tz")
        if zone is None:
            return data
        today = timezone.now().astimezone(zone).date()
        first = data.get("date_from") or today - timedelta(days=6)
        last = data.get("date_to") or today
        if last < first:
            self.add_error("date_to", gettext("The end date is before the start date."))
        elif (last - first).days + 1 > settings.REPORT_MAX_DAYS:
            self.add_error(
                "date_to",
                gettext("A report covers at most %(days)s days.")
                % {"days": settings.REPORT_MAX_DAYS},
            )
        data["period"] = reports.ReportPeriod(first=first, last=last, zone=zone)
        return data

    def filters(self) -> reports.ReportFilters:
        data = self.cleaned_data
        service = data.get("service")
        return reports.ReportFilters(
            period=data["period"],
            group_by=data.get("by") or reports.GroupBy.SERVICE,
            service_id=service.pk if service else None,
            channel=data.get("channel") or "",
        )


# --- Tables ----------------------------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _seconds(value: float | None) -> str:
    return "" if value is None else seconds_duration(value)


def _metric_cells(row: dict) -> list[str]:
    return [
        str(row["offered"]),
        str(row["answered"]),
        str(row["abandoned"]),
        str(row["abandoned"] + row["short_abandoned"]),
        str(row["short_abandoned"]),
        _percent(reports.service_level(row)),
        _seconds(row["asa"]),
        _seconds(row["aht"]),
        str(row["transfers"]),
    ]


def interval_table(rows: list[dict], group_by: str) -> Table:
    label = dict(reports.GroupBy.CHOICES)[group_by]
    return Table(
        headers=[
            str(label),
            gettext("Offered"),
            gettext("Answered"),
            gettext("Abandoned"),
            gettext("Abandoned (all)"),
            gettext("Short abandons"),
            gettext("Service level %"),
            gettext("ASA (m:ss)"),
            gettext("AHT (m:ss)"),
            gettext("Transfers"),
        ],
        rows=[[reports.row_label(row, group_by), *_metric_cells(row)] for row in rows],
    )


def disposition_table(rows: list[dict]) -> Table:
    return Table(
        headers=[gettext("Service"), gettext("Disposition"), gettext("Conversations")],
        rows=[
            [
                row["service__name"],
                row["disposition__name"] or gettext("No disposition"),
                str(row["conversations"]),
            ]
            for row in rows
        ],
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(table_rows, headers: list[str], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(headers)
        for row in table_rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Views ------------------------------------------------------------------------------------


def _require(request: HttpRequest) -> None:
    if not may(request.user, VIEW_REPORTS):
        raise PermissionDenied(gettext("You do not have permission to see reports."))


def _context(request: HttpRequest, title: str, form: ReportForm) -> dict:
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    return {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,  # the report needs the width
        "title": title,
        "form": form,
        "csv_query": query.urlencode(),
        "report_links": [
            (gettext("Intervals"), "admin:reports"),
            (gettext("Dispositions"), "admin:reports-dispositions"),
        ],
    }


def interval_report(request: HttpRequest) -> HttpResponse:
    """Offered, answered, abandoned, service level, ASA, AHT and transfers per service, agent,
    team, channel, day or hour."""
    _require(request)
    form = ReportForm(request.GET, user=request.user)
    title = gettext("Reports")
    if not form.is_valid():
        return TemplateResponse(
            request, "admin/reports/report.html", _context(request, title, form), status=400
        )
    filters = form.filters()
    rows = reports.report_rows(user=request.user, filters=filters)
    if request.GET.get("format") == "csv":
        table = interval_table([], filters.group_by)
        cells = ([reports.row_label(r, filters.group_by), *_metric_cells(r)] for r in rows)
        return _csv_response(cells, table.headers, f"report-{filters.group_by}.csv")
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    table = interval_table(list(page.object_list), filters.group_by)
    totals = reports.report_totals(user=request.user, filters=filters)
    context = _context(request, title, form)
    context.update(
        table=table,
        totals=[gettext("Total"), *_metric_cells(totals)],
        page=page,
        period=filters.period,
        chart={
            "labels": [row[0] for row in table.rows],
            "series": [
                {"label": table.headers[1], "data": [int(row[1]) for row in table.rows]},
                {"label": table.headers[2], "data": [int(row[2]) for row in table.rows]},
                {"label": table.headers[3], "data": [int(row[3]) for row in table.rows]},
            ],
            "line": {
                "label": table.headers[6],
                "data": [float(row[6]) if row[6] else None for row in table.rows],
            },
        },
    )
    return TemplateResponse(request, "admin/reports/report.html", context)


def disposition_report(request: HttpRequest) -> HttpResponse:
    """Conversations closed in the period, per service and disposition."""
    _require(request)
    form = ReportForm(request.GET, user=request.user)
    title = gettext("Dispositions")
    if not form.is_valid():
        return TemplateResponse(
            request, "admin/reports/report.html", _context(request, title, form), status=400
        )
    filters = form.filters()
    rows = reports.disposition_rows(user=request.user, filters=filters)
    if request.GET.get("format") == "csv":
        table = disposition_table([])
        return _csv_response(
            (disposition_table([row]).rows[0] for row in rows),
            table.headers,
            "report-dispositions.csv",
        )
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    table = disposition_table(list(page.object_list))
    context = _context(request, title, form)
    context.update(
        table=table,
        page=page,
        period=filters.period,
        hide_group_by=True,
        chart={
            "labels": [f"{row[0]} · {row[1]}" for row in table.rows],
            "series": [{"label": table.headers[2], "data": [int(row[2]) for row in table.rows]}],
        },
    )
    return TemplateResponse(request, "admin/reports/report.html", context)


def register_reports() -> None:
    admin_page_register(
        AdminPage(
            route="reports/",
            view=interval_report,
            name="reports",
            title=gettext_lazy("Reports"),
            permission=VIEW_REPORTS,
        )
    )
    admin_page_register(
        AdminPage(
            route="reports/dispositions/",
            view=disposition_report,
            name="reports-dispositions",
            title=gettext_lazy("Dispositions report"),
            permission=VIEW_REPORTS,
            listed=False,
        )
    )
