"""Department KPIs for demands, with their definitions (shown on the page as written here).

A demand belongs to a period by the day it was dispatched; it belongs to its lead department.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimatong.accounts.models import Department
from yimatong.lib.workdays import Overrides, working_hours_between
from yimatong.services.models import Demand, DemandEvent, calendar_overrides

DONE = {Demand.Status.COMPLETED, Demand.Status.FOLLOW_UP, Demand.Status.ARCHIVED}

DEFINITIONS = [
    (_("办结率"), _("已办结（含待审核、待回访、已归档）÷ 已签收的工单")),
    (_("按时办结率"), _("在办理期限（含批准的延期和补充材料暂停）内办结 ÷ 已办结")),
    (_("满意率"), _("满意 + 基本满意 ÷ 已回访评价")),
    (_("回访率"), _("已回访评价 ÷ 审核通过的工单（待回访 + 已归档）")),
    (_("重办率"), _("重办过（审核不通过或评价不满意）的工单 ÷ 已办结")),
    (_("退单率"), _("被本部门退回过的工单 ÷ 分派给本部门的工单")),
    (_("平均响应时间"), _("分派到签收的工作小时数（工作日 9:00–17:00）的平均值")),
    (_("平均办理时间"), _("签收到办结的工作小时数的平均值")),
]


@dataclass
class DepartmentKpis:
    department: Any
    dispatched: int = 0
    signed: int = 0
    completed: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    reviewed: int = 0
    redone: int = 0
    returned: int = 0
    response_total: float = 0.0
    response_count: int = 0
    handling_total: float = 0.0
    handling_count: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part * 100 / whole, 1) if whole else None

    @property
    def completion_rate(self) -> float | None:
        return self._rate(self.completed, self.signed)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.on_time, self.completed)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)

    @property
    def follow_up_rate(self) -> float | None:
        return self._rate(self.rated, self.reviewed)

    @property
    def redo_rate(self) -> float | None:
        return self._rate(self.redone, self.completed)

    @property
    def return_rate(self) -> float | None:
        return self._rate(self.returned, self.dispatched)

    @property
    def avg_response_hours(self) -> float | None:
        return round(self.response_total / self.response_count, 1) if self.response_count else None

    @property
    def avg_handling_hours(self) -> float | None:
        return round(self.handling_total / self.handling_count, 1) if self.handling_count else None


def work_hours(
    dispatched_at: dt.datetime | None,
    signed_at: dt.datetime | None,
    completed_at: dt.datetime | None,
    overrides: Overrides | None = None,
) -> tuple[float | None, float | None]:
    """(response, handling): office hours from dispatch to signing and from signing to
    completion, in the park's time zone; None where a moment is missing."""
    tz = timezone.get_default_timezone()

    def hours(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
        if start is None or end is None:
            return None
        return working_hours_between(start.astimezone(tz), end.astimezone(tz), overrides)

    return hours(dispatched_at, signed_at), hours(signed_at, completed_at)


def fill_work_hours(demands: QuerySet[Demand], *, batch: int = 2000) -> int:
    """Recompute the stored working hours of these demands (after a bulk load or a change of
    the park's calendar); returns how many changed."""
    overrides = calendar_overrides()
    changed = 0
    rows = demands.order_by("pk").values_list(
        "pk", "dispatched_at", "signed_at", "completed_at", "response_hours", "handling_hours"
    )
    pending: list[Demand] = []
    for pk, dispatched, signed, completed, response, handling in rows.iterator(chunk_size=batch):
        new = work_hours(dispatched, signed, completed, overrides)
        if new != (response, handling):
            pending.append(Demand(pk=pk, response_hours=new[0], handling_hours=new[1]))
        if len(pending) >= batch:
            changed += Demand.objects.bulk_update(pending, ["response_hours", "handling_hours"])
            pending = []
    if pending:
        changed += Demand.objects.bulk_update(pending, ["response_hours", "handling_hours"])
    return changed


def department_kpis(demands: QuerySet[Demand], start: dt.date, end: dt.date) -> list[DepartmentKpis]:
    """KPIs per lead department for demands dispatched from ``start`` to ``end`` (inclusive),
    summed by the database (two queries whatever the number of demands)."""
    tz = timezone.get_current_timezone()
    # A range on the stored moment (indexed), not a per-row date conversion.
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    in_period = demands.filter(
        dispatched_at__gte=since, dispatched_at__lt=until, lead_department__isnull=False
    )
    done = Q(status__in=DONE, completed_at__isnull=False)
    signed = Q(signed_at__isnull=False)
    sums = (
        in_period.order_by()
        .values("lead_department")
        .annotate(
            dispatched=Count("pk"),
            signed=Count("pk", filter=signed),
            completed=Count("pk", filter=done),
            on_time=Count("pk", filter=done & Q(completed_on_time=True)),
            redone=Count("pk", filter=done & Q(redo_count__gt=0)),
            reviewed=Count(
                "pk", filter=Q(status__in=[Demand.Status.FOLLOW_UP, Demand.Status.ARCHIVED]) | ~Q(rating="")
            ),
            rated=Count("pk", filter=~Q(rating="")),
            satisfied=Count("pk", filter=Q(rating__in=[Demand.Rating.SATISFIED, Demand.Rating.BASIC])),
            response_total=Sum("response_hours", filter=signed & Q(dispatched_at__isnull=False)),
            response_count=Count("response_hours", filter=signed & Q(dispatched_at__isnull=False)),
            handling_total=Sum("handling_hours", filter=done & signed),
            handling_count=Count("handling_hours", filter=done & signed),
        )
    )
    # Returned by the department it was dispatched to (a return names the department).
    returned = dict(
        DemandEvent.objects.filter(demand__in=in_period, kind=DemandEvent.Kind.RETURNED)
        .annotate(by=KT("data__department"))
        .filter(by=F("demand__lead_department__name"))
        .order_by()
        .values_list("demand__lead_department")
        .annotate(n=Count("demand", distinct=True))
    )
    departments = {
        d.pk: d for d in Department.objects.filter(pk__in=[row["lead_department"] for row in sums])
    }
    rows = []
    for row in sums:
        pk = row.pop("lead_department")
        rows.append(
            DepartmentKpis(
                departments[pk],
                returned=returned.get(pk, 0),
                **{key: value or 0 for key, value in row.items()},
            )
        )
    return sorted(rows, key=lambda r: r.department.name)
