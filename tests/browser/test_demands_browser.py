"""Demands (诉求工单) in a real browser: an enterprise files one (its form also at a phone's
width), the service centre accepts and dispatches it, the department officer signs for it (the
clock starts) and completes it, the centre passes it and the enterprise rates it 满意 — every
step through the buttons of the detail page; a filing without a title; an unsatisfied rating
without and then with a comment (the demand goes back for a redo).

Fixtures (tests/browser/conftest.py): ``live_park`` is the suite's park committed for the live
server, ``page`` a chromium tab, ``sign_in(user)`` a session cookie. ``desk`` below makes the
park's service centre the dispatch centre and adds a land department with its officer and a
category. Screenshots for people to look at go to /tmp/shots/ (demand-list.png with the clocks
in their colours, demand-detail.png of a demand being handled).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import Park
from tests.factories import DepartmentFactory, UserFactory
from yimatong.accounts.models import Department, User
from yimatong.services import actions
from yimatong.services.models import Demand, DemandCategory, DemandEvent

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
PHONE_WIDTH = 375
NEW = "/services/demands/new/"
LIST = "/services/demands/"
DETAIL_URL = re.compile(r"/services/demands/SQ[\w-]+/$")
CLOCK_LEFT = re.compile(r"剩 (\d+) 个工作日")


@dataclass
class Desk:
    park: Park
    land: Department
    officer: User
    category: DemandCategory

    @property
    def centre(self) -> User:
        return self.park.users["service"]

    @property
    def enterprise(self) -> User:
        return self.park.users["enterprise"]


@pytest.fixture
def desk(live_park: Park) -> Desk:
    """As in tests/test_demands.py: the park's service centre dispatches; a land department
    with an officer; the 用地 category, promised 5 of a statutory 13 working days."""
    centre = live_park.users["service"].department
    centre.is_dispatch_center = True
    centre.save()
    land = DepartmentFactory(code="land", name="区规划和自然资源局")
    officer = UserFactory(username="landofficer", name="孙科长", role=User.Role.SERVICE, department=land)
    category = DemandCategory.objects.create(
        code="land", name="用地", statutory_days=13, promised_days=5, default_department=land
    )
    return Desk(live_park, land, officer, category)


def url(live_server: Any, path: str) -> str:
    return live_server.url + path


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def become(context: Any, sign_in: Any, user: User) -> None:
    """The same browser, another person: drop the session, sign in as ``user``."""
    context.clear_cookies()
    sign_in(user)


def status_badge(page: Any) -> Any:
    return page.locator(".page-head .badge")


def facts(page: Any, term: str) -> Any:
    """The value next to ``term`` in the detail page's 办理时限 card."""
    return page.locator(f"dl.facts dt:text-is('{term}') + dd")


def take_step(page: Any, step: str, button: str) -> Any:
    """Click the button of the step's form on the detail page; returns the POST's response."""
    form = page.locator(f"section.step-{step} form")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/{step}/")) as answer:
        form.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    return answer.value


def no_horizontal_scroll(page: Any, width: int) -> None:
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at a {width}px viewport"


def in_follow_up(desk: Desk, title: str) -> Demand:
    """A demand filed, worked and passed by the actions (the setting of a test, not its subject)."""
    demand = actions.file_demand(
        actor=desk.enterprise,
        data={"category": desk.category, "title": title, "description": "二期扩建需要 12 亩地"},
    )
    demand = actions.accept(actor=desk.centre, demand=demand)
    demand = actions.dispatch(actor=desk.centre, demand=demand, lead=desk.land)
    demand = actions.sign(actor=desk.officer, demand=demand)
    demand = actions.complete(actor=desk.officer, demand=demand, resolution="已调整规划条件。")
    return actions.review(actor=desk.centre, demand=demand, passed=True)


def handling(desk: Desk, title: str, *, promised: int, signed_days_ago: int = 0) -> Demand:
    demand = actions.file_demand(
        actor=desk.enterprise, data={"category": desk.category, "title": title, "description": title}
    )
    demand = actions.accept(actor=desk.centre, demand=demand, promised_days=promised)
    demand = actions.dispatch(actor=desk.centre, demand=demand, lead=desk.land)
    signed = timezone.now() - dt.timedelta(days=signed_days_ago)
    return actions.sign(actor=desk.officer, demand=demand, now=signed)


# The whole journey -------------------------------------------------------------------------------


def test_a_demand_goes_from_filing_to_archive_through_the_buttons_of_each_persona(
    desk: Desk, live_server: Any, context: Any, page: Any, sign_in: Any
) -> None:
    title = "二期制剂车间用地规划调整"

    # The enterprise opens the form; at a phone's width it fits without scrolling sideways.
    sign_in(desk.enterprise)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 812})
    page.goto(url(live_server, NEW))
    expect(page.locator(".page-head h1")).to_have_text("提交诉求")
    expect(page.get_by_label("标题")).to_be_visible()
    no_horizontal_scroll(page, PHONE_WIDTH)
    shot(page, "demand-form-phone")

    # At a desktop's width it files the demand.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url(live_server, LIST))
    page.get_by_role("link", name="+ 提交诉求").click()
    page.wait_for_url(url(live_server, NEW))
    expect(page.locator("#id_organization")).to_have_count(0)  # its own enterprise, not a choice
    page.get_by_label("类别").select_option(label="用地")
    page.get_by_label("标题").fill(title)
    page.get_by_label("诉求内容").fill("二期制剂车间拟向东扩建约 12 亩，需调整用地规划条件。")
    page.get_by_label("紧急程度").select_option(label="紧急")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(DETAIL_URL)
    demand = Demand.objects.get(title=title)
    assert page.url == url(live_server, demand.get_absolute_url())
    assert (demand.organization, demand.filed_by, demand.urgency) == (
        desk.park.resident,
        desk.enterprise,
        "urgent",
    )
    expect(page.locator(".messages")).to_contain_text(f"诉求已提交，编号 {demand.code}")
    expect(page.locator(".page-head h1")).to_have_text(title)
    expect(status_badge(page)).to_have_text("待受理")
    expect(page.locator("section.step-withdraw")).to_be_visible()  # its only step now
    expect(page.locator("section.step-accept")).to_have_count(0)
    detail = url(live_server, demand.get_absolute_url())

    # The centre accepts (the category's promised limit is proposed) and dispatches to the
    # category's department (proposed too).
    become(context, sign_in, desk.centre)
    page.goto(detail)
    accept = page.locator("section.step-accept")
    expect(accept.get_by_label("类别")).to_have_value(str(desk.category.pk))
    expect(accept.get_by_label("承诺时限（工作日）")).to_have_value("5")
    assert take_step(page, "accept", "受理").status == 302
    expect(status_badge(page)).to_have_text("已受理")
    expect(page.locator(".messages")).to_contain_text("已受理。")
    expect(facts(page, "时限")).to_have_text("承诺 5 / 法定 13 个工作日")
    dispatch = page.locator("section.step-dispatch")
    expect(dispatch.get_by_label("承办部门")).to_have_value(str(desk.land.pk))
    dispatch.get_by_label("分派意见").fill("请规划科牵头办理。")
    assert take_step(page, "dispatch", "分派").status == 302
    expect(status_badge(page)).to_have_text("已分派")
    expect(facts(page, "承办部门")).to_have_text("区规划和自然资源局")
    expect(page.locator("section[class*=' step-']")).to_have_count(0)  # nothing more for the centre now

    # The officer signs: the deadline and the clock appear.
    become(context, sign_in, desk.officer)
    page.goto(url(live_server, LIST))
    todo = page.locator("table.table tbody")
    expect(todo.get_by_role("link", name=title)).to_be_visible()
    todo.get_by_role("link", name=title).click()
    page.wait_for_url(detail)
    expect(page.locator("section.step-return")).to_be_visible()
    assert take_step(page, "sign", "签收并开始办理").status == 302
    expect(status_badge(page)).to_have_text("办理中")
    expect(page.locator(".messages")).to_contain_text("已签收，开始计时。")
    demand.refresh_from_db()
    assert demand.deadline is not None and demand.signed_by == desk.officer
    expect(facts(page, "办理期限")).to_contain_text(demand.deadline.isoformat())
    clock = facts(page, "计时").locator(".clock")
    expect(clock).to_have_text(CLOCK_LEFT)
    left = int(CLOCK_LEFT.search(clock.inner_text()).group(1))
    assert left == 5, f"signed today with 5 promised working days, the clock says {left}"
    expect(clock).to_have_class(re.compile(r"\bclock-green\b"))
    expect(facts(page, "签收")).to_contain_text("孙科长")
    shot(page, "demand-detail")

    # ... and completes it.
    page.locator("section.step-complete").get_by_label("办理结果").fill("已调整用地规划条件，批复见附件。")
    assert take_step(page, "complete", "办结反馈").status == 302
    expect(status_badge(page)).to_have_text("已办结待审核")
    expect(page.locator("section.card", has_text="诉求内容")).to_contain_text("已调整用地规划条件")

    # The centre passes it.
    become(context, sign_in, desk.centre)
    page.goto(url(live_server, LIST + "?tab=review"))
    page.locator("table.table tbody").get_by_role("link", name=title).click()
    page.wait_for_url(detail)
    review = page.locator("section.step-review")
    expect(review.locator("label[for=id_passed]")).to_have_text(re.compile(r"^审核"))
    review.locator("#id_passed").select_option(label="通过")
    assert take_step(page, "review", "提交审核").status == 302
    expect(status_badge(page)).to_have_text("待回访")

    # The enterprise rates it 满意 with the radio buttons: archived.
    become(context, sign_in, desk.enterprise)
    page.goto(detail)
    rate = page.locator("section.step-rate")
    expect(rate.get_by_role("radio")).to_have_count(3)
    rate.get_by_label("满意", exact=True).check()
    expect(rate.get_by_label("不满意", exact=True)).not_to_be_checked()
    assert take_step(page, "rate", "提交评价").status == 302
    expect(status_badge(page)).to_have_text("已归档")
    expect(page.locator(".messages")).to_contain_text("感谢您的评价。")
    expect(page.locator("section.card > p", has_text="评价")).to_have_text("评价：满意")
    expect(page.locator("section[class*=' step-']")).to_have_count(0)

    demand.refresh_from_db()
    assert (demand.status, demand.rating, demand.completed_on_time) == ("archived", "satisfied", True)
    kinds = list(demand.events.values_list("kind", flat=True))
    assert kinds == ["filed", "accepted", "dispatched", "signed", "completed", "reviewed", "rated"]
    actors = list(demand.events.values_list("actor__username", flat=True))
    assert actors == [
        "enterprise",
        "service",
        "service",
        "landofficer",
        "landofficer",
        "service",
        "enterprise",
    ]
    timeline = page.locator("ol.timeline li")
    expect(timeline).to_have_count(7)
    expect(timeline.last).to_contain_text("回访评价")
    expect(timeline.last).to_contain_text("已归档")


# A filing without a title -----------------------------------------------------------------------


def test_a_filing_without_a_title_names_the_field_and_stores_nothing(
    desk: Desk, live_server: Any, page: Any, sign_in: Any
) -> None:
    sign_in(desk.enterprise)
    page.goto(url(live_server, NEW))
    page.get_by_label("类别").select_option(label="用地")
    page.get_by_label("诉求内容").fill("园区通勤班车早高峰满员。")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(NEW)) as answer:
        page.get_by_role("button", name="提交", exact=True).click()
    assert answer.value.status == 400

    expect(page).to_have_url(url(live_server, NEW))
    field = page.locator("#field-title")
    expect(field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(field.locator("label")).to_have_text(re.compile(r"^标题"))
    expect(field.locator("p.error")).to_have_count(1)
    expect(field.locator("p.error")).not_to_be_empty()
    expect(page.locator("p.error")).to_have_count(1)  # the only field at fault
    # What was typed is still there.
    expect(page.get_by_label("诉求内容")).to_have_value("园区通勤班车早高峰满员。")
    expect(page.get_by_label("类别")).to_have_value(str(desk.category.pk))
    assert not Demand.objects.exists()
    assert not DemandEvent.objects.exists()


# An unsatisfied rating ---------------------------------------------------------------------------


def test_an_unsatisfied_rating_needs_a_comment_and_then_sends_the_demand_back_for_a_redo(
    desk: Desk, live_server: Any, page: Any, sign_in: Any
) -> None:
    demand = in_follow_up(desk, "双回路供电增容")
    sign_in(desk.enterprise)
    page.goto(url(live_server, demand.get_absolute_url()))
    expect(status_badge(page)).to_have_text("待回访")
    rate = page.locator("section.step-rate")

    # Unsatisfied without a word: refused, the comment field named, nothing changed.
    rate.get_by_label("不满意", exact=True).check()
    assert take_step(page, "rate", "提交评价").status == 400
    comment = page.locator("section.step-rate #field-comment")
    expect(comment).to_have_class(re.compile(r"\bhas-error\b"))
    expect(comment.locator("label")).to_have_text(re.compile(r"^意见"))
    expect(comment.locator("p.error")).not_to_be_empty()
    expect(status_badge(page)).to_have_text("待回访")
    expect(page.locator("section.step-rate").get_by_label("不满意", exact=True)).to_be_checked()
    demand.refresh_from_db()
    assert (demand.status, demand.rating, demand.redo_count) == ("follow_up", "", 0)
    assert not demand.events.filter(kind__in=["rated", "reopened"]).exists()

    # With the reason: back to the department, a redo counted, a fresh deadline.
    page.locator("section.step-rate").get_by_label("意见").fill("供电方案未落实，仍在等待。")
    assert take_step(page, "rate", "提交评价").status == 302
    expect(status_badge(page)).to_have_text("办理中")
    expect(facts(page, "重办")).to_have_text("1")
    expect(facts(page, "计时").locator(".clock")).to_have_text(CLOCK_LEFT)
    expect(page.locator("ol.timeline li").last).to_contain_text("供电方案未落实")
    expect(page.locator("section.step-rate")).to_have_count(0)
    demand.refresh_from_db()
    assert (demand.status, demand.rating, demand.redo_count) == ("handling", "unsatisfied", 1)
    assert demand.rating_comment == "供电方案未落实，仍在等待。"
    assert demand.events.filter(kind="reopened").count() == 1


# The queue with its clocks -----------------------------------------------------------------------


def test_the_centres_queue_shows_each_clock_in_its_colour(
    desk: Desk, live_server: Any, page: Any, sign_in: Any
) -> None:
    on_time = handling(desk, "招聘 30 名 GMP 操作工", promised=5)
    due = handling(desk, "研发费用加计扣除政策咨询", promised=0)  # due today
    late = handling(desk, "园区通勤班车增加班次", promised=2, signed_days_ago=30)
    sign_in(desk.centre)
    page.goto(url(live_server, LIST + "?tab=handling"))
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(3)
    # Soonest deadline first.
    expect(rows.nth(0)).to_contain_text(late.title)
    for demand, colour, text in (
        (on_time, "green", re.compile(r"剩 \d+ 个工作日")),
        (due, "yellow", re.compile(r"剩 [01] 个工作日")),
        (late, "red", re.compile(r"逾期 \d+ 个工作日")),
    ):
        clock = rows.filter(has_text=demand.title).locator(".clock")
        expect(clock).to_have_class(re.compile(rf"\bclock-{colour}\b"))
        expect(clock).to_have_text(text)
    colours = page.evaluate(
        "() => [...document.querySelectorAll('.clock')].map(e => getComputedStyle(e).color)"
    )
    assert len(set(colours)) == 3, colours
    shot(page, "demand-list")
