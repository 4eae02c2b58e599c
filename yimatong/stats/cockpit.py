"""The leaders' cockpit (领导驾驶舱): statistics, investment, the chain map and services on one
page, filtered by period and segment; each chart's data as Excel; a printable monthly bulletin;
and the exports for the city: the weekly 招商活跃指数 feed and the project list.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from urllib.parse import quote

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncWeek
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from yimatong.accounts import access
from yimatong.directory.models import ChainNode
from yimatong.investment.models import Activity, Project, ProjectEvent, SiteVisit, Stage
from yimatong.stats import compute, panels
from yimatong.stats.forms import period_choices

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(request: HttpRequest) -> panels.Filters:
    latest = compute.latest_period() or (timezone.localdate().year, 2)
    try:
        year = int(request.GET.get("year") or latest[0])
        month = int(request.GET.get("month") or latest[1])
    except ValueError:
        year, month = latest
    if not (2000 <= year <= 2100 and 2 <= month <= 12):
        year, month = latest
    codes = {n.code for n in panels.segments()}
    segment = request.GET.get("segment") or ""
    return panels.Filters(year, month, segment if segment in codes else "")


@access.console_view
def cockpit(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_use_cockpit(request.user))
    filters = _filters(request)
    charts, computed_at = panels.fresh_charts(filters, request.user)
    sections = [
        (key, title, [c for c in charts if c.panel == key]) for key, (title, _build) in panels.PANELS.items()
    ]
    computed = filters.computed()
    return render(
        request,
        "stats/cockpit.html",
        {
            "filters": filters,
            "sections": sections,
            "headline": [(code, computed.results[code]) for code in panels.HEADLINE],
            "preliminary": computed.preliminary,
            "segments": panels.segments(),
            "months": period_choices(),
            "years": range(timezone.localdate().year, 2019, -1),
            "locale": "EN" if translation.get_language() == "en" else "ZH",
            "computed_at": computed_at,
        },
    )


@access.console_view
def bulletin(request: HttpRequest) -> HttpResponse:
    """One printable page: the month's statistics, investment and services in Chinese."""
    access.deny_unless(access.can_use_cockpit(request.user))
    filters = _filters(request)
    with translation.override("zh-hans"):
        found, computed_at = panels.fresh_charts(filters, request.user)
        charts = {c.key: c for c in found}
        computed = filters.computed()
        return render(
            request,
            "stats/bulletin.html",
            {
                "filters": filters,
                "charts": charts,
                "headline": [(code, computed.results[code]) for code in panels.HEADLINE],
                "preliminary": computed.preliminary,
                "today": timezone.localdate(),
                "computed_at": computed_at,
            },
        )


def _workbook(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title[:31].replace("/", "／").replace(":", "："))
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = 18
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _download(content: bytes | str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@access.console_view
def panel_data(request: HttpRequest, panel: str) -> HttpResponse:
    """A panel's charts as Excel (one sheet per chart), or one chart with ``?chart=key``."""
    access.deny_unless(access.can_use_cockpit(request.user))
    if panel not in panels.PANELS and panel != "all":
        raise Http404
    filters = _filters(request)
    charts = panels.all_charts(filters, request.user, only=None if panel == "all" else panel)
    wanted = request.GET.get("chart")
    if wanted:
        charts = [c for c in charts if c.key == wanted]
        if not charts:
            raise Http404
    content = _workbook([(c.title, c.columns, c.rows) for c in charts])
    name = charts[0].title if wanted else str(panels.PANELS.get(panel, (_("驾驶舱"),))[0])
    return _download(content, f"{name}-{filters.label}.xlsx", XLSX)


# Exports for the city -----------------------------------------------------------------------------

ACTIVITY_COLUMNS = [
    ("week", "周（周一）"),
    ("signed", "签约项目数"),
    ("signed_amount", "签约金额（万元）"),
    ("started", "开工项目数"),
    ("started_amount", "开工项目计划投资（万元）"),
    ("visits_made", "外出拜访次数"),
    ("visits_received", "接待来访次数"),
    ("events", "招商活动场次"),
    ("publicity", "宣传报道篇数"),
]


def activity_rows(start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The weekly 招商活跃指数 feed: per ISO week (Monday) from ``start`` to ``end``:
    签约 (first signings and their counted amount), 开工 (projects entering 开工建设, with their
    planned investment), 外出拜访 (visits and leader-led visits made), 接待来访 (site visits
    received that took place), 招商活动 (meetings held), 宣传报道 (portal articles published)."""
    from yimatong.wechat.models import PortalArticle

    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    weeks: dict[dt.date, dict[str, Any]] = {}

    def week(day: dt.date) -> dict[str, Any]:
        monday = day - dt.timedelta(days=day.weekday())
        return weeks.setdefault(monday, {key: 0 for key, _title in ACTIVITY_COLUMNS} | {"week": monday})

    events = ProjectEvent.objects.filter(at__gte=since, at__lt=until)
    for row in (
        # The amount condition spelt as the partial index has it (SQLite matches it by its text).
        events.filter(Q(signed_amount__gt=0) | Q(landed_amount__gt=0))
        .filter(signed_amount__gt=0)
        .annotate(w=TruncWeek("at", tzinfo=zone))
        .values("w")
        .annotate(n=Count("project", distinct=True), amount=Sum("signed_amount"))
    ):
        bucket = week(row["w"].date())
        bucket["signed"] += row["n"]
        bucket["signed_amount"] += row["amount"] or 0
    for row in (
        events.filter(kind=ProjectEvent.Kind.STAGE, to_stage=Stage.CONSTRUCTION)
        .annotate(w=TruncWeek("at", tzinfo=zone))
        .values("w")
        .annotate(n=Count("project", distinct=True), amount=Sum("project__planned_investment"))
    ):
        bucket = week(row["w"].date())
        bucket["started"] += row["n"]
        bucket["started_amount"] += row["amount"] or 0
    activities = Activity.objects.filter(
        occurred_on__gte=start,
        occurred_on__lte=end,
        kind__in=[Activity.Kind.VISIT, Activity.Kind.LEADER_VISIT, Activity.Kind.MEETING],
    )
    for row in activities.order_by().values("occurred_on", "kind").annotate(n=Count("pk")):  # per day
        bucket = week(row["occurred_on"])
        if row["kind"] in (Activity.Kind.VISIT, Activity.Kind.LEADER_VISIT):
            bucket["visits_made"] += row["n"]
        elif row["kind"] == Activity.Kind.MEETING:
            bucket["events"] += row["n"]
    for row in (
        SiteVisit.objects.filter(starts_at__gte=since, starts_at__lt=until)
        .exclude(status="cancelled")
        .annotate(w=TruncWeek("starts_at", tzinfo=zone))
        .order_by()
        .values("w")
        .annotate(n=Count("pk"))
    ):
        week(row["w"].date())["visits_received"] += row["n"]
    for row in (
        PortalArticle.objects.filter(is_published=True, created_at__gte=since, created_at__lt=until)
        .annotate(w=TruncWeek("created_at", tzinfo=zone))
        .order_by()
        .values("w")
        .annotate(n=Count("pk"))
    ):
        week(row["w"].date())["publicity"] += row["n"]
    monday = start - dt.timedelta(days=start.weekday())
    while monday <= end:
        week(monday)
        monday += dt.timedelta(days=7)
    return [weeks[k] for k in sorted(weeks)]


def _range(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        end = dt.date.fromisoformat(request.GET["end"]) if request.GET.get("end") else today
        start = (
            dt.date.fromisoformat(request.GET["start"])
            if request.GET.get("start")
            else end - dt.timedelta(weeks=12)
        )
    except ValueError:
        end, start = today, today - dt.timedelta(weeks=12)
    if start > end or (end - start).days > 3700:
        start = end - dt.timedelta(weeks=12)
    return start, end


def _table(
    columns: list[tuple[str, str]], rows: list[dict[str, Any]], fmt: str, filename: str
) -> HttpResponse:
    titles = [title for _key, title in columns]
    values = [
        [row[key].isoformat() if isinstance(row[key], dt.date) else row[key] for key, _t in columns]
        for row in rows
    ]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(titles)
        writer.writerows(values)
        return _download("\ufeff" + out.getvalue(), f"{filename}.csv", "text/csv; charset=utf-8")
    if fmt == "xlsx":
        return _download(_workbook([(filename, titles, values)]), f"{filename}.xlsx", XLSX)
    raise Http404


@access.console_view
def activity_feed(request: HttpRequest, fmt: str) -> HttpResponse:
    access.deny_unless(access.can_use_cockpit(request.user))
    start, end = _range(request)
    return _table(ACTIVITY_COLUMNS, activity_rows(start, end), fmt, f"招商活跃指数-{start}-{end}")


PROJECT_COLUMNS = [
    ("code", "项目编号"),
    ("name", "项目名称"),
    ("segment", "产业链板块"),
    ("stage", "阶段"),
    ("is_major", "重大项目"),
    ("planned_investment", "计划投资（万元）"),
    ("contracted_investment", "合同投资（万元）"),
    ("signed_on", "签约日期"),
    ("owner", "负责人"),
    ("last_progress_at", "最近进展"),
]


@access.console_view
def project_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """The project list for the city, in the documented columns (docs/exports.md)."""
    access.deny_unless(access.can_use_cockpit(request.user))
    segment = _segment_names()
    projects = (
        Project.objects.visible_to(request.user)
        .order_by("code")
        .values_list(
            "code",
            "name",
            "chain_node_id",
            "stage",
            "is_major",
            "planned_investment",
            "contracted_investment",
            "signed_on",
            "owner__name",
            "owner__username",
            "last_progress_at",
        )
    )
    stages = {value: str(label) for value, label in Stage.choices}
    rows = []
    for (
        code,
        name,
        node,
        stage,
        is_major,
        planned,
        contracted,
        signed_on,
        owner_name,
        owner_username,
        progress,
    ) in projects.iterator(chunk_size=2000):
        rows.append(
            {
                "code": code,
                "name": name,
                "segment": segment.get(node, ""),
                "stage": stages.get(stage, stage),
                "is_major": "是" if is_major else "否",
                "planned_investment": planned,
                "contracted_investment": contracted,
                "signed_on": signed_on,
                "owner": owner_name or owner_username or "",  # User.display_name
                "last_progress_at": timezone.localtime(progress).date() if progress else None,
            }
        )
    return _table(PROJECT_COLUMNS, rows, fmt, f"项目清单-{timezone.localdate()}")


def _segment_names() -> dict[int, str]:
    """Each chain node's segment: the name of the first node up its parents that is a top-level
    node (or that has no parent), read once for the whole list."""
    nodes = {
        pk: (parent, name) for pk, parent, name in ChainNode.objects.values_list("pk", "parent_id", "name")
    }
    roots = {n.pk for n in panels.segments()}
    names = {}
    for pk in nodes:
        node, seen = pk, set()
        while nodes[node][0] and node not in roots and nodes[node][0] in nodes and node not in seen:
            seen.add(node)
            node = nodes[node][0]
        names[pk] = nodes[node][1]
    return names
