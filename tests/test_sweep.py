import datetime as dt

from django.core.management import call_command
from django.utils import timezone

from yimatong.investment.actions import work
from yimatong.investment.actions.sweep import sweep
from yimatong.notifications.models import Notification


def test_an_overdue_follow_up_is_reminded_once_however_often_the_sweep_runs(new_project, investment):
    project = new_project()
    work.add_activity(
        actor=investment.users["owner"],
        project=project,
        data={
            "kind": "call",
            "summary": "电话",
            "occurred_on": dt.date(2026, 11, 2),
            "next_follow_up_on": dt.date(2026, 11, 9),
        },
    )
    assert work.remind_follow_ups(today=dt.date(2026, 11, 10)) == 1
    assert work.remind_follow_ups(today=dt.date(2026, 11, 11)) == 0
    note = Notification.objects.get(kind="follow_up_due")
    assert (note.recipient, note.url) == (investment.users["owner"], project.get_absolute_url())


def test_a_later_activity_closes_the_earlier_follow_up(new_project, investment):
    project = new_project()
    owner = investment.users["owner"]
    work.add_activity(
        actor=owner,
        project=project,
        data={
            "kind": "call",
            "summary": "一",
            "occurred_on": dt.date(2026, 11, 2),
            "next_follow_up_on": dt.date(2026, 11, 9),
        },
    )
    work.add_activity(
        actor=owner,
        project=project,
        data={"kind": "visit", "summary": "二", "occurred_on": dt.date(2026, 11, 8)},
    )
    assert list(work.overdue_follow_ups(owner, today=dt.date(2026, 11, 20))) == []


def test_an_overdue_problem_climbs_the_ladder_by_working_days(new_project, investment):
    project = new_project()
    department = investment.users["service"].department
    problem = work.raise_problem(
        actor=investment.users["owner"],
        project=project,
        data={"description": "电力增容", "department": department, "deadline": dt.date(2026, 9, 30)},
    )
    # 2026-10-01..07 is the National Day holiday (调休 makes 09-27 and 10-10 working days):
    # on 10-08 the problem is 1 working day late, the department and the owner are told.
    assert work.escalate_problems(today=dt.date(2026, 10, 8)) == 1
    problem.refresh_from_db()
    assert problem.escalation == 1
    recipients = set(
        Notification.objects.filter(kind="problem_overdue").values_list("recipient__username", flat=True)
    )
    assert recipients == {"owner", "service"}
    # 10-08, 10-09, 10-10 (a make-up Saturday), 10-12, 10-13: five working days late on 10-13.
    assert work.escalate_problems(today=dt.date(2026, 10, 12)) == 0
    assert work.escalate_problems(today=dt.date(2026, 10, 13)) == 1
    assert work.escalate_problems(today=dt.date(2026, 10, 13)) == 0
    level_two = set(
        Notification.objects.filter(key=f"problem-{problem.pk}-level-2").values_list(
            "recipient__username", flat=True
        )
    )
    assert level_two == {"owner", "service", "leader", "teamlead"}


def test_the_sweep_command_reports_what_it_did(new_project, investment, capsys):
    call_command("investment_sweep")
    assert capsys.readouterr().out.startswith("leads returned to the pool: 0; projects archived: 0;")


def test_a_sweep_far_in_the_future_archives_and_returns(new_project, investment):
    from yimatong.investment.actions.leads import create_lead

    new_project()
    create_lead(actor=investment.users["owner"], data={"company_name": "某药业有限公司"}, source={})
    report = sweep(now=timezone.now() + dt.timedelta(days=200))
    assert (report.leads_returned, report.projects_archived) == (1, 1)
