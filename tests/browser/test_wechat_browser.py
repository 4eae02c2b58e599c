"""The WeChat side in a real browser: an investor's H5 journey on a phone (sign-in through the
fake WeChat's OAuth page, consult, book a visit, follow the project), a bad phone number, a
staff reply reaching the simulated investor and the conversation page picking up new messages,
and the English portal.

Fixtures: ``live_park`` (tests/browser/conftest.py) is the suite's park committed for the live
server; ``live_wechat`` (tests/conftest.py) is the fake WeChat on loopback, pushing to the live
server, with both accounts of ``make_accounts()``; ``phone`` below is a 360×740 mobile browser
tab that records every request it makes. Screenshots for people to look at go to /tmp/shots/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, TIMEOUT_MS
from tests.conftest import Park
from yimatong.directory.models import Contact
from yimatong.investment.actions.leads import qualify_lead
from yimatong.investment.actions.work import set_visit_status
from yimatong.investment.models import Lead, SiteVisit
from yimatong.investment.views.projects import NEXT_STEP
from yimatong.wechat.models import Follower, InboundMessage, OfficialAccount, OutboundMessage

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
PHONE_WIDTH, PHONE_HEIGHT = 360, 740
# WeChat's built-in browser on Android.
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240105.004; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36 "
    "XWEB/1200037 MMWEBSDK/20240301 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) "
    "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
PAGE_BUDGET = 150 * 1024
LOOPBACK = {"127.0.0.1", "localhost"}
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@dataclass
class Phone:
    """A phone's browser tab and what it asked the network for."""

    page: Any
    requested: list[str] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)

    def weigh(self) -> int:
        """Bytes the current page needed: the document and every resource it loaded (the larger
        of what came over the wire and the decoded body, so a cached file still counts)."""
        total = self.page.evaluate(
            """() => performance.getEntriesByType('navigation')
                .concat(performance.getEntriesByType('resource'))
                .reduce((sum, e) => sum + Math.max(e.transferSize || 0, e.decodedBodySize || 0), 0)"""
        )
        self.weights[urlsplit(self.page.url).path] = total
        assert 0 < total < PAGE_BUDGET, f"{self.page.url} weighs {total} bytes"
        return total

    def fits(self) -> None:
        """No horizontal scrolling at the phone's width."""
        width = self.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"{self.page.url} is {width}px wide"

    def stayed_on_loopback(self) -> None:
        hosts = {urlsplit(url).hostname for url in self.requested}
        assert hosts <= LOOPBACK, f"requests left the machine: {sorted(hosts - LOOPBACK)}"


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Generator[Phone]:
    """A fresh phone profile (WeChat's browser, Chinese) and a tab in it."""
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        screen={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_USER_AGENT,
        locale="zh-CN",
        timezone_id=settings.TIME_ZONE,
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    phone = Phone(tab)
    context.on("request", lambda r: phone.requested.append(r.url))
    try:
        yield phone
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            with contextlib.suppress(Exception):
                tab.screenshot(path=str(SCREENSHOTS / f"failed-{name}.png"), full_page=True)
        context.close()


def url(live_server: Any, path: str) -> str:
    return live_server.url + path


def authorize_page(fake: Any) -> re.Pattern[str]:
    return re.compile(re.escape(fake.base_url) + r"/connect/oauth2/authorize\?.*")


def sign_in_with_fake_openid(page: Any, fake: Any, openid: str) -> None:
    """The shortcut the fake offers: the same authorize URL with ``fake_openid`` answers at once."""
    page.wait_for_url(authorize_page(fake))
    # Without the ``#wechat_redirect`` marker, which the browser would carry through the redirects.
    address = page.url.partition("#")[0]
    page.goto(f"{address}&fake_openid={openid}")


def a_weekday_ahead(days: int = 3) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def accounts() -> tuple[OfficialAccount, OfficialAccount]:
    return OfficialAccount.objects.get(slug="park-cn"), OfficialAccount.objects.get(slug="park-en")


# The investor's journey ---------------------------------------------------------------------------


def test_an_investor_consults_and_books_a_visit_from_a_phone(
    live_park: Park, live_server: Any, live_wechat: Any, phone: Phone
) -> None:
    safe, _plain = accounts()
    owner = live_park.users["owner"]
    page = phone.page
    home = url(live_server, "/h5/park-cn/")

    # The park's home page, at a phone's width.
    page.goto(home)
    expect(page).to_have_title("园区介绍 · 重庆国际生物城")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    tree = page.locator("ul.tree")
    expect(tree.locator(":scope > li").first).to_contain_text("生物药")
    expect(tree.locator("ul > li", has_text="抗体药物")).to_be_visible()
    expect(tree).to_contain_text("医疗器械")
    phone.fits()
    phone.weigh()
    shot(page, "h5-home")

    # Consult: the portal does not know the investor yet, so WeChat's (the fake's) sign-in first.
    page.get_by_role("link", name="投资咨询", exact=True).click()
    page.wait_for_url(authorize_page(live_wechat))
    expect(page.locator(".banner")).to_contain_text("开发环境 · 模拟微信")
    expect(page.get_by_role("heading", name="模拟微信网页授权")).to_be_visible()
    expect(page.locator("body")).to_contain_text(safe.appid)
    page.get_by_label("或输入 openid").fill("o-phone-investor")
    page.get_by_role("button", name="确认登录 / Sign in").click()
    consult = url(live_server, "/h5/park-cn/consult/")
    page.wait_for_url(consult)
    follower = Follower.objects.get(account=safe, openid="o-phone-investor")
    assert follower.lead_id is None

    expect(page.get_by_role("heading", name="投资咨询")).to_be_visible()
    phone.fits()
    phone.weigh()
    page.get_by_label("企业/机构名称").fill("成都蓉生细胞治疗有限公司")
    page.get_by_label("您的姓名").fill("王晓")
    page.get_by_label("手机号").fill("13812345678")
    page.get_by_label("关注的产业方向").select_option(str(live_park.antibody.pk))
    page.get_by_label("咨询内容").fill("CAR-T 中试基地，需标准厂房约 3000 平方米。")
    shot(page, "h5-consult")
    page.get_by_role("button", name="提交咨询").click()
    page.wait_for_url(url(live_server, "/h5/park-cn/messages/"))
    expect(page.locator(".alert")).to_contain_text("已收到您的咨询")
    expect(page.locator(".thread")).to_contain_text("CAR-T 中试基地")
    phone.fits()
    phone.weigh()

    lead = Lead.objects.get(company_name="成都蓉生细胞治疗有限公司")
    assert (lead.contact_phone, lead.chain_node_id) == ("13812345678", live_park.antibody.pk)
    follower.refresh_from_db()
    assert follower.lead_id == lead.pk and follower.contact.name == "王晓"

    # Book a visit on a weekday a few days ahead.
    day = a_weekday_ahead()
    page.locator("nav.tabs").get_by_role("link", name="预约考察").click()
    page.wait_for_url(url(live_server, "/h5/park-cn/visit/"))
    expect(page.get_by_role("heading", name="预约来园考察")).to_be_visible()
    phone.fits()
    phone.weigh()
    page.get_by_label("考察日期").fill(day.isoformat())
    page.get_by_label("时间").select_option("14:30")
    page.get_by_label("来访人数").fill("3")
    page.get_by_label("来访人员").fill("王晓 总经理；李工 厂务")
    page.get_by_role("button", name="提交预约").click()
    me = url(live_server, "/h5/park-cn/me/")
    page.wait_for_url(me)
    expect(page.locator(".alert")).to_contain_text("预约已提交")
    visits = page.locator("section.card", has=page.get_by_role("heading", name="考察预约"))
    expect(visits).to_contain_text(f"{day:%Y-%m-%d} 14:30")
    expect(visits).to_contain_text("待确认")
    expect(page.locator("main")).to_contain_text("您的咨询已由园区受理")
    phone.fits()
    phone.weigh()
    shot(page, "h5-me-requested")

    visit = SiteVisit.objects.get(lead=lead)
    assert visit.status == SiteVisit.Status.REQUESTED
    assert visit.requested_by == SiteVisit.RequestedBy.INVESTOR
    assert timezone.localtime(visit.starts_at).date() == day

    # The promoter qualifies the lead into a project and confirms the visit.
    project = qualify_lead(lead=lead, actor=owner, data={})
    set_visit_status(actor=owner, visit=visit, status=SiteVisit.Status.CONFIRMED)

    page.reload()
    card = page.locator("a.card", has_text=project.name)
    expect(card).to_be_visible()
    expect(card).to_contain_text(project.get_stage_display())
    expect(card).to_contain_text(owner.display_name)
    expect(visits).to_contain_text("已确认")
    phone.fits()
    phone.weigh()
    shot(page, "h5-me")

    card.click()
    page.wait_for_url(url(live_server, f"/p/{project.qr_token}/"))
    main = page.locator("main")
    expect(main.get_by_role("heading", name=f"当前阶段：{project.get_stage_display()}")).to_be_visible()
    expect(main.locator("ol.stage-list li.current")).to_have_text(project.get_stage_display())
    next_step = main.locator("section.card", has=page.get_by_role("heading", name="下一步"))
    expect(next_step).to_contain_text(str(NEXT_STEP[project.stage]))
    promoter = main.locator("section.card", has=page.get_by_role("heading", name="您的招商专员"))
    expect(promoter).to_contain_text(owner.display_name)
    expect(promoter.get_by_role("link", name=owner.phone)).to_have_attribute("href", f"tel:{owner.phone}")
    phone.fits()
    phone.weigh()
    shot(page, "h5-project")

    assert set(phone.weights) >= {
        "/h5/park-cn/",
        "/h5/park-cn/consult/",
        "/h5/park-cn/messages/",
        "/h5/park-cn/visit/",
        "/h5/park-cn/me/",
        f"/p/{project.qr_token}/",
    }
    phone.stayed_on_loopback()


def test_a_consult_with_a_bad_mobile_number_names_the_field_and_the_rule_and_stores_nothing(
    live_park: Park, live_server: Any, live_wechat: Any, phone: Phone
) -> None:
    safe, _plain = accounts()
    page = phone.page
    page.goto(url(live_server, "/h5/park-cn/consult/"))
    sign_in_with_fake_openid(page, live_wechat, "o-bad-phone")
    page.wait_for_url(url(live_server, "/h5/park-cn/consult/"))
    follower = Follower.objects.get(account=safe, openid="o-bad-phone")

    page.get_by_label("企业/机构名称").fill("成都蓉生细胞治疗有限公司")
    page.get_by_label("您的姓名").fill("王晓")
    page.get_by_label("手机号").fill("12345678901")
    page.get_by_label("咨询内容").fill("想了解厂房租金。")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="提交咨询").click()
    assert answer.value.status == 400

    expect(page).to_have_url(url(live_server, "/h5/park-cn/consult/"))
    errors = page.locator("form p.error")
    expect(errors).to_have_count(1)
    expect(errors).to_have_text("手机号：手机号码无效：12345678901 不是一个已分配的号码段，请核对。")
    # What was typed is kept, to be corrected.
    expect(page.get_by_label("企业/机构名称")).to_have_value("成都蓉生细胞治疗有限公司")
    expect(page.get_by_label("手机号")).to_have_value("12345678901")
    phone.fits()

    assert not Lead.objects.exists()
    assert not InboundMessage.objects.filter(follower=follower).exists()
    assert not Contact.objects.filter(wechat_openid="o-bad-phone").exists()
    follower.refresh_from_db()
    assert (follower.lead_id, follower.contact_id, follower.last_message_at) == (None, None, None)
    phone.stayed_on_loopback()


# The staff side ---------------------------------------------------------------------------------


def test_a_promoters_reply_reaches_the_investor_in_wechat(
    live_park: Park, live_server: Any, live_wechat: Any, page: Any, sign_in: Any
) -> None:
    safe, _plain = accounts()
    live_wechat.user_subscribe(safe.appid, "o-factory")
    live_wechat.user_text(safe.appid, "o-factory", "想了解厂房")
    follower = Follower.objects.get(account=safe, openid="o-factory")

    sign_in(live_park.users["owner"])
    page.goto(url(live_server, follower.get_absolute_url()))
    thread = page.locator("#thread")
    expect(thread.locator(".chat-msg.in")).to_contain_text("想了解厂房")
    expect(page.locator(".reply-form")).to_contain_text("客服消息窗口开放")

    answer = "您好，园区现有标准厂房 2000–5000 平方米可选，欢迎来园考察。"
    page.get_by_label("回复内容").fill(answer)
    page.get_by_role("button", name="发送客服消息").click()
    page.wait_for_url(url(live_server, follower.get_absolute_url()))
    expect(page.locator(".messages")).to_contain_text("回复已发出")
    sent = thread.locator(".chat-msg.out", has_text=answer)
    expect(sent).to_contain_text(live_park.users["owner"].display_name)
    expect(sent.locator(".delivery-sent")).to_be_visible()
    shot(page, "staff-conversation")

    assert [m["text"] for m in live_wechat.inbox(safe.appid, "o-factory") if m["kind"] == "custom"] == [
        answer
    ]
    message = OutboundMessage.objects.get(follower=follower, kind=OutboundMessage.Kind.CUSTOM)
    assert (message.status, message.sender) == (OutboundMessage.Status.SENT, live_park.users["owner"])


def test_the_conversation_page_shows_a_new_investor_message_without_a_reload(
    live_park: Park, live_server: Any, live_wechat: Any, page: Any, sign_in: Any
) -> None:
    safe, _plain = accounts()
    live_wechat.user_subscribe(safe.appid, "o-polled")
    live_wechat.user_text(safe.appid, "o-polled", "想了解厂房")
    follower = Follower.objects.get(account=safe, openid="o-polled")
    sign_in(live_park.users["owner"])
    page.goto(url(live_server, follower.get_absolute_url()))
    chat = page.locator("main .chat")
    expect(chat).to_contain_text("想了解厂房")
    assert page.evaluate("() => window.htmx !== undefined")

    # The page stays open a while (the thread is refreshed once), then the investor writes again.
    polled = url(live_server, follower.get_absolute_url() + "thread/")
    with page.expect_response(polled, timeout=8_000):
        pass
    live_wechat.user_text(safe.appid, "o-polled", "下周二可以来园区看看吗？")
    expect(chat).to_contain_text("下周二可以来园区看看吗？", timeout=8_000)
    expect(chat).to_contain_text("想了解厂房")
    expect(page.locator("#thread[hx-get]")).to_have_count(1)


def test_the_inbox_list_is_still_there_after_it_refreshes(
    live_park: Park, live_server: Any, live_wechat: Any, page: Any, sign_in: Any
) -> None:
    safe, _plain = accounts()
    live_wechat.user_subscribe(safe.appid, "o-inbox")
    live_wechat.user_text(safe.appid, "o-inbox", "想了解厂房")
    sign_in(live_park.users["owner"])
    page.goto(url(live_server, "/wechat/inbox/?show=all"))
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(1)
    with page.expect_response(lambda r: "partial=1" in r.url, timeout=13_000):
        pass
    live_wechat.user_subscribe(safe.appid, "o-inbox-2")
    live_wechat.user_text(safe.appid, "o-inbox-2", "有没有人才公寓？")
    expect(rows).to_have_count(2, timeout=13_000)


# English ----------------------------------------------------------------------------------------


def test_the_english_portal_has_english_headings(
    live_park: Park, live_server: Any, live_wechat: Any, phone: Phone
) -> None:
    page = phone.page
    page.goto(url(live_server, "/h5/park-en/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".h5-top .brand")).to_have_text("Chongqing International Bio-City")
    tree = page.locator("ul.tree")
    expect(tree).to_contain_text("Biologics")
    expect(tree).to_contain_text("Antibody drugs")
    expect(tree).not_to_contain_text("生物药")
    phone.fits()
    phone.weigh()
    shot(page, "h5-home-en")

    texts = {
        "title": page.title(),
        "subtitle": page.locator(".h5-top .sub").inner_text(),
        **{f"heading {i}": t for i, t in enumerate(page.locator("main h1, main h2").all_inner_texts())},
        **{f"tab {i}": t for i, t in enumerate(page.locator("nav.tabs a").all_inner_texts())},
        **{f"button {i}": t for i, t in enumerate(page.locator("main a.btn").all_inner_texts())},
    }
    chinese = {where: text for where, text in texts.items() if CJK.search(text)}
    assert not chinese, f"Chinese text on the English portal: {chinese}"
    phone.stayed_on_loopback()
