"""Stored policy matches kept up to date for many enterprises at once (the column-wise path of
rematch): the same rows as pair by pair, only changed rows written, new matches told once,
and the ``match_policies`` command."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import F

from tests.factories import OrganizationFactory
from yimatong.directory.models import District, IndustryCode
from yimatong.notifications.models import Notification
from yimatong.services import policy_actions
from yimatong.services.models import EnterpriseProfile, Policy, PolicyMatch

TREES = [
    {
        "all": [
            {"fact": "chain_node", "op": "within", "value": "biologics"},
            {"fact": "revenue", "op": ">=", "value": 2000},
        ]
    },
    {
        "all": [
            {"fact": "certifications", "op": "has", "value": "high_tech"},
            {"fact": "rd_ratio", "op": ">=", "by": "revenue", "tiers": [[0, 5], [5000, 4], [20000, 3]]},
        ]
    },
    {
        "any": [
            {"fact": "patent_score", "op": ">=", "value": 20},
            {"fact": "patents_invention", "op": ">=", "value": 3},
        ]
    },
    {
        "all": [
            {"fact": "industry_code", "op": "prefix", "value": "27"},
            {"not": {"fact": "is_above_scale", "op": "is", "value": True}},
            {"fact": "employees", "op": "<=", "value": 300},
        ]
    },
    {
        "all": [
            {"fact": "district", "op": "in", "value": ["500113", "500112"]},
            {"fact": "years_registered", "op": "<", "value": 5},
            {"fact": "registered_capital", "op": ">", "value": 100.5},
        ]
    },
    {
        "any": [
            {"fact": "certifications", "op": "has", "value": "tech_sme"},
            {"fact": "employees", "op": "==", "value": 50},
        ]
    },
]


@pytest.fixture
def city(park):
    """Enough residents for the column-wise path, with every kind of fact, some unknown."""
    rng = random.Random(7)
    industries = list(IndustryCode.objects.filter(code__startswith="27")[:3]) + list(
        IndustryCode.objects.filter(code__startswith="358")[:2]
    )
    districts = list(District.objects.filter(code__in=["500113", "500112", "500108"]))

    def maybe(value):
        return None if rng.random() < 0.2 else value

    for n in range(policy_actions.COLUMNS_FROM + 20):
        org = OrganizationFactory(
            name=f"重庆城市规模生物{n}有限公司",
            chain_node=maybe(rng.choice([park.antibody, park.biologics, park.devices])),
            industry=maybe(rng.choice(industries)),
            district=maybe(rng.choice(districts)),
            registered_on=maybe(dt.date(2026, 1, 1) - dt.timedelta(days=rng.randint(0, 4000))),
            registered_capital=maybe(Decimal(rng.randint(0, 4000)) / 4),
            is_above_scale=rng.random() < 0.4,
            is_high_tech=rng.random() < 0.4,
        )
        if rng.random() < 0.9:
            EnterpriseProfile.objects.create(
                organization=org,
                revenue=maybe(Decimal(rng.choice([500, 2000, 4999, 5000, 12000, 20000, 30000]))),
                rd_ratio=maybe(Decimal(rng.randint(0, 80)) / 10),
                employees=maybe(rng.choice([10, 50, 300, 301, 800])),
                patents_invention=maybe(rng.randint(0, 5)),
                patents_utility=maybe(rng.randint(0, 5)),
                patents_design=maybe(rng.randint(0, 5)),
                is_tech_sme=maybe(rng.random() < 0.5),
            )
    return [
        Policy.objects.create(
            code=f"city-{n}",
            title=f"城市政策 {n}",
            issuer="生物城管委会",
            benefit="subsidy",
            amount=Decimal("20") if n % 2 else None,
            is_published=True,
            conditions=tree,
        )
        for n, tree in enumerate(TREES)
    ]


def stored() -> dict:
    return {
        (m.policy_id, m.organization_id): (
            m.policy_version,
            m.status,
            m.pass_rate,
            m.missing,
            m.unknown,
            m.estimated_amount,
        )
        for m in PolicyMatch.objects.all()
    }


def pair_by_pair(monkeypatch) -> dict:
    """What rematch stores matching one pair at a time, from an empty table (then removed)."""
    before = stored()
    PolicyMatch.objects.all().delete()
    with monkeypatch.context() as patched:
        patched.setattr(policy_actions, "COLUMNS_FROM", 10**9)
        policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    reference = stored()
    PolicyMatch.objects.all().delete()
    policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    assert stored() == before
    return reference


def test_the_facts_read_as_plain_values_are_the_facts_of_each_enterprise(park, city):
    ids, facts = policy_actions.facts_of(policy_actions.residents().order_by("pk"))
    assert ids == [org.pk for org in policy_actions.residents().order_by("pk")]
    assert facts == [policy_actions.facts_for(org) for org in policy_actions.residents().order_by("pk")]


def test_a_recompute_of_the_park_stores_the_same_matches_column_wise_as_pair_by_pair(park, city, monkeypatch):
    written = policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    columns = stored()
    assert written == len(columns) > 0
    assert {status for _v, status, *_rest in columns.values()} == {"met", "unmet", "unknown"}
    assert pair_by_pair(monkeypatch) == columns


def test_a_second_recompute_writes_nothing_and_a_changed_profile_rewrites_only_its_rows(
    park, city, monkeypatch
):
    policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    before = stored()
    assert policy_actions.rematch(Policy.objects.current(), policy_actions.residents()) == 0
    org = park.other_resident
    EnterpriseProfile.objects.create(
        organization=org, revenue=Decimal("3000"), rd_ratio=Decimal("6"), employees=50, is_tech_sme=True
    )
    written = policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    after = stored()
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert written > 0 and {org_id for _policy_id, org_id in changed} == {org.pk}
    assert pair_by_pair(monkeypatch) == after


def test_a_policy_tightened_by_the_service_officer_drops_the_enterprises_no_longer_matching(
    park, city, monkeypatch
):
    policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    policy = city[0]
    kept_before = PolicyMatch.objects.filter(policy=policy).count()
    policy.conditions = {"all": [*policy.conditions["all"], {"fact": "employees", "op": ">=", "value": 800}]}
    policy.version += 1
    policy.save()
    policy_actions.match_policy(policy)
    assert PolicyMatch.objects.filter(policy=policy).exclude(policy_version=2).count() == 0
    assert PolicyMatch.objects.filter(policy=policy).count() < kept_before
    assert pair_by_pair(monkeypatch) == stored()


def test_an_unpublished_policy_loses_its_stored_matches(park, city):
    policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    policy = city[2]
    assert PolicyMatch.objects.filter(policy=policy).exists()
    Policy.objects.filter(pk=policy.pk).update(is_published=False)
    policy.refresh_from_db()
    policy_actions.match_policy(policy)
    assert not PolicyMatch.objects.filter(policy=policy).exists()


def test_the_enterprise_user_hears_of_a_new_match_once_when_the_whole_park_is_matched(park, city):
    EnterpriseProfile.objects.create(organization=park.resident, revenue=Decimal("8000"))
    policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    match = PolicyMatch.objects.get(policy=city[0], organization=park.resident)
    assert (match.status, match.notified_version) == ("met", 1)
    notices = Notification.objects.filter(recipient=park.users["enterprise"], kind="policy")
    assert list(notices.values_list("title", flat=True)) == ["您符合政策：城市政策 0"]


def test_the_match_policies_command_recomputes_every_current_policy_or_the_ones_named(park, city, capsys):
    call_command("match_policies")
    assert stored() and "6 policies matched" in capsys.readouterr().out
    PolicyMatch.objects.filter(policy=city[1]).delete()
    call_command("match_policies", "city-1")
    out = capsys.readouterr().out
    assert "1 policies matched" in out and PolicyMatch.objects.filter(policy=city[1]).exists()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no-such-policy"):
        call_command("match_policies", "no-such-policy")


def test_an_enterprise_that_saves_its_profile_during_a_recompute_ends_up_matched_on_its_new_facts(
    park, city, monkeypatch
):
    policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    original = policy_actions._rematch_columns
    saved = []

    def profile_saved_meanwhile(*args, **kwargs):
        if not saved:  # after the facts were read, before the first chunk is written
            saved.append(
                EnterpriseProfile.objects.update_or_create(
                    organization=park.resident,
                    defaults={"revenue": Decimal("9000"), "rd_ratio": Decimal("7"), "employees": 50},
                )
            )
        return original(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(policy_actions, "_rematch_columns", profile_saved_meanwhile)
        policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    assert saved
    assert PolicyMatch.objects.get(policy=city[0], organization=park.resident).status == "met"
    assert pair_by_pair(monkeypatch) == stored()


def test_the_editor_preview_shows_the_service_officer_the_groups_matching_each_enterprise_would(park, city):
    from yimatong.services import matching

    tree = TREES[1]
    result = policy_actions.preview(tree, limit=5)
    compiled = matching.Compiled(tree, policy_actions.chain_paths())
    outcomes = [
        (org.pk, compiled.outcome(matching.prepare(policy_actions.facts_for(org))))
        for org in policy_actions.residents()
    ]
    expected = {
        "met": [(pk, x) for pk, x in outcomes if x.status == "met"],
        "near": [(pk, x) for pk, x in outcomes if x.near_miss],
        "unknown": [(pk, x) for pk, x in outcomes if x.status == "unknown"],
    }
    assert result["counts"] == {name: len(found) for name, found in expected.items()}
    assert min(result["counts"].values()) > 5
    for name, found in expected.items():
        assert [(org.pk, outcome) for org, outcome in result[name]] == found[:5]


def jiggled(tree: dict, rng: random.Random) -> dict:
    """``tree`` with each plain numeric threshold halved, kept or doubled at random."""
    if "all" in tree or "any" in tree:
        key = "all" if "all" in tree else "any"
        return {key: [jiggled(child, rng) for child in tree[key]]}
    if "not" in tree:
        return {"not": jiggled(tree["not"], rng)}
    if isinstance(tree.get("value"), (int, float)) and not isinstance(tree["value"], bool):
        return {**tree, "value": type(tree["value"])(tree["value"] * rng.choice([0.5, 1, 2]))}
    return dict(tree)


@pytest.mark.parametrize("copy_from", [policy_actions.COPY_FROM, 1], ids=["as-configured", "copy-always"])
def test_incremental_edits_leave_the_same_rows_as_a_cold_recompute_of_the_whole_park(
    park, city, monkeypatch, copy_from
):
    """Random rounds of profile changes (matched pair by pair) and policy edits (matched column
    by column), each round's stored rows compared with a recompute into an empty table.
    ``copy-always``: on PostgreSQL every write goes through COPY (straight, or the staging table)."""
    monkeypatch.setattr(policy_actions, "COPY_FROM", copy_from)
    rng = random.Random(20261205)
    service = park.users["service"]
    policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    residents = list(policy_actions.residents().order_by("pk"))

    def maybe(value):
        return None if rng.random() < 0.2 else value

    for _round in range(3):
        for org in rng.sample(residents, 5):
            data = {
                "revenue": maybe(Decimal(rng.choice([500, 2000, 4999, 5000, 12000, 20000, 30000]))),
                "rd_ratio": maybe(Decimal(rng.randint(0, 80)) / 10),
                "employees": maybe(rng.choice([10, 50, 300, 301, 800])),
                "is_tech_sme": maybe(rng.random() < 0.5),
            }
            policy_actions.save_profile(actor=service, organization=org, data=data)
        for policy in rng.sample(list(Policy.objects.filter(code__startswith="city-")), 2):
            policy.conditions = jiggled(rng.choice(TREES), rng)
            policy.version += 1
            policy.is_published = rng.random() < 0.85
            policy.save()
            policy_actions.match_policy(policy)
        incremental = stored()
        told = set(
            PolicyMatch.objects.filter(status="met", notified_version=F("policy_version")).values_list(
                "policy", "organization"
            )
        )
        PolicyMatch.objects.all().delete()
        policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
        assert stored() == incremental
        met = {key for key, (_v, status, *_rest) in incremental.items() if status == "met"}
        assert told == met  # every met pair told once for its version, either way
        assert not PolicyMatch.objects.filter(status="met").exclude(notified_version=F("policy_version"))


def test_rows_taken_for_new_but_stored_meanwhile_are_merged_not_refused(park, city, monkeypatch):
    """A recompute that read no stored rows COPies straight into the table (PostgreSQL); if a
    profile saved meanwhile stored some of the pairs, the COPY is undone and the rows merged."""
    policy_actions.rematch(Policy.objects.current(), policy_actions.residents())
    before = stored()
    PolicyMatch.objects.update(pass_rate=0)
    write = policy_actions._write_matches
    monkeypatch.setattr(policy_actions, "COPY_FROM", 1)
    monkeypatch.setattr(
        policy_actions, "_write_matches", lambda rows, now, new=False: write(rows, now, new=True)
    )
    rated = sum(1 for _version, _status, rate, *_rest in before.values() if rate != 0)
    assert policy_actions.rematch(Policy.objects.current(), policy_actions.residents()) == rated > 0
    assert stored() == before
