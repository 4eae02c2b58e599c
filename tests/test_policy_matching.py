"""The tri-state policy matcher: against a straightforward reference on random trees and
profiles (hypothesis), the messages it gives, tree validation, and the stored matches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yimatong.services.matching import MET, UNKNOWN, UNMET, evaluate, validate

NUMERIC = ["revenue", "rd_ratio", "employees", "patents_invention", "years_registered"]
OPS = [">=", ">", "<=", "<", "=="]


def leaves():
    numeric = st.builds(
        lambda fact, op, value: {"fact": fact, "op": op, "value": value},
        st.sampled_from(NUMERIC),
        st.sampled_from(OPS),
        st.integers(0, 20),
    )
    tiered = st.builds(
        lambda tiers: {"fact": "rd_ratio", "op": ">=", "by": "revenue", "tiers": tiers},
        st.lists(
            st.tuples(st.integers(0, 20), st.integers(0, 20)).map(list),
            min_size=1,
            max_size=3,
            unique_by=lambda t: t[0],
        ),
    )
    cert = st.builds(
        lambda c: {"fact": "certifications", "op": "has", "value": c},
        st.sampled_from(["high_tech", "tech_sme"]),
    )
    return st.one_of(numeric, tiered, cert)


trees = st.recursive(
    leaves(),
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, children),
    ),
    max_leaves=8,
)

profiles = st.fixed_dictionaries(
    {
        **{fact: st.one_of(st.none(), st.integers(0, 20)) for fact in NUMERIC},
        "tech_sme": st.one_of(st.none(), st.booleans()),
        "high_tech": st.booleans(),
    }
)


def as_facts(profile: dict) -> dict:
    facts = {k: profile[k] for k in NUMERIC}
    facts["certifications"] = {c for c in ("high_tech", "tech_sme") if profile.get(c)}
    facts["certifications_unknown"] = {"tech_sme"} if profile["tech_sme"] is None else set()
    return facts


def reference(tree: dict, profile: dict) -> float:
    """Kleene logic as numbers: unmet 0, unknown ½, met 1; all = min, any = max, not = 1 − x."""
    if "all" in tree:
        return min(reference(child, profile) for child in tree["all"])
    if "any" in tree:
        return max(reference(child, profile) for child in tree["any"])
    if "not" in tree:
        return 1 - reference(tree["not"], profile)
    if tree["fact"] == "certifications":
        known = profile.get(tree["value"])
        return 0.5 if known is None else float(bool(known))
    value = profile[tree["fact"]]
    if "tiers" in tree:
        band = profile["revenue"]
        if band is None or value is None:
            return 0.5
        eligible = [threshold for lower, threshold in sorted(tree["tiers"]) if band >= lower]
        threshold = eligible[-1] if eligible else sorted(tree["tiers"])[0][1]
        return float(value >= threshold)
    if value is None:
        return 0.5
    target = tree["value"]
    return float(
        {
            ">=": value >= target,
            ">": value > target,
            "<=": value <= target,
            "<": value < target,
            "==": value == target,
        }[tree["op"]]
    )


STATE = {0.0: UNMET, 0.5: UNKNOWN, 1.0: MET}


@settings(max_examples=400, deadline=None)
@given(trees, profiles)
def test_the_matcher_agrees_with_the_reference_on_random_trees_and_profiles(tree, profile):
    assert validate(tree) == []
    assert evaluate(tree, as_facts(profile)).status == STATE[reference(tree, profile)]


@settings(max_examples=200, deadline=None)
@given(trees, profiles, st.data())
def test_learning_a_fact_never_turns_a_decided_answer_around(tree, profile, data):
    before = evaluate(tree, as_facts(profile)).status
    unknown = [k for k in NUMERIC if profile[k] is None]
    if not unknown or before == UNKNOWN:
        return
    fact = data.draw(st.sampled_from(unknown))
    filled = {**profile, fact: data.draw(st.integers(0, 20))}
    assert evaluate(tree, as_facts(filled)).status == before


# The whole outcome (counts and every text), against the tree walked node by node ----------------

PATHS = {"antibody": {"antibody", "biologics", "bio"}, "vaccine": {"vaccine", "bio"}, "devices": {"devices"}}
UNITS = {
    "revenue": "万元",
    "rd_ratio": "%",
    "employees": "人",
    "patents_invention": "件",
    "years_registered": "年",
}
LABELS = {
    "revenue": "上年营业收入",
    "rd_ratio": "研发投入占比",
    "employees": "从业人数",
    "patents_invention": "发明专利",
    "years_registered": "成立年限",
    "industry_code": "国民经济行业代码",
    "chain_node": "产业链环节",
    "is_above_scale": "规上企业",
    "certifications": "资质认定",
}
CERTS = {"high_tech": "高新技术企业", "tech_sme": "科技型中小企业"}


def every_kind_of_leaf():
    text = st.builds(
        lambda op, value: {"fact": "industry_code", "op": op, "value": value},
        st.sampled_from(["prefix", "=="]),
        st.sampled_from(["27", "276", "2761", "35"]),
    )
    listed = st.builds(
        lambda values: {"fact": "industry_code", "op": "in", "value": values},
        st.lists(st.sampled_from(["2761", "2770", "3581"]), min_size=1, max_size=2),
    )
    chain = st.builds(
        lambda code: {"fact": "chain_node", "op": "within", "value": code},
        st.sampled_from(["bio", "biologics", "antibody", "devices", "elsewhere"]),
    )
    scale = st.builds(lambda v: {"fact": "is_above_scale", "op": "is", "value": v}, st.booleans())
    return st.one_of(leaves(), text, listed, chain, scale)


full_trees = st.recursive(
    every_kind_of_leaf(),
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, children),
    ),
    max_leaves=8,
)
full_profiles = st.fixed_dictionaries(
    {
        **{
            fact: st.one_of(
                st.none(),
                st.integers(0, 20),
                st.decimals("0", "20", places=1),
                st.floats(0, 20).map(lambda x: round(x, 2)),
            )
            for fact in NUMERIC
        },
        "tech_sme": st.one_of(st.none(), st.booleans()),
        "high_tech": st.booleans(),
        "industry_code": st.one_of(st.none(), st.sampled_from(["2761", "2770", "3581"])),
        "chain_node": st.one_of(
            st.none(), st.sampled_from(["antibody", "vaccine", "devices", "unknown-node"])
        ),
        "is_above_scale": st.one_of(st.none(), st.booleans()),
    }
)


def plain(value) -> str:
    number = Decimal(str(value))
    return f"{number.normalize():f}" if number == number.to_integral() else f"{number:f}".rstrip("0")


def walk_reference(tree: dict, facts: dict) -> tuple[str, int, int, list[str], list[str]]:
    """The tree walked node by node with the texts written out: (status, met, leaves, missing,
    unknown), as the matcher must report them."""
    met, leaves, missing, unknown = [0], [0], [], []
    flip = {MET: UNMET, UNMET: MET, UNKNOWN: UNKNOWN}

    def leaf(node):
        fact, op, label = node["fact"], node["op"], LABELS[node["fact"]]
        value, bar = facts.get(fact), node.get("value")
        if "tiers" in node:
            band = facts.get(node["by"])
            if band is None:
                return UNKNOWN, f"未知：{label}（分档依据“上年营业收入”未填写）"
            tiers = sorted(node["tiers"])
            reached = [t for lower, t in tiers if Decimal(str(band)) >= lower]
            bar = reached[-1] if reached else tiers[0][1]
        if value is None or (fact == "certifications" and bar in facts["certifications_unknown"]):
            return UNKNOWN, f"未知：{label}（请补充企业信息）"
        if fact in UNITS:
            a, b = Decimal(str(value)), Decimal(str(bar))
            ok = {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b, "==": a == b}[op]
            wanted = f"{label} {op} {plain(bar)}{UNITS[fact]}"
            return (MET, wanted) if ok else (UNMET, f"差：{wanted}，当前 {plain(value)}{UNITS[fact]}")
        if fact == "industry_code":
            ok = {"prefix": value.startswith(str(bar)), "==": value == bar, "in": value in bar}[op]
            wanted = f"{label} {op} {bar}"
            return (MET, wanted) if ok else (UNMET, f"差：{wanted}，当前 {value}")
        if fact == "chain_node":
            ok = bar in PATHS.get(value, {value})
            wanted = f"{label}属于 {bar}"
            return (MET, wanted) if ok else (UNMET, f"差：{wanted}，当前 {value}")
        if fact == "certifications":
            wanted = f"具有{CERTS[bar]}认定"
            return (MET, wanted) if bar in value else (UNMET, f"差：{wanted}")
        wanted = label if bar else f"{label}（否）"
        return (MET, wanted) if bool(value) == bar else (UNMET, f"差：{wanted}")

    def walk(node, negated):
        if "all" in node or "any" in node:
            results = [walk(child, negated) for child in node.get("all") or node.get("any")]
            if "all" in node:
                return UNMET if UNMET in results else (UNKNOWN if UNKNOWN in results else MET)
            return MET if MET in results else (UNKNOWN if UNKNOWN in results else UNMET)
        if "not" in node:
            return flip[walk(node["not"], not negated)]
        result, text = leaf(node)
        effective = flip[result] if negated else result
        leaves[0] += 1
        if effective == MET:
            met[0] += 1
        elif effective == UNMET:
            missing.append(f"（不应满足）{text}" if negated else text)
        else:
            unknown.append(text)
        return result

    status = walk(tree, False)
    return status, met[0], leaves[0], missing, unknown


@settings(max_examples=500, deadline=None)
@given(full_trees, full_profiles)
def test_the_compiled_matcher_reports_the_same_counts_and_texts_as_a_walk_of_the_tree(tree, profile):
    assert validate(tree) == []
    facts = {
        **as_facts(profile),
        **{k: profile[k] for k in ("industry_code", "chain_node", "is_above_scale")},
    }
    outcome = evaluate(tree, facts, PATHS)
    assert (outcome.status, outcome.met, outcome.leaves, outcome.missing, outcome.unknown) == walk_reference(
        tree, facts
    )


def test_a_near_miss_says_exactly_what_is_missing():
    tree = {
        "all": [
            {"fact": "certifications", "op": "has", "value": "high_tech"},
            {"fact": "rd_ratio", "op": ">=", "by": "revenue", "tiers": [[0, 5], [5000, 4], [20000, 3]]},
        ]
    }
    facts = {"certifications": {"high_tech"}, "rd_ratio": Decimal("3.2"), "revenue": Decimal("3000")}
    outcome = evaluate(tree, facts)
    assert outcome.status == UNMET and outcome.near_miss
    assert outcome.missing == ["差：研发投入占比 >= 5%，当前 3.2%"]
    assert outcome.pass_rate == 50.0
    # With 1 亿 of revenue the bar is 3%: met.
    assert evaluate(tree, {**facts, "revenue": Decimal("10000")}).status == UNMET
    assert evaluate(tree, {**facts, "revenue": Decimal("20000")}).status == MET


def test_unknown_facts_are_named_so_the_enterprise_can_fill_them_in():
    outcome = evaluate({"all": [{"fact": "employees", "op": ">=", "value": 50}]}, {"employees": None})
    assert outcome.status == UNKNOWN and outcome.unknown == ["未知：从业人数（请补充企业信息）"]


@pytest.mark.parametrize(
    "tree, fragment",
    [
        ({"all": []}, "至少一个条件"),
        ({"fact": "salary", "op": ">=", "value": 1}, "没有“salary”"),
        ({"fact": "revenue", "op": "prefix", "value": 1}, "不能用“prefix”"),
        ({"fact": "revenue", "op": ">=", "value": "__import__('os')"}, "取值无效"),
        ({"fact": "certifications", "op": "has", "value": "nobel"}, "取值无效"),
        ({"fact": "certifications", "op": "has", "value": ["high_tech"]}, "取值无效"),
        ({"fact": "industry_code", "op": "in", "value": ["2761", 35]}, "取值无效"),
        ({"fact": "industry_code", "op": "prefix", "value": ["27"]}, "取值无效"),
        ({"fact": "rd_ratio", "op": ">=", "by": "revenue", "tiers": [[0]]}, "分档"),
        ({"fact": "rd_ratio", "op": ">=", "by": "revenue", "tiers": [[0, 5], [0, 4]]}, "下限不能重复"),
        ({"not": {"fact": "revenue", "op": ">=", "value": 1}, "fact": "revenue"}, "“非”"),
        ("revenue > 5000", "应为一个条件"),
    ],
)
def test_a_bad_tree_is_refused_naming_the_condition_and_the_rule(tree, fragment):
    errors = validate(tree)
    assert errors and any(fragment in e for e in errors), errors


def test_chain_conditions_include_the_branches_below_a_node():
    paths = {"adc": {"adc", "biologics"}, "devices": {"devices"}}
    leaf = {"fact": "chain_node", "op": "within", "value": "biologics"}
    assert evaluate(leaf, {"chain_node": "adc"}, paths).status == MET
    assert evaluate(leaf, {"chain_node": "devices"}, paths).status == UNMET


# Stored matches ------------------------------------------------------------------------------


@pytest.fixture
def library(park, django_capture_on_commit_callbacks):
    from yimatong.services import policy_actions

    def save(**fields):
        data = {
            "code": fields.pop("code", "rd-reward"),
            "title": fields.pop("title", "研发投入奖励"),
            "issuer": "生物城管委会",
            "benefit": "subsidy",
            "amount": Decimal("50"),
            "mode": fields.pop("mode", "apply"),
            "is_published": True,
            "conditions": fields.pop("conditions"),
            **fields,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return policy_actions.save_policy(
                actor=park.users["admin"], data=data, policy=fields.get("policy")
            )

    return save


def test_saving_a_policy_matches_it_and_tells_qualifying_enterprises_once_per_version(park, library):
    from yimatong.notifications.models import Notification
    from yimatong.services import policy_actions
    from yimatong.services.models import PolicyMatch

    policy_actions.save_profile(
        actor=park.users["enterprise"],
        organization=park.resident,
        data={"rd_ratio": Decimal("6"), "revenue": Decimal("8000")},
    )
    policy = library(conditions={"all": [{"fact": "rd_ratio", "op": ">=", "value": 5}]})
    match = PolicyMatch.objects.get(policy=policy, organization=park.resident)
    assert match.status == "met" and match.notified_version == 1
    assert Notification.objects.filter(recipient=park.users["enterprise"], kind="policy").count() == 1
    # The same version again: no second notice; a new version: one more.
    policy_actions.match_policy(policy)
    assert Notification.objects.filter(recipient=park.users["enterprise"], kind="policy").count() == 1
    library(conditions={"all": [{"fact": "rd_ratio", "op": ">=", "value": 4}]}, policy=policy)
    assert Notification.objects.filter(recipient=park.users["enterprise"], kind="policy").count() == 2


def test_a_profile_change_updates_that_enterprises_matches(park, library):
    from yimatong.services import policy_actions
    from yimatong.services.models import PolicyMatch

    policy = library(
        conditions={
            "all": [
                {"fact": "employees", "op": ">=", "value": 100},
                {"fact": "rd_ratio", "op": ">=", "value": 5},
            ]
        }
    )
    assert PolicyMatch.objects.get(policy=policy, organization=park.resident).status == "unknown"
    policy_actions.save_profile(
        actor=park.users["enterprise"],
        organization=park.resident,
        data={"employees": 80, "rd_ratio": Decimal("6")},
    )
    match = PolicyMatch.objects.get(policy=policy, organization=park.resident)
    assert match.status == "unmet" and match.missing == ["差：从业人数 >= 100人，当前 80人"]
    policy_actions.save_profile(
        actor=park.users["enterprise"], organization=park.resident, data={"employees": 10}
    )
    assert not PolicyMatch.objects.filter(policy=policy, organization=park.resident, status="met").exists()


def test_a_policy_with_a_bad_tree_is_refused_and_nothing_is_stored(park):
    from yimatong.lib.errors import ActionError
    from yimatong.services import policy_actions
    from yimatong.services.models import Policy

    with pytest.raises(ActionError) as refused:
        policy_actions.save_policy(
            actor=park.users["admin"],
            data={"code": "x", "title": "x", "issuer": "x", "benefit": "subsidy", "conditions": {"all": []}},
        )
    assert "conditions" in refused.value.fields
    assert not Policy.objects.exists()


def test_the_auto_benefit_budget_is_never_overdrawn(park, library):
    from yimatong.lib.errors import ActionError
    from yimatong.services import policy_actions
    from yimatong.services.models import PolicyMatch

    policy_actions.save_profile(
        actor=park.users["enterprise"], organization=park.resident, data={"rd_ratio": Decimal("6")}
    )
    policy = library(
        code="auto",
        mode="auto",
        budget=Decimal("30"),
        conditions={"fact": "rd_ratio", "op": ">=", "value": 5},
    )
    assert policy_actions.push_auto(actor=park.users["admin"], policy=policy) == 1
    match = PolicyMatch.objects.get(policy=policy, organization=park.resident)
    policy_actions.confirm_auto(actor=park.users["enterprise"], match=match)
    with pytest.raises(ActionError) as refused:
        policy_actions.pay_auto(actor=park.users["admin"], match=match, amount=Decimal("31"))
    assert refused.value.code == "budget_exceeded"
    match.refresh_from_db()
    assert match.payout == "confirmed"
    policy_actions.pay_auto(
        actor=park.users["admin"], match=match, amount=Decimal("30"), paid_on=dt.date(2026, 11, 1)
    )
    policy.refresh_from_db()
    assert policy.disbursed == Decimal("30")


@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_cannot_overdraw_the_budget(park):
    from tests.test_concurrency import run_together
    from yimatong.services import policy_actions
    from yimatong.services.models import Policy, PolicyMatch

    policy = Policy.objects.create(
        code="auto-2",
        title="免申即享补贴",
        issuer="管委会",
        benefit="subsidy",
        mode="auto",
        budget=Decimal("50"),
        is_published=True,
        conditions={"fact": "rd_ratio", "op": ">=", "value": 5},
    )
    matches = [
        PolicyMatch.objects.create(
            policy=policy, organization=org, policy_version=1, status="met", pass_rate=100, payout="confirmed"
        )
        for org in (park.resident, park.other_resident)
    ]
    outcomes = run_together(
        *[
            lambda m=m: policy_actions.pay_auto(actor=park.users["admin"], match=m, amount=Decimal("30"))
            for m in matches
        ]
    )
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and getattr(refused[0], "code", "") == "budget_exceeded", outcomes
    policy.refresh_from_db()
    assert policy.disbursed == Decimal("30")
    assert PolicyMatch.objects.filter(policy=policy, payout="paid").count() == 1


def test_the_policy_page_counts_each_group_and_lists_its_enterprises(park, library):
    from tests.conftest import client_for
    from tests.factories import OrganizationFactory

    for n in range(3):
        OrganizationFactory(name=f"重庆测试生物{n}有限公司", org_type="resident")
    policy = library(conditions={"fact": "employees", "op": ">=", "value": 10})
    centre = park.users["service"].department
    centre.is_dispatch_center = True
    centre.save()
    page = (
        client_for(park.users["service"]).get(policy.get_absolute_url() + "?status=unknown").content.decode()
    )
    residents = 5  # the park's two residents and the three above, none with a profile
    assert f'待补充信息 <span class="count">{residents}</span>' in page
    assert page.count("未知：从业人数") == residents


def test_a_new_match_also_reaches_the_enterprises_wechat_followers_once_per_version(park, library):
    from tests.wechat_support import make_accounts
    from yimatong.services import policy_actions
    from yimatong.wechat.models import Follower, OutboundMessage

    safe, _plain = make_accounts()
    safe.templates = {**safe.templates, "policy_match": "TPL-POLICY"}
    safe.save()
    Follower.objects.create(account=safe, openid="o-ent", subscribed=True, contact=park.resident_contact)
    policy_actions.save_profile(
        actor=park.users["enterprise"], organization=park.resident, data={"rd_ratio": Decimal("6")}
    )
    policy = library(conditions={"fact": "rd_ratio", "op": ">=", "value": 5})
    policy_actions.match_policy(policy)
    sent = OutboundMessage.objects.filter(purpose="policy_match")
    assert sent.count() == 1 and sent.get().client_msg_id == f"policy{policy.pk}-v1"
