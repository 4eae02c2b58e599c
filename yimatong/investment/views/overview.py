"""What the bureau head looks at: supervision lights, the major-project schedule, the numbers."""

from __future__ import annotations

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


@access.staff_view
def supervision(request: HttpRequest) -> HttpResponse:
    """Lights per stage and team, the red and yellow projects, and the open 督办."""
    config = InvestmentSettings.current()
    projects = Project.objects.visible_to(request.user).with_light(config).exclude(stage__in=EXITS)
    by_stage = {
        (row["stage"], row["light"]): row["n"]
        for row in projects.order_by().values("stage", "light").annotate(n=Count("pk"))
    }
    grid = [
        (Stage(stage), [by_stage.get((stage, light), 0) for light in (Light.GREEN, Light.YELLOW, Light.RED)])
        for stage in PIPELINE[:-1]
    ]
    totals = [sum(row[i] for _stage, row in grid) for i in range(3)]
    attention = (
        projects.filter(light__in=[Light.RED, Light.YELLOW])
        .select_related("owner", "organization")
        .prefetch_related("insiders")
        .order_by("last_progress_at")[:50]
    )
    supervised = projects.filter(supervised_at__isnull=False).select_related("owner", "supervised_by")
    now = timezone.now()
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
            "supervised": supervised,
            "can_supervise": access.can_supervise(request.user),
        },
    )


@access.staff_view
def major_schedule(request: HttpRequest) -> HttpResponse:
    """重大项目调度: every major project with its milestones (planned vs actual) and problem list."""
    config = InvestmentSettings.current()
    today = timezone.localdate()
    projects = (
        Project.objects.visible_to(request.user)
        .filter(is_major=True)
        .with_light(config)
        .select_related("owner", "organization", "chain_node")
        .prefetch_related(
            "insiders",
            Prefetch("milestones", queryset=Milestone.objects.select_related("department")),
            Prefetch("problems", queryset=Problem.objects.select_related("department")),
        )
        .order_by("stage", "code")
    )
    rows = []
    for project in projects:
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
    return render(request, "investment/major.html", {"rows": rows, "today": today})


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
