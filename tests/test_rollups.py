"""The read aggregates (``investment.rollups``) always equal a recomputation from the events.

Random histories are played through the real actions (creations, moves forward and back, exits
and returns, contract changes, capital, new owners, chain nodes, sources and amounts, at times
that cross days and months in Shanghai); after each one, every figure the numbers page, the API,
the cockpit and the board read from the tallies is compared with the same figure computed from
the projects and their events, for each persona's scope, for several periods and segments.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Min, Sum
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from yimatong.investment import numbers, rollups
from yimatong.investment.actions.projects import create_project, move_stage, record_contract, update_project
from yimatong.investment.actions.work import record_capital
from yimatong.investment.filters import projects_for, tally_scope
from yimatong.investment.models import (
    EXITS,
    PIPELINE,
    STAGE_INDEX,
    Channel,
    Project,
    ProjectEvent,
    ProjectTally,
    Stage,
)
from yimatong.investment.views.projects import _board_totals as board_totals
from yimatong.lib.errors import ActionError

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2025, 1, 3, 9, 0, tzinfo=SHANGHAI)
PERIODS = [
    numbers.Period(),
    numbers.Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    numbers.Period(dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
    numbers.Period(dt.date(2025, 2, 14), None),
]
# Everything; a promoter with a project shared with them; a team lead; someone who sees only
# the projects their department works on (no tallies: computed from the events).
PERSONAS = ("leader", "owner", "teamlead", "service")
OWNERS = ("owner", "colleague", "other_team", "teamlead")
OPS = (
    "create",
    "forward",
    "forward",
    "forward",
    "back",
    "exit",
    "resume",
    "contract",
    "capital",
    "reassign",
    "rechain",
    "resource",
    "replan",
)

operations = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 7), st.integers(0, 10**6)), min_size=1, max_size=22
)


class Player:
    """Plays one operation at a time through the actions, at a clock that moves forward."""

    def __init__(self, park):
        self.park = park
        self.now = START
        self.projects: list[int] = []

    def tick(self, value: int) -> dt.datetime:
        # Hours and minutes that often land late in the evening, so UTC and Shanghai days differ.
        self.now += dt.timedelta(hours=value % 400, minutes=(value // 400) % 60)
        return self.now

    def node(self, value: int):
        return [self.park.antibody, self.park.biologics, self.park.devices, None][value % 4]

    def play(self, op: str, index: int, value: int) -> None:
        now = self.tick(value)
        users = self.park.users
        if op == "create" or not self.projects:
            owner = users[OWNERS[value % len(OWNERS)]]
            collaborators = [users["owner"]] if value % 5 == 0 and owner != users["owner"] else []
            project = create_project(
                actor=owner,
                data={
                    "name": f"项目{len(self.projects)}",
                    "organization": self.park.prospect,
                    "owner": owner,
                    "chain_node": self.node(value // 7),
                    "source_channel": Channel.values[value % len(Channel.values)],
                    "planned_investment": Decimal(value % 9000) if value % 3 else None,
                    "collaborators": collaborators,
                    "stage": PIPELINE[value % 4],
                },
                now=now,
            )
            self.projects.append(project.pk)
            return
        project = Project.objects.get(pk=self.projects[index % len(self.projects)])
        with contextlib.suppress(ActionError):  # a refused step (a gate, a stage there) changes nothing
            self._change(project, op, value, now)

    def _change(self, project: Project, op: str, value: int, now: dt.datetime) -> None:
        users, park = self.park.users, self.park
        if op in ("forward", "resume"):
            if op == "resume" and project.stage not in EXITS:
                return
            if project.stage in EXITS:
                to = PIPELINE[value % 6]
            else:
                if project.stage == Stage.FULL_CAPACITY:
                    return
                to = PIPELINE[STAGE_INDEX[project.stage] + 1]
            facts = {
                "agreement_type": "framework",
                "signed_on": now.date(),
                "contracted_investment": Decimal(1000 + value % 50000) / 10,
                "registered_organization": park.resident,
                "registered_on": now.date(),
                "construction_started_on": now.date(),
                "fixed_asset_investment": Decimal("100"),
                "production_started_on": now.date(),
                "full_capacity_on": now.date(),
            }
            move_stage(actor=project.owner, project=project, to=to, facts=facts, reason="继续推进", now=now)
        elif op == "back" and project.stage not in EXITS and STAGE_INDEX[project.stage] > 0:
            to = PIPELINE[STAGE_INDEX[project.stage] - 1 - value % max(1, STAGE_INDEX[project.stage])]
            move_stage(actor=project.owner, project=project, to=to, reason="重新洽谈", now=now)
        elif op == "exit":
            to = EXITS[value % 2]
            move_stage(actor=project.owner, project=project, to=to, reason="投资方暂缓", now=now)
        elif op == "contract":
            record_contract(
                actor=project.owner,
                project=project,
                agreement_type="formal",
                signed_on=now.date(),
                contracted_investment=Decimal(value % 80000),
                now=now,
            )
        elif op == "capital":
            record_capital(
                actor=project.owner, project=project, arrived_on=now.date(), amount=Decimal(1 + value % 5000)
            )
        elif op == "reassign":
            update_project(actor=users["admin"], project=project, data={"owner": users[OWNERS[value % 4]]})
        elif op == "rechain":
            update_project(actor=users["admin"], project=project, data={"chain_node": self.node(value)})
        elif op == "resource":
            channel = Channel.values[value % len(Channel.values)]
            update_project(actor=users["admin"], project=project, data={"source_channel": channel})
        elif op == "replan":
            amount = Decimal(value % 20000) if value % 4 else None
            update_project(actor=users["admin"], project=project, data={"planned_investment": amount})


# References computed from the events --------------------------------------------------------------


def reference_stage_totals(projects) -> dict[str, tuple[int, Decimal, Decimal]]:
    return {
        stage: (n, planned or Decimal("0.00"), contracted or Decimal("0.00"))
        for stage, n, planned, contracted in projects.order_by()
        .values_list("stage")
        .annotate(Count("pk"), Sum("planned_investment"), Sum("contracted_investment"))
    }


def reference_first_reached(projects, period: numbers.Period) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """(month, stage) -> projects that first reached the stage then, and their investment."""
    start, end = period.bounds()
    firsts = (
        ProjectEvent.objects.filter(
            project__in=projects.values("pk"),
            to_stage__in=["signed", "registered", "construction", "production"],
        )
        .values("project", "to_stage")
        .annotate(first=Min("at"))
    )
    table: dict[tuple[str, str], list] = defaultdict(lambda: [0, Decimal(0)])
    for row in firsts:
        if (start and row["first"] < start) or (end and row["first"] >= end):
            continue
        project = Project.objects.get(pk=row["project"])
        cell = table[(row["first"].astimezone(SHANGHAI).strftime("%Y-%m"), row["to_stage"])]
        cell[0] += 1
        value = project.contracted_investment if row["to_stage"] == "signed" else project.planned_investment
        cell[1] += value or 0
    return {key: (n, amount) for key, (n, amount) in table.items()}


def first_reached(scope: rollups.Scope, period: numbers.Period) -> dict[tuple[str, str], tuple[int, Decimal]]:
    table: dict[tuple[str, str], list] = defaultdict(lambda: [0, Decimal(0)])
    for (stage, day), (n, planned, contracted, _k) in rollups.cohorts(
        scope, ["signed", "registered", "construction", "production"], period.start, period.end, by_day=True
    ).items():
        if n:
            cell = table[(day.strftime("%Y-%m"), stage)]
            cell[0] += n
            cell[1] += rollups.amount(contracted if stage == "signed" else planned)
    return {key: (n, amount) for key, (n, amount) in table.items()}


def assert_tallies_equal_the_events(park) -> None:
    assert rollups.check() == []
    segment = park.biologics.descendant_ids()
    for persona in PERSONAS:
        user = park.users[persona]
        visible = Project.objects.visible_to(user)
        for chain_ids in (None, segment):
            projects = visible if chain_ids is None else visible.filter(chain_node__in=chain_ids)
            scope = rollups.Scope.for_user(user, chain_ids)
            for period in PERIODS:
                expected = numbers.summary(projects, period=period)
                if chain_ids is not None:
                    expected.pop("time_in_stage")  # stays are kept by owner and team only
                got = numbers.scoped_summary(scope, period=period, stays=chain_ids is None)
                assert got == expected, (persona, chain_ids, period)
                assert first_reached(scope, period) == reference_first_reached(projects, period)
            assert rollups.stage_totals(scope) == {
                stage: value for stage, value in reference_stage_totals(projects).items()
            }


@pytest.mark.django_db(transaction=False)
# Each example plays a history through the actions: no shrinking (slow), the failing one is printed.
@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(history=operations)
def test_the_aggregates_equal_a_recomputation_from_the_events_after_any_history(investment, history):
    with transaction.atomic():
        player = Player(investment)
        for op, index, value in history:
            player.play(op, index, value)
        assert_tallies_equal_the_events(investment)
        transaction.set_rollback(True)


def test_a_rebuild_from_scratch_gives_the_same_tallies_as_the_actions_kept(investment):
    player = Player(investment)
    for i, op in enumerate(["create", "create", "forward", "forward", "forward", "contract", "capital"] * 3):
        player.play(op, i, 7919 * i + 13)

    def tallies():
        return sorted(
            ProjectTally.objects.exclude(n=0).values_list("stage", "furthest", "owner_id", "n", "planned_c")
        )

    kept = tallies()
    assert len(kept) > 3
    call_command("rebuild_rollups", "--clear", verbosity=0)
    assert tallies() == kept
    call_command("rebuild_rollups", "--check", verbosity=0)


def test_the_check_names_a_tally_that_drifted_from_the_events(investment, new_project):
    new_project()
    ProjectTally.objects.update(n=5)
    problems = rollups.check()
    assert len(problems) == 1 and problems[0].startswith("tally ('contact', 1, ")
    assert "stored [5, " in problems[0] and "computed [1, " in problems[0]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"owner": "owner"},
        {"team": "bio"},
        {"chain": "biologics"},
        {"source": "expo"},
        {"chain": "antibody", "owner": "other"},
        {"owner": "nobody"},
        {"team": "missing"},
        {"stage": "signed"},
        {"stage": ["contact", "visit"], "chain": "biologics"},
    ],
)
@pytest.mark.parametrize("persona", ["leader", "owner", "teamlead", "other_team"])
def test_the_board_totals_from_the_aggregates_equal_the_filtered_projects(investment, persona, params):
    player = Player(investment)
    for i in range(40):
        player.play(OPS[(i * 5) % len(OPS)], i, 104729 * i + 17)
    user = investment.users[persona]
    qs, filters = projects_for(user, params)
    assert tally_scope(user, filters) is not None
    expected = reference_stage_totals(Project.objects.filter(pk__in=qs.values("pk")))
    assert board_totals(user, qs, filters) == expected


def test_a_board_filtered_by_text_amount_or_light_is_counted_not_read_from_the_aggregates(investment):
    user = investment.users["leader"]
    for params in ({"q": "项目"}, {"min": "0"}, {"light": "red"}, {"major": "1"}, {"mine": "1"}):
        assert tally_scope(user, projects_for(user, params)[1]) is None, params
