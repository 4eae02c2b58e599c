"""The investment screens as their users meet them: the project list and its filters, saved
filters, the kanban board and its move endpoint, the stage gate forms, the lead pool, the
promoter's home page, the investment settings page, and the English console.

Every test goes through the real views and the real database and checks both what was stored
and what the page shows."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from yimatong.accounts.models import Team, User
from yimatong.directory.models import Organization
from yimatong.investment.actions import leads as lead_actions
from yimatong.investment.actions import projects as actions
from yimatong.investment.actions.work import add_activity
from yimatong.investment.models import (
    InvestmentSettings,
    Lead,
    LeadEvent,
    Project,
    ProjectEvent,
    SavedFilter,
)
from yimatong.lib.identifiers import uscc_with_check_digit

LIST = reverse("investment:project_list")
BOARD = reverse("investment:project_board")
SETTINGS = reverse("investment:settings")
HTMX = {"HX-Request": "true"}


def days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def without_progress_for(project: Project, days: int) -> None:
    """As if nothing had happened on the project for ``days`` days (drives its light)."""
    Project.objects.filter(pk=project.pk).update(last_progress_at=timezone.now() - dt.timedelta(days=days))


def move_url(project: Project) -> str:
    return reverse("investment:project_move", args=[project.code])


def page(response) -> str:
    return response.content.decode()


def stage_of(project: Project) -> str:
    return Project.objects.values_list("stage", flat=True).get(pk=project.pk)


def stage_events(project: Project) -> int:
    return ProjectEvent.objects.filter(project=project, kind=ProjectEvent.Kind.STAGE).count()


SIGNING = {
    "agreement_type": "framework",
    "signed_on": dt.date(2026, 1, 5),
    "contracted_investment": Decimal("50000"),
}


# A small portfolio -------------------------------------------------------------------------------


@dataclass
class Portfolio:
    antibody: Project  # owner's, 抗体药物, 接洽, 80,000 万元, staff entry, green
    segment: Project  # owner's, 生物药 (the parent segment), 考察, 5,000 万元, expo, major
    devices: Project  # other team's, 医疗器械, 洽谈, 30,000 万元, referral, red
    quiet: Project  # colleague's (same team as owner), no segment, 接洽, no amount, yellow

    def names(self, *projects: Project) -> set[str]:
        return {p.name for p in projects}

    @property
    def all(self) -> list[Project]:
        return [self.antibody, self.segment, self.devices, self.quiet]


@pytest.fixture
def portfolio(new_project, investment) -> Portfolio:
    users = investment.users
    antibody = new_project(name="启明双抗生产基地")
    segment = new_project(
        name="启明生物药研发中心",
        chain_node=investment.biologics,
        stage="visit",
        planned_investment=Decimal("5000"),
        source_channel="expo",
    )
    devices = new_project(
        name="粤创影像设备产线",
        organization=investment.other_prospect,
        owner=users["other_team"],
        chain_node=investment.devices,
        stage="negotiation",
        planned_investment=Decimal("30000"),
        source_channel="referral",
    )
    quiet = new_project(
        name="孙专员储备项目",
        owner=users["colleague"],
        chain_node=None,
        planned_investment=None,
    )
    actions.set_major(actor=users["leader"], project=segment, is_major=True)
    without_progress_for(devices, 100)
    without_progress_for(quiet, 70)
    return Portfolio(antibody, segment, devices, quiet)


def listed(client, params=None) -> set[str]:
    """The names of the projects the list shows for ``params`` (the page must answer 200)."""
    response = client.get(LIST, params or {})
    assert response.status_code == 200
    return {project.name for project, _investor in response.context["rows"]}


# 1. Project list filters -------------------------------------------------------------------------


def test_the_stage_filter_keeps_one_stage_or_several(portfolio, as_persona):
    admin = as_persona("admin")
    p = portfolio
    assert listed(admin, {"stage": "contact"}) == p.names(p.antibody, p.quiet)
    assert listed(admin, {"stage": ["contact", "visit"]}) == p.names(p.antibody, p.quiet, p.segment)
    assert listed(admin, {"stage": "visit,negotiation"}) == p.names(p.segment, p.devices)
    assert listed(admin, {"stage": "signed"}) == set()

    html = page(admin.get(LIST, {"stage": "negotiation"}))
    assert "粤创影像设备产线" in html and "启明双抗生产基地" not in html
    assert "共 1 个项目，计划投资 30,000 万元" in html
    assert '<option value="negotiation" selected>' in html


def test_a_chain_segment_includes_the_segments_below_it(portfolio, as_persona, investment):
    admin = as_persona("admin")
    p = portfolio
    assert listed(admin, {"chain": investment.biologics.pk}) == p.names(p.antibody, p.segment)
    assert listed(admin, {"chain": investment.antibody.pk}) == p.names(p.antibody)
    assert listed(admin, {"chain": "devices"}) == p.names(p.devices)  # by code too
    html = page(admin.get(LIST, {"chain": "no-such-segment"}))
    assert "没有符合条件的项目。" in html


def test_the_owner_and_team_filters_keep_the_people_responsible(portfolio, as_persona, investment):
    admin = as_persona("admin")
    p = portfolio
    users = investment.users
    assert listed(admin, {"owner": users["owner"].pk}) == p.names(p.antibody, p.segment)
    assert listed(admin, {"owner": "other"}) == p.names(p.devices)  # a username works as well
    bio = Team.objects.get(code="bio")
    assert listed(admin, {"team": bio.pk}) == p.names(p.antibody, p.segment, p.quiet)
    assert listed(admin, {"team": "dev"}) == p.names(p.devices)
    html = page(admin.get(LIST, {"owner": users["colleague"].pk}))
    assert f'<option value="{users["colleague"].pk}" selected>孙专员</option>' in html


def test_the_amount_range_bounds_the_planned_investment_inclusively(portfolio, as_persona):
    admin = as_persona("admin")
    p = portfolio
    assert listed(admin, {"min": "10000"}) == p.names(p.antibody, p.devices)
    assert listed(admin, {"max": "30000"}) == p.names(p.segment, p.devices)
    assert listed(admin, {"min": "30000", "max": "30000"}) == p.names(p.devices)
    assert listed(admin, {"min": "10000", "max": "50000"}) == p.names(p.devices)
    assert listed(admin, {"min": "90000"}) == set()
    # A project without an amount is outside any range.
    assert p.quiet.name not in listed(admin, {"min": "0"})
    html = page(admin.get(LIST, {"min": "10000", "max": "50000"}))
    assert 'name="min" value="10000"' in html and 'name="max" value="50000"' in html


def test_the_source_light_and_major_filters(portfolio, as_persona):
    admin = as_persona("admin")
    p = portfolio
    assert listed(admin, {"source": "expo"}) == p.names(p.segment)
    assert listed(admin, {"source": "referral"}) == p.names(p.devices)
    assert listed(admin, {"source": "staff"}) == p.names(p.antibody, p.quiet)
    assert listed(admin, {"light": "green"}) == p.names(p.antibody, p.segment)
    assert listed(admin, {"light": "yellow"}) == p.names(p.quiet)
    assert listed(admin, {"light": "red"}) == p.names(p.devices)
    assert listed(admin, {"major": "1"}) == p.names(p.segment)
    html = page(admin.get(LIST, {"light": "red"}))
    assert 'class="light light-red"' in html and "light-green" not in html
    assert re.search(
        r"启明生物药研发中心</strong></a>\s*<div[^>]*>[^<]*<span class=\"tag\">重大</span>",
        page(admin.get(LIST, {"major": "1"})),
    )


@pytest.mark.parametrize(
    "query",
    [
        "min=abc",
        "max=1,000",
        "min=&max=%20",
        "min=NaN",
        "max=Infinity",
        "min=-inf",
        "stage=bogus",
        "stage=,,",
        "source=carrier-pigeon",
        "light=purple",
        "major=maybe",
        "page=abc",
        "page=-1",
    ],
)
def test_a_malformed_filter_value_is_ignored_and_never_fails(portfolio, as_persona, query):
    response = as_persona("admin").get(f"{LIST}?{query}")
    assert response.status_code == 200
    assert {p.name for p, _investor in response.context["rows"]} == {p.name for p in portfolio.all}
    assert "共 4 个项目" in page(response)


def test_an_unknown_person_team_or_segment_matches_nothing_rather_than_everything(portfolio, as_persona):
    admin = as_persona("admin")
    for params in ({"owner": "nobody"}, {"team": "no-team"}, {"chain": "999999"}, {"owner": "999999"}):
        response = admin.get(LIST, params)
        assert response.status_code == 200
        assert list(response.context["rows"]) == []
        assert "没有符合条件的项目。" in page(response)


def test_a_bad_minimum_leaves_the_amount_box_empty(portfolio, as_persona):
    html = page(as_persona("admin").get(LIST, {"min": "abc", "max": "50000"}))
    assert 'name="min" value=""' in html and 'name="max" value="50000"' in html
    assert "共 2 个项目" in html  # the maximum still applies: 5,000 and 30,000


FILTERS_POINTING_AT_THE_BIOLOGICS_TEAM = [
    {},
    {"stage": ["contact", "visit"]},
    {"chain": "biologics"},
    {"chain": "antibody"},
    {"owner": "owner"},
    {"team": "bio"},
    {"min": "0"},
    {"source": "expo"},
    {"light": "green"},
    {"light": "yellow"},
    {"major": "1"},
    {"q": "启明"},
    {"q": "YMT"},
]


@pytest.mark.parametrize("params", FILTERS_POINTING_AT_THE_BIOLOGICS_TEAM)
def test_a_promoter_never_reaches_another_teams_project_through_a_filter(portfolio, as_persona, params):
    other = as_persona("other_team")
    assert listed(other, params) <= {portfolio.devices.name}
    board = other.get(BOARD, params)
    seen = {
        p.name
        for _stage, cards, _n, *_amounts in board.context["columns"]
        for card in cards
        for p in [card.project]
    }
    assert seen <= {portfolio.devices.name}
    for project in (portfolio.antibody, portfolio.segment, portfolio.quiet):
        assert project.name not in page(board)
        assert project.code not in page(other.get(LIST, params))
    # The column counts do not give the other team's projects away either.
    assert sum(n for _stage, _cards, n, *_amounts in board.context["columns"]) == len(seen)


def test_a_team_lead_filters_only_within_the_team(portfolio, as_persona):
    p = portfolio
    teamlead = as_persona("teamlead")
    assert listed(teamlead) == p.names(p.antibody, p.segment, p.quiet)
    assert listed(teamlead, {"team": "dev"}) == set()
    assert listed(teamlead, {"light": "red"}) == set()


# 2. Saved filters --------------------------------------------------------------------------------


def test_a_saved_filter_is_listed_and_brings_back_the_same_projects(portfolio, as_persona, investment):
    owner = as_persona("owner")
    query = f"stage=contact&stage=visit&chain={investment.biologics.pk}&page=3&utm=mail"
    response = owner.post(reverse("investment:filter_save"), {"name": "在谈的生物药", "query": query})
    kept = f"stage=contact&stage=visit&chain={investment.biologics.pk}"
    assert response.status_code == 302
    assert response.url == f"{LIST}?{kept}"  # the page and unknown keys are not kept
    saved = SavedFilter.objects.get(owner=investment.users["owner"])
    assert (saved.name, saved.query) == ("在谈的生物药", kept)

    html = page(owner.get(LIST))
    assert "已保存常用筛选“在谈的生物药”。" in html
    assert f'<a href="{LIST}?{kept.replace("&", "&amp;")}">在谈的生物药</a>' in html
    applied = owner.get(saved.get_absolute_url())
    assert {p.name for p, _inv in applied.context["rows"]} == portfolio.names(
        portfolio.antibody, portfolio.segment
    )


def test_saving_under_an_existing_name_replaces_the_filter(portfolio, as_persona, investment):
    owner = as_persona("owner")
    owner.post(reverse("investment:filter_save"), {"name": "重大", "query": "major=1"})
    owner.post(reverse("investment:filter_save"), {"name": "重大", "query": "major=1&light=green"})
    assert list(SavedFilter.objects.values_list("name", "query")) == [("重大", "light=green&major=1")]


def test_a_filter_without_a_name_is_not_saved(portfolio, as_persona):
    response = as_persona("owner").post(
        reverse("investment:filter_save"), {"name": "", "query": "major=1"}, follow=True
    )
    assert "请填写常用筛选的名称。" in page(response)
    assert not SavedFilter.objects.exists()


def test_a_saved_search_text_with_an_ampersand_comes_back_whole(new_project, as_persona, investment):
    new_project(name="R&D 中心")
    new_project(name="RNA 平台")
    owner = as_persona("owner")
    owner.post(reverse("investment:filter_save"), {"name": "研发", "query": "q=R%26D"})
    applied = owner.get(SavedFilter.objects.get().get_absolute_url())
    assert applied.context["filters"]["q"] == "R&D"
    assert {p.name for p, _inv in applied.context["rows"]} == {"R&D 中心"}


def test_deleting_a_saved_filter_removes_it_from_the_list(portfolio, as_persona, investment):
    saved = SavedFilter.objects.create(owner=investment.users["owner"], name="红灯项目", query="light=red")
    owner = as_persona("owner")
    response = owner.post(reverse("investment:filter_delete", args=[saved.pk]), follow=True)
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()
    html = page(response)
    assert "已删除常用筛选“红灯项目”。" in html
    assert ">红灯项目</a>" not in html


def test_nobody_sees_or_deletes_someone_elses_saved_filter(portfolio, as_persona, investment):
    saved = SavedFilter.objects.create(
        owner=investment.users["owner"], name="我的抗体项目", query="chain=antibody"
    )
    colleague = as_persona("colleague")
    response = colleague.get(LIST)
    assert "我的抗体项目" not in page(response)
    assert list(response.context["saved_filters"]) == []
    assert colleague.post(reverse("investment:filter_delete", args=[saved.pk])).status_code == 404
    assert as_persona("admin").post(reverse("investment:filter_delete", args=[saved.pk])).status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    assert "我的抗体项目" in page(as_persona("owner").get(LIST))


# 3. The kanban board -----------------------------------------------------------------------------


def board_columns(response) -> dict[str, list[tuple[str, bool]]]:
    """stage -> [(project name, draggable)] as the board's context has them."""
    return {
        stage.value: [(card.project.name, card.editable) for card in cards]
        for stage, cards, _n, *_amounts in response.context["columns"]
    }


def cards_in_html(html: str) -> dict[str, list[str]]:
    """stage -> the card codes rendered inside that column."""
    columns = {}
    for chunk in html.split('<section class="board-column')[1:]:
        stage = re.search(r'data-stage="([a-z_]+)"', chunk).group(1)
        columns[stage] = re.findall(r'<article class="board-card" id="card-([A-Z0-9-]+)"', chunk)
    return columns


def test_the_board_has_a_column_per_stage_with_the_users_own_cards(portfolio, as_persona):
    p = portfolio
    response = as_persona("owner").get(BOARD)
    columns = board_columns(response)
    assert list(columns) == [
        "lead",
        "contact",
        "visit",
        "negotiation",
        "signed",
        "registered",
        "construction",
        "production",
        "full_capacity",
        "on_hold",
        "lost",
    ]
    assert {stage: cards for stage, cards in columns.items() if cards} == {
        "contact": [(p.antibody.name, True)],
        "visit": [(p.segment.name, True)],
    }
    html = page(response)
    assert {stage: codes for stage, codes in cards_in_html(html).items() if codes} == {
        "contact": [p.antibody.code],
        "visit": [p.segment.code],
    }
    assert f'data-move-url="{move_url(p.antibody)}"' in html
    assert p.devices.name not in html and p.quiet.name not in html


def test_a_team_lead_may_drag_the_teams_cards_and_a_leader_only_looks(portfolio, as_persona):
    p = portfolio
    lead_columns = board_columns(as_persona("teamlead").get(BOARD))
    assert sorted(lead_columns["contact"]) == sorted([(p.antibody.name, True), (p.quiet.name, True)])
    assert lead_columns["negotiation"] == []
    leader = as_persona("leader").get(BOARD)
    leader_columns = board_columns(leader)
    assert leader_columns["negotiation"] == [(p.devices.name, False)]
    assert sum(len(cards) for cards in leader_columns.values()) == 4
    assert 'draggable="true"' not in page(leader)


def drop(client, project: Project, to: str, seen: str):
    """What board.js sends when a card showing stage ``seen`` is dropped on column ``to``."""
    return client.post(
        move_url(project),
        {"to": to, "expected_stage": seen, "from": "board", "probe": "1"},
        headers=HTMX,
    )


def test_dropping_a_card_on_a_stage_that_needs_nothing_moves_it_at_once(portfolio, as_persona, investment):
    response = drop(as_persona("owner"), portfolio.antibody, "visit", seen="contact")
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    assert stage_of(portfolio.antibody) == "visit"
    event = ProjectEvent.objects.get(project=portfolio.antibody, kind="stage")
    assert (event.from_stage, event.to_stage, event.actor) == ("contact", "visit", investment.users["owner"])
    visit_column = cards_in_html(page(as_persona("owner").get(BOARD)))["visit"]
    assert portfolio.antibody.code in visit_column


def test_a_card_whose_signing_facts_are_on_record_moves_back_to_signed_at_once(portfolio, as_persona):
    owner = portfolio.antibody.owner
    project = actions.move_stage(actor=owner, project=portfolio.antibody, to="signed", facts=SIGNING)
    actions.move_stage(actor=owner, project=project, to="negotiation", reason="条款重谈")
    response = drop(as_persona("owner"), project, "signed", seen="negotiation")
    assert response.status_code == 204
    project.refresh_from_db()
    assert (project.stage, project.contracted_investment) == ("signed", Decimal("50000"))
    assert stage_events(project) == 3


def test_dropping_a_card_on_signing_answers_with_the_gate_form_and_changes_nothing(portfolio, as_persona):
    owner = as_persona("owner")
    response = drop(owner, portfolio.antibody, "signed", seen="contact")
    assert response.status_code == 200
    html = page(response)
    assert "<html" not in html  # the form alone, for the board's dialog
    assert "从“接洽”推进到“签约”" in html
    for label in ("协议类型", "签约日期", "合同投资（万元）"):
        assert f">{label}<" in html
    assert "注册日期" not in html and "原因" not in html
    assert '<input type="hidden" name="from" value="board">' in html
    assert set(response.context["form"].fields) == {
        "agreement_type",
        "signed_on",
        "contracted_investment",
        "expected_stage",
    }
    assert stage_of(portfolio.antibody) == "contact"
    assert stage_events(portfolio.antibody) == 0


def test_the_gate_form_from_the_board_moves_the_card_once_the_facts_are_given(portfolio, as_persona):
    owner = as_persona("owner")
    form = {"to": "signed", "expected_stage": "contact", "from": "board"}
    refused = owner.post(move_url(portfolio.antibody), form, headers=HTMX)
    assert refused.status_code == 400
    assert page(refused).count("这个字段是必填项。") == 3
    assert stage_of(portfolio.antibody) == "contact"

    facts = {"agreement_type": "framework", "signed_on": days_ago(5), "contracted_investment": "50000"}
    response = owner.post(move_url(portfolio.antibody), {**form, **facts}, headers=HTMX)
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    project = Project.objects.get(pk=portfolio.antibody.pk)
    assert (project.stage, project.agreement_type, project.contracted_investment) == (
        "signed",
        "framework",
        Decimal("50000"),
    )


def test_dropping_a_card_on_an_exit_asks_for_the_reason_first(portfolio, as_persona):
    response = drop(as_persona("owner"), portfolio.segment, "lost", seen="visit")
    assert response.status_code == 200
    assert "从“考察”推进到“流失”" in page(response)
    assert set(response.context["form"].fields) == {"reason", "expected_stage"}
    assert stage_of(portfolio.segment) == "visit"


def test_a_card_dropped_from_a_stage_that_already_changed_is_refused(portfolio, as_persona, investment):
    # Someone else moved the project to 考察; the owner's board still shows it under 接洽.
    actions.move_stage(actor=investment.users["teamlead"], project=portfolio.antibody, to="visit")
    response = drop(as_persona("owner"), portfolio.antibody, "negotiation", seen="contact")
    assert response.status_code == 409
    assert "启明双抗生产基地 已被移到“考察”" in page(response)
    assert stage_of(portfolio.antibody) == "visit"
    assert stage_events(portfolio.antibody) == 1


def test_a_reader_cannot_move_a_card(portfolio, as_persona):
    assert drop(as_persona("leader"), portfolio.antibody, "visit", seen="contact").status_code == 403
    assert drop(as_persona("colleague"), portfolio.antibody, "visit", seen="contact").status_code == 404
    assert stage_of(portfolio.antibody) == "contact"


# 4. Stage gate forms in the console --------------------------------------------------------------


def test_signing_from_the_console_records_the_agreement(portfolio, as_persona):
    owner = as_persona("owner")
    project = portfolio.antibody
    form = owner.get(move_url(project), {"to": "signed"})
    assert form.status_code == 200
    assert "从“接洽”推进到“签约”" in page(form)
    assert 'name="expected_stage" value="contact"' in page(form)
    signed_on = days_ago(3)
    response = owner.post(
        move_url(project),
        {
            "to": "signed",
            "expected_stage": "contact",
            "agreement_type": "formal",
            "signed_on": signed_on.isoformat(),
            "contracted_investment": "60000",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == project.get_absolute_url()
    assert f"{project.code} 已推进到“签约”。" in page(response)
    project.refresh_from_db()
    assert (project.stage, project.agreement_type, project.signed_on, project.contracted_investment) == (
        "signed",
        "formal",
        signed_on,
        Decimal("60000"),
    )
    assert project.events.get(kind="stage").signed_amount == Decimal("60000")


def test_a_signing_date_in_the_future_is_refused(portfolio, as_persona):
    response = as_persona("owner").post(
        move_url(portfolio.antibody),
        {
            "to": "signed",
            "expected_stage": "contact",
            "agreement_type": "formal",
            "signed_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
            "contracted_investment": "60000",
        },
    )
    assert response.status_code == 400
    assert "日期不能晚于今天。" in page(response)
    portfolio.antibody.refresh_from_db()
    assert (portfolio.antibody.stage, portfolio.antibody.signed_on) == ("contact", None)


def test_registration_with_a_wrong_check_digit_names_the_code_and_stores_nothing(portfolio, as_persona):
    project = actions.move_stage(
        actor=portfolio.antibody.owner, project=portfolio.antibody, to="signed", facts=SIGNING
    )
    owner = as_persona("owner")
    form = page(owner.get(move_url(project), {"to": "registered"}))
    for label in ("注册企业统一社会信用代码", "注册企业名称", "注册日期"):
        assert f">{label}<" in form
    good = uscc_with_check_digit("91500113MA5U0X9X1")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    organizations = Organization.objects.count()
    data = {
        "to": "registered",
        "expected_stage": "signed",
        "registered_uscc": bad,
        "registered_name": "启明生物（重庆）有限公司",
        "registered_on": days_ago(1).isoformat(),
    }
    response = owner.post(move_url(project), data)
    assert response.status_code == 400
    html = page(response)
    assert f"统一社会信用代码校验位不正确：第 18 位应为 {good[-1]}，而不是 {bad[-1]}" in html
    assert response.context["form"].errors["registered_uscc"]
    assert Organization.objects.count() == organizations
    assert stage_of(project) == "signed"

    response = owner.post(move_url(project), {**data, "registered_uscc": good})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.stage == "registered"
    assert (project.registered_organization.uscc, project.registered_organization.org_type) == (
        good,
        "resident",
    )


def test_a_backward_move_without_a_reason_is_refused(portfolio, as_persona):
    project = portfolio.segment  # 考察
    owner = as_persona("owner")
    form = owner.get(move_url(project), {"to": "contact"})
    assert ">原因<" in page(form)
    response = owner.post(move_url(project), {"to": "contact", "expected_stage": "visit", "reason": "  "})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["这个字段是必填项。"]
    assert stage_of(project) == "visit"
    response = owner.post(
        move_url(project), {"to": "contact", "expected_stage": "visit", "reason": "考察推迟到明年"}
    )
    assert response.status_code == 302
    assert stage_of(project) == "contact"
    assert project.events.get(kind="stage").data["reason"] == "考察推迟到明年"


@pytest.mark.parametrize("exit_stage, label", [("on_hold", "搁置"), ("lost", "流失")])
def test_an_exit_needs_a_reason_and_the_page_shows_it(portfolio, as_persona, exit_stage, label):
    project = portfolio.antibody
    owner = as_persona("owner")
    refused = owner.post(move_url(project), {"to": exit_stage, "expected_stage": "contact"})
    assert refused.status_code == 400
    assert f"从“接洽”推进到“{label}”" in page(refused)
    assert "这个字段是必填项。" in page(refused)
    assert stage_of(project) == "contact"
    response = owner.post(
        move_url(project),
        {"to": exit_stage, "expected_stage": "contact", "reason": "投资方转投成都"},
        follow=True,
    )
    project.refresh_from_db()
    assert (project.stage, project.exit_reason) == (exit_stage, "投资方转投成都")
    assert f"{label}：投资方转投成都" in page(response)


def test_a_gate_form_left_open_while_someone_moved_the_project_changes_nothing(
    portfolio, as_persona, investment
):
    owner = as_persona("owner")
    project = portfolio.antibody
    assert 'name="expected_stage" value="contact"' in page(owner.get(move_url(project), {"to": "visit"}))
    actions.move_stage(actor=investment.users["teamlead"], project=project, to="negotiation")
    response = owner.post(move_url(project), {"to": "visit", "expected_stage": "contact", "reason": "x"})
    assert response.status_code == 409
    assert "已被移到“洽谈”" in page(response)
    assert stage_of(project) == "negotiation"
    assert stage_events(project) == 1


# 5. Lead screens ---------------------------------------------------------------------------------


def pool_lead(park, name: str, chain_node=None, phone: str = "") -> Lead:
    config = InvestmentSettings.current()
    config.auto_assign = False
    config.save()
    lead = lead_actions.create_lead(
        actor=park.users["admin"],
        data={"company_name": name, "chain_node": chain_node, "contact_phone": phone},
        source={"channel": "h5_form"},
    )
    assert (lead.status, lead.owner) == ("pool", None)
    return lead


def test_the_pool_lists_the_unassigned_leads_with_a_claim_button(investment, as_persona):
    waiting = pool_lead(investment, "成都天府细胞治疗有限公司", investment.antibody)
    mine = lead_actions.create_lead(
        actor=investment.users["colleague"], data={"company_name": "孙专员自己的线索有限公司"}, source={}
    )
    response = as_persona("owner").get(reverse("investment:lead_list"), {"tab": "pool"})
    assert [lead.code for lead in response.context["page"].object_list] == [waiting.code]
    html = page(response)
    assert "成都天府细胞治疗有限公司" in html and mine.company_name not in html
    assert f'action="{reverse("investment:lead_claim", args=[waiting.code])}"' in html
    assert re.search(r'公海 <span class="count">1</span>', html)


def test_claiming_from_the_console_takes_the_lead_out_of_the_pool(investment, as_persona):
    lead = pool_lead(investment, "成都天府细胞治疗有限公司", investment.antibody)
    owner = as_persona("owner")
    response = owner.post(reverse("investment:lead_claim", args=[lead.code]), follow=True)
    assert response.redirect_chain[-1][0] == lead.get_absolute_url()
    assert f"已认领线索 {lead.code}。" in page(response)
    lead.refresh_from_db()
    assert (lead.status, lead.owner, lead.team.code) == ("assigned", investment.users["owner"], "bio")
    event = LeadEvent.objects.get(lead=lead, kind="claimed")
    assert event.actor == investment.users["owner"]
    pool = owner.get(reverse("investment:lead_list"), {"tab": "pool"})
    assert list(pool.context["page"].object_list) == []
    assert "没有符合条件的线索。" in page(pool)
    mine = owner.get(reverse("investment:lead_list"), {"tab": "mine"})
    assert [lead.code for lead in mine.context["page"].object_list] == [lead.code]


def test_a_lead_claimed_meanwhile_is_out_of_reach_of_the_second_promoter(investment, as_persona):
    lead = pool_lead(investment, "成都天府细胞治疗有限公司")
    as_persona("owner").post(reverse("investment:lead_claim", args=[lead.code]))
    late = as_persona("colleague").post(reverse("investment:lead_claim", args=[lead.code]))
    assert late.status_code == 404
    lead.refresh_from_db()
    assert lead.owner == investment.users["owner"]
    assert LeadEvent.objects.filter(lead=lead, kind="claimed").count() == 1


def lead_form(**values) -> dict:
    data = {
        "company_name": "",
        "uscc": "",
        "contact_name": "",
        "contact_phone": "",
        "chain_node": "",
        "planned_investment": "",
        "interest": "",
        "channel": "staff",
        "event": "",
        "referrer_name": "",
        "source_note": "",
    }
    data.update(values)
    return data


def test_a_new_lead_matching_a_known_company_shows_the_duplicate_and_stores_nothing(investment, as_persona):
    leads_before = Lead.objects.count()
    response = as_persona("owner").post(
        reverse("investment:lead_create"),
        lead_form(
            company_name="苏州启明抗体药物有限公司",
            uscc=investment.prospect.uscc,
            contact_phone="138 1234 5678",
        ),
    )
    assert response.status_code == 400
    html = page(response)
    assert "发现可能重复的企业或线索（撞单）" in html
    assert (
        f'<a href="{investment.prospect.get_absolute_url()}" target="_blank">苏州启明抗体药物有限公司</a>'
        in html
    )
    for reason in ("统一社会信用代码相同", "名称相近", "联系人电话相同"):
        assert reason in html
    assert 'name="confirm_duplicates"' in html
    assert Lead.objects.count() == leads_before


def test_a_duplicate_of_another_teams_company_is_counted_but_not_named(investment, as_persona):
    response = as_persona("owner").post(
        reverse("investment:lead_create"), lead_form(company_name="广州粤创医疗影像设备有限公司")
    )
    assert response.status_code == 400
    html = page(response)
    assert "另有 1 条匹配记录由其他团队负责，请联系团队负责人协调。" in html
    assert investment.other_prospect.get_absolute_url() not in html
    assert not Lead.objects.exists()


def test_a_duplicate_lead_is_offered_for_merging(investment, as_persona):
    owner = as_persona("owner")
    earlier = lead_actions.create_lead(
        actor=investment.users["owner"],
        data={"company_name": "杭州新药研究有限公司", "contact_phone": "13700001111"},
        source={"channel": "expo"},
    )
    entry = lead_form(company_name="杭州新药研究院", contact_phone="13700001111", channel="referral")
    response = owner.post(reverse("investment:lead_create"), entry)
    assert response.status_code == 400
    html = page(response)
    assert f"{earlier.code} 杭州新药研究有限公司" in html and "联系人电话相同" in html

    created = owner.post(reverse("investment:lead_create"), {**entry, "confirm_duplicates": "on"})
    assert created.status_code == 302
    new = Lead.objects.exclude(pk=earlier.pk).get()
    detail = page(owner.get(new.get_absolute_url()))
    merge = f"{reverse('investment:lead_merge', args=[new.code])}?other={earlier.code}"
    assert "可能重复的线索" in detail and f'href="{merge}"' in detail
    assert f'value="{earlier.code}"' in page(owner.get(merge))

    owner.post(reverse("investment:lead_merge", args=[new.code]), {"other": earlier.code})
    earlier.refresh_from_db()
    assert (earlier.status, earlier.merged_into) == ("merged", new)
    assert set(new.sources.values_list("channel", flat=True)) == {"expo", "referral"}


def test_qualifying_a_lead_from_the_console_creates_the_project_and_opens_it(investment, as_persona):
    lead = lead_actions.create_lead(
        actor=investment.users["owner"],
        data={
            "company_name": "杭州新药研究有限公司",
            "contact_name": "吴总",
            "contact_phone": "13700001111",
            "chain_node": investment.antibody,
            "planned_investment": Decimal("20000"),
        },
        source={"channel": "expo"},
    )
    owner = as_persona("owner")
    form = owner.get(reverse("investment:lead_qualify", args=[lead.code]))
    assert 'value="杭州新药研究有限公司"' in page(form)
    response = owner.post(
        reverse("investment:lead_qualify", args=[lead.code]),
        {
            "name": "新药 ADC 研发基地",
            "chain_node": investment.antibody.pk,
            "planned_investment": "20000",
            "stage": "visit",
            "description": "ADC 平台",
        },
        follow=True,
    )
    project = Project.objects.get(lead=lead)
    assert response.redirect_chain[-1][0] == project.get_absolute_url()
    html = page(response)
    assert f"已转为项目 {project.code}。" in html and "新药 ADC 研发基地" in html
    assert (project.stage, project.owner, project.source_channel, project.planned_investment) == (
        "visit",
        investment.users["owner"],
        "expo",
        Decimal("20000"),
    )
    lead.refresh_from_db()
    assert lead.status == "qualified"
    assert "该线索已转为项目" in page(owner.get(lead.get_absolute_url()))


def test_a_follow_up_recorded_on_a_lead_shows_on_its_page(investment, as_persona):
    lead = lead_actions.create_lead(
        actor=investment.users["owner"], data={"company_name": "杭州新药研究有限公司"}, source={}
    )
    owner = as_persona("owner")
    response = owner.post(
        reverse("investment:lead_activity_create", args=[lead.code]),
        {"kind": "call", "occurred_on": days_ago(1).isoformat(), "summary": "电话沟通，下周来园"},
        follow=True,
    )
    assert "已记录跟进活动。" in page(response)
    assert "电话沟通，下周来园" in page(response)
    assert lead.activities.get().created_by == investment.users["owner"]
    assert LeadEvent.objects.filter(lead=lead, kind="note").exists()


def test_the_lead_page_offers_the_follow_up_activity_form(investment, as_persona):
    lead = lead_actions.create_lead(
        actor=investment.users["owner"], data={"company_name": "杭州新药研究有限公司"}, source={}
    )
    html = page(as_persona("owner").get(lead.get_absolute_url()))
    action = reverse("investment:lead_activity_create", args=[lead.code])
    form = re.search(rf'<form method="post" action="{action}".*?</form>', html, flags=re.S).group(0)
    for name in ("kind", "occurred_on", "summary", "next_follow_up_on"):
        assert f'name="{name}"' in form


# 6. The promoter's home page ---------------------------------------------------------------------


def test_the_home_page_shows_my_overdue_follow_ups_stale_projects_and_pool(portfolio, investment, as_persona):
    users = investment.users
    add_activity(
        actor=users["owner"],
        project=portfolio.antibody,
        data={
            "kind": "call",
            "summary": "电话回访投资总监",
            "occurred_on": days_ago(10),
            "next_follow_up_on": days_ago(3),
        },
    )
    add_activity(
        actor=users["other_team"],
        project=portfolio.devices,
        data={
            "kind": "call",
            "summary": "催粤创的合同",
            "occurred_on": days_ago(10),
            "next_follow_up_on": days_ago(2),
        },
    )
    without_progress_for(portfolio.segment, 65)  # the owner's own yellow project
    pool_lead(investment, "成都天府细胞治疗有限公司", investment.antibody)
    pool_lead(investment, "西安秦岭医疗器械有限公司", investment.devices)
    pool_lead(investment, "未分类的咨询企业有限公司")
    lead_actions.create_lead(
        actor=users["other_team"], data={"company_name": "刘专员的线索有限公司"}, source={}
    )

    response = as_persona("owner").get("/")
    home = response.context["investment"]
    assert [a.summary for a in home["follow_ups"]] == ["电话回访投资总监"]
    assert [p.name for p in home["stale"]] == [portfolio.segment.name]
    assert (home["pool"], home["pool_for_team"]) == (3, 2)
    html = page(response)
    assert "电话回访投资总监" in html and f"应于 {days_ago(3):%Y-%m-%d} 跟进" in html
    assert '<span class="light light-yellow"></span> <a href="' + portfolio.segment.get_absolute_url() in html
    assert '<span class="stat-value">3</span>' in html
    assert "其中 2 条属于本团队负责的产业链环节。" in html
    for theirs in ("催粤创的合同", portfolio.devices.name, portfolio.quiet.name, "刘专员的线索有限公司"):
        assert theirs not in html


def test_another_promoters_home_shows_their_own_items(portfolio, investment, as_persona):
    add_activity(
        actor=investment.users["owner"],
        project=portfolio.antibody,
        data={
            "kind": "call",
            "summary": "电话回访投资总监",
            "occurred_on": days_ago(10),
            "next_follow_up_on": days_ago(3),
        },
    )
    pool_lead(investment, "西安秦岭医疗器械有限公司", investment.devices)
    pool_lead(investment, "成都天府细胞治疗有限公司", investment.antibody)
    response = as_persona("other_team").get("/")
    home = response.context["investment"]
    assert list(home["follow_ups"]) == []
    assert [p.name for p in home["stale"]] == [portfolio.devices.name]
    assert (home["pool"], home["pool_for_team"]) == (2, 1)
    html = page(response)
    assert "没有逾期的跟进。" in html and "电话回访投资总监" not in html
    assert '<span class="light light-red"></span>' in html
    assert portfolio.antibody.name not in html


def test_a_done_follow_up_leaves_the_home_page(portfolio, investment, as_persona):
    owner = investment.users["owner"]
    add_activity(
        actor=owner,
        project=portfolio.antibody,
        data={
            "kind": "call",
            "summary": "电话回访投资总监",
            "occurred_on": days_ago(10),
            "next_follow_up_on": days_ago(3),
        },
    )
    add_activity(
        actor=owner,
        project=portfolio.antibody,
        data={"kind": "visit", "summary": "上门拜访", "occurred_on": days_ago(1)},
    )
    html = page(as_persona("owner").get("/"))
    assert "电话回访投资总监" not in html and "没有逾期的跟进。" in html


# 7. The investment settings page -----------------------------------------------------------------


def settings_form(**values) -> dict:
    data = {
        "lead_return_days": "15",
        "auto_assign": "on",
        "yellow_after_days": "60",
        "red_after_days": "90",
        "archive_after_days": "180",
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def rules() -> tuple[int, int, int, int]:
    config = InvestmentSettings.current()
    return (
        config.lead_return_days,
        config.yellow_after_days,
        config.red_after_days,
        config.archive_after_days,
    )


def test_an_admin_changes_the_pool_days_and_the_lights(portfolio, as_persona):
    admin = as_persona("admin")
    form = page(admin.get(SETTINGS))
    assert "招商规则" in form and 'name="lead_return_days" value="15"' in form
    response = admin.post(
        SETTINGS,
        settings_form(
            lead_return_days="20", yellow_after_days="30", red_after_days="45", archive_after_days="120"
        ),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == SETTINGS
    assert "招商规则已保存。" in page(response)
    assert rules() == (20, 30, 45, 120)
    # The lights follow at once: 65 days without progress is now red, not yellow.
    without_progress_for(portfolio.antibody, 35)
    assert listed(admin, {"light": "yellow"}) == {portfolio.antibody.name}
    assert listed(admin, {"light": "red"}) == portfolio.names(portfolio.devices, portfolio.quiet)


@pytest.mark.parametrize(
    "values",
    [
        {"yellow_after_days": "100", "red_after_days": "90"},
        {"yellow_after_days": "90", "red_after_days": "90"},
        {"red_after_days": "200", "archive_after_days": "180"},
    ],
)
def test_lights_out_of_order_are_refused_and_nothing_changes(investment, as_persona, values):
    response = as_persona("admin").post(SETTINGS, settings_form(**values))
    assert response.status_code == 400
    assert "天数须满足：黄灯 &lt; 红灯 &lt; 自动搁置。" in page(response)
    assert rules() == (15, 60, 90, 180)


def field_block(html: str, name: str) -> str:
    match = re.search(rf'<div class="field[^"]*" id="field-{name}">(.*?)</div>', html, flags=re.S)
    assert match, f"no field {name} on the page"
    return match.group(1)


@pytest.mark.parametrize(
    "name, label",
    [
        ("lead_return_days", "线索无跟进退回公海天数"),
        ("yellow_after_days", "黄灯：无进展天数"),
        ("archive_after_days", "自动搁置：无进展天数"),
    ],
)
def test_negative_days_are_refused_next_to_the_field_they_belong_to(investment, as_persona, name, label):
    response = as_persona("admin").post(SETTINGS, settings_form(**{name: "-5"}))
    assert response.status_code == 400
    block = field_block(page(response), name)
    assert label in block
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', block).group(1)
    assert re.search(r"[\u4e00-\u9fff]", error) and "0" in error  # Chinese, and says the limit
    assert rules() == (15, 60, 90, 180)


@pytest.mark.parametrize("persona", ["leader", "teamlead", "owner", "service"])
def test_only_an_admin_may_open_or_change_the_rules(investment, as_persona, persona):
    client = as_persona(persona)
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, settings_form(lead_return_days="3")).status_code == 403
    assert rules() == (15, 60, 90, 180)


# 8. English --------------------------------------------------------------------------------------

CJK = re.compile(r"[\u3001-\u303f\u4e00-\u9fff\uff01-\uff5e]+")


def untranslated(html: str, data: set[str]) -> set[str]:
    """Chinese left on an English page once scripts, the language switch (labelled in its own
    language on purpose), the avatar initial and the data (names of people, companies, teams,
    projects) are set aside."""
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    html = re.sub(r'<button[^>]*lang="zh-CN"[^>]*>.*?</button>', "", html, flags=re.S)
    html = re.sub(r'<span class="avatar"[^>]*>.*?</span>', "", html, flags=re.S)
    for value in sorted(data, key=len, reverse=True):
        html = html.replace(value, "")
    return set(CJK.findall(html))


def data_names() -> set[str]:
    return {
        *User.objects.values_list("name", flat=True),
        *Team.objects.values_list("name", flat=True),
        *Organization.objects.values_list("name", flat=True),
        *Project.objects.values_list("name", flat=True),
    }


def in_english(user):
    client = client_for(user)
    client.cookies["ymt_language"] = "en"
    return client


def test_the_project_list_speaks_english(portfolio, investment):
    client = in_english(investment.users["owner"])
    response = client.get(LIST)
    html = page(response)
    assert "<h1>Investment projects</h1>" in html
    assert "Antibody drugs" in html  # the segment's English name, in the filter and the rows
    assert untranslated(html, data_names()) == set()
    board = page(client.get(BOARD))
    assert untranslated(board, data_names()) == set()


def test_the_project_page_speaks_english(portfolio, investment):
    project = actions.move_stage(
        actor=portfolio.antibody.owner, project=portfolio.antibody, to="signed", facts=SIGNING
    )
    client = in_english(investment.users["owner"])
    html = page(client.get(project.get_absolute_url()))
    assert "Investment projects" in html
    assert untranslated(html, data_names()) == set()
    gate = page(client.get(move_url(project), {"to": "registered"}))
    assert untranslated(gate, data_names()) == set()


def test_the_project_page_names_the_chain_segment_in_english(portfolio, investment):
    html = page(in_english(investment.users["owner"]).get(portfolio.antibody.get_absolute_url()))
    assert "Biologics / Antibody drugs" in html
    assert "生物药 / 抗体药物" not in html


def test_the_capital_in_place_rate_has_no_chinese_brackets_in_english(portfolio, investment):
    project = actions.move_stage(
        actor=portfolio.antibody.owner, project=portfolio.antibody, to="signed", facts=SIGNING
    )
    html = page(in_english(investment.users["owner"]).get(project.get_absolute_url()))
    assert "· In-place rate 0.0%" in html
    assert "（" not in html and "）" not in html


def test_the_supervision_lights_follow_a_stage_move_and_new_light_settings_at_once(new_project, investment):
    from yimatong.investment.actions.projects import move_stage
    from yimatong.investment.models import InvestmentSettings

    leader = client_for(investment.users["leader"])

    def grid():
        page = leader.get(reverse("investment:supervision"))
        return {stage.value: counts for stage, counts in page.context["grid"] if any(counts)}

    project = new_project()
    assert grid() == {"contact": [1, 0, 0]}  # the second read comes from the cache
    assert grid() == {"contact": [1, 0, 0]}
    move_stage(actor=investment.users["owner"], project=project, to="visit")
    assert grid() == {"visit": [1, 0, 0]}
    Project.objects.filter(pk=project.pk).update(last_progress_at=timezone.now() - dt.timedelta(days=70))
    config = InvestmentSettings.current()
    config.red_after_days = 65
    config.save()
    assert grid() == {"visit": [0, 0, 1]}
