"""The investment board and stage gates in a real browser: dragging project cards between
columns, the gate dialog asking for the missing facts or a reason, the gate page reached from a
project's page (registering the landed company), and a leader's read-only board.

Fixtures (tests/browser/conftest.py): ``live_park`` is the suite's park committed for the live
server, ``page`` a chromium tab, ``sign_in(user)`` a session cookie. Each test builds its
projects with the real actions.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.conftest import Park
from yimatong.directory.models import Organization
from yimatong.investment.actions.projects import create_project, move_stage
from yimatong.investment.models import InvestmentSettings, Project, ProjectEvent
from yimatong.lib.identifiers import uscc_with_check_digit

pytestmark = pytest.mark.browser

BOARD = "/investment/projects/board/"
# A new company's code (check digit computed) and the same code with a wrong check digit.
REGISTERED_USCC = uscc_with_check_digit("91500113MA5U0X9X1")
WRONG_CHECK_DIGIT = REGISTERED_USCC[:-1] + ("1" if REGISTERED_USCC[-1] != "1" else "2")


def url(live_server: Any, path: str) -> str:
    return live_server.url + path


def without_admission() -> None:
    config = InvestmentSettings.current()
    config.require_admission = False
    config.save()


def new_project(park: Park, *, stage: str = "contact", name: str = "启明双抗生产基地") -> Project:
    """A project of the "owner" promoter, created as they would create it."""
    return create_project(
        actor=park.users["owner"],
        data={
            "name": name,
            "organization": park.prospect,
            "owner": park.users["owner"],
            "chain_node": park.antibody,
            "planned_investment": Decimal("80000"),
            "stage": stage,
        },
    )


def card(page: Any, project: Project) -> Any:
    return page.locator(f"#card-{project.code}")


def column(page: Any, stage: str) -> Any:
    return page.locator(f'.board-column[data-stage="{stage}"]')


def is_move_post(project: Project) -> Any:
    path = f"/investment/projects/{project.code}/move/"
    return lambda r: r.request.method == "POST" and r.url.endswith(path)


def open_board(page: Any, live_server: Any) -> None:
    page.goto(url(live_server, BOARD))
    expect(page.locator(".page-head h1")).to_have_text("项目看板")
    # goto waits for the load event, which comes after the deferred scripts (htmx, board.js).
    assert page.evaluate("() => window.htmx !== undefined")


def drag(page: Any, project: Project, to: str) -> None:
    """Drag the project's card onto the ``to`` column (HTML5 drag and drop).

    The board is wider than the window: the target column is scrolled into view first, as a
    person would before dragging (Playwright would otherwise scroll in the middle of the drag,
    and the drop would land elsewhere). The tests drag between neighbouring columns, so the card
    stays in view too."""
    source, target = card(page, project), column(page, to)
    target.scroll_into_view_if_needed()
    expect(source).to_be_in_viewport()
    expect(target).to_be_in_viewport()
    source.drag_to(target)


def drag_and_answer(page: Any, project: Project, to: str) -> Any:
    """Drag, and wait for the server's answer to the drop (the form, or a move at once)."""
    with page.expect_response(is_move_post(project)) as answer:
        drag(page, project, to)
    return answer.value


def dialog(page: Any) -> Any:
    return page.locator("dialog#modal")


def stage_events(project: Project) -> Any:
    return ProjectEvent.objects.filter(project=project, kind=ProjectEvent.Kind.STAGE)


# The board ------------------------------------------------------------------------------------


def test_a_promoter_drags_a_card_from_contact_to_visit_and_the_board_reloads_with_it_moved(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    without_admission()
    project = new_project(live_park)
    sign_in(live_park.users["owner"])
    open_board(page, live_server)
    expect(column(page, "contact").locator(f"#card-{project.code}")).to_be_visible()
    expect(card(page, project)).to_have_attribute("draggable", "true")

    # No facts and no reason needed: the move happens at once and the page reloads.
    with page.expect_navigation(url=url(live_server, BOARD)):
        answer = drag_and_answer(page, project, "visit")
    assert answer.status == 204
    assert answer.headers.get("hx-refresh") == "true"

    expect(column(page, "visit").locator(f"#card-{project.code}")).to_be_visible()
    expect(column(page, "contact").locator(f"#card-{project.code}")).to_have_count(0)
    expect(card(page, project)).to_have_attribute("data-stage", "visit")
    expect(page.locator(".messages .message-success")).to_have_text(f"{project.code} 已推进到“考察”。")
    expect(dialog(page)).not_to_be_visible()
    project.refresh_from_db()
    assert project.stage == "visit"
    event = stage_events(project).get()
    assert (event.from_stage, event.to_stage, event.actor) == ("contact", "visit", live_park.users["owner"])


def test_dragging_a_card_to_signed_asks_for_the_signing_facts_in_a_dialog_and_moves_it_once_given(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    without_admission()
    project = new_project(live_park, stage="negotiation")
    sign_in(live_park.users["owner"])
    open_board(page, live_server)
    expect(column(page, "negotiation").locator(f"#card-{project.code}")).to_be_visible()

    answer = drag_and_answer(page, project, "signed")
    assert answer.status == 200
    modal = dialog(page)
    expect(modal).to_be_visible()
    expect(modal).to_have_js_property("open", True)
    expect(modal.locator("#modal-title")).to_have_text("从“洽谈”推进到“签约”")
    for label in ("协议类型", "签约日期", "合同投资（万元）"):
        expect(modal.get_by_label(label)).to_be_visible()
    expect(modal.get_by_label("原因")).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = Path(SCREENSHOTS / "board-gate.png")
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 0

    # Confirming with nothing filled in: the errors, in the dialog, which stays open.
    page.evaluate("() => { window.stillTheSamePage = true; }")
    with page.expect_response(is_move_post(project)) as answer:
        modal.get_by_role("button", name="确认推进").click()
    assert answer.value.status == 400
    for name in ("agreement_type", "signed_on", "contracted_investment"):
        expect(modal.locator(f"#field-{name} p.error")).to_have_text("这个字段是必填项。")
    expect(modal).to_be_visible()
    expect(modal).to_have_js_property("open", True)
    assert page.evaluate("() => window.stillTheSamePage") is True
    project.refresh_from_db()
    assert (project.stage, project.agreement_type, project.signed_on) == ("negotiation", "", None)
    assert not stage_events(project).exists()

    # Filling them in and confirming: the page reloads with the card under 签约.
    signed_on = timezone.localdate() - dt.timedelta(days=3)
    modal.get_by_label("协议类型").select_option("formal")
    modal.get_by_label("签约日期").fill(signed_on.isoformat())
    modal.get_by_label("合同投资（万元）").fill("52000")
    with page.expect_navigation(url=url(live_server, BOARD)):
        modal.get_by_role("button", name="确认推进").click()

    expect(column(page, "signed").locator(f"#card-{project.code}")).to_be_visible()
    expect(column(page, "negotiation").locator(f"#card-{project.code}")).to_have_count(0)
    expect(page.locator(".messages .message-success")).to_have_text(f"{project.code} 已推进到“签约”。")
    expect(dialog(page)).not_to_be_visible()
    project.refresh_from_db()
    assert (project.stage, project.agreement_type, project.signed_on, project.contracted_investment) == (
        "signed",
        "formal",
        signed_on,
        Decimal("52000"),
    )
    event = stage_events(project).get()
    assert (event.from_stage, event.to_stage) == ("negotiation", "signed")
    assert event.signed_amount == project.contracted_investment == Decimal("52000")


def test_dragging_a_card_backwards_asks_for_a_reason_and_cancelling_changes_nothing(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    without_admission()
    project = new_project(live_park, stage="visit")
    sign_in(live_park.users["owner"])
    open_board(page, live_server)
    expect(column(page, "visit").locator(f"#card-{project.code}")).to_be_visible()

    answer = drag_and_answer(page, project, "contact")
    assert answer.status == 200
    modal = dialog(page)
    expect(modal).to_be_visible()
    expect(modal.locator("#modal-title")).to_have_text("从“考察”推进到“接洽”")
    expect(modal.get_by_label("原因")).to_be_visible()
    expect(modal.get_by_label("协议类型")).to_have_count(0)

    page.evaluate("() => { window.stillTheSamePage = true; }")
    modal.get_by_role("button", name="取消").click()
    expect(modal).not_to_be_visible()
    expect(modal).to_have_js_property("open", False)
    assert page.evaluate("() => window.stillTheSamePage") is True
    expect(column(page, "visit").locator(f"#card-{project.code}")).to_be_visible()
    expect(column(page, "contact").locator(f"#card-{project.code}")).to_have_count(0)
    project.refresh_from_db()
    assert project.stage == "visit"
    assert not stage_events(project).exists()


# The gate page ----------------------------------------------------------------------------------


def test_from_the_project_page_a_promoter_registers_the_landed_company_after_fixing_its_check_digit(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    without_admission()
    owner = live_park.users["owner"]
    project = move_stage(
        actor=owner,
        project=new_project(live_park, stage="negotiation"),
        to="signed",
        facts={
            "agreement_type": "formal",
            "signed_on": timezone.localdate() - dt.timedelta(days=30),
            "contracted_investment": Decimal("52000"),
        },
    )
    company = "启明生物（重庆）有限公司"
    assert not Organization.objects.filter(uscc=REGISTERED_USCC).exists()
    sign_in(owner)
    page.goto(url(live_server, project.get_absolute_url()))
    expect(page.locator(".page-head h1")).to_have_text(project.name)

    page.get_by_role("link", name="推进到“注册落地”").click()
    page.wait_for_url(url(live_server, f"/investment/projects/{project.code}/move/?to=registered"))
    page.wait_for_function("() => window.htmx !== undefined")
    form = page.locator("form.gate-form")
    expect(form.locator("h2")).to_have_text("从“签约”推进到“注册落地”")
    registered_on = timezone.localdate() - dt.timedelta(days=2)

    # A wrong check digit: the message under the code, nothing saved.
    form.get_by_label("注册企业统一社会信用代码").fill(WRONG_CHECK_DIGIT)
    form.get_by_label("注册企业名称").fill(company)
    form.get_by_label("注册日期").fill(registered_on.isoformat())
    with page.expect_response(is_move_post(project)) as answer:
        form.get_by_role("button", name="确认推进").click()
    assert answer.value.status == 400
    error = page.locator("form.gate-form #field-registered_uscc p.error")
    expect(error).to_contain_text("校验位不正确")
    expect(error).to_contain_text(f"应为 {REGISTERED_USCC[-1]}")
    project.refresh_from_db()
    assert project.stage == "signed"
    assert not Organization.objects.filter(name=company).exists()

    # The right code: the company is registered and the project's page shows it.
    form = page.locator("form.gate-form")
    expect(form.get_by_label("注册企业名称")).to_have_value(company)
    form.get_by_label("注册企业统一社会信用代码").fill(REGISTERED_USCC)
    form.get_by_role("button", name="确认推进").click()
    page.wait_for_url(url(live_server, project.get_absolute_url()))
    expect(page.locator(".messages .message-success")).to_have_text(f"{project.code} 已推进到“注册落地”。")
    expect(page.locator(".page-head .badge")).to_have_text("注册落地")
    facts = page.locator("section#facts")
    expect(facts.locator("h2")).to_have_text("签约与落地")
    expect(facts.get_by_role("link", name=company)).to_be_visible()
    expect(facts).to_contain_text(registered_on.isoformat())

    registered = Organization.objects.get(uscc=REGISTERED_USCC)
    assert (registered.name, registered.org_type) == (company, Organization.Type.RESIDENT)
    project.refresh_from_db()
    assert (project.stage, project.registered_organization, project.registered_on) == (
        "registered",
        registered,
        registered_on,
    )
    assert page.url == url(live_server, project.get_absolute_url())
    link = facts.get_by_role("link", name=company)
    expect(link).to_have_attribute("href", registered.get_absolute_url())


# A leader -----------------------------------------------------------------------------------------


def test_a_leader_sees_the_board_read_only_and_may_not_open_a_gate(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    without_admission()
    project = new_project(live_park)
    sign_in(live_park.users["leader"])
    open_board(page, live_server)

    the_card = column(page, "contact").locator(f"#card-{project.code}")
    expect(the_card).to_be_visible()
    expect(the_card).to_contain_text(project.name)
    expect(page.locator(".board-card")).to_have_count(1)
    expect(page.locator('.board-card[draggable="true"]')).to_have_count(0)
    expect(the_card).not_to_have_attribute("draggable", re.compile(".*"))
    expect(the_card).not_to_have_attribute("data-move-url", re.compile(".*"))

    response = page.goto(url(live_server, f"/investment/projects/{project.code}/move/?to=visit"))
    assert response.status == 403
    project.refresh_from_db()
    assert project.stage == "contact"


def test_dragging_something_else_onto_a_column_after_a_cancelled_drag_does_not_move_that_card(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    without_admission()
    project = new_project(live_park, stage="visit")
    sign_in(live_park.users["owner"])
    open_board(page, live_server)
    drag_and_answer(page, project, "contact")
    modal = dialog(page)
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="取消").click()
    expect(modal).not_to_be_visible()

    # Record the moves the board asks for: its drop handler calls htmx.ajax synchronously, so
    # once the drag below has returned, any move it asked for is in the list.
    page.evaluate(
        """() => {
            window.moves = [];
            const ajax = htmx.ajax;
            htmx.ajax = (verb, path, context) => { window.moves.push(path); return ajax(verb, path, context); };
        }"""
    )
    # A link (draggable by default), not a card, dropped on the 接洽 column.
    link = page.locator(".page-head .actions").get_by_role("link", name="列表视图")
    link.drag_to(column(page, "contact"))
    assert page.evaluate("() => window.moves") == []
    expect(modal).not_to_be_visible()
    project.refresh_from_db()
    assert project.stage == "visit"
