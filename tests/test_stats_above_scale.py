"""The year's 规上工业 set through the year (NBS practice), as the statistics office keeps it:
fixed once last year's December reports are in (after their deadline), fixed again with a reason
while 1–2月 is unpublished, an enterprise founded this year or newly at the threshold joining
(新增入库) from a month on with its own last-year figures as its base (0 where it did not exist),
and an enterprise leaving (退库) from a month on, out of the set and out of the base. Growth,
pull and contribution are read through the API, as a leader would, to 0.01.

Helpers come from tests/test_stats_reports.py: ``stats`` (the park, 钱统计 of the statistics
office, the enterprise persona's 生物药品制造 company, the other resident making devices, a
research lab), ``file`` (a report through ``actions.submit_report``, filed on time).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.test_stats_reports import (
    LAST,
    YEAR,
    Stats,
    december,
    figures,
    file,
    industrial_org,
    make_stats,
)
from yimatong.accounts.models import AuditEntry
from yimatong.directory.models import Organization
from yimatong.lib.errors import ActionError
from yimatong.stats import actions, freshness
from yimatong.stats.models import AboveScaleEvent, AboveScaleMember, MonthlyReport, Period, ReportingRules

D = Decimal


@pytest.fixture
def stats(park) -> Stats:
    return make_stats(park)


def series(stats: Stats, org: Organization, year: int, cumulative: dict[int, str]) -> None:
    """File ``org``'s reports of ``year``: 1–n月 cumulative output (revenue, tax and electricity
    alike), each month's figure the difference from the month before."""
    before = D(0)
    for month, cum in sorted(cumulative.items()):
        file(stats, month, figures(str(D(cum) - before), cum), year=year, org=org)
        before = D(cum)


def post(client, path: str, payload: dict[str, Any]):
    return client.post(path, json.dumps(payload), content_type="application/json")


def indicator(client, month: int, code: str = "industrial_output") -> dict[str, Any]:
    answer = client.get("/api/v1/stats/indicators", {"year": YEAR, "month": month})
    assert answer.status_code == 200, answer.content
    return next(i for i in answer.json()["indicators"] if i["code"] == code)


def figures_of(row: dict[str, Any]) -> tuple:
    """(value, base, growth) of the park and (value, base, growth, pull, contribution) per segment."""
    segments = {
        s["key"]: tuple(
            D(s[k]) if s[k] is not None else None for k in ("value", "base", "growth", "pull", "contribution")
        )
        for s in row["segments"]
    }
    return (D(row["value"]), D(row["base"]), D(row["growth"])), segments


@dataclass
class Year:
    a: Organization  # biologics, in the annual set
    b: Organization  # devices, in the annual set, moves away: out from 1–4月
    c: Organization  # biologics, founded in January 2024: joins from 1–3月
    d: Organization  # devices, below the threshold in 2023, reaches it: joins from 1–4月


@pytest.fixture
def through_the_year(stats) -> Year:
    """Cumulative industrial output (revenue, tax and electricity alike), 万元:

    ========  =====  =====  =====  =====  =====  =====  ===========
               2023   2023   2023   2024   2024   2024   2023 Dec
               1–2    1–3    1–4    1–2    1–3    1–4    revenue
    ========  =====  =====  =====  =====  =====  =====  ===========
    A (bio)    100    160    220    120    190    260     3000
    B (dev)    200    300    400    210    320    420     2500
    C (bio)     —      —      —      15     40     70      —
    D (dev)     50     80    110     60     95    140     1500
    ========  =====  =====  =====  =====  =====  =====  ===========

    The 2024 set fixed from December 2023 at 2000: {A, B}. Nothing is changed here yet.
    """
    park = stats.park
    a, b = stats.factory, stats.devices
    c = industrial_org(park, "重庆新建生物制药有限公司", park.antibody, registered_on=dt.date(2024, 1, 15))
    d = industrial_org(park, "重庆成长医疗器械有限公司", park.devices)
    for org, last in ((a, ("100", "160", "220")), (b, ("200", "300", "400")), (d, ("50", "80", "110"))):
        series(stats, org, LAST, dict(zip((2, 3, 4), last, strict=True)))
    for org, revenue in ((a, "3000"), (b, "2500"), (d, "1500")):
        december(stats, org, revenue)
    assert actions.fix_above_scale_when_due(today=dt.date(2024, 1, 9)) == 2
    for org, this in (
        (a, ("120", "190", "260")),
        (b, ("210", "320", "420")),
        (c, ("15", "40", "70")),
        (d, ("60", "95", "140")),
    ):
        series(stats, org, YEAR, dict(zip((2, 3, 4), this, strict=True)))
    return Year(a, b, c, d)


def test_the_statistics_office_enters_an_entrant_and_an_exit_and_a_leader_reads_growth_pull_and_contribution(
    stats, through_the_year
):
    y = through_the_year
    officer = client_for(stats.officer)
    joined = post(
        officer,
        "/api/v1/stats/above-scale/entrants",
        {
            "organization": y.c.uscc,
            "year": YEAR,
            "month": 3,
            "basis": "new",
            "note": "2024 年 1 月新建，3 月投产",
        },
    )
    assert joined.status_code == 201, joined.content
    assert (joined.json()["basis"], joined.json()["from_month"], joined.json()["base_reports"]) == (
        "new",
        3,
        0,
    )
    left = post(
        officer,
        "/api/v1/stats/above-scale/exits",
        {"organization": y.b.uscc, "year": YEAR, "month": 4, "reason": "moved", "note": "迁往两江新区"},
    )
    assert left.status_code == 200, left.content
    assert (left.json()["left_month"], left.json()["exit_reason"]) == (4, "moved")
    grown = post(
        officer,
        "/api/v1/stats/above-scale/entrants",
        {
            "organization": y.d.uscc,
            "year": YEAR,
            "month": 4,
            "basis": "grown",
            "note": "主营业务收入达到 2000 万元",
        },
    )
    assert grown.status_code == 201, grown.content
    assert grown.json()["base_reports"] == 4  # 2023: 1–2, 1–3, 1–4 and December

    leader = client_for(stats.park.users["leader"])
    # 1–2月: S = {A, B}; C and D report but are not in the set yet.
    # V = 120 + 210 = 330; base = 100 + 200 = 300; (330 − 300) / 300 = 10.00%
    # biologics {A}: 120 against 100 → +20.00%, pull 20 / 300 = 6.666… → 6.67, contribution 20 / 30 = 66.67
    # devices {B}: 210 against 200 → +5.00%, pull 10 / 300 = 3.33, contribution 33.33
    park, segments = figures_of(indicator(leader, 2))
    assert park == (D("330"), D("300"), D("10.00"))
    assert segments == {
        "biologics": (D("120"), D("100"), D("20.00"), D("6.67"), D("66.67")),
        "devices": (D("210"), D("200"), D("5.00"), D("3.33"), D("33.33")),
    }
    # 1–3月: S = {A, B, C}; C was founded this year: 0 in the base.
    # V = 190 + 320 + 40 = 550; base = 160 + 300 + 0 = 460; 90 / 460 = 19.565… → 19.57%
    # biologics {A, C}: 230 against 160 → +43.75%, pull 70 / 460 = 15.217… → 15.22, contribution 70 / 90 = 77.78
    # devices {B}: 320 against 300 → +6.67%, pull 20 / 460 = 4.347… → 4.35, contribution 22.22
    # month: (70 + 110 + 25) against (60 + 100 + 0) = 205 / 160 − 1 = 28.125% → 28.13 (half up)
    row = indicator(leader, 3)
    park, segments = figures_of(row)
    assert park == (D("550"), D("460"), D("19.57"))
    assert segments == {
        "biologics": (D("230"), D("160"), D("43.75"), D("15.22"), D("77.78")),
        "devices": (D("320"), D("300"), D("6.67"), D("4.35"), D("22.22")),
    }
    assert D(row["monthly_growth"]) == D("28.13")
    assert (row["enterprises"], row["entrants"]) == (3, 1)
    # 1–4月: S = {A, C, D}; B moved away (out of the set and of the base, though it still
    # reported 420); D reached the threshold: its own 2023 figure, 110, is its base.
    # V = 260 + 70 + 140 = 470; base = 220 + 0 + 110 = 330; 140 / 330 = 42.424… → 42.42%
    # biologics {A, C}: 330 against 220 → +50.00%, pull 110 / 330 = 33.33, contribution 110 / 140 = 78.571… → 78.57
    # devices {D}: 140 against 110 → +27.27%, pull 30 / 330 = 9.09, contribution 30 / 140 = 21.428… → 21.43
    # month: (70 + 30 + 45) against (60 + 0 + 30) = 145 / 90 − 1 = 61.11%
    row = indicator(leader, 4)
    park, segments = figures_of(row)
    assert park == (D("470"), D("330"), D("42.42"))
    assert segments == {
        "biologics": (D("330"), D("220"), D("50.00"), D("33.33"), D("78.57")),
        "devices": (D("140"), D("110"), D("27.27"), D("9.09"), D("21.43")),
    }
    assert D(row["monthly_growth"]) == D("61.11")
    assert (row["enterprises"], row["entrants"]) == (3, 1)

    listed = leader.get("/api/v1/stats/above-scale", {"year": YEAR, "month": 4}).json()
    assert listed["in_force"] == 3 and listed["refixable"] is True
    by_name = {m["organization"]: m for m in listed["members"]}
    assert {
        name: (m["basis"], m["from_month"], m["left_month"], m["in_force"]) for name, m in by_name.items()
    } == {
        y.a.name: ("annual", 2, None, True),
        y.b.name: ("annual", 2, 4, False),
        y.c.name: ("new", 3, None, True),
        y.d.name: ("grown", 4, None, True),
    }
    assert [(e["kind"], e["organization"], e["month"]) for e in listed["events"]] == [
        ("joined", y.d.name, 4),
        ("left", y.b.name, 4),
        ("joined", y.c.name, 3),
        ("fixed", None, None),
    ]


def test_a_correction_after_publication_moves_the_growth_only_once_republished(stats, through_the_year):
    y = through_the_year
    actions.join_above_scale(
        actor=stats.officer, year=YEAR, organization=y.c, month=3, basis="new", note="新建投产"
    )
    actions.leave_above_scale(actor=stats.officer, year=YEAR, organization=y.b, month=4, reason="moved")
    actions.join_above_scale(
        actor=stats.officer, year=YEAR, organization=y.d, month=4, basis="grown", note="达标"
    )
    actions.publish_period(actor=stats.officer, year=YEAR, month=4)
    # A corrects 1–4月 from 260 to 270 (this month 80): the published 42.42% stands meanwhile.
    file(stats, 4, figures("80", "270"), org=y.a)
    leader = client_for(stats.park.users["leader"])
    assert figures_of(indicator(leader, 4))[0] == (D("470"), D("330"), D("42.42"))
    actions.publish_period(actor=stats.officer, year=YEAR, month=4)
    # V = 270 + 70 + 140 = 480; base 330; 150 / 330 = 45.4545… → 45.45%
    # biologics: 340 against 220 → +54.545… → 54.55%, pull 120 / 330 = 36.36, contribution 120 / 150 = 80.00
    # devices: pull 30 / 330 = 9.09, contribution 30 / 150 = 20.00
    park, segments = figures_of(indicator(leader, 4))
    assert park == (D("480"), D("330"), D("45.45"))
    assert segments["biologics"] == (D("340"), D("220"), D("54.55"), D("36.36"), D("80.00"))
    assert segments["devices"][3:] == (D("9.09"), D("20.00"))


def test_the_set_is_not_fixed_before_last_decembers_deadline_has_passed(stats):
    december(stats, stats.factory, "2500")
    ReportingRules.objects.create(year=LAST, deadline_day=10)  # December 2023's reports due 10 January
    assert actions.fix_above_scale_when_due(today=dt.date(2024, 1, 2)) is None
    assert actions.fix_above_scale_when_due(today=dt.date(2024, 1, 10)) is None
    assert not AboveScaleMember.objects.filter(year=YEAR).exists()
    assert actions.fix_above_scale_when_due(today=dt.date(2024, 1, 11)) == 1
    assert list(AboveScaleEvent.objects.values_list("kind", "data")) == [
        ("fixed", {"members": 1, "added": [stats.factory.pk], "removed": []})
    ]


def test_the_statistics_office_refixes_the_set_with_a_reason_keeping_entrants(stats, through_the_year):
    y = through_the_year
    actions.join_above_scale(
        actor=stats.officer, year=YEAR, organization=y.c, month=3, basis="new", note="新建投产"
    )
    # D's December 2023 came late and above the threshold; B's December is corrected below it.
    MonthlyReport.objects.filter(organization=y.d, year=LAST, month=12).update(revenue_cum=D("2100"))
    MonthlyReport.objects.filter(organization=y.b, year=LAST, month=12).update(revenue_cum=D("1900"))
    with pytest.raises(ActionError) as caught:
        actions.refix_above_scale(actor=stats.officer, year=YEAR, reason=" ")
    assert list(caught.value.fields) == ["reason"]
    audit_before = AuditEntry.objects.count()
    assert actions.refix_above_scale(actor=stats.officer, year=YEAR, reason="成长公司 12 月报表逾期补报") == 3
    assert dict(AboveScaleMember.objects.filter(year=YEAR).values_list("organization_id", "basis")) == {
        y.a.pk: "annual",
        y.d.pk: "annual",
        y.c.pk: "new",
    }
    event = AboveScaleEvent.objects.first()
    assert (event.kind, event.reason, event.actor, event.data) == (
        "refixed",
        "成长公司 12 月报表逾期补报",
        stats.officer,
        {"members": 3, "added": [y.d.pk], "removed": [y.b.pk]},
    )
    assert AuditEntry.objects.count() == audit_before + 1  # the rules' fixing time
    # 1–2月 over {A, D}: (120 + 60) against (100 + 50) = 180 / 150 − 1 = 20.00%
    leader = client_for(stats.park.users["leader"])
    assert figures_of(indicator(leader, 2))[0] == (D("180"), D("150"), D("20.00"))


def test_once_january_february_is_published_the_set_is_not_refixed(stats, through_the_year):
    actions.publish_period(actor=stats.officer, year=YEAR, month=2)
    answer = post(
        client_for(stats.officer), "/api/v1/stats/above-scale/refix", {"year": YEAR, "reason": "补报"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "published"
    assert "1–2月数据已发布" in answer.json()["error"]["message"]
    assert AboveScaleEvent.objects.filter(kind="refixed").count() == 0


def test_an_entrant_or_exit_may_not_reach_back_into_a_published_period(stats, through_the_year):
    y = through_the_year
    actions.publish_period(actor=stats.officer, year=YEAR, month=3)
    for change in (
        lambda: actions.join_above_scale(
            actor=stats.officer, year=YEAR, organization=y.c, month=3, basis="new", note="新建投产"
        ),
        lambda: actions.leave_above_scale(
            actor=stats.officer, year=YEAR, organization=y.b, month=3, reason="closed"
        ),
    ):
        with pytest.raises(ActionError) as caught:
            change()
        assert caught.value.fields == {"month": ["2024年1–3月数据已发布，名录只能从未发布的报告期起变动。"]}
    actions.join_above_scale(
        actor=stats.officer, year=YEAR, organization=y.c, month=4, basis="new", note="新建投产"
    )
    assert AboveScaleMember.objects.get(organization=y.c).from_month == 4


@pytest.mark.parametrize(
    "who, basis, month, field, message",
    [
        (
            "lab",
            "grown",
            3,
            "organization",
            "只有入驻的工业企业（国民经济行业代码 06–46）可以进入规上工业名录。",
        ),
        ("d", "new", 3, "basis", None),  # D was not founded this year
        ("a", "grown", 3, "organization", "该企业已在2024年名录中。"),
        ("d", "grown", 1, "month", "1 月免报，第一期为 1–2 月。"),
    ],
)
def test_an_entrant_is_refused_naming_the_field(stats, through_the_year, who, basis, month, field, message):
    y = through_the_year
    Organization.objects.filter(pk=y.d.pk).update(registered_on=dt.date(2019, 5, 1))
    org = {"lab": stats.lab, "a": y.a, "d": Organization.objects.get(pk=y.d.pk)}[who]
    before = (AboveScaleMember.objects.count(), AboveScaleEvent.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ActionError) as caught:
        actions.join_above_scale(
            actor=stats.officer, year=YEAR, organization=org, month=month, basis=basis, note="入库"
        )
    assert list(caught.value.fields) == [field]
    if message:
        assert caught.value.fields[field] == [message]
    else:
        assert "2019-05-01" in caught.value.fields[field][0]
    assert (
        AboveScaleMember.objects.count(),
        AboveScaleEvent.objects.count(),
        AuditEntry.objects.count(),
    ) == before


def test_an_exit_is_refused_before_its_entry_month_twice_or_outside_the_set(stats, through_the_year):
    y = through_the_year
    actions.join_above_scale(
        actor=stats.officer, year=YEAR, organization=y.c, month=3, basis="new", note="新建投产"
    )
    cases = [
        (y.c, 3, "month", "退库月份应晚于入库月份（3 月）。"),
        (y.d, 4, "organization", "该企业不在2024年规上工业名录中。"),
    ]
    actions.leave_above_scale(actor=stats.officer, year=YEAR, organization=y.b, month=4, reason="closed")
    cases.append((y.b, 5, "organization", "该企业已于 4 月退库。"))
    for org, month, field, message in cases:
        with pytest.raises(ActionError) as caught:
            actions.leave_above_scale(
                actor=stats.officer, year=YEAR, organization=org, month=month, reason="closed"
            )
        assert caught.value.fields == {field: [message]}
    with pytest.raises(ActionError) as caught:
        actions.leave_above_scale(actor=stats.officer, year=YEAR, organization=y.a, month=4, reason="other")
    assert list(caught.value.fields) == ["note"]


def test_a_leader_reads_the_set_but_may_not_change_it_and_nothing_changes(stats, through_the_year):
    y = through_the_year
    leader = client_for(stats.park.users["leader"])
    before = list(AboveScaleMember.objects.values_list("pk", "left_month", "updated_at"))
    answer = post(
        leader,
        "/api/v1/stats/above-scale/exits",
        {"organization": y.b.uscc, "year": YEAR, "month": 4, "reason": "moved"},
    )
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert (
        leader.post(
            reverse("stats:above_scale_leave"),
            {"year": YEAR, "organization": y.b.pk, "month": 4, "reason": "moved"},
        ).status_code
        == 403
    )
    assert list(AboveScaleMember.objects.values_list("pk", "left_month", "updated_at")) == before
    page = leader.get(reverse("stats:above_scale"), {"year": YEAR, "month": 4}).content.decode()
    assert y.a.name in page and reverse("stats:above_scale_leave") not in page


def test_the_console_form_names_the_field_and_the_statistics_office_enters_an_entrant(
    stats, through_the_year
):
    y = through_the_year
    officer = client_for(stats.officer)
    page = officer.get(reverse("stats:above_scale"), {"year": YEAR, "month": 3}).content.decode()
    assert "上年未报送，计 0" not in page  # A and B reported last year
    refused = officer.post(
        reverse("stats:above_scale_join"),
        {"year": YEAR, "view_month": 3, "organization": y.c.pk, "month": 3, "basis": "new", "note": ""},
    )
    assert refused.status_code == 400 and "这个字段是必填项" in refused.content.decode()
    done = officer.post(
        reverse("stats:above_scale_join"),
        {
            "year": YEAR,
            "view_month": 3,
            "organization": y.c.pk,
            "month": 3,
            "basis": "new",
            "note": "新建投产",
        },
    )
    assert (
        done.status_code == 302 and done["Location"] == f"{reverse('stats:above_scale')}?year={YEAR}&month=3"
    )
    page = officer.get(done["Location"]).content.decode()
    assert "上年未报送，计 0" in page and "新建投产入库" in page


def test_a_set_change_reaches_the_cockpit_at_once(stats, through_the_year, settings):
    y = through_the_year
    leader = client_for(stats.park.users["leader"])

    def headline() -> str:
        html = leader.get(reverse("stats:cockpit"), {"year": YEAR, "month": 4}).content.decode()
        return html.split('class="kpi-value', 1)[1].split("</div>", 1)[0]

    # 1–4月 over {A, B}: (260 + 420) against (220 + 400) = 680 / 620 − 1 = 9.677… → 9.68%
    assert "+9.68%" in headline()
    marker = freshness.markers(["statistics"])["statistics"]
    actions.leave_above_scale(actor=stats.officer, year=YEAR, organization=y.b, month=4, reason="moved")
    assert freshness.markers(["statistics"])["statistics"] != marker
    # {A}: 260 against 220 → 18.18%
    assert "+18.18%" in headline()
    actions.join_above_scale(
        actor=stats.officer, year=YEAR, organization=y.c, month=3, basis="new", note="新建投产"
    )
    actions.join_above_scale(
        actor=stats.officer, year=YEAR, organization=y.d, month=4, basis="grown", note="达标"
    )
    assert "+42.42%" in headline()


def test_an_enterprise_that_moved_away_is_no_longer_asked_to_report_and_an_entrant_is(
    stats, through_the_year
):
    y = through_the_year
    actions.join_above_scale(
        actor=stats.officer, year=YEAR, organization=y.c, month=3, basis="new", note="新建投产"
    )
    actions.leave_above_scale(actor=stats.officer, year=YEAR, organization=y.b, month=5, reason="moved")
    expected = set(actions.expected_reporters(YEAR, 5).values_list("pk", flat=True))
    assert y.b.pk not in expected and {y.a.pk, y.c.pk} <= expected
    assert y.b.pk in set(actions.expected_reporters(YEAR, 4).values_list("pk", flat=True))


def test_two_officers_entering_the_same_exit_store_it_once(stats, through_the_year):
    y = through_the_year
    stale = AboveScaleMember.objects.get(organization=y.b)
    actions.leave_above_scale(actor=stats.officer, year=YEAR, organization=y.b, month=4, reason="moved")
    AboveScaleMember.objects.filter(pk=stale.pk).update(
        left_month=None, exit_reason=""
    )  # as the other saw it
    AboveScaleMember.objects.filter(pk=stale.pk).update(left_month=5, exit_reason="closed")
    with pytest.raises(ActionError):
        actions.leave_above_scale(actor=stats.officer, year=YEAR, organization=y.b, month=4, reason="moved")
    assert AboveScaleEvent.objects.filter(kind="left").count() == 1
    assert Period.objects.count() == 0
