"""Policies: saving them (the condition tree validated, a new version when it changes),
matching them against enterprises incrementally, telling enterprises of new matches once per
policy version, and the 免申即享 flow with a budget that cannot be overdrawn."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import User
from yimatong.directory.models import ChainNode, Organization
from yimatong.lib.errors import ActionError, Conflict
from yimatong.notifications.actions import notify
from yimatong.notifications.models import Notification
from yimatong.services import matching
from yimatong.services.models import EnterpriseProfile, Policy, PolicyMatch

STORED = {matching.MET, matching.UNKNOWN}
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
    today = today or timezone.localdate()
    profile: EnterpriseProfile | None
    try:
        profile = org.profile
    except EnterpriseProfile.DoesNotExist:
        profile = None
    facts: dict[str, Any] = {
        "chain_node": org.chain_node.code if org.chain_node_id else None,
        "industry_code": org.industry.code if org.industry_id else None,
        "district": org.district.code if org.district_id else None,
        "years_registered": (today - org.registered_on).days // 365 if org.registered_on else None,
        "registered_capital": org.registered_capital,
        "is_above_scale": org.is_above_scale,
    }
    for name in (
        "revenue",
        "rd_ratio",
        "employees",
        "patents_invention",
        "patents_utility",
        "patents_design",
    ):
        facts[name] = getattr(profile, name) if profile else None
    patents = [facts["patents_invention"], facts["patents_utility"], facts["patents_design"]]
    facts["patent_score"] = None if None in patents else 5 * patents[0] + 2 * patents[1] + patents[2]
    certifications = {
        c for c, held in (("high_tech", org.is_high_tech), ("specialized", org.is_specialized)) if held
    }
    tech_sme = profile.is_tech_sme if profile else None
    if tech_sme:
        certifications.add("tech_sme")
    facts["certifications"] = certifications
    facts["certifications_unknown"] = {"tech_sme"} if tech_sme is None else set()
    return facts


# Matching ------------------------------------------------------------------------------------------


def rematch(
    policies: Iterable[Policy], organizations: Iterable[Organization], *, now: dt.datetime | None = None
) -> int:
    """Evaluate every pair and bring the stored matches up to date: met, unknown and one-short
    pairs are upserted; pairs that no longer match are removed. Returns the rows written."""
    now = now or timezone.now()
    policies = [p for p in policies]
    organizations = [o for o in organizations]
    if not policies or not organizations:
        return 0
    paths = chain_paths()
    rows: list[PolicyMatch] = []
    keep: set[tuple[int, int]] = set()
    for org in organizations:
        facts = facts_for(org)
        for policy in policies:
            if not policy.is_published or not policy.conditions:
                continue
            outcome = matching.evaluate(policy.conditions, facts, paths)
            if outcome.status in STORED or outcome.near_miss:
                keep.add((policy.pk, org.pk))
                rows.append(
                    PolicyMatch(
                        policy=policy,
                        organization=org,
                        policy_version=policy.version,
                        status=outcome.status,
                        pass_rate=Decimal(str(outcome.pass_rate)),
                        # A met policy needs nothing more (the branches not taken don't matter).
                        missing=[] if outcome.status == matching.MET else outcome.missing,
                        unknown=[] if outcome.status == matching.MET else outcome.unknown,
                        estimated_amount=policy.amount if outcome.status == matching.MET else None,
                        computed_at=now,
                    )
                )
    with transaction.atomic():
        stale = PolicyMatch.objects.filter(
            policy__in=[p.pk for p in policies], organization__in=[o.pk for o in organizations]
        ).values_list("pk", "policy_id", "organization_id")
        gone = [pk for pk, policy_id, org_id in stale if (policy_id, org_id) not in keep]
        for start in range(0, len(gone), 5000):
            PolicyMatch.objects.filter(pk__in=gone[start : start + 5000]).delete()
        PolicyMatch.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["policy", "organization"],
            update_fields=[
                "policy_version",
                "status",
                "pass_rate",
                "missing",
                "unknown",
                "estimated_amount",
                "computed_at",
            ],
        )
    _tell_new_matches(policies, organizations)
    return len(rows)


def _tell_new_matches(policies: list[Policy], organizations: list[Organization]) -> None:
    """政策直达: each enterprise hears of a policy it now qualifies for once per policy version.
    The recipients are read once for the whole batch, and the matches marked in bulk."""
    from yimatong.wechat.actions import tell_enterprise_policy
    from yimatong.wechat.models import Follower

    fresh = list(
        PolicyMatch.objects.filter(
            policy__in=[p.pk for p in policies],
            organization__in=[o.pk for o in organizations],
            status=PolicyMatch.Status.MET,
        )
        .filter(Q(notified_version__isnull=True) | Q(notified_version__lt=F("policy_version")))
        .filter(not_interested=False)
        .select_related("policy")
    )
    if not fresh:
        return
    org_ids = {m.organization_id for m in fresh}
    users: dict[int, list[User]] = {}
    for user in User.objects.filter(is_active=True, role=User.Role.ENTERPRISE, organization_id__in=org_ids):
        users.setdefault(user.organization_id, []).append(user)
    following = set(
        Follower.objects.filter(subscribed=True, contact__organization_id__in=org_ids).values_list(
            "contact__organization_id", flat=True
        )
    )
    for match in fresh:
        if match.organization_id in users:
            notify(
                users[match.organization_id],
                kind=Notification.Kind.POLICY,
                key=f"policy-{match.policy_id}-v{match.policy_version}-{match.organization_id}",
                title=_("您符合政策：%(title)s") % {"title": match.policy.title},
                body=match.policy.amount_note or "",
                url=match.policy.get_absolute_url(),
            )
        if match.organization_id in following:
            tell_enterprise_policy(
                organization_id=match.organization_id, policy=match.policy, version=match.policy_version
            )
    ids = [m.pk for m in fresh]
    for start in range(0, len(ids), 5000):
        PolicyMatch.objects.filter(pk__in=ids[start : start + 5000]).update(
            notified_version=F("policy_version")
        )


def match_policy(policy: Policy) -> int:
    return rematch([policy], residents())


def match_enterprise(org: Organization) -> int:
    org = residents().get(pk=org.pk)
    return rematch(Policy.objects.current(), [org])


def preview(tree: dict[str, Any], *, limit: int = 50) -> dict[str, Any]:
    """Who would match a tree being edited, without storing anything."""
    errors = matching.validate(tree)
    if errors:
        return {"errors": errors}
    paths = chain_paths()
    met, near, unknown = [], [], []
    for org in residents():
        outcome = matching.evaluate(tree, facts_for(org), paths)
        if outcome.status == matching.MET:
            met.append((org, outcome))
        elif outcome.near_miss:
            near.append((org, outcome))
        elif outcome.status == matching.UNKNOWN:
            unknown.append((org, outcome))
    return {
        "errors": [],
        "counts": {"met": len(met), "near": len(near), "unknown": len(unknown)},
        "met": met[:limit],
        "near": near[:limit],
        "unknown": unknown[:limit],
    }


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
