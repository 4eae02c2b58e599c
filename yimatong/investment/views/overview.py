"""What the bureau head looks at: supervision lights, the major-project schedule, the numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from yimatong.accounts import access
from yimatong.investment import numbers
from yimatong.investment.models import (
    EXITS,
    PIPELINE,
    InvestmentSettings,
    Light,
    Milestone,
    Problem,
    Project,
    Stage,
)
from yimatong.lib.http import query_without_page

SUPERVISED_SHOWN = 30


@access.staff_view
def supervision(request: HttpRequest) -> HttpResponse:
    """Lights per stage and team, the red and yellow projects, and the open 督办."""
    config = InvestmentSettings.current()
    now = timezone.now()
    yellow = now - dt.timedelta(days=config.yellow_after_days)
    red = now - dt.timedelta(days=config.red_after_days)
    visible = Project.objects.visible_to(request.user)
    projects = visible.exclude(stage__in=[*EXITS, Stage.FULL_CAPACITY])
    by_stage = _lights_by_stage(request.user, projects, yellow, red)
    grid = [
        (
            Stage(stage),
            [by_stage.get(stage, {}).get(light, 0) for light in (Light.GREEN, Light.YELLOW, Light.RED)],
        )
        for stage in PIPELINE[:-1]
    ]
    totals = [sum(row[i] for _stage, row in grid) for i in range(3)]
    attention = (
        projects.filter(last_progress_at__lte=yellow)
        .with_light(config, now)
        .select_related("owner", "organization")
        .prefetch_related("insiders")
        .order_by("last_progress_at", "pk")[:50]
    )
    supervised = visible.filter(supervised_at__isnull=False)
    return render(
        request,
        "investment/supervision.html",
        {
            "grid": grid,
            "totals": totals,
            "config": config,
            "attention": [
                (p, p.investor_label(request.user), (now - p.last_progress_at).days) for p in attention
            ],
            "supervised": supervised.select_related("owner", "supervised_by").order_by(
                "-supervised_at", "-pk"
            )[:SUPERVISED_SHOWN],
            "supervised_count": supervised.count(),
            "can_supervise": access.can_supervise(request.user),
        },
    )


def _lights_by_stage(user: Any, projects: Any, yellow: dt.datetime, red: dt.datetime) -> dict[str, dict]:
    """One pass over the open projects, counting by stage and time since progress (what the
    lights are made of; ``with_light`` says the same per project). Computed again when a project,
    a share, a user or the light settings changed, and at the latest after ``freshness.TTL``
    (lights also turn as days pass); read from the cache otherwise."""
    from yimatong.stats import freshness

    def build() -> dict[str, dict]:
        return {
            row["stage"]: row
            for row in projects.order_by()
            .values("stage")
            .annotate(
                green=Count("last_progress_at", filter=Q(last_progress_at__gt=yellow)),
                yellow=Count(
                    "last_progress_at", filter=Q(last_progress_at__gt=red, last_progress_at__lte=yellow)
                ),
                red=Count("last_progress_at", filter=Q(last_progress_at__lte=red)),
            )
        }

    return freshness.remember("lights", user, build)


MAJOR_PAGE_SIZE = 20


@access.staff_view
def major_schedule(request: HttpRequest) -> HttpResponse:
    """重大项目调度: the major projects, 20 a page, each with its milestones (planned vs actual)
    and problem list; how many are green, yellow and red, and a filter by light."""
    config = InvestmentSettings.current()
    today = timezone.localdate()
    now = timezone.now()
    major = Project.objects.visible_to(request.user).filter(is_major=True)
    lights = {
        light: major.with_light_of(light, config, now).count()
        for light in (Light.RED, Light.YELLOW, Light.GREEN)
    }
    light = request.GET.get("light", "")
    shown = major.with_light_of(light, config, now) if light in lights else major
    page = Paginator(shown.order_by("stage", "code").values_list("pk", flat=True), MAJOR_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    found = {
        p.pk: p
        for p in Project.objects.filter(pk__in=list(page.object_list))
        .with_light(config, now)
        .select_related("owner", "organization", "chain_node")
        .prefetch_related(
            "insiders",
            Prefetch("milestones", queryset=Milestone.objects.select_related("department")),
            Prefetch("problems", queryset=Problem.objects.select_related("department")),
        )
    }
    rows = []
    for pk in page.object_list:
        project = found[pk]
        milestones = list(project.milestones.all())
        problems = list(project.problems.all())
        rows.append(
            {
                "project": project,
                "investor": project.investor_label(request.user),
                "milestones": milestones,
                "problems": problems,
                "late_milestones": sum(1 for m in milestones if m.is_overdue(today)),
                "open_problems": sum(1 for p in problems if p.status != Problem.Status.RESOLVED),
                "overdue_problems": sum(1 for p in problems if p.is_overdue(today)),
            }
        )
    return render(
        request,
        "investment/major.html",
        {
            "rows": rows,
            "today": today,
            "page": page,
            "lights": [(value, Light(value).label, n) for value, n in lights.items()],
            "light": light if light in lights else "",
            "total": sum(lights.values()) + major.with_light_of(Light.NONE, config, now).count(),
            "query": query_without_page(request),
        },
    )


@access.staff_view
def numbers_page(request: HttpRequest) -> HttpResponse:
    period = numbers.Period.from_params(request.GET)
    projects = Project.objects.visible_to(request.user)
    data = numbers.summary_for(request.user, period=period)
    widest = max((row["reached"] for row in data["funnel"]), default=0) or 1
    return render(
        request,
        "investment/numbers.html",
        {
            **data,
            "period": period,
            "widest": widest,
            "years": range(timezone.localdate().year, timezone.localdate().year - 6, -1),
            "year": request.GET.get("year", ""),
            "active_count": projects.filter(~Q(stage__in=EXITS)).count(),
        },
    )
