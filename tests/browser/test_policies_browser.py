"""Policies in a real browser: a policy officer (the dispatch centre) types a condition tree into
the new-policy editor and, before saving, the htmx live preview says who qualifies and who is
one condition short and why; malformed JSON and an unknown fact are named in the preview; saving
an invalid tree is refused under 适用条件 with nothing stored; saving a valid one lists the
qualifying enterprise on the policy's page. Then an enterprise one condition short sees the
policy under 差一项即可享受 in 我的政策 with the reason, fixes its R&D ratio in its profile and
sees the policy under 符合条件.

Fixtures (tests/browser/conftest.py): ``live_park`` is the suite's park committed for the live
server, ``page`` a chromium tab, ``sign_in(user)`` a session cookie. ``desk`` below makes the
park's service centre the dispatch centre (its officer edits policies) and gives both residents
an enterprise profile: 宏冠 qualifies for the tree below, 智翔金泰 (the enterprise user's own
company) is short by its R&D ratio. Matching after a save runs as a task once the request
commits (immediate backend in tests; the live server's requests commit for real). Screenshots
for people to look at go to /tmp/shots/ (policy-editor.png with the preview filled,
my-policies.png after the profile update, my-policies-short.png before it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import Park
from yimatong.accounts.models import User
from yimatong.directory.models import Organization
from yimatong.services import policy_actions
from yimatong.services.models import EnterpriseProfile, Policy, PolicyMatch

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
NEW = "/services/policies/new/"
MINE = "/services/policies/"
PROFILE = "/services/profile/"

# R&D ≥ 5% and at least 100 employees.
TREE = {
    "all": [
        {"fact": "rd_ratio", "op": ">=", "value": 5},
        {"fact": "employees", "op": ">=", "value": 100},
    ]
}
SHORT_BY_RD = "差：研发投入占比 >= 5%，当前 3.2%"
# A comma missing between "op" and "value" on the third line.
MALFORMED = '{"all": [\n  {"fact": "rd_ratio", "op": ">="\n   "value": 5}\n]}'
UNKNOWN_FACT = {
    "all": [
        {"fact": "rd_ratio", "op": ">=", "value": 5},
        {"fact": "salary", "op": ">=", "value": 1},
    ]
}
UNKNOWN_FACT_ERROR = "条件.2：没有“salary”这项企业信息。"


@dataclass
class Desk:
    park: Park
    officer: User

    @property
    def short(self) -> Organization:
        """智翔金泰: 300 employees but 3.2% R&D — one condition short."""
        return self.park.resident

    @property
    def qualifying(self) -> Organization:
        """宏冠: 6.5% R&D and 150 employees — qualifies."""
        return self.park.other_resident

    @property
    def enterprise(self) -> User:
        return self.park.users["enterprise"]


@pytest.fixture
def desk(live_park: Park) -> Desk:
    centre = live_park.users["service"].department
    centre.is_dispatch_center = True
    centre.save()
    EnterpriseProfile.objects.create(
        organization=live_park.resident, revenue=Decimal("3000"), rd_ratio=Decimal("3.2"), employees=300
    )
    EnterpriseProfile.objects.create(
        organization=live_park.other_resident,
        revenue=Decimal("12000"),
        rd_ratio=Decimal("6.5"),
        employees=150,
    )
    return Desk(live_park, live_park.users["service"])


def url(live_server: Any, path: str) -> str:
    return live_server.url + path


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")  # the sticky top bar at the top of the picture
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def pretty(tree: Any) -> str:
    return json.dumps(tree, ensure_ascii=False, indent=2)


def type_conditions(page: Any, text: str) -> None:
    """Replace the conditions and wait for the preview request the typing sends (the textarea
    posts on input after a 500 ms pause)."""
    with page.expect_response(lambda r: r.url.endswith("/services/policies/preview/")) as answer:
        page.locator("#id_conditions").fill(text)
    assert answer.value.status == 200


def card(page: Any, title: str) -> Any:
    """The card of 我的政策 whose heading starts with ``title``."""
    return page.locator("section.card").filter(
        has=page.locator("h2.card-title", has_text=re.compile("^" + re.escape(title)))
    )


def fill_policy_fields(page: Any, code: str, title: str) -> None:
    page.get_by_label("编号").fill(code)
    page.get_by_label("政策名称").fill(title)
    page.get_by_label(re.compile("^发布机构")).fill("生物城管委会")
    page.get_by_label("支持方式").select_option(label="资金补助")
    page.get_by_label("支持金额（万元）").fill("50")
    page.get_by_label("兑现方式").select_option(label="申报制")
    page.get_by_label("政策要点").fill("研发投入占比不低于 5%、从业人数不少于 100 人的企业，给予研发后补助。")
    page.get_by_label("发布", exact=True).check()


def save(page: Any) -> Any:
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(("/new/", "/edit/"))
    ) as answer:
        page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_load_state()
    return answer.value


# The editor ---------------------------------------------------------------------------------------


def test_the_editor_previews_who_qualifies_refuses_a_bad_tree_and_saves_a_good_one(
    desk: Desk, live_server: Any, page: Any, sign_in: Any
) -> None:
    code, title = "rd-post-subsidy-2026", "研发投入后补助（2026）"
    sign_in(desk.officer)
    page.goto(url(live_server, NEW))
    expect(page.locator(".page-head h1")).to_have_text("新增政策")
    preview = page.locator("#preview")
    # On load the preview already judges the empty tree it starts with.
    expect(preview).to_contain_text("条件组须包含至少一个条件")

    fill_policy_fields(page, code, title)
    type_conditions(page, pretty(TREE))

    # Who qualifies and who is one condition short, with the reason — nothing saved yet.
    expect(preview).to_contain_text("符合 1 家 · 差一项 1 家 · 待补充信息 0 家")
    met = preview.locator("h3:text-is('符合') + ul li")
    expect(met).to_have_text([desk.qualifying.name])
    near = preview.locator("h3:text-is('差一项') + ul li")
    expect(near).to_have_count(1)
    expect(near).to_contain_text(desk.short.name)
    expect(near.get_by_text(SHORT_BY_RD, exact=True)).to_be_visible()
    expect(preview.locator("h3:text-is('待补充信息') + ul li")).to_have_text(["—"])
    assert not Policy.objects.exists()
    assert not PolicyMatch.objects.exists()
    shot(page, "policy-editor")

    # Malformed JSON: the preview says where.
    try:
        json.loads(MALFORMED)
    except json.JSONDecodeError as exc:
        where = f"第 {exc.lineno} 行第 {exc.colno} 列"
    else:  # pragma: no cover - the fixture text must be malformed
        pytest.fail("MALFORMED parses")
    type_conditions(page, MALFORMED)
    expect(preview.locator("li.error")).to_have_text([f"不是有效的 JSON：{where}。"])
    expect(preview).not_to_contain_text(desk.qualifying.name)

    # An unknown fact: the preview names the condition.
    type_conditions(page, pretty(UNKNOWN_FACT))
    expect(preview.locator("li.error")).to_have_text([UNKNOWN_FACT_ERROR])

    # Saving it is refused: the error under 适用条件, the other fields kept, nothing stored.
    assert save(page).status == 400
    assert page.url == url(live_server, NEW)
    conditions = page.locator("div.field").filter(has=page.locator("#id_conditions"))
    expect(conditions.locator("p.error")).to_have_text([f"适用条件：{UNKNOWN_FACT_ERROR}"])
    expect(page.get_by_label("政策名称")).to_have_value(title)
    expect(page.get_by_label("发布", exact=True)).to_be_checked()
    assert json.loads(page.locator("#id_conditions").input_value()) == UNKNOWN_FACT
    expect(preview.locator("li.error")).to_have_text([UNKNOWN_FACT_ERROR])  # previewed again on load
    assert not Policy.objects.exists()

    # Malformed JSON is refused on saving too.
    type_conditions(page, MALFORMED)
    assert save(page).status == 400
    expect(conditions.locator("p.error")).to_have_count(1)
    expect(conditions.locator("p.error")).to_contain_text("适用条件：")
    expect(conditions.locator("p.error")).to_contain_text("JSON")
    assert not Policy.objects.exists()

    # A valid tree is saved: to the policy's page, which lists the qualifying enterprise.
    type_conditions(page, pretty(TREE))
    expect(preview).to_contain_text("符合 1 家 · 差一项 1 家")
    assert save(page).status == 302
    page.wait_for_url(url(live_server, f"/services/policies/{code}/"))
    policy = Policy.objects.get()
    assert (policy.code, policy.title, policy.conditions, policy.is_published, policy.version) == (
        code,
        title,
        TREE,
        True,
        1,
    )
    expect(page.locator(".messages")).to_contain_text("政策已保存，正在重新匹配企业。")
    expect(page.locator(".page-head h1")).to_have_text(title)
    expect(page.locator("a.tab.active")).to_have_text(re.compile(r"^符合\s*1$"))
    rows = page.locator("section.card ul.plain-list > li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(desk.qualifying.name)
    expect(rows.first).to_contain_text("通过率 100")

    # The enterprise one condition short is under 差一项, with the reason.
    page.locator("a.tab", has_text="差一项").click()
    page.wait_for_url(re.compile(r"\?status=unmet$"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(desk.short.name)
    expect(rows.first.get_by_text(SHORT_BY_RD, exact=True)).to_be_visible()

    stored = {m.organization_id: m for m in PolicyMatch.objects.filter(policy=policy)}
    assert set(stored) == {desk.qualifying.pk, desk.short.pk}
    assert stored[desk.qualifying.pk].status == "met"
    assert (stored[desk.short.pk].status, stored[desk.short.pk].missing) == ("unmet", [SHORT_BY_RD])


# The enterprise's side ----------------------------------------------------------------------------


def test_an_enterprise_one_condition_short_updates_its_profile_and_then_qualifies(
    desk: Desk, live_server: Any, page: Any, sign_in: Any
) -> None:
    title = "研发投入后补助（2026）"
    # The setting, not the subject: the policy saved (and matched once it commits).
    policy = policy_actions.save_policy(
        actor=desk.officer,
        data={
            "code": "rd-post-subsidy-2026",
            "title": title,
            "issuer": "生物城管委会",
            "benefit": "subsidy",
            "amount": Decimal("50"),
            "mode": "apply",
            "is_published": True,
            "conditions": TREE,
        },
    )
    assert PolicyMatch.objects.get(policy=policy, organization=desk.short).status == "unmet"

    sign_in(desk.enterprise)
    page.goto(url(live_server, MINE))
    expect(page.locator(".page-head h1")).to_have_text("我的政策")
    short, met = card(page, "差一项即可享受"), card(page, "符合条件")
    expect(short.locator("li")).to_have_count(1)
    expect(short.get_by_role("link", name=title)).to_be_visible()
    expect(short.get_by_text(SHORT_BY_RD, exact=True)).to_be_visible()
    expect(met.locator("li")).to_have_text(["暂无。"])
    shot(page, "my-policies-short")

    # Its profile: the R&D ratio to 6%.
    page.get_by_role("link", name="完善企业信息").click()
    page.wait_for_url(url(live_server, PROFILE))
    expect(page.locator(".page-head h1")).to_have_text(f"企业信息 · {desk.short.name}")
    rd = page.get_by_label("研发投入占比（%）")
    expect(rd).to_have_value(re.compile(r"^3\.20?$"))
    expect(page.get_by_label("从业人数")).to_have_value("300")
    rd.fill("6")
    page.get_by_role("button", name="保存并重新匹配").click()
    page.wait_for_url(url(live_server, MINE))

    expect(page.locator(".messages")).to_contain_text("企业信息已更新，政策匹配已重新计算。")
    expect(met.locator("li")).to_have_count(1)
    expect(met.get_by_role("link", name=title)).to_be_visible()
    expect(met.locator("li")).to_contain_text("通过率 100")
    expect(met).not_to_contain_text("差：")
    expect(short.locator("li")).to_have_text(["暂无。"])
    shot(page, "my-policies")

    profile = EnterpriseProfile.objects.get(organization=desk.short)
    assert (profile.rd_ratio, profile.employees, profile.revenue) == (Decimal("6"), 300, Decimal("3000"))
    match = PolicyMatch.objects.get(policy=policy, organization=desk.short)
    assert (match.status, match.missing) == ("met", [])
