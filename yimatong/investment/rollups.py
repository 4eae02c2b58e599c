"""Keeping the investment read aggregates (``models.rollups``) equal to the events, and reading them.

Writing: ``investment.events`` calls ``refresh`` for every event that can change a figure (a
creation, a stage move, a field change, a new owner, a contract change, capital in place), in the
transaction of the action that writes it. ``refresh`` locks the projects' ``ProjectRollup`` rows,
computes each project's contribution from its row and its events, and adds the difference to
the tallies with one upsert per table (rows in key order, so two writers never deadlock).
``refresh_all`` recomputes every project (after a bulk load); ``check`` compares the tallies
with a recomputation and lists the differences.

Reading: ``Scope`` says which tally rows a user's figures are made of (everything for leaders;
the rows of their own or their team's projects for promoters and team leads, plus the projects
shared with them, computed from their events; the visible projects from their events for
anyone else), optionally narrowed to chain nodes. The readers below return what the
``investment.numbers`` functions return when given the same projects.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from yimatong.investment.models import (
    PIPELINE,
    STAGE_INDEX,
    CapitalArrival,
    Project,
    ProjectEvent,
)
from yimatong.investment.models.rollups import (
    ProjectCohort,
    ProjectFlow,
    ProjectRollup,
    ProjectStay,
    ProjectTally,
)
from yimatong.lib import bulk

ZERO = Decimal("0")
CENT = Decimal("0.01")
CHUNK = 2000
# The event kinds that can change a project's contribution (others leave it as it is).
RELEVANT = frozenset(
    {
        ProjectEvent.Kind.CREATED,
        ProjectEvent.Kind.STAGE,
        ProjectEvent.Kind.CHANGED,
        ProjectEvent.Kind.ASSIGNED,
        ProjectEvent.Kind.INVESTMENT,
        ProjectEvent.Kind.CAPITAL,
    }
)
STAGE_KINDS = (ProjectEvent.Kind.CREATED, ProjectEvent.Kind.STAGE)
COHORT_STAGES = ("signed", "registered", "construction", "production")


def cents(value: Decimal | None) -> int:
    return int((value or ZERO) * 100)


def amount(value: int | None) -> Decimal:
    return (Decimal(value or 0) * CENT).quantize(CENT)


def _day(at: dt.datetime) -> str:
    return timezone.localtime(at, timezone.get_default_timezone()).date().isoformat()


# One project's contribution -----------------------------------------------------------------------


def _contribution(
    row: tuple[Any, ...], events: list[tuple[Any, ...]], capital: Decimal | None
) -> dict[str, Any]:
    """What one project adds to the tallies. ``row`` is (pk, owner, team, chain, source, stage,
    planned, contracted); ``events`` its (kind, to_stage, at, signed, landed) in (at, id) order:
    the stage events and those that count an amount."""
    _pk, owner, team, chain, source, stage, planned, contracted = row
    dims = [owner, team or 0, chain or 0, source]
    furthest = -1
    first_at: dict[str, dt.datetime] = {}
    first_signed: dt.datetime | None = None
    flow: dict[str, list[int]] = {}
    stays: list[list[Any]] = []
    previous: tuple[str, dt.datetime] | None = None
    for kind, to_stage, at, signed, landed in events:
        if kind in STAGE_KINDS and to_stage:
            furthest = max(furthest, STAGE_INDEX.get(to_stage, -1))
            if previous is not None:
                stays.append([previous[0], (at - previous[1]).total_seconds() / 86400])
            previous = (to_stage, at)
        if to_stage in COHORT_STAGES and to_stage not in first_at:
            first_at[to_stage] = at
        if signed or landed:
            cell = flow.setdefault(_day(at), [0, 0])
            cell[0] += cents(signed)
            cell[1] += cents(landed)
            if signed and signed > 0 and first_signed is None:
                first_signed = at
    planned_c, contracted_c, capital_c = cents(planned), cents(contracted), cents(capital)
    cohorts = [
        [name, _day(at), furthest, planned_c, contracted_c, capital_c]
        for name, at in sorted(first_at.items())
    ]
    if first_signed is not None:
        cohorts.append(["first_signed", _day(first_signed), furthest, planned_c, contracted_c, capital_c])
    return {
        "d": dims,
        "t": [stage, furthest, planned_c, contracted_c],
        "f": [[day, *values] for day, values in sorted(flow.items()) if any(values)],
        "c": cohorts,
        "s": stays,
    }


def contributions(project_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The contributions of these projects, from their rows and events (two queries a chunk)."""
    ids = sorted(set(project_ids))
    result: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        capital_in_place = (
            CapitalArrival.objects.filter(project_id=OuterRef("pk"))
            .order_by()
            .values("project_id")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        rows = (
            Project.objects.filter(pk__in=chunk)
            .annotate(capital=Subquery(capital_in_place))
            .values_list(
                "pk",
                "owner_id",
                "team_id",
                "chain_node_id",
                "source_channel",
                "stage",
                "planned_investment",
                "contracted_investment",
                "capital",
            )
        )
        events: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for project_id, *event in (
            ProjectEvent.objects.filter(project_id__in=chunk)
            .filter(Q(kind__in=STAGE_KINDS) | Q(signed_amount__gt=0) | Q(landed_amount__gt=0))
            .order_by("project_id", "at", "pk")
            .values_list("project_id", "kind", "to_stage", "at", "signed_amount", "landed_amount")
        ):
            events[project_id].append(event)
        for *row, capital in rows:
            result[row[0]] = _contribution(tuple(row), events.get(row[0], []), capital)
    return result


def created_contribution(project: Project, history: list[dict[str, Any]]) -> dict[str, Any]:
    """The contribution of a project just created with ``history`` (its events as
    ``events.imported_projects`` takes them, in the order written), without reading them back:
    what ``contributions`` computes from the rows once they are written."""
    row = (
        project.pk,
        project.owner_id,
        project.team_id,
        project.chain_node_id,
        project.source_channel,
        project.stage,
        project.planned_investment,
        project.contracted_investment,
    )
    events = [
        (step["kind"], step.get("to_stage", ""), step["at"], signed, landed)
        for step in history
        for signed, landed in [(step.get("signed_amount", ZERO), step.get("landed_amount", ZERO))]
        if step["kind"] in STAGE_KINDS or signed > 0 or landed > 0
    ]
    events.sort(key=lambda event: event[2])  # stable: equal times keep the order written (the ids')
    return _contribution(row, events, None)


# Keyed rows: what a contribution adds to each table -----------------------------------------------


def _keyed(contribution: dict[str, Any], sign: int, into: dict[str, dict[tuple, list[int]]]) -> None:
    if not contribution:
        return
    dims = tuple(contribution["d"])
    stage, furthest, planned_c, contracted_c = contribution["t"]
    _add(into["tally"], (stage, furthest, *dims), [sign, sign * planned_c, sign * contracted_c])
    for day, signed_c, landed_c in contribution["f"]:
        _add(into["flow"], (day, *dims), [sign * signed_c, sign * landed_c])
    for cohort, day, furth, p_c, c_c, k_c in contribution["c"]:
        _add(into["cohort"], (cohort, day, furth, *dims), [sign, sign * p_c, sign * c_c, sign * k_c])


def _add(table: dict[tuple, list[int]], key: tuple, values: list[int]) -> None:
    cell = table.get(key)
    if cell is None:
        table[key] = list(values)
    else:
        for i, value in enumerate(values):
            cell[i] += value


TABLES = {
    # table -> (model, key columns, value columns)
    "tally": (
        ProjectTally,
        ("stage", "furthest", "owner_id", "team_id", "chain_id", "source"),
        ("n", "planned_c", "contracted_c"),
    ),
    "flow": (ProjectFlow, ("day", "owner_id", "team_id", "chain_id", "source"), ("signed_c", "landed_c")),
    "cohort": (
        ProjectCohort,
        ("cohort", "day", "furthest", "owner_id", "team_id", "chain_id", "source"),
        ("n", "planned_c", "contracted_c", "capital_c"),
    ),
}


def _apply(deltas: dict[str, dict[tuple, list[int]]]) -> None:
    """Add the deltas to the tallies: one ``INSERT … ON CONFLICT DO UPDATE SET v = v + excluded.v``
    per table and 500 rows, in key order."""
    for name, (model, keys, values) in TABLES.items():
        rows = sorted((key, cell) for key, cell in deltas[name].items() if any(cell))
        if not rows:
            continue
        table = model._meta.db_table
        columns = [*keys, *values]
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        updates = ", ".join(
            f"{connection.ops.quote_name(v)} = {table}.{connection.ops.quote_name(v)} + excluded.{connection.ops.quote_name(v)}"
            for v in values
        )
        conflict = ", ".join(connection.ops.quote_name(k) for k in keys)
        conflict_sql = f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        if connection.vendor == "postgresql":
            # One array per column: a handful of parameters, where a VALUES list of thousands
            # of rows took psycopg longer to put together than PostgreSQL took to run it.
            fields = [model._meta.get_field(c) for c in columns]
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({quoted}) SELECT * FROM unnest({arrays}) {conflict_sql}",
                    [list(column) for column in zip(*((*key, *cell) for key, cell in rows), strict=True)],
                )
            continue
        placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 500):
                part = rows[start : start + 500]
                sql = (
                    f"INSERT INTO {table} ({quoted}) VALUES {', '.join([placeholder] * len(part))} "
                    + conflict_sql
                )
                cursor.execute(sql, [value for key, cell in part for value in (*key, *cell)])


# Refreshing -------------------------------------------------------------------------------------


def refresh(
    project_ids: Iterable[int], *, created: bool = False, known: dict[int, dict[str, Any]] | None = None
) -> int:
    """Bring the tallies up to date with these projects; returns how many changed. Runs in the
    caller's transaction (or its own), locking the projects' rollup rows. ``created``: the
    projects were created in this transaction and have no rollup row yet."""
    ids = sorted(set(project_ids))
    if not ids:
        return 0
    changed = 0
    # The differences of every chunk added up, then written once: a ledger import's 50,000
    # projects fall on a few thousand tally rows.
    deltas: dict[str, dict[tuple, list[int]]] = {name: {} for name in TABLES}
    # No savepoint: a failure here fails the caller's transaction anyway (the figures change
    # with the event or not at all).
    with transaction.atomic(savepoint=False):
        for start in range(0, len(ids), CHUNK):
            changed += _refresh_chunk(ids[start : start + CHUNK], created=created, deltas=deltas, known=known)
        if changed:
            _apply(deltas)
    return changed


def _states(ids: list[int]) -> dict[int, ProjectRollup]:
    """The rollup rows of these projects, locked (made first for the projects without one)."""
    states = {
        state.project_id: state
        for state in ProjectRollup.objects.select_for_update()
        .filter(project_id__in=ids)
        .order_by("project_id")
    }
    missing = [pk for pk in ids if pk not in states]
    if missing:
        ProjectRollup.objects.bulk_create(
            [ProjectRollup(project_id=pk) for pk in missing], ignore_conflicts=True, batch_size=1000
        )
        states.update(
            (state.project_id, state)
            for state in ProjectRollup.objects.select_for_update().filter(project_id__in=missing)
        )
    return states


def _refresh_chunk(
    ids: list[int],
    *,
    created: bool,
    deltas: dict[str, dict[tuple, list[int]]],
    known: dict[int, dict[str, Any]] | None = None,
) -> int:
    """Store the new contributions of these projects and add their differences to ``deltas``."""
    states = {pk: ProjectRollup(project_id=pk) for pk in ids} if created else _states(ids)
    new = {pk: known[pk] for pk in ids} if known is not None else contributions(ids)
    changed: list[ProjectRollup] = []
    stays_changed: list[int] = []
    for pk in ids:
        state = states.get(pk)
        if state is None or pk not in new:  # the project was deleted meanwhile
            continue
        old, now = state.contribution or {}, new[pk]
        if old == now:
            continue
        _keyed(old, -1, deltas)
        _keyed(now, 1, deltas)
        if (old.get("s") or [], old.get("d", [0, 0])[:2]) != (now["s"], now["d"][:2]) and (
            old.get("s") or now["s"]
        ):
            stays_changed.append(pk)
        state.contribution = now
        changed.append(state)
    if not changed:
        return 0
    if stays_changed:
        if not created:
            ProjectStay.objects.filter(project_id__in=stays_changed).delete()
        bulk.insert_values(
            ProjectStay,
            (
                {
                    "project_id": pk,
                    "owner_id": new[pk]["d"][0],
                    "team_id": new[pk]["d"][1],
                    "stage": stage,
                    "days": days,
                }
                for pk in stays_changed
                for stage, days in new[pk]["s"]
            ),
        )
    if created:
        bulk.insert_values(
            ProjectRollup,
            ({"project_id": state.project_id, "contribution": state.contribution} for state in changed),
        )
    elif len(changed) == 1:
        ProjectRollup.objects.filter(pk=changed[0].pk).update(
            contribution=changed[0].contribution, updated_at=timezone.now()
        )
    else:
        now = timezone.now()
        for state in changed:
            state.updated_at = now  # the cockpit's marker (bulk_update leaves auto_now alone)
        ProjectRollup.objects.bulk_update(changed, ["contribution", "updated_at"], batch_size=500)
    return len(changed)


def refresh_all(*, clear: bool = False) -> int:
    """Every project (to repair, safe while serving); ``clear`` rebuilds the tallies from zero
    in one transaction (after a bulk load), writing each row once."""
    if not clear:
        return refresh(Project.objects.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        for model in (ProjectTally, ProjectFlow, ProjectCohort, ProjectStay, ProjectRollup):
            model.objects.all().delete()
        ids = list(Project.objects.order_by("pk").values_list("pk", flat=True))
        totals: dict[str, dict[tuple, list[int]]] = {name: {} for name in TABLES}
        for start in range(0, len(ids), CHUNK):
            found = contributions(ids[start : start + CHUNK])
            for contribution in found.values():
                _keyed(contribution, 1, totals)
            ProjectRollup.objects.bulk_create(
                [ProjectRollup(project_id=pk, contribution=c) for pk, c in found.items()], batch_size=1000
            )
            ProjectStay.objects.bulk_create(
                [
                    ProjectStay(project_id=pk, owner_id=c["d"][0], team_id=c["d"][1], stage=stage, days=days)
                    for pk, c in found.items()
                    for stage, days in c["s"]
                ],
                batch_size=2000,
            )
        for name, (model, keys, values) in TABLES.items():
            model.objects.bulk_create(
                [
                    model(**dict(zip(keys, key, strict=True)), **dict(zip(values, cell, strict=True)))
                    for key, cell in totals[name].items()
                    if any(cell)
                ],
                batch_size=2000,
            )
        return len(ids)


def check() -> list[str]:
    """The differences between the stored tallies and a recomputation from every project."""
    expected: dict[str, dict[tuple, list[int]]] = {name: {} for name in TABLES}
    ids = list(Project.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        for contribution in contributions(ids[start : start + CHUNK]).values():
            _keyed(contribution, 1, expected)
    problems = []
    for name, (model, keys, values) in TABLES.items():
        stored = {
            tuple(str(v) if isinstance(v, dt.date) else v for v in row[: len(keys)]): list(row[len(keys) :])
            for row in model.objects.values_list(*keys, *values)
        }
        wanted = {tuple(k): v for k, v in expected[name].items() if any(v)}
        for key in sorted(set(stored) | set(wanted), key=str):
            have, want = stored.get(key, [0] * len(values)), wanted.get(key, [0] * len(values))
            if have != want:
                problems.append(f"{name} {key}: stored {have}, computed {want}")
    return problems


# Reading ----------------------------------------------------------------------------------------------


@dataclass
class Scope:
    """Which projects a figure is made of: the tally rows matching ``rows`` (None: no rows) plus
    the projects ``extra`` (computed from their events), optionally within ``chain_ids``."""

    rows: Q | None
    extra: QuerySet | None = None
    chain_ids: set[int] | None = None
    _extra: list[dict[str, Any]] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def for_user(cls, user: Any, chain_ids: set[int] | None = None) -> Scope:
        from yimatong.accounts import access
        from yimatong.accounts.models import User

        role = access.role_of(user)
        visible = Project.objects.visible_to(user)
        # What promoters and team leads see beyond their own rows is shared with them: read from
        # the shares (a few rows) rather than by testing every project of the city.
        shares = Project.collaborators.through.objects
        if role in (access.Role.ADMIN, access.Role.LEADER):
            return cls(Q(), None, chain_ids)
        if role == access.Role.PROMOTER:
            shared = shares.filter(user_id=user.pk).values("project_id")
            return cls(
                Q(owner_id=user.pk), visible.filter(pk__in=shared).exclude(owner_id=user.pk), chain_ids
            )
        if role == access.Role.TEAM_LEAD and user.team_id:
            members = list(User.objects.filter(team_id=user.team_id).values_list("pk", flat=True))
            own = Q(team_id=user.team_id) | Q(owner_id__in=members)
            shared = shares.filter(user_id__in=members).values("project_id")
            return cls(own, visible.filter(pk__in=shared).exclude(own), chain_ids)
        return cls(None, visible, chain_ids)

    def tally_rows(self, model: type) -> QuerySet:
        if self.rows is None:
            return model.objects.none()
        qs = model.objects.filter(self.rows)
        if self.chain_ids is not None:
            qs = qs.filter(chain_id__in=self.chain_ids)
        return qs

    def extra_contributions(self) -> list[dict[str, Any]]:
        """The stored contributions of the ``extra`` projects (the same the tallies hold)."""
        if self.extra is None:
            return []
        extra = self.extra
        if self.chain_ids is not None:
            extra = extra.filter(chain_node_id__in=self.chain_ids)
        if not self._extra:
            self._extra = [
                c
                for c in ProjectRollup.objects.filter(project__in=extra.values("pk"))
                .order_by()
                .values_list("contribution", flat=True)
                if c
            ]
        return self._extra

    def extra_stage_sums(self) -> list[tuple[str, int, int, int]]:
        """(stage, projects, planned, contracted) of the ``extra`` projects, summed by the
        database from their stored contributions (a list page reads no more than that)."""
        if self.extra is None:
            return []
        extra = self.extra
        if self.chain_ids is not None:
            extra = extra.filter(chain_node_id__in=self.chain_ids)
        return list(
            ProjectRollup.objects.filter(project__in=extra.values("pk"))
            .annotate(
                stage=KT("contribution__t__0"),
                planned=Cast(KT("contribution__t__2"), BigIntegerField()),
                contracted=Cast(KT("contribution__t__3"), BigIntegerField()),
            )
            .order_by()
            .values_list("stage")
            .annotate(Count("pk"), Sum("planned"), Sum("contracted"))
        )

    def stays(self) -> QuerySet:
        """The completed stays in scope (owner and team are kept on each stay)."""
        if self.chain_ids is not None:
            raise ValueError("stays are not kept by chain node")
        if self.rows is not None and not self.rows:  # Q(): every project
            return ProjectStay.objects.all()
        parts = [self.rows] if self.rows is not None else []
        if self.extra is not None:
            parts.append(Q(project_id__in=self.extra.values("pk")))
        if not parts:
            return ProjectStay.objects.none()
        condition = parts[0]
        for part in parts[1:]:
            condition |= part
        return ProjectStay.objects.filter(condition)


def funnel_counts(scope: Scope) -> list[int]:
    """Per pipeline stage, the projects that reached it (furthest stage at least that one)."""
    by_furthest: dict[int, int] = defaultdict(int)
    for furthest, n in (
        scope.tally_rows(ProjectTally).order_by().values_list("furthest").annotate(total=Sum("n"))
    ):
        by_furthest[furthest] += n or 0
    for c in scope.extra_contributions():
        by_furthest[c["t"][1]] += 1
    return [sum(n for f, n in by_furthest.items() if f >= i) for i in range(len(PIPELINE))]


def stage_totals(scope: Scope) -> dict[str, tuple[int, Decimal, Decimal]]:
    """Per stage now: projects, planned and contracted investment (万元)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for stage, n, planned, contracted in (
        scope.tally_rows(ProjectTally)
        .order_by()
        .values_list("stage")
        .annotate(Sum("n"), Sum("planned_c"), Sum("contracted_c"))
    ):
        _add(totals, stage, [n or 0, planned or 0, contracted or 0])
    for stage, n, planned_c, contracted_c in scope.extra_stage_sums():
        _add(totals, stage, [n or 0, planned_c or 0, contracted_c or 0])
    return {stage: (n, amount(p), amount(k)) for stage, (n, p, k) in totals.items() if n}


def flow(scope: Scope, start: dt.date | None, end: dt.date | None, group: str) -> dict[Any, list[int]]:
    """Signed and landed amounts (cents) in the period, by ``day``, ``chain``, ``source`` or
    ``owner`` (the raw key: a date, a chain node id, a channel, a user id)."""
    column = {"day": "day", "chain": "chain_id", "source": "source", "owner": "owner_id"}[group]
    qs = scope.tally_rows(ProjectFlow)
    if start:
        qs = qs.filter(day__gte=start)
    if end:
        qs = qs.filter(day__lte=end)
    result: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for key, signed, landed in qs.order_by().values_list(column).annotate(Sum("signed_c"), Sum("landed_c")):
        _add(result, key, [signed or 0, landed or 0])
    index = {"chain": 2, "source": 3, "owner": 0}.get(group)
    for c in scope.extra_contributions():
        for day, signed_c, landed_c in c["f"]:
            when = dt.date.fromisoformat(day)
            if (start and when < start) or (end and when > end):
                continue
            _add(result, when if group == "day" else c["d"][index], [signed_c, landed_c])
    return dict(result)


def cohorts(
    scope: Scope, names: Iterable[str], start: dt.date | None, end: dt.date | None, by_day: bool
) -> dict[tuple, list[int]]:
    """Cohort sums [n, planned, contracted, capital] (cents) keyed by (cohort, day or furthest)."""
    names = list(names)
    qs = scope.tally_rows(ProjectCohort).filter(cohort__in=names)
    if start:
        qs = qs.filter(day__gte=start)
    if end:
        qs = qs.filter(day__lte=end)
    second = "day" if by_day else "furthest"
    result: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for cohort, key, n, planned, contracted, capital in (
        qs.order_by()
        .values_list("cohort", second)
        .annotate(Sum("n"), Sum("planned_c"), Sum("contracted_c"), Sum("capital_c"))
    ):
        _add(result, (cohort, key), [n or 0, planned or 0, contracted or 0, capital or 0])
    for c in scope.extra_contributions():
        for cohort, day, furthest, p_c, c_c, k_c in c["c"]:
            when = dt.date.fromisoformat(day)
            if cohort not in names or (start and when < start) or (end and when > end):
                continue
            _add(result, (cohort, when if by_day else furthest), [1, p_c, c_c, k_c])
    return dict(result)


def stay_medians(scope: Scope) -> dict[str, tuple[int, float | None]]:
    """Per stage: completed stays and their median in days."""
    stays = scope.stays()
    if connection.vendor == "postgresql":
        sql, params = stays.values("stage", "days").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT stage, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY days) "
                f"FROM ({sql}) stays GROUP BY stage",
                params,
            )
            return {stage: (n, value) for stage, n, value in cursor.fetchall()}
    values: dict[str, list[float]] = defaultdict(list)
    for stage, days in stays.order_by().values_list("stage", "days").iterator(chunk_size=5000):
        values[stage].append(days)
    return {stage: (len(days), statistics.median(days)) for stage, days in values.items()}
