"""The console in a real browser: signing in, the language switch, registering an organization
with htmx validation, the similar-name confirmation and masked phone numbers.

Fixtures (tests/browser/conftest.py): ``live_park`` is the suite's park committed for the live
server, ``page`` a chromium tab asking for English, ``sign_in(user)`` a session cookie.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD, Park
from yimatong.directory.models import Organization

pytestmark = pytest.mark.browser

# A valid code (check digit L) and the same code with a wrong check digit.
USCC_VALID = "91110000600037341L"
USCC_WRONG_CHECK_DIGIT = "91110000600037341M"
DETAIL_URL = re.compile(
    r"/directory/organizations/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/$"
)
WEEKDAYS_EN = re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
WEEKDAYS_ZH = re.compile(r"星期[一二三四五六日]")


def url(live_server: Any, path: str) -> str:
    return live_server.url + path


def is_validation(response: Any) -> bool:
    return response.request.method == "POST" and "/directory/organizations/validate/" in response.url


def is_create_post(response: Any) -> bool:
    return response.request.method == "POST" and response.url.endswith("/directory/organizations/new/")


def leave_field(page: Any, selector: str) -> None:
    """Tab out of a field (htmx validates it on ``change``) and wait for the server's answer."""
    with page.expect_response(is_validation) as answer:
        page.locator(selector).press("Tab")
    assert answer.value.status == 200


def sidebar_item(page: Any, label: str) -> Any:
    return page.locator("#sidebar a.nav-item", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))


# Signing in ---------------------------------------------------------------------------------


def test_a_promoter_signs_in_with_username_and_password_and_sees_their_name_on_the_home_page(
    live_park: Park, live_server: Any, page: Any
) -> None:
    page.goto(url(live_server, "/accounts/login/"))
    page.locator("#id_username").fill("owner")
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation(url=url(live_server, "/")):
        page.get_by_role("button", name="登录", exact=True).click()

    expect(page.locator(".topbar .user-chip")).to_contain_text("张专员")
    expect(page.locator(".page-head h1")).to_have_text("您好，张专员")
    expect(sidebar_item(page, "首页")).to_have_attribute("aria-current", "page")


def test_a_wrong_password_shows_the_error_and_stays_on_the_login_page(
    live_park: Park, live_server: Any, page: Any
) -> None:
    login_url = url(live_server, "/accounts/login/")
    page.goto(login_url)
    page.locator("#id_username").fill("owner")
    page.locator("#id_password").fill("not-the-password")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == login_url) as answer:
        page.get_by_role("button", name="登录", exact=True).click()
    assert answer.value.status == 400

    expect(page.locator(".login-card .alert-error")).to_have_text(
        "用户名/手机号或密码不正确。连续输错 5 次后账户将锁定 15 分钟，忘记密码或被锁定请联系系统管理员。"
    )
    expect(page).to_have_url(login_url)
    expect(page.locator("#id_username")).to_have_value("owner")
    expect(page.locator("#id_password")).to_have_value("")
    expect(page.locator(".user-chip")).to_have_count(0)
    live_park.users["owner"].refresh_from_db()
    assert live_park.users["owner"].failed_login_count == 1


# Language -------------------------------------------------------------------------------------


def test_the_console_is_chinese_for_an_english_browser_and_the_top_bar_switches_to_english_and_back(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    sign_in(live_park.users["owner"])
    response = page.goto(url(live_server, "/"))
    assert response.request.header_value("accept-language").startswith("en-US")

    # Chinese by default, whatever the browser asks for.
    html = page.locator("html")
    today = page.locator(".page-head p.muted")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(sidebar_item(page, "首页")).to_be_visible()
    expect(today).to_have_text(WEEKDAYS_ZH)
    switch = page.locator(".topbar .lang-switch button")
    expect(switch).to_have_text("English")

    with page.expect_navigation(url=url(live_server, "/")):
        switch.click()
    expect(html).to_have_attribute("lang", "en")
    expect(switch).to_have_text("中文")
    # The weekday comes from Django's own catalogues: Chinese before, English now.
    expect(today).to_have_text(WEEKDAYS_EN)
    # The sidebar, from the project's English catalogue (yimatong/locale/en).
    expect(sidebar_item(page, "Home")).to_be_visible()
    expect(sidebar_item(page, "首页")).to_have_count(0)

    with page.expect_navigation(url=url(live_server, "/")):
        switch.click()
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(switch).to_have_text("English")
    expect(sidebar_item(page, "首页")).to_be_visible()
    expect(today).to_have_text(WEEKDAYS_ZH)


# Registering an organization ------------------------------------------------------------------


def test_a_promoter_registers_an_organization_after_fixing_a_wrong_uscc_check_digit(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    name = "成都天府新药研发有限公司"
    owner = live_park.users["owner"]
    sign_in(owner)
    page.goto(url(live_server, "/"))
    page.get_by_role("link", name="登记企业/机构").click()
    page.wait_for_url(url(live_server, "/directory/organizations/new/"))
    expect(page.locator(".page-head h1")).to_have_text("登记企业/机构")
    page.wait_for_function("() => window.htmx !== undefined")

    # Typing a code with a wrong check digit: the field is checked as soon as it is left.
    page.locator("#id_name").fill(name)
    leave_field(page, "#id_name")
    page.locator("#id_uscc").fill(USCC_WRONG_CHECK_DIGIT)
    leave_field(page, "#id_uscc")
    inline_error = page.locator("#field-uscc p.error")
    expect(inline_error).to_contain_text("校验位不正确")
    expect(inline_error).to_contain_text("应为 L")
    expect(page.locator("#field-name p.error")).to_have_count(0)

    # Saving anyway: the same error, in the same page (htmx swapped the form), nothing saved.
    page.evaluate("() => { window.stillTheSamePage = true; }")
    with page.expect_response(is_create_post) as answer:
        page.get_by_role("button", name="保存").click()
    assert answer.value.status == 400
    expect(page.locator("#organization-form #field-uscc p.error")).to_contain_text("校验位不正确")
    expect(page.locator("#organization-form #field-uscc p.error")).to_contain_text("应为 L")
    expect(page).to_have_url(url(live_server, "/directory/organizations/new/"))
    assert page.evaluate("() => window.stillTheSamePage") is True
    expect(page.locator("#id_name")).to_have_value(name)
    expect(page.locator("#id_uscc")).to_have_value(USCC_WRONG_CHECK_DIGIT)
    assert not Organization.objects.filter(name=name).exists()

    # Fixing the code clears the message; saving lands on the new organization's page.
    page.locator("#id_uscc").fill(USCC_VALID)
    leave_field(page, "#id_uscc")
    expect(page.locator("#field-uscc p.error")).to_have_count(0)
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(DETAIL_URL)
    expect(page.locator(".page-head h1")).to_have_text(name)
    expect(page.locator(".messages .message-success")).to_have_text(f"已创建「{name}」。")
    org = Organization.objects.get(name=name)
    assert org.uscc == USCC_VALID
    assert org.owner == owner
    assert page.url == url(live_server, org.get_absolute_url())

    # The list has it, and so does a search by pinyin initials (天府新药 → tfxy).
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="全部企业/机构").click()
    page.wait_for_url(url(live_server, "/directory/organizations/"))
    results = page.locator("#results")
    expect(results.get_by_role("link", name=name)).to_be_visible()
    expect(results.get_by_role("link", name=live_park.prospect.name)).to_be_visible()
    with page.expect_response(lambda r: "/directory/organizations/?" in r.url and "q=tfxy" in r.url):
        page.locator("form.filters input[name=q]").fill("tfxy")
    expect(results.get_by_role("link", name=live_park.prospect.name)).to_have_count(0)
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"[?&]q=tfxy"))

    # Leaving the search box does not search again: a second answer pushing the list's address
    # while the browser follows a result link would cancel that navigation.
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/directory/organizations/?" in r.url else None)
    page.locator("form.filters input[name=q]").press("Tab")
    page.wait_for_timeout(500)
    assert searches == []

    # Its page's change log: created by the promoter, with the code.
    results.get_by_role("link", name=name).click()
    page.wait_for_url(url(live_server, org.get_absolute_url()))
    log = page.locator("section.card", has=page.get_by_role("heading", name="变更记录"))
    created = log.locator("li.timeline-item.action-create")
    expect(created).to_have_count(1)
    expect(created.locator(".timeline-head strong")).to_have_text("张专员")
    expect(created.locator(".badge")).to_have_text("创建")
    expect(created.locator("table.changes td.new", has_text=USCC_VALID)).to_have_count(1)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = Path(SCREENSHOTS / "organization-created.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0


def test_a_similar_name_is_saved_only_after_confirming_it_is_not_the_same_organization(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    existing = "重庆智翔金泰生物制药股份有限公司"
    name = "智翔金泰（重庆）生物制药有限公司"
    owner = live_park.users["owner"]
    assert Organization.objects.visible_to(owner).filter(name=existing).exists()
    sign_in(owner)
    page.goto(url(live_server, "/directory/organizations/new/"))
    page.wait_for_function("() => window.htmx !== undefined")

    # Leaving the name field already warns.
    page.locator("#id_name").fill(name)
    leave_field(page, "#id_name")
    warning = page.locator("#field-name .warning")
    expect(warning).to_contain_text("名称相近")
    expect(warning.get_by_role("link", name=existing)).to_be_visible()

    # Saving asks for a confirmation and lists the existing organization.
    with page.expect_response(is_create_post) as answer:
        page.get_by_role("button", name="保存").click()
    assert answer.value.status == 400
    alert = page.locator("#organization-form .alert-error")
    expect(alert).to_contain_text("已有名称相近的机构")
    expect(alert.locator("ul.similar").get_by_role("link", name=existing)).to_be_visible()
    confirm = alert.get_by_label("确认不是同一家，仍然保存")
    expect(confirm).not_to_be_checked()
    assert not Organization.objects.filter(name=name).exists()

    confirm.check()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(DETAIL_URL)
    expect(page.locator(".page-head h1")).to_have_text(name)
    assert Organization.objects.filter(name__in=[existing, name]).count() == 2
    assert page.url == url(live_server, Organization.objects.get(name=name).get_absolute_url())


# Phone numbers --------------------------------------------------------------------------------


def test_a_promoter_sees_masked_mobile_numbers_on_a_resident_enterprise_they_do_not_own(
    live_park: Park, live_server: Any, page: Any, sign_in: Any
) -> None:
    sign_in(live_park.users["owner"])
    page.goto(url(live_server, live_park.resident.get_absolute_url()))
    expect(page.locator(".page-head h1")).to_have_text(live_park.resident.name)
    row = page.locator("table.table tbody tr", has=page.get_by_role("link", name="周凯"))
    expect(row.locator("td.nowrap")).to_have_text("139****5678")
    assert "13912345678" not in page.content()

    # Their own prospect's contact is not masked.
    page.goto(url(live_server, live_park.prospect.get_absolute_url()))
    row = page.locator("table.table tbody tr", has=page.get_by_role("link", name="陈投资"))
    expect(row.locator("td.nowrap")).to_have_text("13812345678")
