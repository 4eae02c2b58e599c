"""The bureau's numbers (``investment.numbers``), checked against small scenarios built through the
real actions, with every expected figure worked out by hand next to its assertion.

All times are Asia/Shanghai wall-clock times (the park's zone), so each event falls in a known
month and day whatever the database stores.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from yimatong.investment import numbers
from yimatong.investment.actions.projects import create_project, move_stage, record_contract
from yimatong.investment.actions.work import record_capital
from yimatong.investment.models import Project

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
YEAR_2026 = numbers.Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
MARCH_2026 = numbers.Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A moment in Shanghai time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def money(value: str) -> Decimal:
    return Decimal(value)


# Scenario helpers: thin wrappers over the real actions --------------------------------------------


def make_project(park, *, now: dt.datetime, owner: str = "owner", **fields) -> Project:
    data = {
        "name": "启明双抗生产基地",
        "organization": park.prospect,
        "owner": park.users[owner],
        "chain_node": park.antibody,
    }
    data.update(fields)
    return create_project(actor=park.users[owner], data=data, now=now)


def move(project: Project, to: str, *, now: dt.datetime, reason: str = "", **facts) -> Project:
    return move_stage(actor=project.owner, project=project, to=to, facts=facts, reason=reason, now=now)


def sign(project: Project, amount: str, *, now: dt.datetime) -> Project:
    return move(
        project,
        "signed",
        now=now,
        agreement_type="framework",
        signed_on=now.date(),
        contracted_investment=money(amount),
    )


def register(project: Project, park, *, now: dt.datetime) -> Project:
    return move(
        project, "registered", now=now, registered_organization=park.resident, registered_on=now.date()
    )


def start_construction(project: Project, *, now: dt.datetime) -> Project:
    return move(
        project,
        "construction",
        now=now,
        construction_started_on=now.date(),
        fixed_asset_investment=money("1000"),
    )


def start_production(project: Project, *, now: dt.datetime) -> Project:
    return move(project, "production", now=now, production_started_on=now.date())


def upgrade(project: Project, amount: str, *, now: dt.datetime) -> Project:
    return record_contract(
        actor=project.owner,
        project=project,
        agreement_type="formal",
        signed_on=now.date(),
        contracted_investment=money(amount),
        now=now,
    )


def capital(project: Project, amount: str, on: dt.date) -> None:
    record_capital(actor=project.owner, project=project, arrived_on=on, amount=money(amount))


def month_rows(rows: list[dict]) -> list[tuple[str, Decimal, Decimal]]:
    return [(row["key"], row["signed"], row["landed"]) for row in rows]


# Funnel --------------------------------------------------------------------------------------------


def test_the_funnel_counts_each_project_at_the_furthest_stage_it_ever_reached(investment):
    # A went forward to 洽谈 and back to 考察: it still counts up to 洽谈.
    forward_and_back = make_project(investment, now=at(2026, 1, 5), name="A")
    forward_and_back = move(forward_and_back, "visit", now=at(2026, 1, 10))
    forward_and_back = move(forward_and_back, "negotiation", now=at(2026, 1, 20))
    move(forward_and_back, "visit", now=at(2026, 2, 1), reason="投资方要求再次考察")
    # B was lost at 接洽: the exit is outside the pipeline, B counts up to 接洽.
    lost_early = make_project(investment, now=at(2026, 1, 5), name="B")
    move(lost_early, "lost", now=at(2026, 1, 15), reason="投资方转投成都")
    # C went all the way to 投产.
    produced = make_project(investment, now=at(2026, 1, 5), name="C")
    produced = sign(produced, "50000", now=at(2026, 2, 1))
    produced = register(produced, investment, now=at(2026, 3, 1))
    produced = start_construction(produced, now=at(2026, 4, 1))
    start_production(produced, now=at(2026, 9, 1))
    # D is still a 线索.
    make_project(investment, now=at(2026, 1, 5), name="D", stage="lead")

    rows = numbers.funnel(Project.objects.all())

    # reached (at least): 线索 A B C D = 4; 接洽 A B C = 3; 考察 A C = 2; 洽谈 A C = 2;
    # 签约 .. 投产 C = 1; 达产 nobody = 0.
    # conversion = next / this: 3/4 = 75.00, 2/3 = 66.67, 2/2 = 100.00, 1/2 = 50.00,
    # 1/1 = 100.00 (x3), 0/1 = 0.00; 达产 is the last stage: None.
    assert [(row["stage"], row["reached"], row["conversion"]) for row in rows] == [
        ("lead", 4, Decimal("75.00")),
        ("contact", 3, Decimal("66.67")),
        ("visit", 2, Decimal("100.00")),
        ("negotiation", 2, Decimal("50.00")),
        ("signed", 1, Decimal("100.00")),
        ("registered", 1, Decimal("100.00")),
        ("construction", 1, Decimal("100.00")),
        ("production", 1, Decimal("0.00")),
        ("full_capacity", 0, None),
    ]
    assert [row["label"] for row in rows[:2]] == ["线索", "接洽"]
    # Conversions carry exactly two decimals.
    assert all(row["conversion"].as_tuple().exponent == -2 for row in rows[:-1])


def test_the_funnel_only_counts_the_projects_it_is_given(investment):
    mine = make_project(investment, now=at(2026, 1, 5), name="mine")
    mine = move(mine, "visit", now=at(2026, 1, 10))
    other = make_project(investment, now=at(2026, 1, 5), name="other")
    sign(other, "10000", now=at(2026, 1, 20))

    rows = numbers.funnel(Project.objects.filter(pk=mine.pk))

    # Only "mine": 线索, 接洽 and 考察 reached by 1; conversions 100, 100, 0 (1 -> 0 at 洽谈);
    # the stages nobody reached have no conversion (0 of 0 is not a rate).
    assert [(row["reached"], row["conversion"]) for row in rows] == [
        (1, Decimal("100.00")),
        (1, Decimal("100.00")),
        (1, Decimal("0.00")),
        (0, None),
        (0, None),
        (0, None),
        (0, None),
        (0, None),
        (0, None),
    ]


# Signed and landed investment by month (count-once) ------------------------------------------------


def test_a_contract_counts_once_in_its_month_and_an_upgrade_only_its_increment_in_the_upgrade_month(
    investment,
):
    project = make_project(investment, now=at(2026, 2, 1))
    project = sign(project, "50000", now=at(2026, 3, 10))  # March: +50,000 signed
    project = move(project, "negotiation", now=at(2026, 4, 2), reason="条款重谈")
    project = move(project, "signed", now=at(2026, 4, 20))  # re-signed: 50,000 already counted, +0
    project = upgrade(project, "80000", now=at(2026, 5, 15))  # May: 80,000 - 50,000 = +30,000
    project = register(project, investment, now=at(2026, 6, 10))  # June: first landing, +80,000
    project = move(project, "signed", now=at(2026, 7, 1), reason="注册信息有误")
    register(project, investment, now=at(2026, 8, 1))  # re-registered: 80,000 already landed, +0

    rows = numbers.investment(Project.objects.all(), period=YEAR_2026, group="month")

    # April and August counted nothing, so they have no row.
    assert month_rows(rows) == [
        ("2026-03", money("50000"), money("0")),
        ("2026-05", money("30000"), money("0")),
        ("2026-06", money("0"), money("80000")),
    ]
    assert [row["label"] for row in rows] == ["2026-03", "2026-05", "2026-06"]
    # Over the year the signed total is the final contract, not 50,000 + 50,000 + 80,000.
    assert sum(row["signed"] for row in rows) == money("80000")
    assert sum(row["landed"] for row in rows) == money("80000")


def test_the_period_keeps_only_the_months_inside_it(investment):
    project = make_project(investment, now=at(2026, 2, 1))
    project = sign(project, "50000", now=at(2026, 3, 10))
    project = upgrade(project, "80000", now=at(2026, 5, 15))
    register(project, investment, now=at(2026, 6, 10))

    may = numbers.Period(dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    # Only the upgrade (+30,000 signed) falls in May.
    assert month_rows(numbers.investment(Project.objects.all(), period=may)) == [
        ("2026-05", money("30000"), money("0"))
    ]
    # Open-ended: from June on, only the landing of 80,000.
    from_june = numbers.Period(start=dt.date(2026, 6, 1))
    assert month_rows(numbers.investment(Project.objects.all(), period=from_june)) == [
        ("2026-06", money("0"), money("80000"))
    ]


def test_an_upgrade_after_registration_counts_its_increment_as_signed_and_landed(investment):
    project = make_project(investment, now=at(2026, 1, 5))
    project = sign(project, "20000", now=at(2026, 2, 10))  # Feb: +20,000 signed
    project = register(project, investment, now=at(2026, 3, 10))  # Mar: +20,000 landed
    upgrade(project, "26000.50", now=at(2026, 9, 1))  # Sep: +6,000.50 signed and landed

    rows = numbers.investment(Project.objects.all(), period=YEAR_2026, group="month")

    assert month_rows(rows) == [
        ("2026-02", money("20000"), money("0")),
        ("2026-03", money("0"), money("20000")),
        ("2026-09", money("6000.50"), money("6000.50")),
    ]


# Grouping by chain segment, source channel and owner ----------------------------------------------


@pytest.fixture
def signed_in_march(investment):
    """Four projects signed in March 2026, one signed in February, one never signed.

    | project | chain node (top level) | source   | owner      | signed (Mar) | landed (Mar) |
    | ab      | antibody (biologics)   | expo     | owner      | 30,000       | 30,000       |
    | bio     | biologics (biologics)  | referral | colleague  | 20,000       | 0            |
    | dev     | devices (devices)      | expo     | other_team | 25,000       | 0            |
    | none    | — (no node)            | staff    | owner      | 5,000        | 0            |
    | feb     | devices                | referral | other_team | (Feb) 7,000  | 0            |
    | open    | antibody               | wechat   | owner      | —            | —            |
    """
    park = investment
    ab = make_project(park, now=at(2026, 1, 5), name="ab", source_channel="expo")
    ab = sign(ab, "30000", now=at(2026, 3, 3))
    register(ab, park, now=at(2026, 3, 20))
    bio = make_project(
        park,
        now=at(2026, 1, 5),
        name="bio",
        chain_node=park.biologics,
        owner="colleague",
        source_channel="referral",
    )
    sign(bio, "20000", now=at(2026, 3, 5))
    dev = make_project(
        park,
        now=at(2026, 1, 5),
        name="dev",
        chain_node=park.devices,
        owner="other_team",
        organization=park.other_prospect,
        source_channel="expo",
    )
    sign(dev, "25000", now=at(2026, 3, 8))
    none = make_project(park, now=at(2026, 1, 5), name="none", chain_node=None)
    sign(none, "5000", now=at(2026, 3, 12))
    feb = make_project(
        park,
        now=at(2026, 1, 5),
        name="feb",
        chain_node=park.devices,
        owner="other_team",
        organization=park.other_prospect,
        source_channel="referral",
    )
    sign(feb, "7000", now=at(2026, 2, 20))
    make_project(park, now=at(2026, 1, 5), name="open", source_channel="wechat")
    return park


def test_grouping_by_chain_rolls_child_nodes_up_to_their_top_level_node(signed_in_march):
    rows = numbers.investment(Project.objects.all(), period=MARCH_2026, group="chain")

    # biologics = ab (antibody, a child of biologics) 30,000 + bio 20,000 = 50,000 signed,
    # landed 30,000 (ab); devices = dev 25,000 (feb was signed in February: out);
    # no node = 5,000. Sorted by signed, largest first.
    assert rows == [
        {"key": "biologics", "label": "生物药", "signed": money("50000"), "landed": money("30000")},
        {"key": "devices", "label": "医疗器械", "signed": money("25000"), "landed": money("0")},
        {"key": "", "label": "—", "signed": money("5000"), "landed": money("0")},
    ]


def test_grouping_by_source_channel(signed_in_march):
    rows = numbers.investment(Project.objects.all(), period=MARCH_2026, group="source")

    # 展会 = ab 30,000 + dev 25,000 = 55,000 (landed 30,000); 推荐 = bio 20,000 (feb is out);
    # 工作人员录入 (the default channel) = none 5,000. 微信 signed nothing: no row.
    assert rows == [
        {"key": "expo", "label": "展会", "signed": money("55000"), "landed": money("30000")},
        {"key": "referral", "label": "推荐", "signed": money("20000"), "landed": money("0")},
        {"key": "staff", "label": "工作人员录入", "signed": money("5000"), "landed": money("0")},
    ]


def test_grouping_by_owner(signed_in_march):
    rows = numbers.investment(Project.objects.all(), period=MARCH_2026, group="owner")

    # 张专员 (owner) = ab 30,000 + none 5,000 = 35,000, landed 30,000; 刘专员 (other_team,
    # username "other") = dev 25,000 (feb is out); 孙专员 (colleague) = bio 20,000.
    assert rows == [
        {"key": "owner", "label": "张专员", "signed": money("35000"), "landed": money("30000")},
        {"key": "other", "label": "刘专员", "signed": money("25000"), "landed": money("0")},
        {"key": "colleague", "label": "孙专员", "signed": money("20000"), "landed": money("0")},
    ]


def test_an_unknown_grouping_is_refused(investment):
    with pytest.raises(ValueError, match="unknown group"):
        numbers.investment(Project.objects.all(), period=YEAR_2026, group="team")


# Rates of the cohort first signed in the period ----------------------------------------------------


def test_rates_are_computed_over_the_projects_first_signed_in_the_period(investment):
    park = investment
    # In the March cohort:
    produced = make_project(park, now=at(2026, 1, 5), name="produced")
    produced = sign(produced, "10000", now=at(2026, 3, 2))
    produced = register(produced, park, now=at(2026, 4, 1))
    produced = start_construction(produced, now=at(2026, 5, 1))
    start_production(produced, now=at(2026, 10, 1))
    capital(produced, "5000.00", dt.date(2026, 5, 10))
    capital(produced, "2345.67", dt.date(2027, 1, 15))  # after the period: still in place
    registered_then_back = make_project(park, now=at(2026, 1, 5), name="back")
    registered_then_back = sign(registered_then_back, "20000", now=at(2026, 3, 15))
    registered_then_back = register(registered_then_back, park, now=at(2026, 4, 20))
    move(registered_then_back, "signed", now=at(2026, 5, 1), reason="注册企业变更")
    only_signed = make_project(park, now=at(2026, 1, 5), name="only signed")
    only_signed = sign(only_signed, "30000", now=at(2026, 3, 31, 23, 30))  # still March in Shanghai
    capital(only_signed, "1000", dt.date(2026, 4, 1))
    # Not in the cohort:
    signed_in_february = make_project(park, now=at(2026, 1, 5), name="february")
    signed_in_february = sign(signed_in_february, "40000", now=at(2026, 2, 20))
    signed_in_february = upgrade(signed_in_february, "45000", now=at(2026, 3, 10))  # +5,000 in March
    signed_in_february = register(signed_in_february, park, now=at(2026, 3, 20))
    capital(signed_in_february, "9000", dt.date(2026, 3, 25))
    signed_in_april = make_project(park, now=at(2026, 1, 5), name="april")
    # 2026-04-01 00:10 in Shanghai is still 2026-03-31 in UTC: April all the same.
    signed_in_april = sign(signed_in_april, "50000", now=at(2026, 4, 1, 0, 10))
    register(signed_in_april, park, now=at(2026, 4, 15))
    never_signed = make_project(park, now=at(2026, 1, 5), name="never", stage="negotiation")
    capital(never_signed, "700", dt.date(2026, 3, 5))

    result = numbers.rates(Project.objects.all(), period=MARCH_2026)

    # Cohort: produced, back, only signed = 3 projects (february was first signed in Feb even
    # though its upgrade counted in March; april and never are out).
    # 履约率: reached 注册落地 = produced, back (went back, still reached it) = 2/3 = 66.67
    # 开工率: produced = 1/3 = 33.33;  投产率: produced = 1/3 = 33.33
    # contracted: 10,000 + 20,000 + 30,000 = 60,000
    # capital in place: 5,000.00 + 2,345.67 + 1,000 = 8,345.67; 8,345.67 / 60,000 = 13.909...% -> 13.91
    assert result == {
        "signed_projects": 3,
        "performance_rate": Decimal("66.67"),
        "construction_rate": Decimal("33.33"),
        "production_rate": Decimal("33.33"),
        "contracted_investment": money("60000"),
        "capital_in_place": money("8345.67"),
        "capital_rate": Decimal("13.91"),
    }


def test_the_contract_upgrades_count_in_the_capital_rate(investment):
    park = investment
    project = make_project(park, now=at(2026, 1, 5))
    project = sign(project, "10000", now=at(2026, 3, 2))
    upgrade(project, "16000", now=at(2026, 6, 1))
    capital(project, "4000", dt.date(2026, 7, 1))

    result = numbers.rates(Project.objects.all(), period=MARCH_2026)

    # One project, contracted (now) 16,000, 4,000 in place: 25.00%; nothing reached 注册落地.
    assert result == {
        "signed_projects": 1,
        "performance_rate": Decimal("0.00"),
        "construction_rate": Decimal("0.00"),
        "production_rate": Decimal("0.00"),
        "contracted_investment": money("16000"),
        "capital_in_place": money("4000"),
        "capital_rate": Decimal("25.00"),
    }


def test_rates_of_an_empty_cohort_are_none(investment):
    project = make_project(investment, now=at(2026, 1, 5))
    sign(project, "10000", now=at(2026, 2, 2))

    result = numbers.rates(Project.objects.all(), period=MARCH_2026)

    # Nobody first signed in March: no rate is 0 of 0.
    assert result == {
        "signed_projects": 0,
        "performance_rate": None,
        "construction_rate": None,
        "production_rate": None,
        "contracted_investment": money("0"),
        "capital_in_place": money("0"),
        "capital_rate": None,
    }


# Median time in stage ------------------------------------------------------------------------------


def test_median_days_in_stage_over_completed_stays(investment):
    park = investment
    start = at(2026, 1, 1)
    day = dt.timedelta(days=1)
    # Three stays in 接洽 (10, 20 and 40 days), the last one ended by losing the project.
    first = make_project(park, now=start, name="first")
    first = move(first, "visit", now=start + 10 * day)
    move(first, "negotiation", now=start + 15 * day)  # 考察 5 days; 洽谈 not left
    second = make_project(park, now=start, name="second")
    second = move(second, "visit", now=start + 20 * day)
    move(second, "negotiation", now=start + 28 * day)  # 考察 8 days; 洽谈 not left
    third = make_project(park, now=start, name="third")
    move(third, "lost", now=start + 40 * day, reason="投资方放弃")

    rows = {row["stage"]: row for row in numbers.median_days_in_stage(Project.objects.all())}

    # 接洽: median of 10, 20, 40 (odd count) = 20.0
    assert (rows["contact"]["stays"], rows["contact"]["median_days"]) == (3, Decimal("20.0"))
    # 考察: median of 5 and 8 (even count) = (5 + 8) / 2 = 6.5
    assert (rows["visit"]["stays"], rows["visit"]["median_days"]) == (2, Decimal("6.5"))
    # 洽谈: entered twice, left by nobody: no completed stay, no median.
    assert (rows["negotiation"]["stays"], rows["negotiation"]["median_days"]) == (0, None)
    # 线索 and beyond 洽谈: never entered.
    assert all(rows[stage]["median_days"] is None for stage in ("lead", "signed", "full_capacity"))
    assert [row["stage"] for row in numbers.median_days_in_stage(Project.objects.all())] == [
        "lead",
        "contact",
        "visit",
        "negotiation",
        "signed",
        "registered",
        "construction",
        "production",
        "full_capacity",
    ]


def test_a_stage_entered_twice_counts_two_stays_and_partial_days_count(investment):
    start = at(2026, 1, 1)
    project = make_project(investment, now=start)
    project = move(project, "visit", now=start + dt.timedelta(days=3))  # 接洽 3 days
    project = move(project, "negotiation", now=start + dt.timedelta(days=4, hours=12))  # 考察 1.5
    project = move(project, "visit", now=start + dt.timedelta(days=9), reason="再次考察")  # 洽谈 4.5
    move(project, "negotiation", now=start + dt.timedelta(days=16, hours=12))  # 考察 7.5 days

    rows = {row["stage"]: row for row in numbers.median_days_in_stage(Project.objects.all())}

    # 考察: two stays, 1.5 and 7.5 days: median (1.5 + 7.5) / 2 = 4.5
    assert (rows["visit"]["stays"], rows["visit"]["median_days"]) == (2, Decimal("4.5"))
    assert (rows["contact"]["stays"], rows["contact"]["median_days"]) == (1, Decimal("3.0"))
    # 洽谈: the first stay (4.5 days) is complete, the second one is still open.
    assert (rows["negotiation"]["stays"], rows["negotiation"]["median_days"]) == (1, Decimal("4.5"))


# Period bounds in the park's time zone -------------------------------------------------------------


def test_a_period_is_bounded_by_shanghai_days():
    start, end = MARCH_2026.bounds()
    # 2026-03-01 00:00 Shanghai = 2026-02-28 16:00 UTC; the end is exclusive: 2026-04-01 00:00.
    assert start == dt.datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert end == dt.datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert numbers.Period().bounds() == (None, None)


def test_events_belong_to_the_shanghai_month_they_happened_in(investment):
    park = investment
    # 2026-03-01 00:30 Shanghai = 2026-02-28 16:30 UTC: March.
    early = make_project(park, now=at(2026, 1, 5), name="early")
    sign(early, "1000", now=at(2026, 3, 1, 0, 30))
    # 2026-03-31 23:30 Shanghai = 2026-03-31 15:30 UTC: March.
    late = make_project(park, now=at(2026, 1, 5), name="late")
    sign(late, "2000", now=at(2026, 3, 31, 23, 30))
    # 2026-04-01 00:10 Shanghai = 2026-03-31 16:10 UTC: April.
    april = make_project(park, now=at(2026, 1, 5), name="april")
    sign(april, "4000", now=at(2026, 4, 1, 0, 10))
    # 2026-02-28 23:50 Shanghai: February.
    february = make_project(park, now=at(2026, 1, 5), name="february")
    sign(february, "8000", now=at(2026, 2, 28, 23, 50))

    projects = Project.objects.all()
    # March: 1,000 + 2,000 = 3,000.
    assert month_rows(numbers.investment(projects, period=MARCH_2026)) == [
        ("2026-03", money("3000"), money("0"))
    ]
    # The whole year, by Shanghai month.
    assert month_rows(numbers.investment(projects, period=YEAR_2026)) == [
        ("2026-02", money("8000"), money("0")),
        ("2026-03", money("3000"), money("0")),
        ("2026-04", money("4000"), money("0")),
    ]
    # The March cohort is early and late.
    assert numbers.rates(projects, period=MARCH_2026)["signed_projects"] == 2


def test_the_cached_summary_is_recomputed_after_the_next_event(new_project, investment):
    leader = investment.users["leader"]
    project = new_project()
    before = numbers.summary_for(leader, period=numbers.Period())
    assert [row["reached"] for row in before["funnel"]][:3] == [1, 1, 0]
    assert numbers.summary_for(leader, period=numbers.Period()) == before  # served from the cache
    move_stage(actor=investment.users["owner"], project=project, to="visit")
    after = numbers.summary_for(leader, period=numbers.Period())
    assert [row["reached"] for row in after["funnel"]][:3] == [1, 1, 1]
