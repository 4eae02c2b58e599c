"""The Content-Security-Policy in a real browser: each role walks through its console pages, uses
what runs script there (filters, auto-submitting selects, charts and their tooltips, the board)
and chromium reports no violation.

The ``page`` fixture (tests/browser/conftest.py) collects every violation chromium reports, on
these pages and on those of every other browser test (the H5 pages of investors and enterprises
included), and fails the test that caused one.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Park

pytestmark = pytest.mark.browser

PAGES = {
    "admin": [
        "/",
        "/accounts/users/",
        "/accounts/audit/",
        "/directory/chain/",
        "/wechat/codes/",
        "/admin/services/workcalendarday/",
        "/admin/services/workcalendarday/add/",
    ],
    "leader": [
        "/",
        "/stats/cockpit/",
        "/stats/cockpit/bulletin/",
        "/stats/above-scale/",
        "/investment/supervision/",
        "/investment/numbers/",
        "/services/demands/kpis/",
    ],
    "owner": [
        "/",
        "/investment/leads/",
        "/investment/projects/",
        "/investment/projects/board/",
        "/investment/calendar/",
        "/directory/organizations/",
        "/directory/contacts/",
        "/wechat/inbox/",
        "/notifications/",
    ],
    "service": ["/", "/services/demands/", "/services/policies/", "/services/applications/"],
    "enterprise": ["/", "/services/demands/", "/services/demands/new/", "/stats/reports/new/"],
}


@pytest.mark.parametrize("persona", list(PAGES))
def test_every_role_uses_its_console_pages_without_a_content_security_policy_violation(
    persona: str, live_park: Park, live_server: Any, page: Any, sign_in: Any, csp_violations: list[str]
) -> None:
    sign_in(live_park.users[persona])
    for path in PAGES[persona]:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        page.wait_for_load_state("networkidle")
        # What runs script on the page: a live filter, a select that submits its form, charts.
        live_filter = page.locator("form[data-filter-change] select").first
        if live_filter.count():
            with page.expect_response(lambda r: r.request.method == "GET" and "?" in r.url):
                live_filter.select_option(index=1)
        for chart in page.locator(".chart-canvas[data-ready='1']").all():
            chart.hover()
    assert csp_violations == []


def test_an_auto_submitting_select_submits_its_form_without_an_inline_handler(
    live_park: Park, live_server: Any, page: Any, sign_in: Any, csp_violations: list[str]
) -> None:
    sign_in(live_park.users["admin"])
    page.goto(live_server.url + "/accounts/users/")
    with page.expect_navigation():
        page.locator("select[name=role][data-autosubmit]").select_option("leader")
    assert "role=leader" in page.url
    assert page.locator("[onchange], [onclick]").count() == 0
    assert csp_violations == []
