"""The numbers the bureau asks for, computed from the project events (never from counters).

Definitions (the page and the API say the same):

- **Funnel**: for each pipeline stage, the projects that ever reached it (the furthest stage in
  a project's history counts, so a project that went back is still counted where it got to);
  conversion is the share of those that reached the next stage.
- **Signed / landed investment**: the sum of what signing and registration events counted,
  by the month of the event: the first signing counts the contract, later upgrades only their
  increment (see ``actions.projects``). Grouped by month, chain segment (top level of 1+3+N),
  source channel or promoter.
- **履约率** (performance rate): of the projects first signed in the period, the share that
  reached 注册落地; **开工率** and **投产率** the same for 开工建设 and 投产.
- **资金到位率**: capital in place (all arrivals) over the contracted investment of those projects.
- **Median time in stage**: over completed stays (a project entered the stage and left it),
  the median of the days it stayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, F, IntegerField, Max, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from yimatong.directory.models import ChainNode
from yimatong.investment import rollups
from yimatong.investment.models import PIPELINE, STAGE_INDEX, CapitalArrival, Project, ProjectEvent, Stage

ZERO = Decimal("0")


@dataclass(frozen=True)
class Period:
    start: dt.date | None = None  # inclusive
    end: dt.date | None = None  # inclusive

    @classmethod
    def from_params(cls, params: Any) -> Period:
        """``year=2026``, or ``start`` / ``end`` as ISO dates; malformed values mean no bound."""

        def parse(value: Any) -> dt.date | None:
            try:
                return dt.date.fromisoformat(str(value)) if value else None
            except ValueError:
                return None

        year = str(params.get("year") or "")
        if year.isdigit():
            return cls(dt.date(int(year), 1, 1), dt.date(int(year), 12, 31))
        return cls(parse(params.get("start")), parse(params.get("end")))

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=zone) if self.start else None
        end = (
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
            if self.end
            else None
        )
        return start, end

    def events(self, qs: QuerySet) -> QuerySet:
        start, end = self.bounds()
        if start:
            qs = qs.filter(at__gte=start)
        if end:
            qs = qs.filter(at__lt=end)
        return qs


def _stage_index() -> Case:
    return Case(
        *[When(to_stage=stage.value, then=Value(index)) for index, stage in enumerate(PIPELINE)],
        default=Value(-1),
        output_field=IntegerField(),
    )


def funnel(projects: QuerySet) -> list[dict[str, Any]]:
    """Per pipeline stage: projects that reached it, and the conversion to the next stage (%)."""
    furthest = (
        ProjectEvent.objects.filter(
            project__in=projects.values("pk"), kind__in=[ProjectEvent.Kind.CREATED, ProjectEvent.Kind.STAGE]
        )
        .exclude(to_stage="")
        .values("project")
        .annotate(furthest=Max(_stage_index()))
        .values_list("furthest", flat=True)
    )
    at_least = [0] * len(PIPELINE)
    for index in furthest:
        for i in range(index + 1):
            at_least[i] += 1
    return funnel_rows(at_least)


def funnel_rows(at_least: list[int]) -> list[dict[str, Any]]:
    rows = []
    for i, stage in enumerate(PIPELINE):
        following = at_least[i + 1] if i + 1 < len(PIPELINE) else None
        rows.append(
            {
                "stage": stage.value,
                "label": str(stage.label),
                "reached": at_least[i],
                "conversion": _percent(following, at_least[i]) if following is not None else None,
            }
        )
    return rows


def _percent(part: Any, whole: Any) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def _roots() -> dict[int, ChainNode]:
    nodes = {node.pk: node for node in ChainNode.objects.all()}
    roots: dict[int, ChainNode] = {}
    for pk, node in nodes.items():
        root, seen = node, {pk}
        while root.parent_id and root.parent_id in nodes and root.parent_id not in seen:
            seen.add(root.parent_id)
            root = nodes[root.parent_id]
        roots[pk] = root
    return roots


GROUPS = ("month", "chain", "source", "owner")


def investment(projects: QuerySet, *, period: Period, group: str = "month") -> list[dict[str, Any]]:
    """Signed and landed investment (万元) in the period, grouped by ``month``, ``chain``,
    ``source`` or ``owner``."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}")
    events = period.events(ProjectEvent.objects.filter(project__in=projects.values("pk"))).filter(
        Q(signed_amount__gt=0) | Q(landed_amount__gt=0)
    )
    if group == "month":
        by = events.annotate(key=TruncMonth("at", tzinfo=timezone.get_current_timezone())).values("key")
    else:
        by = events.values(
            key=F(
                {
                    "chain": "project__chain_node",
                    "source": "project__source_channel",
                    "owner": "project__owner",
                }[group]
            )
        )
    raw = {
        row["key"]: (row["signed"] or ZERO, row["landed"] or ZERO)
        for row in by.annotate(signed=Sum("signed_amount"), landed=Sum("landed_amount")).order_by()
    }
    if group == "month":
        raw = {key.strftime("%Y-%m"): value for key, value in raw.items()}
    return investment_rows(group, raw)


def investment_rows(group: str, raw: dict[Any, tuple[Decimal, Decimal]]) -> list[dict[str, Any]]:
    """Rows of ``investment`` from the sums by raw key: a month ("2026-03"), a chain node id, a
    channel or a user id."""
    if group == "month":
        return [
            {"key": month, "label": month, "signed": signed, "landed": landed}
            for month, (signed, landed) in sorted(raw.items())
        ]
    if group == "chain":
        roots = _roots()
        totals: dict[str, dict[str, Any]] = {}
        for node_id, (signed, landed) in raw.items():
            root = roots.get(node_id) if node_id else None
            key = root.code if root else ""
            row = totals.setdefault(
                key,
                {"key": key, "label": root.display_name() if root else "—", "signed": ZERO, "landed": ZERO},
            )
            row["signed"] += signed
            row["landed"] += landed
        return sorted(totals.values(), key=lambda r: (-r["signed"], r["key"]))
    if group == "source":
        from yimatong.investment.models import Channel

        rows = [
            {"key": channel, "label": str(Channel(channel).label), "signed": signed, "landed": landed}
            for channel, (signed, landed) in raw.items()
        ]
        return sorted(rows, key=lambda r: (-r["signed"], r["key"]))
    from yimatong.accounts.models import User

    users = {u.pk: u for u in User.objects.filter(pk__in=list(raw)).only("pk", "name", "username")}
    rows = [
        {
            "key": users[pk].username,
            "label": users[pk].name or users[pk].username,
            "signed": signed,
            "landed": landed,
        }
        for pk, (signed, landed) in raw.items()
        if pk in users
    ]
    return sorted(rows, key=lambda r: (-r["signed"], r["key"]))


def rates(projects: QuerySet, *, period: Period) -> dict[str, Any]:
    """履约率, 开工率, 投产率 and 资金到位率 of the projects first signed in the period.

    One pass over the events finds, per project, its first signing and its furthest stage."""
    per_project = (
        ProjectEvent.objects.filter(project__in=projects.values("pk"))
        .values("project")
        .annotate(
            first=Min("at", filter=Q(signed_amount__gt=0)),
            furthest=Max(
                _stage_index(), filter=Q(kind__in=[ProjectEvent.Kind.CREATED, ProjectEvent.Kind.STAGE])
            ),
        )
        .filter(first__isnull=False)
    )
    start, end = period.bounds()
    if start:
        per_project = per_project.filter(first__gte=start)
    if end:
        per_project = per_project.filter(first__lt=end)
    furthest = dict(per_project.values_list("project", "furthest"))
    contracted, arrived = ZERO, ZERO
    ids = list(furthest)
    for chunk in (ids[i : i + 2000] for i in range(0, len(ids), 2000)):
        contracted += (
            Project.objects.filter(pk__in=chunk).aggregate(t=Sum("contracted_investment"))["t"] or ZERO
        )
        arrived += CapitalArrival.objects.filter(project__in=chunk).aggregate(t=Sum("amount"))["t"] or ZERO
    by_furthest: dict[int, int] = defaultdict(int)
    for index in furthest.values():
        by_furthest[-1 if index is None else index] += 1
    return rates_row(by_furthest, contracted, arrived)


def rates_row(by_furthest: dict[int, int], contracted: Decimal, arrived: Decimal) -> dict[str, Any]:
    """``rates`` from the cohort's projects counted by the furthest stage they reached."""
    signed = sum(by_furthest.values())

    def share(stage: Stage) -> Decimal | None:
        return _percent(sum(n for index, n in by_furthest.items() if index >= STAGE_INDEX[stage]), signed)

    return {
        "signed_projects": signed,
        "performance_rate": share(Stage.REGISTERED),
        "construction_rate": share(Stage.CONSTRUCTION),
        "production_rate": share(Stage.PRODUCTION),
        "contracted_investment": contracted,
        "capital_in_place": arrived,
        "capital_rate": _percent(arrived, contracted) if contracted else None,
    }


_STAYS_SQL = {
    # Each stay: the stage entered and the days until the project's next stage event.
    "postgresql": """
        SELECT to_stage, COUNT(days), percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
        FROM (
            SELECT to_stage,
                   EXTRACT(EPOCH FROM (LEAD(at) OVER (PARTITION BY project_id ORDER BY at, id) - at)) / 86400.0
                   AS days
            FROM investment_projectevent
            WHERE kind IN ('created', 'stage') AND to_stage <> '' AND project_id IN ({projects})
        ) stays
        WHERE days IS NOT NULL
        GROUP BY to_stage
    """,
    "sqlite": """
        SELECT to_stage, days FROM (
            SELECT to_stage,
                   julianday(LEAD(at) OVER (PARTITION BY project_id ORDER BY at, id)) - julianday(at) AS days
            FROM investment_projectevent
            WHERE kind IN ('created', 'stage') AND to_stage <> '' AND project_id IN ({projects})
        )
        WHERE days IS NOT NULL
    """,
}


def median_days_in_stage(projects: QuerySet) -> list[dict[str, Any]]:
    """Per pipeline stage, the median of completed stays in days (None when none completed).

    The stays are computed by the database (a window over each project's events); PostgreSQL
    also takes the median (percentile_cont), SQLite hands back plain numbers of days."""
    inner, params = projects.values("pk").query.sql_with_params()
    vendor = connection.vendor if connection.vendor in _STAYS_SQL else "sqlite"
    medians: dict[str, tuple[int, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_STAYS_SQL[vendor].format(projects=inner), params)
        if vendor == "postgresql":
            medians = {stage: (count, value) for stage, count, value in cursor.fetchall()}
        else:
            days: dict[str, list[float]] = defaultdict(list)
            for stage, value in cursor.fetchall():
                days[stage].append(value)
            medians = {stage: (len(values), statistics.median(values)) for stage, values in days.items()}
    return median_rows(medians)


def median_rows(medians: dict[str, tuple[int, Any]]) -> list[dict[str, Any]]:
    rows = []
    for stage in PIPELINE:
        count, value = medians.get(stage.value, (0, None))
        rows.append(
            {
                "stage": stage.value,
                "label": str(stage.label),
                "stays": count,
                "median_days": Decimal(str(round(value, 6))).quantize(Decimal("0.1"))
                if value is not None
                else None,
            }
        )
    return rows


def summary_for(user: Any, *, period: Period) -> dict[str, Any]:
    """``summary`` of the projects ``user`` may see, cached until the next event or capital
    arrival (the figures stay computed from the events; repeat requests cost one lookup)."""
    from django.core.cache import cache
    from django.utils import translation

    from yimatong.accounts import access

    role = access.role_of(user) or "none"
    scope = role if role in ("admin", "leader") else f"{role}-{user.pk}-{getattr(user, 'team_id', '')}"
    marker = (
        ProjectEvent.objects.aggregate(last=Max("pk"))["last"],
        CapitalArrival.objects.aggregate(last=Max("pk"))["last"],
        Project.objects.aggregate(last=Max("updated_at"))["last"],
    )
    raw = f"{scope}|{period.start}|{period.end}|{marker}|{translation.get_language()}"
    key = "numbers:v1:" + hashlib.sha256(raw.encode()).hexdigest()
    cached = cache.get(key)
    if cached is None:
        cached = scoped_summary(rollups.Scope.for_user(user), period=period)
        cache.set(key, cached, 600)
    return cached


def summary(projects: QuerySet, *, period: Period) -> dict[str, Any]:
    """The figures of ``projects`` recomputed from their events (what the tallies must equal)."""
    return {
        "funnel": funnel(projects),
        **{f"by_{group}": investment(projects, period=period, group=group) for group in GROUPS},
        "rates": rates(projects, period=period),
        "time_in_stage": median_days_in_stage(projects),
    }


# The same figures from the read aggregates ------------------------------------------------------------


def scoped_summary(scope: rollups.Scope, *, period: Period, stays: bool = True) -> dict[str, Any]:
    """``summary`` of the projects in ``scope``, read from the tallies (``investment.rollups``)."""
    data = {
        "funnel": funnel_rows(rollups.funnel_counts(scope)),
        **{f"by_{group}": scoped_investment(scope, period=period, group=group) for group in GROUPS},
        "rates": scoped_rates(scope, period=period),
    }
    if stays:
        data["time_in_stage"] = median_rows(rollups.stay_medians(scope))
    return data


def scoped_investment(scope: rollups.Scope, *, period: Period, group: str) -> list[dict[str, Any]]:
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}")
    sums = rollups.flow(scope, period.start, period.end, "day" if group == "month" else group)
    raw: dict[Any, tuple[Decimal, Decimal]] = {}
    for key, (signed, landed) in sums.items():
        if group == "month":
            key = key.strftime("%Y-%m")
        previous = raw.get(key, (ZERO, ZERO))
        raw[key] = (previous[0] + rollups.amount(signed), previous[1] + rollups.amount(landed))
    return investment_rows(group, {k: v for k, v in raw.items() if v != (ZERO, ZERO)})


def scoped_rates(scope: rollups.Scope, *, period: Period) -> dict[str, Any]:
    cohort = rollups.cohorts(scope, ["first_signed"], period.start, period.end, by_day=False)
    by_furthest = {furthest: n for (_name, furthest), (n, _p, _c, _k) in cohort.items() if n}
    contracted = sum((rollups.amount(c) for (_n, _p, c, _k) in cohort.values()), ZERO)
    arrived = sum((rollups.amount(k) for (_n, _p, _c, k) in cohort.values()), ZERO)
    return rates_row(by_furthest, contracted, arrived)
