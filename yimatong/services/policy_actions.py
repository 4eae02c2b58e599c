"""Policies: saving them (the condition tree validated, a new version when it changes),
matching them against enterprises incrementally, telling enterprises of new matches once per
policy version, and the 免申即享 flow with a budget that cannot be overdrawn."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import User
from yimatong.directory.models import ChainNode, Organization
from yimatong.lib.bulk import copy_rows, replan_foreign_key_checks
from yimatong.lib.errors import ActionError, Conflict
from yimatong.notifications.actions import notify, notify_many
from yimatong.notifications.models import Notification
from yimatong.services import matching
from yimatong.services.models import EnterpriseProfile, Policy, PolicyMatch

POLICY_FIELDS = (
    "code",
    "title",
    "issuer",
    "document_number",
    "valid_from",
    "valid_to",
    "benefit",
    "amount",
    "amount_note",
    "mode",
    "materials",
    "summary",
    "budget",
    "is_published",
)
PROFILE_FIELDS = (
    "revenue",
    "rd_ratio",
    "employees",
    "patents_invention",
    "patents_utility",
    "patents_design",
    "is_tech_sme",
)


# Facts ---------------------------------------------------------------------------------------------


def chain_paths() -> dict[str, set[str]]:
    """Each chain node's code with the codes of its ancestors (a leaf is within its branches)."""
    nodes = {n.pk: n for n in ChainNode.objects.only("pk", "code", "parent_id")}
    paths: dict[str, set[str]] = {}
    for node in nodes.values():
        codes, current = set(), node
        while current is not None:
            codes.add(current.code)
            current = nodes.get(current.parent_id)
        paths[node.code] = codes
    return paths


def residents() -> Any:
    return Organization.objects.filter(org_type=Organization.Type.RESIDENT).select_related(
        "chain_node", "industry", "district", "profile"
    )


def facts_for(org: Organization, today: dt.date | None = None) -> dict[str, Any]:
    profile: EnterpriseProfile | None
    try:
        profile = org.profile
    except EnterpriseProfile.DoesNotExist:
        profile = None
    record = (
        org.chain_node.code if org.chain_node_id else None,
        org.industry.code if org.industry_id else None,
        org.district.code if org.district_id else None,
        org.registered_on,
        org.registered_capital,
        org.is_above_scale,
        org.is_high_tech,
        org.is_specialized,
        *((getattr(profile, name) if profile else None) for name in PROFILE_FACTS),
        profile.is_tech_sme if profile else None,
    )
    return _facts(record, today or timezone.localdate())


# The columns of facts_for's record, read in one query for many enterprises by facts_of (an
# enterprise without a profile reads None for every profile fact, as facts_for gives it).
PROFILE_FACTS = ("revenue", "rd_ratio", "employees", "patents_invention", "patents_utility", "patents_design")
RECORD = (
    "chain_node__code",
    "industry__code",
    "district__code",
    "registered_on",
    "registered_capital",
    "is_above_scale",
    "is_high_tech",
    "is_specialized",
    *(f"profile__{name}" for name in PROFILE_FACTS),
    "profile__is_tech_sme",
)


def facts_of(
    organizations: QuerySet[Organization], today: dt.date | None = None
) -> tuple[list[int], list[dict[str, Any]]]:
    """The primary keys and facts (as facts_for gives them) of the organizations of a queryset,
    read as plain values in one query rather than as model instances."""
    today = today or timezone.localdate()
    ids, facts = [], []
    for pk, *record in organizations.values_list("pk", *RECORD):
        ids.append(pk)
        facts.append(_facts(record, today))
    return ids, facts


def _facts(record: Any, today: dt.date) -> dict[str, Any]:
    (
        chain_node,
        industry,
        district,
        registered_on,
        registered_capital,
        is_above_scale,
        is_high_tech,
        is_specialized,
        *profile_facts,
        tech_sme,
    ) = record
    facts: dict[str, Any] = {
        "chain_node": chain_node,
        "industry_code": industry,
        "district": district,
        "years_registered": (today - registered_on).days // 365 if registered_on else None,
        "registered_capital": registered_capital,
        "is_above_scale": is_above_scale,
    }
    facts.update(zip(PROFILE_FACTS, profile_facts, strict=True))
    patents = [facts["patents_invention"], facts["patents_utility"], facts["patents_design"]]
    facts["patent_score"] = None if None in patents else 5 * patents[0] + 2 * patents[1] + patents[2]
    certifications = {c for c, held in (("high_tech", is_high_tech), ("specialized", is_specialized)) if held}
    if tech_sme:
        certifications.add("tech_sme")
    facts["certifications"] = certifications
    facts["certifications_unknown"] = {"tech_sme"} if tech_sme is None else set()
    return facts


# Matching ------------------------------------------------------------------------------------------


CHUNK = 500  # enterprises matched pair by pair, written and told per transaction
COLUMNS_FROM = 50  # from this many enterprises on, each policy is evaluated over all of them at once
POLICY_CHUNK = 20  # policies evaluated column-wise, written and told per transaction
MATCH_FIELDS = ("policy_version", "status", "pass_rate", "missing", "unknown", "estimated_amount")


def rematch(
    policies: Iterable[Policy] | Iterable[Target],
    organizations: Iterable[Organization],
    *,
    now: dt.datetime | None = None,
) -> int:
    """Evaluate every pair and bring the stored matches up to date: met, unknown and one-short
    pairs are stored, pairs that no longer match are removed, and a stored pair whose result
    has not changed is left alone. Returns the rows inserted or changed.

    Each policy's tree is compiled once. A few enterprises (a profile saved) are matched pair
    by pair, in chunks of ``CHUNK`` (a consistent answer per enterprise). Many (a policy saved,
    a recompute of the park) have their facts read once, as columns, and each policy is
    evaluated over all of them at once (matching.evaluate_columns); the policies go by in
    chunks of ``POLICY_CHUNK``, each in one transaction (a consistent answer per policy; other
    writers are not held up by a recompute of the whole park). Only the changed rows are
    written, in bulk, and new matches told in bulk."""
    now = now or timezone.now()
    paths = chain_paths()
    chain_key = matching.paths_key(paths)
    policies = _targets(policies, paths, chain_key)
    if not policies:
        return 0
    compiled = [(policy, policy.tree) for policy in policies if policy.tree is not None]
    read_at = timezone.now()
    if isinstance(organizations, QuerySet):
        org_ids, facts = facts_of(organizations)
    else:
        organizations = list(organizations)
        org_ids, facts = [org.pk for org in organizations], [facts_for(org) for org in organizations]
    facts = [matching.prepare(one) for one in facts]
    written = 0
    if len(org_ids) < COLUMNS_FROM:
        policy_ids = [policy.pk for policy in policies]
        for start in range(0, len(org_ids), CHUNK):
            written += _rematch_chunk(
                compiled, policy_ids, org_ids[start : start + CHUNK], facts[start : start + CHUNK], now
            )
        return written
    columns = matching.Columns(facts)
    with _page_cache(), _no_cycle_collection():
        for start in range(0, len(policies), POLICY_CHUNK):
            chunk = [(policy, policy.tree) for policy in policies[start : start + POLICY_CHUNK]]
            written += _rematch_columns(chunk, org_ids, columns, now)
    # The facts were read once, before the chunks: an enterprise edited since (its profile
    # saved and matched meanwhile) may have been matched again on its facts as they were.
    # Match those once more, as they are now.
    matched = set(org_ids)
    edited = [
        pk
        for pk in Organization.objects.filter(
            Q(updated_at__gte=read_at) | Q(profile__updated_at__gte=read_at)
        ).values_list("pk", flat=True)
        if pk in matched
    ]
    if edited:
        written += rematch(policies, residents().filter(pk__in=edited), now=now)
    return written


@dataclass(frozen=True)
class Target:
    """What matching needs of a policy; ``tree`` None when it is unpublished or has no
    conditions (its stored matches are then removed)."""

    pk: int
    version: int
    amount: Decimal | None
    tree: matching.Compiled | None


def _targets(policies: Iterable[Policy], paths: dict[str, set[str]], chain_key: str) -> list[Target]:
    """A queryset is read as plain values, its trees as JSON text (compiled once per process):
    after a profile change every current policy is read, and building and decoding 500 model
    instances cost more than matching them."""
    if not isinstance(policies, QuerySet):
        policies = list(policies)
        if all(isinstance(policy, Target) for policy in policies):
            return policies  # already read (rematch matching again the enterprises edited meanwhile)
    language = translation.get_language() or ""
    if isinstance(policies, QuerySet):
        rows = policies.values_list(
            "pk", "version", "amount", "is_published", Cast("conditions", output_field=TextField())
        )
        return [
            Target(
                pk,
                version,
                amount,
                matching.compiled(text, paths, chain_key=chain_key, language=language)
                if published and text not in (None, "{}", "null")  # no conditions: matches nothing
                else None,
            )
            for pk, version, amount, published, text in rows
        ]
    return [
        Target(
            policy.pk,
            policy.version,
            policy.amount,
            matching.compiled(policy.conditions, paths, chain_key=chain_key, language=language)
            if policy.is_published and policy.conditions
            else None,
        )
        for policy in policies
    ]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A recompute holds millions of small objects (rows, texts) and creates no cycles: the
    collector's passes over them were a fifth of its time. Reference counting still frees."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _page_cache(kib: int = 128 * 1024) -> Iterator[None]:
    """On SQLite, a page cache large enough for the match table's indexes while many rows are
    written (the default 2 MiB made every insert read its index pages again)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _rematch_chunk(
    compiled: list[tuple[Target, matching.Compiled]],
    policy_ids: list[int],
    org_ids: list[int],
    facts: list[dict[str, Any]],
    now: dt.datetime,
) -> int:
    MET, UNMET = matching.MET, matching.UNMET
    rates: dict[tuple[int, int], Decimal] = {}
    with transaction.atomic():
        stored = {
            (policy_id, org_id): (pk, values, notified, not_interested)
            for pk, policy_id, org_id, notified, not_interested, *values in PolicyMatch.objects.filter(
                policy__in=policy_ids, organization__in=org_ids
            ).values_list("pk", "policy", "organization", "notified_version", "not_interested", *MATCH_FIELDS)
        }
        changed: list[tuple[Any, ...]] = []
        fresh: list[tuple[int, int, int]] = []
        marked: list[int] = []
        keep: set[tuple[int, int]] = set()
        for org_id, one in zip(org_ids, facts, strict=True):
            for policy, tree in compiled:
                status, met, unmet, unknown = tree.status(one)
                if status == UNMET and (unmet != 1 or unknown):
                    continue  # plainly unmet: not stored
                key = (policy.pk, org_id)
                keep.add(key)
                leaves = len(tree.leaves)
                rate = rates.get((met, leaves))
                if rate is None:
                    rate = rates[met, leaves] = _rate(met, leaves)
                # A met policy needs nothing more (the branches not taken don't matter).
                missing, unknowns = tree.explain(one) if status != MET else ([], [])
                amount = policy.amount if status == MET else None
                values = [policy.version, status, rate, missing, unknowns, amount]
                before = stored.get(key)
                tell = status == MET and (
                    before is None or (not before[3] and (before[2] is None or before[2] < policy.version))
                )
                if tell:
                    fresh.append((policy.pk, org_id, policy.version))
                if before is not None and before[1] == values:
                    if tell:
                        marked.append(before[0])
                    continue
                changed.append(
                    (
                        org_id,
                        policy.pk,
                        policy.version,
                        status,
                        _param(rate),
                        _json_text(missing),
                        _json_text(unknowns),
                        _param(amount),
                        policy.version if tell else None,
                    )
                )
        gone = [pk for key, (pk, *_rest) in stored.items() if key not in keep]
        _delete_matches(gone)
        _write_matches(changed, now)
        _mark_notified(marked)
        _tell_new_matches(fresh)
    return len(changed)


def _rate(met: int, leaves: int) -> Decimal:
    return Decimal(str(round(met * 100 / leaves, 1) if leaves else 100.0))


# The lists of texts as JSON, spelled as PostgreSQL gives jsonb back as text (", " between
# items, characters unescaped) and as SQLite keeps it: a computed row is compared with the
# stored one as text. Each text quoted by json's C encoder (json.dumps with these options
# builds an encoder per call).
_quote = json.encoder.encode_basestring


def _json_text(items: list[str]) -> str:
    if len(items) == 1:
        return f"[{_quote(items[0])}]"
    return f"[{', '.join(map(_quote, items))}]"


def _param(value: Decimal | None) -> Any:
    """A decimal as the database driver takes it: SQLite's adapter makes text of it per row,
    made here once per distinct value."""
    return str(value) if value is not None and connection.vendor == "sqlite" else value


def _rematch_columns(
    chunk: list[tuple[Target, matching.Compiled | None]],
    org_ids: list[int],
    columns: matching.Columns,
    now: dt.datetime,
) -> int:
    """A chunk of policies (None: unpublished or without conditions, so nothing kept) against
    every enterprise of ``columns``, in one transaction.

    The stored rows are read as the database gives them, without the fields' conversions
    (most of the time of a recompute went into decoding JSON and decimals of rows that had not
    changed): a computed row is compared with its JSON lists written as the database writes
    them and its numbers as floats (one decimal place, up to 100; amounts with two). A row
    told apart only by the spelling of its JSON is rewritten, never wrongly kept."""
    MET = matching.MET
    position = {org_id: i for i, org_id in enumerate(org_ids)}
    # Each stored row as (organization, pk, then the values compared: version, status, rate and
    # amount as floats, the lists as JSON text; then whether and which version it was told).
    postgres = connection.vendor == "postgresql"
    real, text = ("float8", "text") if postgres else ("REAL", "TEXT")
    table = connection.ops.quote_name(PolicyMatch._meta.db_table)
    sql = (
        f"SELECT organization_id, id, policy_version, status, CAST(pass_rate AS {real}), "
        f"CAST(missing AS {text}), CAST(unknown AS {text}), CAST(estimated_amount AS {real}), "
        f"notified_version, not_interested FROM {table} WHERE policy_id = %s"
    )
    by_org = len(org_ids) <= 2000
    if by_org:
        sql += f" AND organization_id IN ({', '.join(['%s'] * len(org_ids))})"
    with transaction.atomic():
        # The rows to write by enterprise position: written in enterprise order, the index by
        # enterprise is written in one sweep, not at random places, and the table is laid out
        # as an enterprise reads it.
        changed: list[list[tuple[Any, ...]]] = [[] for _org_id in org_ids]
        gone: list[int] = []
        fresh: list[tuple[int, int, int]] = []  # (policy, organization, version) to tell
        marked: list[int] = []  # stored rows unchanged but not yet told
        new = True  # no stored row among the policies: the rows are all inserts
        for policy, tree in chunk:
            with connection.cursor() as cursor:
                cursor.execute(sql, [policy.pk, *org_ids] if by_org else [policy.pk])
                stored = {row[0]: row for row in cursor.fetchall()}
            new = new and not stored
            if tree is not None:
                leaves = len(tree.leaves)
                rates = {met: _rate(met, leaves) for met in range(leaves + 1)}
                floats = {met: float(rate) for met, rate in rates.items()}
                params = {met: _param(rate) for met, rate in rates.items()}
                amount = None if policy.amount is None else float(policy.amount)
                amount_param = _param(policy.amount)
                version, pk = policy.version, policy.pk
                bulk = matching.evaluate_columns(tree, columns)
                for i, status, met, missing_json, unknown_json in matching.kept_outcomes(
                    tree, bulk, columns, _json_text
                ):
                    org_id = org_ids[i]
                    before = stored.pop(org_id, None)
                    if before is None:
                        tell = status == MET
                    else:
                        tell = status == MET and not before[9] and (before[8] is None or before[8] < version)
                        if before[2:8] == (
                            version,
                            status,
                            floats[met],
                            missing_json,
                            unknown_json,
                            amount if status == MET else None,
                        ):
                            if tell:
                                marked.append(before[1])
                                fresh.append((pk, org_id, version))
                            continue
                    if tell:
                        fresh.append((pk, org_id, version))
                    changed[i].append(
                        (
                            org_id,
                            pk,
                            version,
                            status,
                            params[met],
                            missing_json,
                            unknown_json,
                            amount_param if status == MET else None,
                            version if tell else None,
                        )
                    )
            # Left: pairs no longer kept (a stored pair of an enterprise not matched here stays).
            gone += [row[1] for org_id, row in stored.items() if by_org or org_id in position]
        _delete_matches(gone)
        rows = [row for of_one in changed for row in of_one]
        _write_matches(rows, now, new=new)
        _mark_notified(marked)
        _tell_new_matches(fresh)
    return len(rows)


def _delete_matches(pks: list[int]) -> None:
    for start in range(0, len(pks), 5000):
        PolicyMatch.objects.filter(pk__in=pks[start : start + 5000]).delete()


def _mark_notified(pks: list[int]) -> None:
    """Stored matches told now although unchanged (none, unless a row was written otherwise)."""
    for start in range(0, len(pks), 5000):
        PolicyMatch.objects.filter(pk__in=pks[start : start + 5000]).update(
            notified_version=F("policy_version")
        )


# (organization, policy, *MATCH_FIELDS, notified_version): the rows _write_matches takes.
ROW = ("organization_id", "policy_id", *MATCH_FIELDS, "notified_version")
COPY_FROM = 1000  # rows: below this, one INSERT of arrays costs less than a staging table


def _write_matches(rows: list[tuple[Any, ...]], now: dt.datetime, *, new: bool = False) -> None:
    """Insert or update ``ROW`` rows (the lists as JSON text; ``notified_version`` None, or the
    version told now) in set-based statements that SQLite and PostgreSQL both check against the
    one-row-per-pair constraint. ``new``: none of the pairs was stored when read.

    PostgreSQL: many rows are COPied into a temporary table and merged with one
    ``INSERT … SELECT … ON CONFLICT DO UPDATE``; when every pair is new (a first recompute),
    COPied straight into the table, and merged only if a pair was stored meanwhile (a profile
    saved during the recompute). A few rows go as one ``INSERT … SELECT FROM unnest(arrays)``.
    SQLite: one ``executemany`` of the same upsert, in C, in the caller's transaction.

    ``bulk_create(update_conflicts=True)`` would build the SQL of every field of every row (about
    120 µs a row; bench/policy_matching.py), and a statement per row costs its round trip."""
    if not rows:
        return
    meta = PolicyMatch._meta
    table = meta.db_table
    quote = connection.ops.quote_name
    tail = {"not_interested": False, "payout": "", "computed_at": now, "created_at": now, "updated_at": now}
    inserted = ", ".join(quote(c) for c in [*ROW, *tail])
    updates = ", ".join(
        [
            *(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in [*MATCH_FIELDS, "computed_at", "updated_at"]),
            # Told once per version: a concurrent writer's mark is kept.
            f"notified_version = COALESCE(EXCLUDED.notified_version, {quote(table)}.notified_version)",
        ]
    )
    upsert = f"ON CONFLICT (policy_id, organization_id) DO UPDATE SET {updates}"
    if connection.vendor != "postgresql":
        constants = tuple(
            meta.get_field(name).get_db_prep_save(value, connection) for name, value in tail.items()
        )
        sql = f"INSERT INTO {quote(table)} ({inserted}) VALUES ({', '.join(['%s'] * (len(ROW) + len(tail)))}) {upsert}"
        with connection.cursor() as cursor:
            cursor.executemany(
                sql,
                (row + constants for row in rows),
            )
        return
    if len(rows) < COPY_FROM:
        types = ["bigint", "bigint", "integer", "text", "numeric", "jsonb", "jsonb", "numeric", "integer"]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(table)} ({inserted}) "
                f"SELECT *, %s, %s, %s, %s, %s FROM unnest({', '.join(f'%s::{t}[]' for t in types)}) {upsert}",
                [*tail.values(), *(list(column) for column in zip(*rows, strict=True))],
            )
        return
    constants = tuple(tail.values())
    # The foreign keys of these rows are checked at COMMIT with plans cached by this connection:
    # made when the park was small (a worker started before a bulk load), each would scan the
    # whole table of enterprises once per row.
    replan_foreign_key_checks()
    if new:
        try:
            with transaction.atomic():
                copy_rows(table, [*ROW, *tail], (row + constants for row in rows))
            return
        except IntegrityError:
            pass  # a pair stored since it was read: merged below
    staging = "ymt_match_rows"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} (organization_id bigint, policy_id bigint, policy_version integer,"
            " status varchar(8), pass_rate numeric(5, 1), missing jsonb, unknown jsonb,"
            " estimated_amount numeric(12, 2), notified_version integer)"
        )
        copy_rows(staging, ROW, rows)
        cursor.execute(
            f"INSERT INTO {quote(table)} ({inserted}) SELECT *, %s, %s, %s, %s, %s FROM {staging} {upsert}",
            list(constants),
        )
        cursor.execute(f"DROP TABLE {staging}")


def _tell_new_matches(fresh: list[tuple[int, int, int]]) -> None:
    """政策直达: each enterprise hears of a policy it now qualifies for once per policy version,
    in the console and by WeChat template to its followers. ``fresh``: the (policy, organization,
    version) matches just marked told (their ``notified_version`` written with the rows). Only
    the enterprises with someone to tell are looked at: their users and followers read once for
    the batch, the notifications written in bulk. Telling twice (two recomputes at once) is
    harmless: a notification and a WeChat message are unique per policy version."""
    from yimatong.wechat.actions import tell_enterprise_policy
    from yimatong.wechat.models import Follower

    if not fresh:
        return
    organizations = sorted({org_id for _policy_id, org_id, _version in fresh})
    users: dict[int, list[User]] = {}
    following: set[int] = set()
    enterprise_users = User.objects.filter(is_active=True, role=User.Role.ENTERPRISE)
    followers = Follower.objects.filter(subscribed=True)
    if len(organizations) > 2000:
        # Most of the park: its enterprise users and followers read whole, fewer than the matches.
        for user in enterprise_users.filter(organization_id__isnull=False):
            users.setdefault(user.organization_id, []).append(user)
        following.update(
            followers.filter(contact__organization_id__isnull=False).values_list(
                "contact__organization_id", flat=True
            )
        )
    else:
        for user in enterprise_users.filter(organization_id__in=organizations):
            users.setdefault(user.organization_id, []).append(user)
        following.update(
            followers.filter(contact__organization_id__in=organizations).values_list(
                "contact__organization_id", flat=True
            )
        )
    told = [row for row in fresh if row[1] in users or row[1] in following]
    if not told:
        return
    by_pk = Policy.objects.in_bulk({policy_id for policy_id, _org_id, _version in told})
    messages = []
    for policy_id, org_id, version in told:
        policy = by_pk[policy_id]
        if org_id in users:
            messages.append(
                (
                    users[org_id],
                    {
                        "key": f"policy-{policy_id}-v{version}-{org_id}",
                        "title": _("您符合政策：%(title)s") % {"title": policy.title},
                        "body": policy.amount_note or "",
                        "url": policy.get_absolute_url(),
                    },
                )
            )
        if org_id in following:
            tell_enterprise_policy(organization_id=org_id, policy=policy, version=version)
    notify_many(messages, kind=Notification.Kind.POLICY)


def match_policy(policy: Policy) -> int:
    return rematch([policy], residents())


def match_enterprise(org: Organization) -> int:
    org = residents().get(pk=org.pk)
    return rematch(Policy.objects.current(), [org])


def preview(tree: dict[str, Any], *, limit: int = 50) -> dict[str, Any]:
    """Who would match a tree being edited, without storing anything: every resident evaluated
    at once (matching.evaluate_columns), then the first ``limit`` of each group explained one
    by one, in the residents' order."""
    errors = matching.validate(tree)
    if errors:
        return {"errors": errors}
    compiled = matching.Compiled(tree, chain_paths())
    org_ids, facts = facts_of(residents())
    facts = [matching.prepare(one) for one in facts]
    bulk = matching.evaluate_columns(compiled, matching.Columns(facts))
    groups = {
        "met": matching.indices(bulk.met),
        "near": matching.indices(bulk.kept & bulk.unmet),
        "unknown": matching.indices(bulk.unknown),
    }
    shown = residents().in_bulk([org_ids[i] for found in groups.values() for i in found[:limit]])
    result: dict[str, Any] = {"errors": [], "counts": {name: len(found) for name, found in groups.items()}}
    for name, found in groups.items():
        result[name] = [(shown[org_ids[i]], compiled.outcome(facts[i])) for i in found[:limit]]
    return result


# Saving ----------------------------------------------------------------------------------------------


def save_policy(*, actor: User, data: dict[str, Any], policy: Policy | None = None) -> Policy:
    tree = data.get("conditions") or {}
    errors = matching.validate(tree)
    if errors:
        raise ActionError(_("适用条件有误。"), code="invalid_conditions", fields={"conditions": errors})
    with transaction.atomic():
        if policy is None:
            policy = Policy(created_by=actor, conditions=tree)
            for name in POLICY_FIELDS:
                if name in data:
                    setattr(policy, name, data[name])
            policy.save()
            audit.log_create(policy, actor=actor)
        else:
            before = audit.snapshot(policy)
            if tree != policy.conditions:
                policy.version += 1
                policy.conditions = tree
            for name in POLICY_FIELDS:
                if name in data:
                    setattr(policy, name, data[name])
            policy.save()
            audit.log_change(policy, before, actor=actor)
        pk = policy.pk
        transaction.on_commit(lambda: _enqueue_policy(pk))
    return policy


def _enqueue_policy(policy_id: int) -> None:
    from yimatong.services.tasks import match_policy_task

    match_policy_task.enqueue(policy_id)


def save_profile(*, actor: User, organization: Organization, data: dict[str, Any]) -> EnterpriseProfile:
    with transaction.atomic():
        profile, created = EnterpriseProfile.objects.get_or_create(organization=organization)
        before = audit.snapshot(profile)
        for name in PROFILE_FIELDS:
            if name in data:
                setattr(profile, name, data[name])
        profile.save()
        if created:
            audit.log_create(profile, actor=actor)
        else:
            audit.log_change(profile, before, actor=actor)
    match_enterprise(organization)
    return profile


def not_interested(*, actor: User, match: PolicyMatch) -> PolicyMatch:
    PolicyMatch.objects.filter(pk=match.pk).update(not_interested=True, updated_at=timezone.now())
    match.refresh_from_db()
    return match


# 免申即享: system comparison → push → the enterprise confirms → paid → published -------------------


def push_auto(*, actor: User, policy: Policy) -> int:
    if policy.mode != Policy.Mode.AUTO:
        raise ActionError(_("只有“免申即享”政策可以直接推送兑现。"), code="not_auto")
    matches = PolicyMatch.objects.filter(policy=policy, status=PolicyMatch.Status.MET, payout="")
    pushed = 0
    for match in matches:
        if PolicyMatch.objects.filter(pk=match.pk, payout="").update(payout=PolicyMatch.Payout.PUSHED):
            pushed += 1
            notify(
                User.objects.filter(
                    is_active=True, role=User.Role.ENTERPRISE, organization_id=match.organization_id
                ),
                kind=Notification.Kind.POLICY,
                key=f"policy-auto-{policy.pk}-{match.organization_id}",
                title=_("免申即享：请确认领取“%(title)s”") % {"title": policy.title},
                url=policy.get_absolute_url(),
            )
    return pushed


def confirm_auto(*, actor: User, match: PolicyMatch) -> PolicyMatch:
    if not PolicyMatch.objects.filter(pk=match.pk, payout=PolicyMatch.Payout.PUSHED).update(
        payout=PolicyMatch.Payout.CONFIRMED
    ):
        raise Conflict(_("该政策当前不在“待确认”状态。"))
    match.refresh_from_db()
    return match


def pay_auto(
    *, actor: User, match: PolicyMatch, amount: Decimal, paid_on: dt.date | None = None
) -> PolicyMatch:
    """Pay a confirmed match from the policy's budget: the budget row is debited with a
    conditional update, so concurrent payments can never overdraw it."""
    if amount <= 0:
        raise ActionError(_("兑付金额须大于 0。"), fields={"amount": [_("须大于 0。")]})
    with transaction.atomic():
        claimed = PolicyMatch.objects.filter(pk=match.pk, payout=PolicyMatch.Payout.CONFIRMED).update(
            payout=PolicyMatch.Payout.PAID, paid_amount=amount, paid_on=paid_on or timezone.localdate()
        )
        if not claimed:
            raise Conflict(_("该企业尚未确认，或已兑付。"))
        debited = (
            Policy.objects.filter(pk=match.policy_id)
            .filter(Q(budget__isnull=True) | Q(budget__gte=F("disbursed") + amount))
            .update(disbursed=F("disbursed") + amount)
        )
        if not debited:
            raise ActionError(
                _("资金预算不足：本次 %(amount)s 万元将超出预算。") % {"amount": amount},
                code="budget_exceeded",
                fields={"amount": [_("超出剩余预算。")]},
            )
    match.refresh_from_db()
    return match


def publish_auto(*, actor: User, policy: Policy) -> int:
    return PolicyMatch.objects.filter(policy=policy, payout=PolicyMatch.Payout.PAID).update(
        payout=PolicyMatch.Payout.PUBLISHED
    )
