"""Department KPIs for demands, with their definitions (shown on the page as written here).

A demand belongs to a period by the day it was dispatched; it belongs to its lead department.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimatong.lib.workdays import working_hours_between
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
    response_hours: list[float] = field(default_factory=list)
    handling_hours: list[float] = field(default_factory=list)

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
        return round(sum(self.response_hours) / len(self.response_hours), 1) if self.response_hours else None

    @property
    def avg_handling_hours(self) -> float | None:
        return round(sum(self.handling_hours) / len(self.handling_hours), 1) if self.handling_hours else None


def department_kpis(demands: QuerySet[Demand], start: dt.date, end: dt.date) -> list[DepartmentKpis]:
    """KPIs per lead department for demands dispatched from ``start`` to ``end`` (inclusive)."""
    overrides = calendar_overrides()
    tz = timezone.get_current_timezone()
    rows: dict[int, DepartmentKpis] = {}
    # A range on the stored moment (indexed), not a per-row date conversion.
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    in_period = demands.filter(
        dispatched_at__gte=since, dispatched_at__lt=until, lead_department__isnull=False
    ).select_related("lead_department")
    returned_by: dict[int, set[str]] = {}
    for event in DemandEvent.objects.filter(demand__in=in_period, kind=DemandEvent.Kind.RETURNED).values(
        "demand_id", "data"
    ):
        returned_by.setdefault(event["demand_id"], set()).add(event["data"].get("department", ""))
    for demand in in_period:
        row = rows.setdefault(demand.lead_department_id, DepartmentKpis(demand.lead_department))
        row.dispatched += 1
        if demand.lead_department.name in returned_by.get(demand.pk, set()):
            row.returned += 1
        if demand.signed_at:
            row.signed += 1
            if demand.dispatched_at:
                row.response_hours.append(
                    working_hours_between(
                        demand.dispatched_at.astimezone(tz), demand.signed_at.astimezone(tz), overrides
                    )
                )
        if demand.status in DONE and demand.completed_at:
            row.completed += 1
            row.on_time += 1 if demand.completed_on_time else 0
            row.redone += 1 if demand.redo_count else 0
            if demand.signed_at:
                row.handling_hours.append(
                    working_hours_between(
                        demand.signed_at.astimezone(tz), demand.completed_at.astimezone(tz), overrides
                    )
                )
        if demand.status in (Demand.Status.FOLLOW_UP, Demand.Status.ARCHIVED) or demand.rating:
            row.reviewed += 1
        if demand.rating:
            row.rated += 1
            row.satisfied += 1 if demand.rating in (Demand.Rating.SATISFIED, Demand.Rating.BASIC) else 0
    return sorted(rows.values(), key=lambda r: r.department.name)
