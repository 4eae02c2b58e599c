"""The periodic sweep: run by ``yimatong investment_sweep`` (cron or a systemd timer), safe to
run in several workers at once: every step claims its rows with a conditional update and every
notification has a unique key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from yimatong.investment.actions import leads, projects, work


@dataclass
class SweepReport:
    leads_returned: int
    projects_archived: int
    follow_ups_reminded: int
    problems_escalated: int
    milestones_reminded: int

    def __str__(self) -> str:
        return (
            f"leads returned to the pool: {self.leads_returned}; projects archived: {self.projects_archived}; "
            f"follow-up reminders: {self.follow_ups_reminded}; problems escalated: {self.problems_escalated}; "
            f"milestone reminders: {self.milestones_reminded}"
        )


def sweep(*, now: dt.datetime | None = None) -> SweepReport:
    now = now or timezone.now()
    today = timezone.localdate(now)
    return SweepReport(
        leads_returned=leads.return_stale_leads(now=now),
        projects_archived=projects.archive_stale_projects(now=now),
        follow_ups_reminded=work.remind_follow_ups(today=today),
        problems_escalated=work.escalate_problems(today=today),
        milestones_reminded=work.remind_milestones(today=today),
    )
