"""Work on a project: activities and follow-ups, site visits, documents, capital in place,
major-project milestones and problems, admission reviews."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import User
from yimatong.investment import events
from yimatong.investment.actions.leads import touch_lead
from yimatong.investment.actions.projects import mark_progress
from yimatong.investment.models import (
    Activity,
    AdmissionReview,
    CapitalArrival,
    Document,
    DocumentVersion,
    Lead,
    Milestone,
    Problem,
    Project,
    ProjectEvent,
    ScoreItem,
    SiteVisit,
)
from yimatong.lib.errors import ActionError, StaleObject
from yimatong.lib.workdays import working_days_between
from yimatong.notifications.actions import notify
from yimatong.notifications.models import Notification

ACTIVITY_FIELDS = (
    "kind",
    "occurred_on",
    "summary",
    "notes",
    "external_participants",
    "leader",
    "leader_name",
    "next_follow_up_on",
)


def add_activity(
    *, actor: User, data: dict[str, Any], project: Project | None = None, lead: Lead | None = None
) -> Activity:
    """Record a contact with the investor. Earlier follow-ups on the same project or lead are
    done by this one (on a project, those promised on the lead it came from too); a lead counts
    as touched (it stays out of the pool)."""
    values = {k: data[k] for k in ACTIVITY_FIELDS if k in data and data[k] is not None}
    with transaction.atomic():
        earlier = Activity.objects.filter(follow_up_done=False, next_follow_up_on__isnull=False)
        if project is not None:
            same = Q(project=project) | Q(lead_id=project.lead_id) if project.lead_id else Q(project=project)
        else:
            same = Q(lead=lead)
        earlier.filter(same).update(follow_up_done=True, updated_at=timezone.now())
        activity = Activity.objects.create(project=project, lead=lead, created_by=actor, **values)
        if data.get("participants"):
            activity.participants.set(data["participants"])
        if project is not None:
            events.project(
                project,
                ProjectEvent.Kind.ACTIVITY,
                actor=actor,
                activity=activity.pk,
                kind_label=activity.kind,
                summary=activity.summary,
                leader=activity.leader.display_name if activity.leader else activity.leader_name,
                next_follow_up_on=activity.next_follow_up_on,
            )
        if lead is not None:
            touch_lead(lead)
            events.lead(lead, "note", actor=actor, text=activity.summary, activity=activity.pk)
        audit.log_create(activity, actor=actor)
    return activity


def overdue_follow_ups(user: User, *, today: dt.date | None = None) -> Any:
    today = today or timezone.localdate()
    return (
        Activity.objects.filter(created_by=user, follow_up_done=False, next_follow_up_on__lt=today)
        .select_related("project", "lead")
        .order_by("next_follow_up_on")
    )


def remind_follow_ups(*, today: dt.date | None = None) -> int:
    """One reminder per overdue follow-up (sweep; the notification key makes it once only)."""
    today = today or timezone.localdate()
    sent = 0
    due = Activity.objects.filter(follow_up_done=False, next_follow_up_on__lte=today).select_related(
        "created_by", "project", "lead"
    )
    for activity in due:
        target = activity.project or activity.lead
        sent += notify(
            [activity.created_by],
            kind=Notification.Kind.FOLLOW_UP_DUE,
            key=f"follow-up-{activity.pk}",
            title=_("跟进到期：%(name)s")
            % {"name": target.name if activity.project else target.company_name},
            body=_("计划于 %(date)s 跟进（上次：%(summary)s）。")
            % {"date": activity.next_follow_up_on, "summary": activity.summary},
            url=target.get_absolute_url(),
        )
    return sent


# Site visits -------------------------------------------------------------------------------------


def schedule_visit(
    *,
    actor: User | None,
    data: dict[str, Any],
    project: Project | None = None,
    lead: Lead | None = None,
    requested_by: str = SiteVisit.RequestedBy.STAFF,
) -> SiteVisit:
    fields = ("title", "purpose", "starts_at", "ends_at", "location", "visitors", "visitor_count", "notes")
    status = (
        SiteVisit.Status.REQUESTED
        if requested_by == SiteVisit.RequestedBy.INVESTOR
        else SiteVisit.Status.CONFIRMED
    )
    with transaction.atomic():
        visit = SiteVisit.objects.create(
            project=project,
            lead=lead,
            created_by=actor,
            requested_by=requested_by,
            status=status,
            **{k: data[k] for k in fields if k in data and data[k] is not None},
        )
        if data.get("hosts"):
            visit.hosts.set(data["hosts"])
        if project is not None:
            events.project(
                project,
                ProjectEvent.Kind.VISIT,
                actor=actor,
                visit=visit.pk,
                title=visit.title,
                starts_at=visit.starts_at,
                status=visit.status,
            )
        audit.log_create(visit, actor=actor)
        owner = project.owner if project is not None else (lead.owner if lead else None)
        if owner is not None and (actor is None or actor.pk != owner.pk):
            notify(
                [owner],
                kind=Notification.Kind.VISIT_BOOKED,
                key=f"visit-{visit.pk}",
                title=_("考察预约：%(title)s") % {"title": visit.title},
                body=timezone.localtime(visit.starts_at).strftime("%Y-%m-%d %H:%M"),
                url=(project or lead).get_absolute_url(),
            )
        _tell_investor(visit)
    return visit


def _tell_investor(visit: SiteVisit) -> None:
    """A confirmed calendar entry reaches the investor through WeChat (after commit)."""
    if visit.status == SiteVisit.Status.CONFIRMED:
        from yimatong.wechat.actions import investor_steps_for_visit

        investor_steps_for_visit(visit)


def set_visit_status(*, actor: User, visit: SiteVisit, status: str) -> SiteVisit:
    if status not in SiteVisit.Status.values:
        raise ActionError(_("考察状态无效。"), fields={"status": [_("状态无效。")]})
    with transaction.atomic():
        before = audit.snapshot(visit)
        SiteVisit.objects.filter(pk=visit.pk).update(status=status, updated_at=timezone.now())
        visit.refresh_from_db()
        audit.log_change(visit, before, actor=actor)
        if visit.project_id:
            events.project(
                visit.project,
                ProjectEvent.Kind.VISIT,
                actor=actor,
                visit=visit.pk,
                title=visit.title,
                starts_at=visit.starts_at,
                status=status,
            )
            if status == SiteVisit.Status.DONE:
                mark_progress(visit.project)
        _tell_investor(visit)
    return visit


# Documents ------------------------------------------------------------------------------------------


def upload_document(
    *,
    actor: User,
    project: Project,
    kind: str,
    title: str,
    visibility: str,
    upload: UploadedFile,
    note: str = "",
    document: Document | None = None,
) -> DocumentVersion:
    """A new document, or a new version of ``document``. Type and size are checked by the form."""
    content = upload.read()
    upload.seek(0)
    with transaction.atomic():
        if document is None:
            document = Document.objects.create(
                project=project, kind=kind, title=title, visibility=visibility, created_by=actor
            )
        else:
            Document.objects.select_for_update().filter(pk=document.pk).first()
            Document.objects.filter(pk=document.pk).update(updated_at=timezone.now())
        number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = DocumentVersion(
            document=document,
            number=number,
            original_name=upload.name[:200],
            size=len(content),
            content_type=getattr(upload, "content_type", "") or "application/octet-stream",
            sha256=hashlib.sha256(content).hexdigest(),
            note=note,
            uploaded_by=actor,
        )
        version.file.save(upload.name, upload, save=False)
        version.save()
        events.project(
            project,
            ProjectEvent.Kind.DOCUMENT,
            actor=actor,
            document_id=document.pk,
            document=document.title,
            version=number,
            file=version.original_name,
        )
        audit.log_create(version, actor=actor)
    return version


# Capital in place ------------------------------------------------------------------------------------


def record_capital(
    *, actor: User, project: Project, arrived_on: dt.date, amount: Decimal, note: str = ""
) -> CapitalArrival:
    if amount <= 0:
        raise ActionError(_("到位金额必须大于 0。"), fields={"amount": [_("请填写大于 0 的金额。")]})
    with transaction.atomic():
        arrival = CapitalArrival.objects.create(
            project=project, arrived_on=arrived_on, amount=amount, note=note, recorded_by=actor
        )
        events.project(
            project, ProjectEvent.Kind.CAPITAL, actor=actor, amount=amount, arrived_on=arrived_on, note=note
        )
        audit.log_create(arrival, actor=actor)
        mark_progress(project)
    return arrival


# Major projects: milestones and problems -------------------------------------------------------------


def add_milestone(*, actor: User, project: Project, data: dict[str, Any]) -> Milestone:
    with transaction.atomic():
        milestone = Milestone.objects.create(
            project=project,
            **{
                k: data[k]
                for k in ("name", "planned_on", "department", "note", "position")
                if k in data and data[k] is not None
            },
        )
        events.project(
            project,
            ProjectEvent.Kind.MILESTONE,
            actor=actor,
            milestone=milestone.name,
            planned_on=milestone.planned_on,
            added=True,
        )
        audit.log_create(milestone, actor=actor)
    return milestone


def update_milestone(*, actor: User, milestone: Milestone, data: dict[str, Any]) -> Milestone:
    with transaction.atomic():
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        before = audit.snapshot(current)
        reached = current.actual_on is None and data.get("actual_on") is not None
        for key in ("name", "planned_on", "actual_on", "department", "note"):
            if key in data:
                setattr(current, key, data[key])
        current.save()
        entry = audit.log_change(current, before, actor=actor)
        if entry is not None:
            events.project(
                current.project,
                ProjectEvent.Kind.MILESTONE,
                actor=actor,
                milestone=current.name,
                planned_on=current.planned_on,
                actual_on=current.actual_on,
            )
        if reached:
            mark_progress(current.project)
    return current


def raise_problem(*, actor: User, project: Project, data: dict[str, Any]) -> Problem:
    with transaction.atomic():
        problem = Problem.objects.create(
            project=project,
            raised_by=actor,
            **{k: data[k] for k in ("description", "department", "deadline") if k in data},
        )
        events.project(
            project,
            ProjectEvent.Kind.PROBLEM,
            actor=actor,
            problem=problem.description[:80],
            department=problem.department.name,
            deadline=problem.deadline,
            status=problem.status,
        )
        audit.log_create(problem, actor=actor)
    return problem


def update_problem(
    *, actor: User, problem: Problem, data: dict[str, Any], version: int | None = None
) -> Problem:
    expected = problem.version if version is None else version
    with transaction.atomic():
        current = Problem.objects.select_for_update().get(pk=problem.pk)
        if current.version != expected:
            raise StaleObject(current.description[:20])
        before = audit.snapshot(current)
        for key in ("description", "department", "deadline", "status", "resolution"):
            if key in data and data[key] is not None:
                setattr(current, key, data[key])
        resolved_now = current.status == Problem.Status.RESOLVED and before["status"]["value"] != "resolved"
        if current.status == Problem.Status.RESOLVED:
            if not current.resolution.strip():
                raise ActionError(
                    _("标记已解决须填写解决情况。"), fields={"resolution": [_("请填写解决情况。")]}
                )
            current.resolved_on = current.resolved_on or timezone.localdate()
        else:
            current.resolved_on = None
        if (
            "deadline" in data
            and data["deadline"] is not None
            and data["deadline"] != before["deadline"]["value"]
        ):
            current.escalation = 0  # a new deadline starts the ladder again
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db()
        entry = audit.log_change(current, before, actor=actor)
        if entry is not None:
            events.project(
                current.project,
                ProjectEvent.Kind.PROBLEM,
                actor=actor,
                problem=current.description[:80],
                status=current.status,
                resolution=current.resolution,
            )
        if resolved_now:
            mark_progress(current.project)
    return current


ESCALATE_TO_LEADERS_AFTER = 5  # working days overdue


def escalate_problems(*, today: dt.date | None = None) -> int:
    """Overdue problems climb the ladder: past the deadline the department and the owner are
    told (level 1); ``ESCALATE_TO_LEADERS_AFTER`` working days later the leaders and the team
    lead too (level 2). Each level is claimed with a conditional update, so parallel sweeps
    notify once."""
    today = today or timezone.localdate()
    raised = 0
    for problem in Problem.objects.overdue(today).select_related("project__owner", "department"):
        late = working_days_between(problem.deadline, today)
        level = 2 if late >= ESCALATE_TO_LEADERS_AFTER else 1
        if problem.escalation >= level:
            continue
        with transaction.atomic():
            claimed = Problem.objects.filter(pk=problem.pk, escalation__lt=level).update(
                escalation=level, updated_at=timezone.now()
            )
            if not claimed:
                continue
            recipients: list[User | None] = [
                problem.project.owner,
                *User.objects.filter(department=problem.department, is_active=True),
            ]
            if level == 2:
                recipients += list(User.objects.filter(role=User.Role.LEADER, is_active=True))
                recipients += list(
                    User.objects.filter(role=User.Role.TEAM_LEAD, team_id=problem.project.team_id)
                )
            notify(
                recipients,
                kind=Notification.Kind.PROBLEM_OVERDUE,
                key=f"problem-{problem.pk}-level-{level}",
                title=_("问题逾期 %(days)d 个工作日：%(project)s")
                % {"days": late, "project": problem.project.name},
                body=_("%(department)s：%(problem)s（时限 %(deadline)s）")
                % {
                    "department": problem.department.name,
                    "problem": problem.description[:60],
                    "deadline": problem.deadline,
                },
                url=problem.project.get_absolute_url(),
            )
            events.project(
                problem.project,
                ProjectEvent.Kind.PROBLEM,
                actor=None,
                problem=problem.description[:80],
                escalated=level,
                days_late=late,
            )
            raised += 1
    return raised


def remind_milestones(*, today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    sent = 0
    overdue = Milestone.objects.filter(actual_on__isnull=True, planned_on__lt=today).select_related(
        "project__owner", "department"
    )
    for milestone in overdue:
        recipients = [milestone.project.owner]
        if milestone.department_id:
            recipients += list(User.objects.filter(department_id=milestone.department_id, is_active=True))
        sent += notify(
            recipients,
            kind=Notification.Kind.MILESTONE_OVERDUE,
            key=f"milestone-{milestone.pk}-{milestone.planned_on}",
            title=_("节点逾期：%(project)s · %(name)s")
            % {"project": milestone.project.name, "name": milestone.name},
            body=_("计划 %(date)s 完成。") % {"date": milestone.planned_on},
            url=milestone.project.get_absolute_url(),
        )
    return sent


# Admission review -------------------------------------------------------------------------------------


def measure(project: Project, metric: str) -> Decimal | None:
    """A project figure for the scorecard; ``None`` when the project lacks what it needs."""
    land = project.land_mu
    if metric == ScoreItem.Metric.INVESTMENT_INTENSITY:
        amount = project.contracted_investment or project.planned_investment
        return (amount / land).quantize(Decimal("0.01")) if amount is not None and land else None
    if metric == ScoreItem.Metric.TAX_INTENSITY:
        return (
            (project.expected_tax / land).quantize(Decimal("0.01"))
            if project.expected_tax is not None and land
            else None
        )
    if metric == ScoreItem.Metric.OUTPUT_INTENSITY:
        return (
            (project.expected_output / land).quantize(Decimal("0.01"))
            if project.expected_output is not None and land
            else None
        )
    if metric == ScoreItem.Metric.PLANNED_INVESTMENT:
        return project.planned_investment
    if metric == ScoreItem.Metric.JOBS:
        return Decimal(project.jobs) if project.jobs is not None else None
    if metric == ScoreItem.Metric.CHAIN_FIT:
        return Decimal(1) if project.chain_node_id else Decimal(0)
    return None


def points_for(value: Decimal | None, thresholds: list[list[Any]]) -> Decimal:
    best = Decimal("0")
    if value is None:
        return best
    for minimum, points in sorted(thresholds, key=lambda pair: Decimal(str(pair[0]))):
        if value >= Decimal(str(minimum)):
            best = Decimal(str(points))
    return best


def score(project: Project, *, judged: dict[int, Decimal], vetoes: dict[int, bool]) -> dict[str, Any]:
    """The scorecard applied to ``project``: per item its value, points and out-of, and the total."""
    lines, total, max_total, vetoed = [], Decimal("0"), Decimal("0"), False
    for item in ScoreItem.objects.filter(is_active=True):
        line: dict[str, Any] = {"item": item.pk, "name": item.name, "kind": item.kind}
        if item.kind == ScoreItem.Kind.VETO:
            hit = bool(vetoes.get(item.pk))
            vetoed = vetoed or hit
            line.update(vetoed=hit)
        elif item.kind == ScoreItem.Kind.MEASURED:
            value = measure(project, item.metric)
            points = min(points_for(value, item.thresholds), item.max_points)
            line.update(
                metric=item.metric,
                value=str(value) if value is not None else None,
                points=str(points),
                max=str(item.max_points),
            )
            total += points
            max_total += item.max_points
        else:
            points = min(max(Decimal(str(judged.get(item.pk, 0))), Decimal("0")), item.max_points)
            line.update(points=str(points), max=str(item.max_points))
            total += points
            max_total += item.max_points
        lines.append(line)
    return {"lines": lines, "total": total, "max_total": max_total, "vetoed": vetoed}


def review_admission(
    *,
    actor: User,
    project: Project,
    judged: dict[int, Decimal],
    vetoes: dict[int, bool],
    decision: str,
    opinion: str = "",
) -> AdmissionReview:
    result = score(project, judged=judged, vetoes=vetoes)
    if result["vetoed"] and decision != AdmissionReview.Decision.REJECTED:
        raise ActionError(
            _("触发否决项的项目只能评为“不通过”。"), fields={"decision": [_("请选择“不通过”。")]}
        )
    with transaction.atomic():
        review = AdmissionReview.objects.create(
            project=project,
            total=result["total"],
            max_total=result["max_total"],
            vetoed=result["vetoed"],
            breakdown=result["lines"],
            decision=decision,
            opinion=opinion,
            decided_by=actor,
        )
        events.project(
            project,
            ProjectEvent.Kind.ADMISSION,
            actor=actor,
            total=review.total,
            max_total=review.max_total,
            decision=decision,
            vetoed=review.vetoed,
        )
        audit.log_create(review, actor=actor)
    return review
