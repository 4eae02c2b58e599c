"""The statistics core against small panels computed by hand, and the demo panel against the
figures the park published for January–April 2022."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yimatong.stats.demo_panel import (
    DEMO_ENTERPRISES,
    demo_panel,
    demo_scopes,
    enterprise_names,
    industrial_enterprises,
)
from yimatong.stats.indicators import (
    Panel,
    Report,
    Scopes,
    above_scale,
    breakdown,
    cumulative_yoy,
    indicator,
    indicators,
    investment_scope,
    latest,
    monthly_yoy,
    problems,
    target_progress,
    two_year_average,
    two_year_average_from_growths,
)

D = Decimal
OUTPUT = "industrial_output"


def report(
    enterprise: str, year: int, month: int, segment: str = "biologics", revision: int = 0, **values: str
):
    return Report(enterprise, segment, year, month, {code: D(v) for code, v in values.items()}, revision)


def output(enterprise: str, year: int, month: int, value: str, segment: str = "biologics") -> Report:
    return report(enterprise, year, month, segment, industrial_output=value)


# Comparable basis -------------------------------------------------------------------------------


@pytest.fixture
def entrant_and_exit() -> list[Report]:
    return [
        output("A", 2021, 4, "100"),
        output("A", 2022, 4, "120"),
        output("B", 2021, 4, "200"),
        output("B", 2022, 4, "210"),
        output("C", 2022, 4, "30"),  # entrant: nothing last year
        output("D", 2021, 4, "500"),  # exit: reported last year, not this year
    ]


def test_cumulative_growth_counts_an_entrant_as_zero_in_the_base_and_leaves_an_exit_out(entrant_and_exit):
    # S = {A, B, C}; V = 120 + 210 + 30 = 360; B = 100 + 200 + 0 = 300 (D's 500 is not in it)
    # growth = (360 − 300) / 300 × 100 = 20.00 (against the published 800 it would be −55%)
    result = cumulative_yoy(entrant_and_exit, OUTPUT, 2022, 4, {"A", "B", "C", "D"})
    assert (result.value, result.base, result.delta) == (D("360"), D("300"), D("60"))
    assert result.growth == D("20.00")
    assert result.growth_exact == D("20")


def test_the_result_names_the_entrants_and_the_exits(entrant_and_exit):
    result = indicator(entrant_and_exit, OUTPUT, 2022, 4, {"A", "B", "C", "D"})
    assert result.members == {"A", "B", "C"}
    assert result.entrants == {"C"}
    assert result.exits == {"D"}
    assert result.missing == {"D"}  # in this year's scope, no report


def test_an_enterprise_outside_this_years_scope_is_left_out_on_both_sides():
    panel = [
        output("A", 2021, 4, "100"),
        output("A", 2022, 4, "150"),
        output("E", 2021, 4, "50"),  # below designated size this year: not in scope
        output("E", 2022, 4, "10"),
    ]
    # S = {A}: (150 − 100) / 100 = 50.00; with E it would be (160 − 150) / 150 = 6.67
    assert cumulative_yoy(panel, OUTPUT, 2022, 4, {"A"}).growth == D("50.00")
    assert cumulative_yoy(panel, OUTPUT, 2022, 4, None).growth == D("6.67")


def test_an_enterprise_that_did_not_report_the_indicator_is_not_in_the_set():
    panel = [
        report("A", 2021, 4, tax="10", revenue="100"),
        report("A", 2022, 4, revenue="120"),  # no tax figure this period: not reported, not a zero
        report("B", 2021, 4, tax="20"),
        report("B", 2022, 4, tax="0"),  # an explicit zero is a report
    ]
    # tax: S = {B}: (0 − 20) / 20 = −100.00
    result = indicator(panel, "tax", 2022, 4, None)
    assert result.members == {"B"}
    assert result.growth == D("-100.00")


def test_growth_is_none_when_the_base_is_zero():
    panel = [output("C", 2022, 4, "30")]
    result = cumulative_yoy(panel, OUTPUT, 2022, 4, None)
    assert (result.value, result.base, result.growth, result.growth_exact) == (D("30"), D("0"), None, None)


def test_growth_is_rounded_half_up_to_the_cent_and_kept_unrounded():
    # (100.02 − 80) / 80 × 100 = 25.025 -> 25.03 (half-even would give 25.02)
    panel = [output("A", 2021, 4, "80"), output("A", 2022, 4, "100.02")]
    result = cumulative_yoy(panel, OUTPUT, 2022, 4, None)
    assert result.growth_exact == D("25.025")
    assert result.growth == D("25.03")


# Scopes -----------------------------------------------------------------------------------------


def test_the_above_scale_set_is_last_years_december_revenue_of_2000_and_more():
    panel = [
        report("A", 2021, 12, revenue="2000.00"),
        report("B", 2021, 12, revenue="1999.99"),
        report("S", 2021, 12, revenue="9000"),  # a service enterprise
        report("N", 2021, 11, revenue="2500"),  # no December report
        report("Y", 2022, 12, revenue="3000"),  # this year's revenue decides next year's set
    ]
    assert above_scale(panel, 2022) == {"A", "S"}
    assert above_scale(panel, 2022, candidates={"A", "B", "Y"}) == {"A"}
    assert above_scale(panel, 2022, threshold=D("1500"), candidates={"A", "B"}) == {"A", "B"}
    assert above_scale(panel, 2023) == {"Y"}


def test_the_investment_scope_keeps_projects_of_500_and_more():
    planned = {"big": D("500"), "small": D("499.99"), "huge": D("120000")}
    assert investment_scope(planned) == {"big", "huge"}
    assert investment_scope(planned, threshold=D("1000")) == {"huge"}


# Revisions --------------------------------------------------------------------------------------


def test_the_highest_revision_of_each_period_counts():
    panel = [
        output("A", 2021, 4, "100"),
        report("A", 2022, 4, revision=2, industrial_output="125"),
        report("A", 2022, 4, revision=0, industrial_output="130"),
        report("A", 2022, 4, revision=1, industrial_output="90"),
    ]
    kept = latest(panel)
    assert [(r.year, r.revision, r.values[OUTPUT]) for r in sorted(kept, key=lambda r: r.year)] == [
        (2021, 0, D("100")),
        (2022, 2, D("125")),
    ]
    # (125 − 100) / 100 = 25.00; the preliminary 130 would have given 30.00
    assert cumulative_yoy(kept, OUTPUT, 2022, 4, None).growth == D("25.00")


def test_several_versions_of_one_period_are_refused_rather_than_guessed_between():
    versions = [report("A", 2022, 4, revision=0, tax="1"), report("A", 2022, 4, revision=1, tax="2")]
    with pytest.raises(ValueError, match="latest"):
        cumulative_yoy(versions, "tax", 2022, 4, None)
    with pytest.raises(ValueError, match="same revision"):
        latest([report("A", 2022, 4, tax="1"), report("A", 2022, 4, tax="2")])


# January–February -------------------------------------------------------------------------------


def test_january_is_exempt_and_refused_for_reports_and_queries():
    with pytest.raises(ValueError, match="January–February"):
        report("A", 2022, 1, tax="1")
    panel = [report("A", 2022, 2, tax="1")]
    for compute in (cumulative_yoy, monthly_yoy, two_year_average, breakdown):
        with pytest.raises(ValueError, match="January–February"):
            compute(panel, "tax", 2022, 1, None)
    with pytest.raises(ValueError, match="January–February"):
        indicators(panel, 2022, 1, Scopes(frozenset(), frozenset()))
    with pytest.raises(ValueError, match="between 2 and 12"):
        cumulative_yoy(panel, "tax", 2022, 13, None)


def test_the_month_value_of_january_february_is_the_two_month_cumulative():
    panel = [output("A", 2021, 2, "80"), output("A", 2022, 2, "100")]
    # (100 − 80) / 80 = 25.00, cumulative and "monthly" alike
    assert monthly_yoy(panel, OUTPUT, 2022, 2, None) == cumulative_yoy(panel, OUTPUT, 2022, 2, None)
    assert monthly_yoy(panel, OUTPUT, 2022, 2, None).growth == D("25.00")


def test_cumulative_and_monthly_growth_of_the_domain_notes_example():
    # months this year 1200, 1100, 1350, 1280 (January and February reported together: 2300)
    # months last year 1000, 1050, 1200, 1300 (2050)
    panel = [
        output("A", 2022, 2, "2300"),
        output("A", 2022, 3, "3650"),
        output("A", 2022, 4, "4930"),
        output("A", 2021, 2, "2050"),
        output("A", 2021, 3, "3250"),
        output("A", 2021, 4, "4550"),
    ]
    # cumulative: (4930 − 4550) / 4550 = 8.3516… -> 8.35
    assert cumulative_yoy(panel, OUTPUT, 2022, 4, None).growth == D("8.35")
    # April alone: 4930 − 3650 = 1280 against 4550 − 3250 = 1300: −20 / 1300 = −1.538… -> −1.54
    april = monthly_yoy(panel, OUTPUT, 2022, 4, None)
    assert (april.value, april.base, april.growth) == (D("1280"), D("1300"), D("-1.54"))
    # March alone: 1350 against 1200: 12.50
    assert monthly_yoy(panel, OUTPUT, 2022, 3, None).growth == D("12.50")


def test_monthly_growth_is_over_this_years_set_and_an_entrant_brings_its_whole_first_cumulative():
    panel = [
        output("A", 2021, 3, "300"),
        output("A", 2021, 4, "400"),
        output("A", 2022, 3, "330"),
        output("A", 2022, 4, "450"),
        output("C", 2022, 4, "50"),  # first report in April: its April value is 50
        output("D", 2021, 3, "70"),  # exit
        output("D", 2021, 4, "100"),
    ]
    # April: A 450 − 330 = 120, C 50 -> 170; base A 400 − 300 = 100 (D left out) -> 70.00
    april = monthly_yoy(panel, OUTPUT, 2022, 4, None)
    assert (april.value, april.base, april.growth) == (D("170"), D("100"), D("70.00"))


# Pull and contribution --------------------------------------------------------------------------


@pytest.fixture
def three_segments() -> list[Report]:
    return [
        output("A", 2021, 4, "100", "biologics"),
        output("A", 2022, 4, "104", "biologics"),
        output("B", 2021, 4, "50", "biologics"),
        output("B", 2022, 4, "53", "biologics"),
        output("C", 2021, 4, "150", "chemical"),
        output("C", 2022, 4, "161", "chemical"),
        output("N", 2022, 4, "13", "devices"),  # the segment's only enterprise is new
    ]


def test_pulls_of_the_segments_add_up_to_the_growth_and_contributions_to_100(three_segments):
    # base 100 + 50 + 150 = 300; value 104 + 53 + 161 + 13 = 331; growth 31 / 300 = 10.333… -> 10.33
    # biologics Δ 7: growth 7 / 150 = 4.67, pull 7 / 300 = 2.33, contribution 7 / 31 = 22.58
    # chemical Δ 11: growth 11 / 150 = 7.33, pull 11 / 300 = 3.67, contribution 11 / 31 = 35.48
    # devices  Δ 13: no growth (zero base), pull 13 / 300 = 4.33, contribution 13 / 31 = 41.94
    result = indicator(three_segments, OUTPUT, 2022, 4, None)
    assert result.growth == D("10.33")
    rows = {
        key: (part.value, part.base, part.growth, part.pull, part.contribution)
        for key, part in result.segments.items()
    }
    assert rows == {
        "biologics": (D("157"), D("150"), D("4.67"), D("2.33"), D("22.58")),
        "chemical": (D("161"), D("150"), D("7.33"), D("3.67"), D("35.48")),
        "devices": (D("13"), D("0"), None, D("4.33"), D("41.94")),
    }
    assert sum(p.pull for p in result.segments.values()) == D("10.33")
    assert sum(p.contribution for p in result.segments.values()) == D("100.00")
    assert abs(sum(p.pull_exact for p in result.segments.values()) - result.growth_exact) < D("1e-20")


def test_pulls_of_the_enterprises_add_up_to_the_growth(three_segments):
    # A 4 / 300 = 1.33, B 3 / 300 = 1.00, C 11 / 300 = 3.67, N 13 / 300 = 4.33
    parts = indicator(three_segments, OUTPUT, 2022, 4, None).enterprises
    assert {key: part.pull for key, part in parts.items()} == {
        "A": D("1.33"),
        "B": D("1.00"),
        "C": D("3.67"),
        "N": D("4.33"),
    }
    assert abs(sum(p.pull_exact for p in parts.values()) - D(31) / 3) < D("1e-20")


def test_a_part_can_be_any_grouping_of_this_years_reports(three_segments):
    parts = breakdown(
        three_segments, OUTPUT, 2022, 4, None, by=lambda r: "AN" if r.enterprise in {"A", "N"} else "BC"
    )
    # AN: Δ 4 + 13 = 17 -> pull 5.67; BC: Δ 3 + 11 = 14 -> pull 4.67
    assert {key: part.pull for key, part in parts.items()} == {"AN": D("5.67"), "BC": D("4.67")}
    with pytest.raises(ValueError, match="unknown grouping"):
        breakdown(three_segments, OUTPUT, 2022, 4, None, by="team")


def test_contribution_is_none_when_the_total_did_not_change():
    panel = [
        output("A", 2021, 4, "100", "biologics"),
        output("A", 2022, 4, "110", "biologics"),
        output("C", 2021, 4, "100", "chemical"),
        output("C", 2022, 4, "90", "chemical"),
    ]
    # growth 0 / 200 = 0; pulls +10 / 200 = 5.00 and −10 / 200 = −5.00; contribution divides by 0
    result = indicator(panel, OUTPUT, 2022, 4, None)
    assert result.growth == D("0.00")
    assert {k: (p.pull, p.contribution) for k, p in result.segments.items()} == {
        "biologics": (D("5.00"), None),
        "chemical": (D("-5.00"), None),
    }


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["biologics", "chemical", "tcm", "devices", "platforms"]),
            st.none() | st.decimals(min_value=0, max_value=1_000_000, places=2),
            st.decimals(min_value=0, max_value=1_000_000, places=2),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_pulls_of_the_segments_add_up_to_the_park_growth_on_any_panel(rows):
    panel = []
    for number, (segment, last_year, this_year) in enumerate(rows):
        if last_year is not None:
            panel.append(output(f"E{number}", 2021, 6, str(last_year), segment))
        panel.append(output(f"E{number}", 2022, 6, str(this_year), segment))
    result = indicator(panel, OUTPUT, 2022, 6, None)
    pulls = [part.pull_exact for part in result.segments.values()]
    if result.base == 0:
        assert result.growth is None
        assert pulls == [None] * len(pulls)
        return
    assert abs(sum(pulls) - result.growth_exact) < D("1e-18")
    # rounded figures as shown may differ by half a cent per segment
    assert abs(sum(p.pull for p in result.segments.values()) - result.growth) <= D("0.005") * (len(pulls) + 1)
    if result.delta != 0:
        assert abs(sum(p.contribution_exact for p in result.segments.values()) - 100) < D("1e-18")


# Two-year average and targets -------------------------------------------------------------------


def test_the_two_year_average_is_over_this_years_set_two_years_back():
    panel = [
        output("A", 2020, 4, "100"),
        output("A", 2021, 4, "95"),  # −5.00%
        output("A", 2022, 4, "106.40"),  # +12.00%
        output("E", 2020, 4, "500"),  # gone since: not in this year's set
    ]
    # √(106.40 / 100) − 1 = √1.064 − 1 = 0.031504… -> 3.15, as √(0.95 × 1.12) − 1
    two_year = two_year_average(panel, OUTPUT, 2022, 4, None)
    assert (two_year.value, two_year.base, two_year.average) == (D("106.40"), D("100"), D("3.15"))
    assert cumulative_yoy(panel, OUTPUT, 2022, 4, None).growth == D("12.00")
    assert two_year_average_from_growths(D("-5"), D("12")).quantize(D("0.01")) == D("3.15")
    assert two_year_average([output("N", 2022, 4, "5")], OUTPUT, 2022, 4, None).average is None


def test_progress_against_the_annual_target_beside_time_progress():
    # 3500 / 12000 = 29.166… -> 29.17; 4 / 12 = 33.33; gap −4.1666… -> −4.17: behind schedule
    progress = target_progress(D("3500"), D("12000"), 4)
    assert (progress.progress, progress.time_progress, progress.gap) == (D("29.17"), D("33.33"), D("-4.17"))
    assert not progress.on_schedule
    # January–February: time progress 2 / 12 = 16.67; 2100 / 12000 = 17.50 is ahead
    early = target_progress(D("2100"), D("12000"), 2)
    assert (early.progress, early.time_progress, early.on_schedule) == (D("17.50"), D("16.67"), True)
    with pytest.raises(ValueError, match="positive"):
        target_progress(D("1"), D("0"), 4)


# The entry point --------------------------------------------------------------------------------


def test_each_indicator_is_computed_over_its_own_scope():
    panel = [
        # A: 规上 manufacturer with a project of 500万元 and more
        report(
            "A",
            2021,
            4,
            industrial_output="1000",
            tax="50",
            fixed_asset_investment="200",
            industrial_investment="200",
        ),
        report(
            "A",
            2022,
            4,
            industrial_output="1200",
            tax="60",
            fixed_asset_investment="300",
            industrial_investment="300",
        ),
        # S: a service enterprise, paying tax, building a platform
        report("S", 2021, 4, "platforms", tax="30", fixed_asset_investment="100", industrial_investment="0"),
        report("S", 2022, 4, "platforms", tax="45", fixed_asset_investment="400", industrial_investment="0"),
        # P: a small project below 500万元, out of the investment scope
        report("P", 2022, 4, "devices", fixed_asset_investment="80", industrial_investment="80"),
    ]
    scopes = Scopes(above_scale=frozenset({"A"}), investment=frozenset({"A", "S"}))
    results = indicators(panel, 2022, 4, scopes, targets={"tax": D("300")})
    # output over {A}: 200 / 1000 = 20.00; tax over everyone: (105 − 80) / 80 = 31.25, 105 / 300 = 35.00
    # investment over {A, S}: (700 − 300) / 300 = 133.33; industrial (300 − 200) / 200 = 50.00
    assert {code: results[code].growth for code in results} == {
        "industrial_output": D("20.00"),
        "revenue": None,
        "fixed_asset_investment": D("133.33"),
        "industrial_investment": D("50.00"),
        "tax": D("31.25"),
        "electricity": None,
    }
    assert results["tax"].progress.progress == D("35.00")
    assert results["industrial_output"].progress is None
    # investment pulls: A 100 / 300 = 33.33, S 300 / 300 = 100.00 -> 133.33
    assert {k: p.pull for k, p in results["fixed_asset_investment"].segments.items()} == {
        "biologics": D("33.33"),
        "platforms": D("100.00"),
    }
    with pytest.raises(ValueError, match="unknown indicator"):
        indicators(panel, 2022, 4, scopes, codes=["profit"])


def test_problems_finds_a_falling_cumulative_and_industrial_investment_above_the_total():
    panel = [
        report("A", 2022, 3, tax="30"),
        report("A", 2022, 4, tax="25", fixed_asset_investment="10", industrial_investment="12"),
    ]
    assert problems(panel) == [
        "('A', 2022, 4) tax: cumulative 25 below the previous month's 30",
        "('A', 2022, 4): industrial investment 12 above fixed-asset investment 10",
    ]


def test_a_report_refuses_a_float():
    with pytest.raises(TypeError, match="Decimal"):
        Report("A", "biologics", 2022, 4, {"tax": 1.5})


# The demo panel ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [2022, 0, 1, 7])
def test_the_demo_panel_reproduces_the_growth_the_park_published_for_january_to_april_2022(seed):
    panel = Panel(latest(demo_panel(seed)))
    results = indicators(panel, 2022, 4, demo_scopes(panel, 2022))
    assert results["industrial_output"].growth == D("37.55")
    assert results["fixed_asset_investment"].growth == D("108.58")
    assert results["industrial_investment"].growth == D("65.60")


def test_the_demo_panel_follows_the_reporting_rules():
    reports = demo_panel()
    panel = Panel(latest(reports))
    assert len(reports) - len(panel) == 2  # two preliminary versions, later revised
    assert problems(panel) == []  # no negative month, industrial investment within the total
    periods = {(r.year, r.month) for r in panel}
    assert periods == {(year, month) for year in (2020, 2021, 2022) for month in range(2, 13)}
    assert len({r.enterprise for r in panel}) == len(DEMO_ENTERPRISES) == 34
    assert demo_panel() == reports  # deterministic


def test_the_demo_above_scale_set_is_consistent_with_2021_revenue():
    panel = Panel(latest(demo_panel()))
    names = enterprise_names()
    scope = demo_scopes(panel, 2022).above_scale
    assert scope <= industrial_enterprises()
    for enterprise in scope:
        assert panel.cumulative(enterprise, "revenue", 2021, 12) >= D("2000")
    in_scope = {names[e] for e in scope}
    assert "重庆肽达生物制药有限公司" in in_scope  # crossed the line in 2021
    assert "重庆巴山中药饮片有限公司" not in in_scope  # fell below it
    assert "重庆药谷生物技术服务有限公司" not in in_scope  # a service enterprise
    result = indicator(panel, OUTPUT, 2022, 4, scope)
    assert {names[e] for e in result.entrants} == {"重庆联拓偶联药物有限公司"}
    assert "重庆渝新医用玻璃有限公司" in {names[e] for e in result.exits}
    investment = indicator(panel, "fixed_asset_investment", 2022, 4, demo_scopes(panel, 2022).investment)
    assert "重庆生物城P3实验室运营有限公司" in {names[e] for e in investment.entrants}
    assert "重庆康复之家辅具科技有限公司" not in {names[e] for e in investment.members}  # below 500万元


def test_the_demo_growth_comes_from_the_formulas_whatever_the_calibration():
    calibration = {
        "industrial_output": D("30"),
        "industrial_investment": D("50"),
        "fixed_asset_investment": D("100"),
    }
    panel = Panel(latest(demo_panel(seed=3, calibration=calibration)))
    results = indicators(panel, 2022, 4, demo_scopes(panel, 2022), codes=calibration)
    assert {code: result.growth for code, result in results.items()} == {
        "industrial_output": D("30.00"),
        "industrial_investment": D("50.00"),
        "fixed_asset_investment": D("100.00"),
    }
