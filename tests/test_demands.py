"""Demands (诉求工单): the lifecycle, the working-day clock, the ladder, KPIs, who sees what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory
from yimatong.accounts import actions as account_actions
from yimatong.accounts.models import User
from yimatong.lib.errors import ActionError
from yimatong.lib.workdays import add_working_days, is_workday, working_days_between, working_hours_between
from yimatong.notifications.models import Notification
from yimatong.services import actions
from yimatong.services.kpis import department_kpis
from yimatong.services.models import Demand, DemandCategory, WorkCalendarDay, calendar_overrides

# The working-day arithmetic -----------------------------------------------------------------------


def test_national_day_week_and_its_make_up_saturday_are_counted_as_the_state_council_set_them():
    # 2024: 1–7 October off; Sunday 29 September and Saturday 12 October are make-up working days.
    assert is_workday(dt.date(2024, 9, 29)) == (True, False)
    assert is_workday(dt.date(2024, 10, 3)) == (False, False)
    assert is_workday(dt.date(2024, 10, 12)) == (True, False)
    # Five working days from Friday 27 September: 29 Sep (Sun, make-up), 30 Sep, 8, 9, 10 Oct.
    assert add_working_days(dt.date(2024, 9, 27), 5) == (dt.date(2024, 10, 10), False)


def test_the_spring_festival_holiday_stops_the_clock():
    # 2024: 10–17 February off; Sunday 4 and Sunday 18 February are make-up working days; New
    # Year's Eve (Friday 9th) is officially a working day. Three from Thursday 8th: 9th, 18th, 19th.
    assert add_working_days(dt.date(2024, 2, 8), 3) == (dt.date(2024, 2, 19), False)
    assert working_days_between(dt.date(2024, 2, 8), dt.date(2024, 2, 19)) == 3


def test_a_year_the_library_does_not_know_falls_back_to_weekdays_and_says_so():
    deadline, provisional = add_working_days(dt.date(2099, 9, 30), 3)
    assert deadline == dt.date(2099, 10, 5) and provisional is True


def test_the_parks_own_calendar_wins_for_unknown_years():
    overrides = {dt.date(2099, 10, 1): False, dt.date(2099, 10, 2): False, dt.date(2099, 10, 3): True}
    deadline, _provisional = add_working_days(dt.date(2099, 9, 30), 2, overrides)
    # 1 and 2 October are off, 3 October (Saturday) is a make-up day, then Monday 5 October.
    assert deadline == dt.date(2099, 10, 5)
    assert is_workday(dt.date(2099, 10, 3), overrides) == (True, False)


def test_working_hours_count_office_hours_on_working_days_only():
    tz = timezone.get_current_timezone()
    friday_afternoon = dt.datetime(2024, 9, 27, 15, 0, tzinfo=tz)
    sunday_make_up = dt.datetime(2024, 9, 29, 11, 0, tzinfo=tz)
    # Friday 15–17 (2 h) + Sunday 29th (a make-up day) 9–11 (2 h).
    assert working_hours_between(friday_afternoon, sunday_make_up) == 4.0


# The lifecycle ------------------------------------------------------------------------------------


@pytest.fixture
def desk(park):
    """The service centre (dispatch), a land department with its officer and head, an enterprise."""
    centre = park.users["service"].department
    centre.is_dispatch_center = True
    centre.save()
    land = DepartmentFactory(code="land", name="区规划和自然资源局")
    officer = UserFactory(username="landofficer", name="孙科长", role=User.Role.SERVICE, department=land)
    head = UserFactory(username="landhead", name="钱局长", role=User.Role.SERVICE, department=land)
    land.head = head
    land.save()
    category = DemandCategory.objects.create(
        code="land", name="用地", statutory_days=13, promised_days=5, default_department=land
    )
    return park, land, officer, category


def _file(park, category, title="厂房扩建用地"):
    return actions.file_demand(
        actor=park.users["enterprise"],
        data={"category": category, "title": title, "description": "二期扩建需要 12 亩地"},
    )


def _signed(desk, *, now=None):
    park, land, officer, category = desk
    demand = _file(park, category)
    demand = actions.accept(actor=park.users["service"], demand=demand)
    demand = actions.dispatch(actor=park.users["service"], demand=demand, lead=land)
    return actions.sign(actor=officer, demand=demand, now=now)


def test_a_demand_travels_from_filing_to_archive_with_an_event_for_every_step(desk):
    park, _land, officer, _category = desk
    demand = _signed(desk)
    assert demand.status == "handling" and demand.deadline is not None
    demand = actions.complete(actor=officer, demand=demand, resolution="已调整规划条件")
    demand = actions.review(actor=park.users["service"], demand=demand, passed=True)
    demand = actions.rate(actor=park.users["enterprise"], demand=demand, rating="satisfied")
    assert demand.status == "archived" and demand.completed_on_time is True
    kinds = list(demand.events.values_list("kind", flat=True))
    assert kinds == ["filed", "accepted", "dispatched", "signed", "completed", "reviewed", "rated"]
    assert all(e.actor_id for e in demand.events.all())


def test_signing_starts_the_clock_from_the_promised_limit_in_working_days(desk):
    tz = timezone.get_current_timezone()
    signed_on = dt.datetime(2024, 9, 27, 10, 0, tzinfo=tz)  # the Friday before National Day
    demand = _signed(desk, now=signed_on)
    # Promised 5 working days: 29 Sep (make-up Sunday), 30 Sep, 8, 9, 10 Oct.
    assert demand.deadline == dt.date(2024, 10, 10)
    assert demand.statutory_deadline == add_working_days(dt.date(2024, 9, 27), 13)[0]
    assert demand.deadline_provisional is False


def test_a_deadline_in_an_unknown_year_is_computed_and_flagged_provisional(desk):
    tz = timezone.get_current_timezone()
    demand = _signed(desk, now=dt.datetime(2099, 9, 28, 10, 0, tzinfo=tz))
    assert demand.deadline is not None and demand.deadline_provisional is True
    assert demand.statutory_provisional is True
    WorkCalendarDay.objects.create(date=dt.date(2099, 10, 1), is_workday=False, note="国庆")
    assert calendar_overrides() == {dt.date(2099, 10, 1): False}


# Deadlines in years whose holidays are not known yet ------------------------------------------------
# 2098 has a calendar (the park entered its National Day); 2099 has none until the park enters it.

SIGN_2098 = {"date": dt.date(2098, 10, 1), "is_workday": False, "note": "国庆"}


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=timezone.get_current_timezone())


def test_a_promised_deadline_in_a_known_year_is_not_provisional_because_the_statutory_one_is(desk):
    WorkCalendarDay.objects.create(**SIGN_2098)
    # Signed Monday 22 December 2098: promised 5 working days end on Monday the 29th (2098);
    # statutory 13 end on Thursday 8 January 2099, a year without a calendar (Mon–Fri for now).
    demand = _signed(desk, now=_at(dt.date(2098, 12, 22)))
    assert (demand.deadline, demand.deadline_provisional) == (dt.date(2098, 12, 29), False)
    assert (demand.statutory_deadline, demand.statutory_provisional) == (dt.date(2099, 1, 8), True)
    _token, raw = account_actions.create_api_token(desk[2], name="测试")
    api = Client().get(f"/api/v1/demands/{demand.code}", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert (api["deadline_provisional"], api["statutory_provisional"]) == (False, True)


def test_holidays_entered_through_the_api_move_the_open_deadlines_as_the_admin_does(desk):
    import json

    from django.test import Client

    from tests.test_api import bearer

    park, _land, _officer, _category = desk
    WorkCalendarDay.objects.create(**SIGN_2098)
    demand = _signed(desk, now=_at(dt.date(2098, 12, 29)))
    assert demand.deadline == dt.date(2099, 1, 5)
    headers = bearer(park, "admin")
    for day, note in (("2099-01-01", "元旦"), ("2099-01-02", "元旦调休")):
        response = Client().put(
            f"/api/v1/calendar/{day}",
            json.dumps({"is_workday": False, "note": note}),
            content_type="application/json",
            **headers,
        )
        assert response.status_code == 200
    demand.refresh_from_db()
    assert (demand.deadline, demand.deadline_provisional) == (dt.date(2099, 1, 7), False)
    assert (demand.statutory_deadline, demand.statutory_provisional) == (dt.date(2099, 1, 19), False)
    assert demand.events.filter(kind="deadline_moved", actor__username="admin").count() == 2


def test_entering_a_new_years_holidays_moves_the_open_deadlines_and_the_ladder_follows_the_new_date(desk):
    park, _land, officer, _category = desk
    WorkCalendarDay.objects.create(**SIGN_2098)
    # Signed Monday 29 December 2098; counted Mon–Fri: 5 working days to Monday 5 January 2099,
    # 13 to Thursday 15 January, both provisional.
    demand = _signed(desk, now=_at(dt.date(2098, 12, 29)))
    assert (demand.deadline, demand.statutory_deadline) == (dt.date(2099, 1, 5), dt.date(2099, 1, 15))
    assert demand.deadline_provisional and demand.statutory_provisional
    untouched = _signed(desk, now=_at(dt.date(2098, 12, 1)))  # due 8 December: reaches no new day
    finished = _signed(desk, now=_at(dt.date(2098, 12, 29)))
    actions.complete(actor=officer, demand=finished, resolution="已答复")
    assert actions.climb_ladder(today=dt.date(2099, 1, 2)).warned == 1  # "due tomorrow", on the guess

    admin = client_for(park.users["admin"])
    for day, note in ((dt.date(2099, 1, 1), "元旦"), (dt.date(2099, 1, 2), "元旦调休")):
        response = admin.post(
            reverse("admin:services_workcalendarday_add"),
            {"date": day.isoformat(), "is_workday": "", "note": note},
        )
        assert response.status_code == 302

    demand.refresh_from_db()
    # 1 and 2 January off: Dec 30, 31, Jan 5, 6, 7 — and 13 working days end on Monday the 19th.
    assert (demand.deadline, demand.deadline_provisional) == (dt.date(2099, 1, 7), False)
    assert (demand.statutory_deadline, demand.statutory_provisional) == (dt.date(2099, 1, 19), False)
    assert demand.ladder == Demand.Ladder.NONE  # moved later: the ladder starts again
    moves = list(demand.events.filter(kind="deadline_moved").values_list("actor__username", "data"))
    assert moves == [
        (
            "admin",
            {
                "deadline_from": "2099-01-05",
                "deadline": "2099-01-06",
                "provisional": False,
                "statutory_from": "2099-01-15",
                "statutory_deadline": "2099-01-16",
                "statutory_provisional": False,
            },
        ),
        (
            "admin",
            {
                "deadline_from": "2099-01-06",
                "deadline": "2099-01-07",
                "provisional": False,
                "statutory_from": "2099-01-16",
                "statutory_deadline": "2099-01-19",
                "statutory_provisional": False,
            },
        ),
    ]
    assert not untouched.events.filter(kind="deadline_moved").exists()
    assert not finished.events.filter(kind="deadline_moved").exists()
    assert Demand.objects.get(pk=finished.pk).deadline == dt.date(2099, 1, 5)

    assert actions.climb_ladder(today=dt.date(2099, 1, 5)).urged == 0  # the old date is not due
    assert actions.climb_ladder(today=dt.date(2099, 1, 6)).warned == 1
    assert actions.climb_ladder(today=dt.date(2099, 1, 7)).urged == 1
    titles = Notification.objects.filter(recipient=officer, title__contains=demand.title)
    assert titles.filter(title__startswith="工单明日到期").count() == 2
    page = client_for(officer).get(demand.get_absolute_url()).content.decode()
    assert "园区工作日历变更：办理期限 2099-01-06 → 2099-01-07" in page


def test_recomputing_deadlines_reads_and_writes_in_a_fixed_number_of_queries(desk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    WorkCalendarDay.objects.create(**SIGN_2098)

    def queries_to_enter_new_years_day(demands: int) -> int:
        for _ in range(demands):
            _signed(desk, now=_at(dt.date(2098, 12, 29)))
        before = calendar_overrides()
        WorkCalendarDay.objects.update_or_create(date=dt.date(2099, 1, 1), defaults={"is_workday": False})
        with CaptureQueriesContext(connection) as queries:
            moved = actions.recompute_deadlines({dt.date(2099, 1, 1)}, before=before)
        assert moved == demands
        WorkCalendarDay.objects.filter(date=dt.date(2099, 1, 1)).delete()
        Demand.objects.update(status="completed")
        return len(queries)

    assert queries_to_enter_new_years_day(1) == queries_to_enter_new_years_day(4)


def test_illegal_transitions_are_refused_with_a_clear_message_and_change_nothing(desk):
    park, _land, officer, category = desk
    demand = _file(park, category)
    with pytest.raises(ActionError) as refused:
        actions.sign(actor=officer, demand=demand)
    assert "待受理" in refused.value.message
    demand.refresh_from_db()
    assert demand.status == "submitted" and demand.events.count() == 1


def test_returning_needs_a_reason_and_goes_back_to_the_centre_for_redispatch(desk):
    park, land, officer, category = desk
    demand = actions.dispatch(
        actor=park.users["service"],
        demand=actions.accept(actor=park.users["service"], demand=_file(park, category)),
        lead=land,
    )
    with pytest.raises(ActionError):
        actions.return_demand(actor=officer, demand=demand, reason="  ")
    demand = actions.return_demand(actor=officer, demand=demand, reason="属于经信委职责")
    assert demand.status == "returned" and demand.return_count == 1
    economy = DepartmentFactory(code="economy", name="区经济和信息化委员会")
    demand = actions.dispatch(actor=park.users["service"], demand=demand, lead=economy)
    assert demand.status == "dispatched" and demand.lead_department == economy


def test_asking_for_documents_pauses_the_clock_and_the_deadline_moves_by_the_days_paused(desk):
    park, _land, officer, _category = desk
    tz = timezone.get_current_timezone()
    demand = _signed(desk, now=dt.datetime(2024, 9, 2, 10, 0, tzinfo=tz))  # Monday
    first_deadline = demand.deadline  # 2024-09-09
    demand = actions.request_info(
        actor=officer, demand=demand, what="请提供规划红线图", now=dt.datetime(2024, 9, 3, 10, 0, tzinfo=tz)
    )
    assert demand.clock(today=dt.date(2024, 9, 4))["paused"] is True
    demand = actions.supply_info(
        actor=park.users["enterprise"],
        demand=demand,
        text="已上传红线图",
        now=dt.datetime(2024, 9, 5, 16, 0, tzinfo=tz),
    )
    # Paused from Tuesday 3rd to Thursday 5th: two working days added.
    assert demand.deadline == add_working_days(first_deadline, 2)[0]
    assert demand.status == "handling"


def test_an_extension_is_asked_before_the_deadline_and_approved_by_the_centre(desk):
    park, _land, officer, _category = desk
    demand = _signed(desk)
    with pytest.raises(ActionError) as late:
        actions.request_extension(
            actor=officer,
            demand=demand,
            days=3,
            reason="需现场踏勘",
            today=demand.deadline + dt.timedelta(days=1),
        )
    assert "days" in late.value.fields
    demand = actions.request_extension(actor=officer, demand=demand, days=3, reason="需现场踏勘")
    old = demand.deadline
    demand = actions.decide_extension(actor=park.users["service"], demand=demand, approve=True)
    assert demand.deadline == add_working_days(old, 3, calendar_overrides())[0]
    assert demand.extension_days == 3 and demand.extension_requested_days is None


def test_a_failed_review_and_an_unsatisfied_rating_reopen_the_demand_as_a_redo(desk):
    park, _land, officer, _category = desk
    demand = _signed(desk)
    demand = actions.complete(actor=officer, demand=demand, resolution="已答复")
    with pytest.raises(ActionError):
        actions.review(actor=park.users["service"], demand=demand, passed=False, note="")
    demand = actions.review(actor=park.users["service"], demand=demand, passed=False, note="答复不完整")
    assert demand.status == "handling" and demand.redo_count == 1
    demand = actions.complete(actor=officer, demand=demand, resolution="已补充答复")
    demand = actions.review(actor=park.users["service"], demand=demand, passed=True)
    with pytest.raises(ActionError) as missing:
        actions.rate(actor=park.users["enterprise"], demand=demand, rating="unsatisfied")
    assert "comment" in missing.value.fields
    demand = actions.rate(
        actor=park.users["enterprise"], demand=demand, rating="unsatisfied", comment="问题未解决"
    )
    assert demand.status == "handling" and demand.redo_count == 2


# The ladder ---------------------------------------------------------------------------------------


def test_the_ladder_warns_urges_sends_the_notice_and_reports_each_once(desk):
    park, land, _officer, _category = desk
    demand = _signed(desk)
    deadline = demand.deadline
    day_before = max(d for d in (deadline - dt.timedelta(days=n) for n in range(1, 10)) if is_workday(d)[0])
    next_day = add_working_days(deadline, 1)[0]
    reported_day = add_working_days(deadline, 5)[0]
    assert actions.climb_ladder(today=day_before).warned == 1
    assert actions.climb_ladder(today=day_before).warned == 0  # once
    assert actions.climb_ladder(today=deadline).urged == 1
    assert actions.climb_ladder(today=next_day).noticed == 1
    assert Notification.objects.filter(recipient=land.head, title__startswith="催办通知书").count() == 1
    assert actions.climb_ladder(today=reported_day).reported == 1
    assert Notification.objects.filter(recipient=park.users["leader"], title__startswith="通报").count() == 1
    demand.refresh_from_db()
    assert demand.ladder == Demand.Ladder.REPORTED
    assert demand.events.filter(kind="escalated").count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_workers_climbing_the_ladder_at_once_send_each_notice_once(desk):
    from tests.test_concurrency import run_together

    _park, land, _officer, _category = desk
    demand = _signed(desk)
    late = add_working_days(demand.deadline, 1)[0]
    outcomes = run_together(
        lambda: actions.climb_ladder(today=late), lambda: actions.climb_ladder(today=late)
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o.noticed for o in outcomes) == 1
    assert Notification.objects.filter(recipient=land.head, title__startswith="催办通知书").count() == 1


def test_a_leader_supervises_a_demand_and_the_department_is_told(desk):
    park, _land, officer, _category = desk
    demand = _signed(desk)
    actions.supervise(actor=park.users["leader"], demand=demand, note="本周内答复企业")
    demand.refresh_from_db()
    assert demand.supervised_by == park.users["leader"]
    assert Notification.objects.filter(recipient=officer, title__startswith="领导督办").exists()


# KPIs ----------------------------------------------------------------------------------------------


def test_department_kpis_follow_their_written_definitions(desk):
    park, land, officer, category = desk
    done = _signed(desk)
    done = actions.complete(actor=officer, demand=done, resolution="ok")
    done = actions.review(actor=park.users["service"], demand=done, passed=True)
    actions.rate(actor=park.users["enterprise"], demand=done, rating="basic")
    _signed(desk)  # still handling
    returned = actions.dispatch(
        actor=park.users["service"],
        demand=actions.accept(actor=park.users["service"], demand=_file(park, category, "退回的")),
        lead=land,
    )
    actions.return_demand(actor=officer, demand=returned, reason="非本部门职责")
    today = timezone.localdate()
    (row,) = department_kpis(Demand.objects.all(), today - dt.timedelta(days=1), today)
    assert (row.dispatched, row.signed, row.completed, row.rated) == (3, 2, 1, 1)
    assert row.completion_rate == 50.0 and row.on_time_rate == 100.0 and row.satisfaction_rate == 100.0
    assert row.return_rate == round(100 / 3, 1) and row.redo_rate == 0.0


def _hours_reference(demands) -> tuple[float | None, float | None]:
    """The average response and handling hours as the KPIs define them, demand by demand."""
    tz = timezone.get_current_timezone()
    overrides = calendar_overrides()
    response = [
        working_hours_between(d.dispatched_at.astimezone(tz), d.signed_at.astimezone(tz), overrides)
        for d in demands
        if d.signed_at and d.dispatched_at
    ]
    handling = [
        working_hours_between(d.signed_at.astimezone(tz), d.completed_at.astimezone(tz), overrides)
        for d in demands
        if d.signed_at and d.completed_at and d.status in ("completed", "follow_up", "archived")
    ]
    return (
        round(sum(response) / len(response), 1) if response else None,
        round(sum(handling) / len(handling), 1) if handling else None,
    )


def test_average_response_and_handling_hours_are_the_office_hours_of_each_demand(desk):
    _park, _land, officer, _category = desk
    tz = timezone.get_current_timezone()
    # One demand signed six days after it was dispatched, another completed after signing.
    later = timezone.now() + dt.timedelta(days=6, hours=3)
    first = _signed(desk, now=later)
    Demand.objects.filter(pk=first.pk).update(dispatched_at=later - dt.timedelta(days=6, hours=3))
    done = actions.complete(actor=officer, demand=_signed(desk, now=later), resolution="ok")
    demands = list(Demand.objects.all())
    (row,) = department_kpis(
        Demand.objects.all(), timezone.localdate() - dt.timedelta(days=1), timezone.localdate()
    )
    expected = _hours_reference(demands)
    assert (row.avg_response_hours, row.avg_handling_hours) == expected
    assert expected[0] is not None and expected[0] > 8 and done.handling_hours is not None
    # The stored hours are each demand's own (what the database sums).
    for demand in demands:
        if demand.signed_at and demand.dispatched_at:
            assert demand.response_hours == working_hours_between(
                demand.dispatched_at.astimezone(tz), demand.signed_at.astimezone(tz), calendar_overrides()
            )


def test_a_day_the_park_marks_as_a_holiday_is_taken_out_of_the_hours_already_counted(desk):
    park, _land, _officer, _category = desk
    tz = timezone.get_current_timezone()
    # Dispatched on Monday 2 September 2024 at 9:00, signed on Wednesday the 4th at 17:00: three
    # office days (24 h) — until the park says Tuesday the 3rd was a day off (16 h).
    demand = _signed(desk, now=dt.datetime(2024, 9, 4, 17, 0, tzinfo=tz))
    Demand.objects.filter(pk=demand.pk).update(dispatched_at=dt.datetime(2024, 9, 2, 9, 0, tzinfo=tz))
    actions.calendar_changed(dt.date(2024, 9, 2))
    assert Demand.objects.get(pk=demand.pk).response_hours == 24.0
    admin = client_for(park.users["admin"])
    response = admin.post(
        reverse("admin:services_workcalendarday_add"),
        {"date": "2024-09-03", "is_workday": "", "note": "园区停电检修"},
    )
    assert response.status_code == 302
    assert Demand.objects.get(pk=demand.pk).response_hours == 16.0
    day = WorkCalendarDay.objects.get(date=dt.date(2024, 9, 3))
    admin.post(reverse("admin:services_workcalendarday_delete", args=[day.pk]), {"post": "yes"})
    assert Demand.objects.get(pk=demand.pk).response_hours == 24.0


# Who sees what -------------------------------------------------------------------------------------


def test_an_enterprise_never_sees_another_enterprises_demands(desk):
    park, _land, _officer, category = desk
    mine = _file(park, category)
    other_org = OrganizationFactory(name="重庆另一家生物科技有限公司")
    other_user = UserFactory(username="other-ent", role=User.Role.ENTERPRISE, organization=other_org)
    theirs = actions.file_demand(
        actor=other_user, data={"category": category, "title": "别家的", "description": "x"}
    )
    client = client_for(park.users["enterprise"])
    listing = client.get(reverse("services:demand_list") + "?tab=all").content.decode()
    assert mine.title in listing and theirs.title not in listing
    assert client.get(theirs.get_absolute_url()).status_code == 404
    with pytest.raises(ActionError):
        actions.file_demand(
            actor=park.users["enterprise"],
            data={"organization": other_org, "category": category, "title": "x", "description": "y"},
        )


def test_a_department_sees_only_what_it_leads_or_co_handles(desk):
    _park, _land, _officer, _category = desk
    demand = _signed(desk)
    other_dept = DepartmentFactory(code="hr", name="区人社局")
    hr_officer = UserFactory(username="hr1", role=User.Role.SERVICE, department=other_dept)
    assert client_for(hr_officer).get(demand.get_absolute_url()).status_code == 404
    demand.co_departments.add(other_dept)
    assert client_for(hr_officer).get(demand.get_absolute_url()).status_code == 200
    # A co-handler reads but does not work the order.
    response = client_for(hr_officer).post(
        reverse("services:demand_step", args=[demand.code, "complete"]), {"resolution": "x"}
    )
    assert response.status_code == 403


def test_the_console_walks_a_demand_through_its_steps(desk):
    park, land, officer, category = desk
    enterprise = client_for(park.users["enterprise"])
    response = enterprise.post(
        reverse("services:demand_create"),
        {
            "category": category.pk,
            "title": "路灯维修",
            "description": "厂区门口路灯不亮",
            "urgency": "normal",
        },
    )
    demand = Demand.objects.get(title="路灯维修")
    assert response.status_code == 302 and response["Location"] == demand.get_absolute_url()
    centre = client_for(park.users["service"])
    centre.post(
        reverse("services:demand_step", args=[demand.code, "accept"]),
        {"category": category.pk, "promised_days": 3},
    )
    centre.post(reverse("services:demand_step", args=[demand.code, "dispatch"]), {"lead": land.pk})
    client_for(officer).post(reverse("services:demand_step", args=[demand.code, "sign"]))
    demand.refresh_from_db()
    assert demand.status == "handling" and demand.promised_days == 3
    bad = client_for(officer).post(
        reverse("services:demand_step", args=[demand.code, "complete"]), {"resolution": ""}
    )
    assert bad.status_code == 400 and "办理结果" in bad.content.decode()
    client_for(officer).post(
        reverse("services:demand_step", args=[demand.code, "complete"]), {"resolution": "已修复"}
    )
    centre.post(reverse("services:demand_step", args=[demand.code, "review"]), {"passed": "1"})
    page = enterprise.get(demand.get_absolute_url()).content.decode()
    assert "提交评价" in page
    enterprise.post(reverse("services:demand_step", args=[demand.code, "rate"]), {"rating": "satisfied"})
    demand.refresh_from_db()
    assert demand.status == "archived"
    # A stale page asking for a step that is no longer possible is told, not failed.
    stale = client_for(officer).post(reverse("services:demand_step", args=[demand.code, "sign"]), follow=True)
    assert "不能执行此操作" in stale.content.decode()


def test_the_api_files_a_demand_and_takes_its_steps_with_the_same_rules(desk):
    import json

    park, _land, _officer, category = desk
    enterprise = client_for(park.users["enterprise"])
    created = enterprise.post(
        "/api/v1/demands",
        data=json.dumps({"category": "land", "title": "用地", "description": "扩建"}),
        content_type="application/json",
    )
    assert created.status_code == 201
    code = created.json()["code"]
    assert created.json()["steps"] == ["withdraw"]
    centre = client_for(park.users["service"])
    step = centre.post(
        f"/api/v1/demands/{code}/steps/accept",
        data=json.dumps({"category": category.pk}),
        content_type="application/json",
    )
    assert step.status_code == 200 and step.json()["status"] == "accepted"
    wrong = centre.post(f"/api/v1/demands/{code}/steps/accept", data="{}", content_type="application/json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "illegal_transition"
    bad = centre.post(f"/api/v1/demands/{code}/steps/dispatch", data="{}", content_type="application/json")
    assert bad.status_code == 400 and "lead" in bad.json()["error"]["fields"]
    assert Demand.objects.get(code=code).status == "accepted"


def test_the_admin_entering_and_removing_holidays_in_djangos_admin_leaves_audit_entries(desk):
    from yimatong.accounts.models import AuditEntry

    park = desk[0]
    admin = client_for(park.users["admin"])
    response = admin.post(
        reverse("admin:services_workcalendarday_add"),
        {"date": "2099-10-08", "is_workday": "", "note": "国庆"},
    )
    assert response.status_code == 302
    day = WorkCalendarDay.objects.get(date=dt.date(2099, 10, 8))
    response = admin.post(
        reverse("admin:services_workcalendarday_changelist"),
        {"action": "delete_selected", "_selected_action": [day.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not WorkCalendarDay.objects.filter(pk=day.pk).exists()
    entries = AuditEntry.objects.filter(object_id=str(day.pk), content_type__model="workcalendarday")
    assert sorted(entries.values_list("action", "actor__username")) == [
        (AuditEntry.Action.CREATE, "admin"),
        (AuditEntry.Action.DELETE, "admin"),
    ]
