"""The resident enterprise's H5 service in WeChat, in a real browser on a phone: the enterprise
opens its service page, signs in through the fake WeChat's OAuth, binds its account, files a
demand with a real PDF attached, and — once the park has handled it — rates the handling
(不满意 without a reason is refused, naming the rule; 满意 archives it). Then its policies:
what it qualifies for, what it is short of for a near miss (差：…), applying online, uploading
each material of the checklist and submitting.

Fixtures: ``live_park`` (tests/browser/conftest.py) is the suite's park committed for the live
server; ``live_wechat`` (tests/conftest.py) is the fake WeChat on loopback with both accounts of
``make_accounts()``; ``desk`` below is tests/test_demands.py's (the service centre dispatches, a
land department with its officer, the 用地 category); ``phone`` a 390×844 tab of WeChat's
browser. The park's steps (accept … review, saving policies) are taken through the actions: the
live server's tests run in autocommit, so each action's ``on_commit`` work (policy matching)
runs when the action commits, as after a real request. Screenshots for people to look at go to
/tmp/shots/ (as the other browser tests'); a failed test's last page to var/screenshots/.
"""

from __future__ import annotations

import contextlib
import re
import struct
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, TIMEOUT_MS
from tests.browser.test_wechat_browser import PHONE_USER_AGENT, sign_in_with_fake_openid
from tests.conftest import Park
from tests.factories import DepartmentFactory, UserFactory
from yimatong.accounts.models import Department, User
from yimatong.services import actions, policy_actions
from yimatong.services.models import Application, Demand, DemandCategory, Policy, PolicyMatch
from yimatong.wechat.models import Follower, OfficialAccount

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
PHONE_WIDTH, PHONE_HEIGHT = 390, 844
SLUG = "park-cn"
ENT = f"/h5/{SLUG}/ent/"
DEMAND_URL = re.compile(re.escape(ENT) + r"demands/(SQ[\w-]+)/$")
APPLICATION_URL = re.compile(re.escape(ENT) + r"applications/([\w-]+)/$")
MATERIALS = ("营业执照", "上年度审计报告")


# Real files -------------------------------------------------------------------------------------


def a_pdf() -> bytes:
    """A small, well-formed one-page PDF (with a correct cross-reference table)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        None,  # the content stream, below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    text = b"BT /F1 12 Tf 20 50 Td (Site photos) Tj ET"
    objects[3] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def a_png(width: int = 8, height: int = 8) -> bytes:
    """A small, well-formed RGB PNG (a green square)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\xa0\x40" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# Fixtures ---------------------------------------------------------------------------------------


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
    with an officer; the 用地 category."""
    centre = live_park.users["service"].department
    centre.is_dispatch_center = True
    centre.save()
    land = DepartmentFactory(code="land", name="区规划和自然资源局")
    officer = UserFactory(username="landofficer", name="孙科长", role=User.Role.SERVICE, department=land)
    category = DemandCategory.objects.create(
        code="land", name="用地", statutory_days=13, promised_days=5, default_department=land
    )
    return Desk(live_park, land, officer, category)


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Generator[Any]:
    """A fresh phone profile (WeChat's browser, Chinese, 390×844) and a tab in it."""
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        screen={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_USER_AGENT,
        locale="zh-CN",
        timezone_id=settings.TIME_ZONE,
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            with contextlib.suppress(Exception):
                tab.screenshot(path=str(SCREENSHOTS / f"failed-{name}.png"), full_page=True)
        context.close()


@pytest.fixture
def policies(live_park: Park) -> tuple[Policy, Policy]:
    """As tests/test_enterprise_h5.py's ``qualifying``: 规上企业奖励 (the resident is above
    scale: met, two materials) and 高新技术企业认定奖励 (it also needs the high-tech
    certification, which the resident lacks: one condition short)."""
    admin = live_park.users["admin"]
    met = policy_actions.save_policy(
        actor=admin,
        data={
            "code": "above-scale",
            "title": "规上企业奖励",
            "issuer": "生物城管委会",
            "benefit": "subsidy",
            "amount": Decimal("30"),
            "mode": "apply",
            "materials": "\n".join(MATERIALS),
            "is_published": True,
            "conditions": {"all": [{"fact": "is_above_scale", "op": "is", "value": True}]},
        },
    )
    near = policy_actions.save_policy(
        actor=admin,
        data={
            "code": "high-tech",
            "title": "高新技术企业认定奖励",
            "issuer": "生物城管委会",
            "benefit": "subsidy",
            "amount": Decimal("20"),
            "mode": "apply",
            "is_published": True,
            "conditions": {
                "all": [
                    {"fact": "is_above_scale", "op": "is", "value": True},
                    {"fact": "certifications", "op": "has", "value": "high_tech"},
                ]
            },
        },
    )
    # The matching scheduled on commit has run: the resident's matches are there.
    statuses = dict(
        PolicyMatch.objects.filter(organization=live_park.resident).values_list("policy__code", "status")
    )
    assert statuses == {"above-scale": PolicyMatch.Status.MET, "high-tech": PolicyMatch.Status.UNMET}
    return met, near


# Helpers ----------------------------------------------------------------------------------------


def url(live_server: Any, path: str) -> str:
    return live_server.url + path


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fits(page: Any) -> None:
    """No horizontal scrolling at the phone's width."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} is {width}px wide"


def alert(page: Any) -> Any:
    """The flash messages at the top of the page."""
    return page.locator("main > p.alert:not(.error-box)")


def tab(page: Any, name: str) -> Any:
    return page.locator("nav.tabs").get_by_role("link", name=name, exact=True)


def open_and_bind(page: Any, live_server: Any, fake: Any, openid: str) -> Follower:
    """Open the enterprise service: WeChat's sign-in (the fake's shortcut), the bind page with
    the enterprise's username and password, then 企业服务's home."""
    page.goto(url(live_server, ENT))
    sign_in_with_fake_openid(page, fake, openid)
    page.wait_for_url(url(live_server, f"{ENT}bind/?{urlencode({'next': ENT})}"))
    expect(page.get_by_role("heading", name="绑定企业账号")).to_be_visible()
    fits(page)
    follower = Follower.objects.get(account__slug=SLUG, openid=openid)
    assert follower.user_id is None

    page.get_by_label("用户名或手机号").fill("enterprise")
    page.get_by_label("密码").fill("secret-pass-123")
    page.get_by_role("button", name="绑定", exact=True).click()
    page.wait_for_url(url(live_server, ENT))
    return follower


def upload_form(page: Any, material: str) -> Any:
    """The checklist line of ``material`` on the application page, with its upload form."""
    return page.locator("ul.plain > li").filter(has=page.get_by_label(material, exact=True))


# The demand ------------------------------------------------------------------------------------


def test_an_enterprise_binds_its_account_files_a_demand_with_a_pdf_and_rates_the_handling(
    desk: Desk, live_server: Any, live_wechat: Any, phone: Any, tmp_path: Path
) -> None:
    page = phone
    park = desk.park
    title = "二期制剂车间用地规划调整"

    # Sign in through WeChat, bind the account, land on 企业服务.
    follower = open_and_bind(page, live_server, live_wechat, "o-ent-phone")
    expect(page).to_have_title(f"企业服务 · {OfficialAccount.objects.get(slug=SLUG).name}")
    expect(alert(page)).to_contain_text(f"已绑定 {park.resident.name} 的账号")
    expect(page.get_by_role("heading", level=1)).to_have_text(park.resident.name)
    expect(page.locator("main")).to_contain_text(f"企业服务 · {desk.enterprise.display_name}")
    expect(tab(page, "企业服务")).to_have_class(re.compile(r"\bon\b"))
    fits(page)
    follower.refresh_from_db()
    assert follower.user == desk.enterprise and follower.bound_at is not None

    # 提交诉求, with a real PDF through the 附件 input.
    attachment = tmp_path / "规划示意.pdf"
    attachment.write_bytes(a_pdf())
    page.locator("main").get_by_role("link", name="提交诉求", exact=True).click()
    page.wait_for_url(url(live_server, f"{ENT}demands/new/"))
    expect(page.get_by_role("heading", name="提交诉求")).to_be_visible()
    fits(page)
    page.get_by_label("类别").select_option(label="用地")
    page.get_by_label("标题").fill(title)
    page.get_by_label("诉求内容").fill("二期制剂车间拟向东扩建约 12 亩，需调整用地规划条件。")
    page.get_by_label("附件").set_input_files(attachment)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="提交", exact=True).click()
    assert answer.value.status == 302
    page.wait_for_url(DEMAND_URL)

    demand = Demand.objects.get(title=title)
    assert page.url == url(live_server, f"{ENT}demands/{demand.code}/")
    assert (demand.organization, demand.filed_by, demand.category) == (
        park.resident,
        desk.enterprise,
        desk.category,
    )
    assert list(demand.attachments.values_list("original_name", flat=True)) == ["规划示意.pdf"]
    expect(alert(page)).to_contain_text(f"诉求已提交，编号 {demand.code}")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    status = page.locator("main > section.card").first.locator("p > strong").first
    expect(status).to_have_text("待受理")
    fits(page)

    # The attachment's link gives back the very file.
    link = page.get_by_role("link", name="规划示意.pdf", exact=True)
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "规划示意.pdf"
    assert Path(download.value.path()).read_bytes() == attachment.read_bytes()

    # The park handles it: accepted, dispatched, signed, completed and passed (each action
    # commits, and its on_commit work with it).
    demand = actions.accept(actor=desk.centre, demand=demand)
    demand = actions.dispatch(actor=desk.centre, demand=demand, lead=desk.land)
    demand = actions.sign(actor=desk.officer, demand=demand)
    demand = actions.complete(actor=desk.officer, demand=demand, resolution="已调整用地规划条件。")
    demand = actions.review(actor=desk.centre, demand=demand, passed=True)
    assert demand.status == Demand.Status.FOLLOW_UP

    # The enterprise reloads: the result, and the rating form.
    page.reload()
    expect(status).to_have_text("待回访")
    expect(page.locator("main")).to_contain_text("已调整用地规划条件。")
    rate = page.locator("form.step-rate")
    expect(rate.get_by_role("heading", name="评价办理结果")).to_be_visible()
    expect(rate.get_by_role("radio")).to_have_count(3)
    fits(page)

    # 不满意 without a reason: refused, naming the rule; nothing changes.
    rate.get_by_label("不满意", exact=True).check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        rate.get_by_role("button", name="提交评价", exact=True).click()
    assert answer.value.status == 400
    page.wait_for_load_state()
    rate = page.locator("form.step-rate")
    expect(rate.locator(".error-box")).to_contain_text("不满意时请说明原因")
    expect(rate.locator("p.error")).to_have_text(["意见：必填。"])
    expect(rate.get_by_label("不满意", exact=True)).to_be_checked()
    expect(status).to_have_text("待回访")
    fits(page)
    demand.refresh_from_db()
    assert (demand.status, demand.rating, demand.redo_count) == (Demand.Status.FOLLOW_UP, "", 0)

    # 满意: archived.
    rate.get_by_label("满意", exact=True).check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        rate.get_by_role("button", name="提交评价", exact=True).click()
    assert answer.value.status == 302
    page.wait_for_url(url(live_server, f"{ENT}demands/{demand.code}/"))
    expect(alert(page)).to_contain_text("感谢您的评价。")
    expect(status).to_have_text(str(Demand.Status.ARCHIVED.label))
    expect(status).to_have_text("已归档")
    expect(page.locator("main")).to_contain_text("您的评价：满意")
    expect(page.locator("form.step-rate")).to_have_count(0)
    expect(page.locator("ul.stage-list > li").last).to_contain_text("回访评价")
    fits(page)
    demand.refresh_from_db()
    assert (demand.status, demand.rating) == (Demand.Status.ARCHIVED, Demand.Rating.SATISFIED)
    assert list(demand.events.values_list("kind", flat=True)) == [
        "filed",
        "accepted",
        "dispatched",
        "signed",
        "completed",
        "reviewed",
        "rated",
    ]
    shot(page, "ent-h5-demand-archived")


# Policies and an application ---------------------------------------------------------------------


def test_an_enterprise_sees_its_policies_and_what_it_is_short_of_then_applies_online_with_every_material(
    live_park: Park,
    live_server: Any,
    live_wechat: Any,
    phone: Any,
    policies: tuple[Policy, Policy],
    tmp_path: Path,
) -> None:
    page = phone
    met, near = policies
    open_and_bind(page, live_server, live_wechat, "o-ent-policies")

    # The 政策 tab: the met policy with 在线申报; the near miss with what is missing.
    tab(page, "政策").click()
    page.wait_for_url(url(live_server, f"{ENT}policies/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("政策直达")
    expect(tab(page, "政策")).to_have_class(re.compile(r"\bon\b"))
    qualifying = page.locator("section.match-met", has=page.get_by_role("heading", name=met.title))
    short = page.locator("section.match-unmet", has=page.get_by_role("heading", name=near.title))
    expect(qualifying).to_have_count(1)
    expect(short).to_have_count(1)
    expect(short.locator("li.error")).to_have_text(["差：具有高新技术企业认定"])
    expect(short.get_by_role("button", name="在线申报")).to_have_count(0)
    expect(qualifying.locator("li.error")).to_have_count(0)
    expect(qualifying).to_contain_text(re.compile(r"预计金额：30(\.0+)? 万元"))
    fits(page)

    # 在线申报 on the met policy: a draft application with its checklist, nothing uploaded yet.
    qualifying.get_by_role("button", name="在线申报", exact=True).click()
    page.wait_for_url(APPLICATION_URL)
    app = Application.objects.get(policy=met, organization=live_park.resident)
    assert page.url == url(live_server, f"{ENT}applications/{app.code}/")
    assert app.status == Application.Status.DRAFT
    expect(alert(page)).to_contain_text("申报已创建，请按清单上传材料后提交。")
    expect(page.get_by_role("heading", level=1)).to_have_text(met.title)
    status = page.locator("main > section.card").first.locator("strong").first
    expect(status).to_have_text("草稿")
    checklist = page.locator("ul.plain > li")
    expect(checklist).to_have_count(len(MATERIALS))
    for material in MATERIALS:
        expect(upload_form(page, material)).to_contain_text(f"✗ {material}")
    fits(page)

    # Each material of the checklist, uploaded through its own input.
    files = {"营业执照": ("营业执照.png", a_png()), "上年度审计报告": ("2024年度审计报告.pdf", a_pdf())}
    for material in MATERIALS:
        name, content = files[material]
        path = tmp_path / name
        path.write_bytes(content)
        line = upload_form(page, material)
        line.get_by_label(material, exact=True).set_input_files(path)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            line.get_by_role("button", name="上传", exact=True).click()
        assert answer.value.status == 302
        page.wait_for_url(url(live_server, f"{ENT}applications/{app.code}/"))
        expect(alert(page)).to_contain_text(f"材料已上传：{material}")
        line = upload_form(page, material)
        expect(line).to_contain_text(f"✓ {material}")
        expect(line.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(line.get_by_role("button", name="重新上传", exact=True)).to_be_visible()
    stored = {m.name: (m.original_name, m.file.read()) for m in app.materials.all()}
    assert stored == {material: files[material] for material in MATERIALS}

    # Submit: 已提交, and the checklist can no longer be changed.
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="提交申报", exact=True).click()
    assert answer.value.status == 302
    page.wait_for_url(url(live_server, f"{ENT}applications/{app.code}/"))
    expect(alert(page)).to_contain_text("申报已提交，请留意审核进度。")
    expect(status).to_have_text("已提交")
    expect(page.locator("ul.stage-list > li").last).to_contain_text("已提交")
    expect(page.locator("main input[type=file]")).to_have_count(0)
    expect(page.get_by_role("button", name="提交申报")).to_have_count(0)
    fits(page)
    app.refresh_from_db()
    assert app.status == Application.Status.SUBMITTED and app.submitted_at is not None

    # Back on 政策, the policy now leads to the application instead of offering to apply again.
    tab(page, "政策").click()
    page.wait_for_url(url(live_server, f"{ENT}policies/"))
    expect(qualifying.get_by_role("button", name="在线申报")).to_have_count(0)
    expect(qualifying.get_by_role("link", name="查看申报进度")).to_have_attribute(
        "href", f"{ENT}applications/{app.code}/"
    )
    tab(page, "申报").click()
    page.wait_for_url(url(live_server, f"{ENT}applications/"))
    card = page.locator("main a.card", has_text=met.title)
    expect(card).to_contain_text("已提交")
    fits(page)
    card.click()
    page.wait_for_url(url(live_server, f"{ENT}applications/{app.code}/"))
    expect(status).to_have_text("已提交")
    shot(page, "ent-h5-application-submitted")
