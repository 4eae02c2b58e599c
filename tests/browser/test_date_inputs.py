"""Pre-filled dates survive in the browser in both languages: an <input type="date"> takes only
ISO dates, so a form whose date is filled in for the user (an activity's 日期 defaults to today)
must render it as 2026-12-05 whatever the language, and submit without it being typed again."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_investment import new_project
from tests.conftest import Park
from yimatong.investment.models import Activity

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("language", "save"), [("zh-hans", "保存"), ("en", "Save")])
def test_a_promoter_records_an_activity_without_typing_its_prefilled_date_again(
    live_park: Park, live_server: Any, page: Any, context: Any, sign_in: Any, language: str, save: str
):
    project = new_project(live_park)
    sign_in(live_park.users["owner"])
    context.add_cookies([{"name": "ymt_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/investment/projects/{project.code}/")
    form = page.locator("#activities form")  # open: the project has no activity yet
    today = timezone.localdate().isoformat()
    expect(form.locator("input[name=occurred_on]")).to_have_value(today)
    form.locator("input[name=summary]").fill("电话沟通扩产计划")
    with page.expect_navigation():
        form.get_by_role("button", name=save, exact=True).click()
    expect(page.locator("#activities")).to_contain_text("电话沟通扩产计划")
    activity = Activity.objects.get(summary="电话沟通扩产计划")
    assert activity.occurred_on.isoformat() == today
