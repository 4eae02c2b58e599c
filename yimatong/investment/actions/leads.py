"""Leads: creation with duplicate detection, the shared pool, assignment, merge, qualification."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import Team, User
from yimatong.directory import actions as directory_actions
from yimatong.directory.models import ChainNode, Contact, Organization
from yimatong.investment import events
from yimatong.investment.actions.codes import next_code
from yimatong.investment.models import (
    Activity,
    Channel,
    InvestmentSettings,
    Lead,
    LeadEvent,
    LeadSource,
    Project,
    SiteVisit,
)
from yimatong.lib.errors import ActionError, Conflict
from yimatong.lib.text import normalize_org_name
from yimatong.notifications.actions import notify
from yimatong.notifications.models import Notification

LEAD_FIELDS = (
    "company_name",
    "uscc",
    "contact_name",
    "contact_phone",
    "interest",
    "chain_node",
    "planned_investment",
)


@dataclass
class Duplicates:
    """What a new lead may duplicate (撞单): organizations and open leads, by USCC, name or phone."""

    organizations: list[Organization] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.organizations or self.leads)

    def _add(self, obj: Organization | Lead, reason: str) -> None:
        target = self.organizations if isinstance(obj, Organization) else self.leads
        if obj not in target:
            target.append(obj)
        self.reasons.setdefault(f"{type(obj).__name__}:{obj.pk}", []).append(reason)

    def reasons_for(self, obj: Organization | Lead) -> list[str]:
        return self.reasons.get(f"{type(obj).__name__}:{obj.pk}", [])


def find_duplicates(
    *, company_name: str, uscc: str = "", phone: str = "", exclude: Lead | None = None
) -> Duplicates:
    found = Duplicates()
    key = normalize_org_name(company_name)
    open_leads = Lead.objects.filter(status__in=[Lead.Status.POOL, Lead.Status.ASSIGNED])
    if exclude is not None:
        open_leads = open_leads.exclude(pk=exclude.pk)
    if uscc:
        for org in Organization.objects.filter(uscc=uscc):
            found._add(org, _("统一社会信用代码相同"))
        for lead in open_leads.filter(uscc=uscc):
            found._add(lead, _("统一社会信用代码相同"))
    if key:
        for org in Organization.objects.filter(normalized_name=key)[:10]:
            found._add(org, _("名称相近"))
        for lead in open_leads.filter(normalized_name=key)[:10]:
            found._add(lead, _("名称相近"))
    if phone:
        for contact in Contact.objects.filter(mobile=phone).select_related("organization")[:10]:
            if contact.organization is not None:
                found._add(contact.organization, _("联系人电话相同"))
        for lead in open_leads.filter(contact_phone=phone)[:10]:
            found._add(lead, _("联系人电话相同"))
    return found


def create_lead(
    *,
    actor: User | None,
    data: dict[str, Any],
    source: dict[str, Any],
    owner: User | None = None,
    now: dt.datetime | None = None,
) -> Lead:
    """Record a lead and its source, then give it an owner: the promoter who entered it, the
    owner a lead chose, the team that covers its chain segment, or the shared pool."""
    now = now or timezone.now()
    values = {k: data[k] for k in LEAD_FIELDS if k in data and data[k] is not None}
    with transaction.atomic():
        lead = Lead(code=next_code("L", now.year, width=5), created_by=actor, touched_at=now, **values)
        if lead.uscc:
            lead.organization = Organization.objects.filter(uscc=lead.uscc).first()
        lead.refresh_search_fields()
        lead.save()
        LeadSource.objects.create(lead=lead, received_at=now, **_source_values(source))
        events.lead(
            lead, LeadEvent.Kind.CREATED, actor=actor, at=now, channel=source.get("channel", Channel.STAFF)
        )
        audit.log_create(lead, actor=actor)
        if actor is not None and actor.role == User.Role.PROMOTER:
            owner = actor
        if owner is not None:
            _give(lead, owner, actor=actor, kind=LeadEvent.Kind.ASSIGNED, now=now)
        elif InvestmentSettings.current().auto_assign:
            auto_assign(lead, now=now)
    return lead


def _source_values(source: dict[str, Any]) -> dict[str, Any]:
    allowed = ("channel", "event", "qr_scene", "referred_by", "referrer_name", "note")
    values = {k: source[k] for k in allowed if source.get(k) not in (None, "")}
    values.setdefault("channel", Channel.STAFF)
    return values


def team_for(node: ChainNode | None) -> Team | None:
    """The team that covers a chain node or the nearest node above it."""
    if node is None:
        return None
    for candidate in [node, *reversed(node.ancestors())]:
        team = Team.objects.filter(chain_nodes=candidate).order_by("pk").first()
        if team is not None:
            return team
    return None


def auto_assign(lead: Lead, *, now: dt.datetime | None = None, **why: Any) -> User | None:
    """Round robin inside the team that covers the lead's chain segment: the promoter who was
    given a lead longest ago gets this one. Leads without a covering team stay in the pool."""
    team = team_for(lead.chain_node)
    if team is None:
        return None
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()  # one assignment at a time per team
        members = list(User.objects.filter(team=team, role=User.Role.PROMOTER, is_active=True).order_by("pk"))
        if not members:
            return None
        last_given = _last_assignment(team)
        never = dt.datetime.min.replace(tzinfo=dt.UTC)
        owner = min(members, key=lambda user: (last_given.get(user.pk, never), user.pk))
        _give(lead, owner, actor=None, kind=LeadEvent.Kind.ASSIGNED, now=now, auto=True, **why)
    return owner


def _last_assignment(team: Team) -> dict[int, dt.datetime]:
    """When each member of the team was last given (or took) a lead."""
    last: dict[int, dt.datetime] = {}
    for owner_id, at in (
        Lead.objects.filter(team=team, assigned_at__isnull=False)
        .values_list("owner_id", "assigned_at")
        .order_by("assigned_at")
    ):
        if owner_id is not None:
            last[owner_id] = at
    return last


def _give(
    lead: Lead,
    owner: User,
    *,
    actor: User | None,
    kind: str,
    now: dt.datetime | None = None,
    auto: bool = False,
    **why: Any,
) -> None:
    now = now or timezone.now()
    previous = lead.owner
    Lead.objects.filter(pk=lead.pk).update(
        owner=owner,
        team=owner.team,
        status=Lead.Status.ASSIGNED,
        assigned_at=now,
        touched_at=now,
        updated_at=now,
    )
    lead.owner, lead.team, lead.status, lead.assigned_at, lead.touched_at = (
        owner,
        owner.team,
        Lead.Status.ASSIGNED,
        now,
        now,
    )
    events.lead(
        lead,
        kind,
        actor=actor,
        owner=owner.pk,
        owner_name=owner.display_name,
        previous=previous.display_name if previous else "",
        auto=auto,
        **why,
    )
    if actor is None or actor.pk != owner.pk:
        notify(
            [owner],
            kind=Notification.Kind.LEAD_ASSIGNED,
            key=f"lead-{lead.pk}-assigned-{now.timestamp():.0f}",
            title=_("新线索：%(name)s") % {"name": lead.company_name},
            body=_("线索 %(code)s 已分配给您，请及时跟进。") % {"code": lead.code},
            url=lead.get_absolute_url(),
        )


def add_source(
    *,
    lead: Lead,
    source: dict[str, Any],
    note: str = "",
    owner: User | None = None,
    chain_node: ChainNode | None = None,
    facts: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Lead:
    """Another way a lead reached the park (a QR scan, a message, a form): its source, recorded
    once per channel and QR scene with a note on the timeline, and the facts the investor typed
    that the lead does not know yet.

    A source from a channel code (a ``qr_scene``, with the code's promoter as ``owner`` and its
    chain segment) attributes a lead that no code has attributed yet and no person has assigned:
    WeChat does not promise that the scan which brought an investor is processed before their
    first message, and the lead ends where the scan would have put it had it come first (the
    promoter, their team, the chain segment), with an event saying why."""
    now = now or timezone.now()
    values = _source_values(source)
    scene = values.get("qr_scene", "")
    with transaction.atomic():
        current = Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=lead.pk)
        sources = LeadSource.objects.filter(lead=current)
        if not sources.filter(channel=values["channel"], qr_scene=scene).exists():
            attributed = sources.exclude(qr_scene="").exists()
            LeadSource.objects.create(lead=current, received_at=now, **values)
            events.lead(
                current, LeadEvent.Kind.NOTE, actor=None, text=_("再次来访：%(what)s") % {"what": note[:80]}
            )
            if scene and not attributed and current.is_open and not _held_by_a_person(current):
                _attribute(current, owner=owner, chain_node=chain_node, scene=scene, now=now)
        _fill_facts(current, facts or {})
    return current


def _held_by_a_person(lead: Lead) -> bool:
    """Whether the lead's owner was chosen by a person (claimed, assigned or reassigned by
    someone, or entered by its promoter) rather than by the system (a code, the round robin)."""
    if lead.owner_id is None:
        return False
    given = (
        LeadEvent.objects.filter(
            lead=lead, kind__in=[LeadEvent.Kind.ASSIGNED, LeadEvent.Kind.CLAIMED, LeadEvent.Kind.REASSIGNED]
        )
        .order_by("-at", "-pk")
        .first()
    )
    return given is not None and given.actor_id is not None


def _attribute(
    lead: Lead, *, owner: User | None, chain_node: ChainNode | None, scene: str, now: dt.datetime
) -> None:
    """The lead takes a channel code's chain segment and promoter, or the chain's team by the
    round robin when the code names no promoter (see ``add_source``)."""
    why: dict[str, Any] = {"why": "late_scan", "scene": scene}
    if chain_node is not None and lead.chain_node_id is None:
        Lead.objects.filter(pk=lead.pk).update(chain_node=chain_node, updated_at=now)
        lead.chain_node = chain_node
        why["chain"] = chain_node.name
    given = False
    if owner is not None and owner.pk != lead.owner_id:
        kind = LeadEvent.Kind.REASSIGNED if lead.owner_id else LeadEvent.Kind.ASSIGNED
        _give(lead, owner, actor=None, kind=kind, now=now, **why)
        given = True
    elif owner is None and lead.owner_id is None and InvestmentSettings.current().auto_assign:
        given = auto_assign(lead, now=now, **why) is not None
    if "chain" in why and not given:  # the assignment's event says it otherwise
        events.lead(
            lead,
            LeadEvent.Kind.NOTE,
            actor=None,
            text=_("扫码晚于首条留言到达，按渠道二维码 %(scene)s 归入产业链环节：%(chain)s")
            % {"scene": scene, "chain": why["chain"]},
        )


def _fill_facts(lead: Lead, facts: dict[str, Any]) -> None:
    """Facts an investor typed (the H5 form) fill what the lead does not know yet."""
    updates = {}
    if facts.get("company_name") and lead.company_name.startswith(("微信访客", "WeChat visitor")):
        updates["company_name"] = facts["company_name"][: Lead._meta.get_field("company_name").max_length]
    for key in ("contact_phone", "interest", "chain_node"):
        if facts.get(key) and not getattr(lead, key if key != "chain_node" else "chain_node_id"):
            updates[key] = facts[key]
    if updates:
        for key, value in updates.items():
            setattr(lead, key, value)
        lead.refresh_search_fields()
        lead.save()


def claim_lead(*, lead: Lead, actor: User) -> Lead:
    """Take a lead from the pool; if someone else was quicker, say so and change nothing."""
    now = timezone.now()
    with transaction.atomic():
        taken = Lead.objects.filter(pk=lead.pk, status=Lead.Status.POOL).update(
            owner=actor,
            team=actor.team,
            status=Lead.Status.ASSIGNED,
            assigned_at=now,
            touched_at=now,
            updated_at=now,
        )
        if not taken:
            raise Conflict(_("线索 %(code)s 已被他人认领或已不在公海。") % {"code": lead.code})
        lead.refresh_from_db()
        events.lead(lead, LeadEvent.Kind.CLAIMED, actor=actor, owner=actor.pk, owner_name=actor.display_name)
    return lead


def assign_lead(*, lead: Lead, actor: User, owner: User) -> Lead:
    if owner.role not in (User.Role.PROMOTER, User.Role.TEAM_LEAD) or not owner.is_active:
        raise ActionError(
            _("只能分配给在岗的招商专员或团队负责人。"), fields={"owner": [_("请选择招商人员。")]}
        )
    if actor.role == User.Role.TEAM_LEAD and owner.team_id != actor.team_id:
        raise ActionError(_("团队负责人只能分配给本团队成员。"), fields={"owner": [_("请选择本团队成员。")]})
    if not lead.is_open:
        raise ActionError(_("线索 %(code)s 已关闭，不能再分配。") % {"code": lead.code})
    kind = LeadEvent.Kind.REASSIGNED if lead.owner_id else LeadEvent.Kind.ASSIGNED
    with transaction.atomic():
        Lead.objects.select_for_update().filter(pk=lead.pk).first()
        _give(lead, owner, actor=actor, kind=kind)
    return lead


def release_lead(*, lead: Lead, actor: User, reason: str) -> Lead:
    """The owner gives a lead back to the pool."""
    if not reason.strip():
        raise ActionError(_("退回公海须说明原因。"), fields={"reason": [_("请填写原因。")]})
    with transaction.atomic():
        done = Lead.objects.filter(pk=lead.pk, status=Lead.Status.ASSIGNED).update(
            owner=None, team=None, status=Lead.Status.POOL, assigned_at=None, updated_at=timezone.now()
        )
        if not done:
            raise Conflict(_("线索 %(code)s 当前不在跟进中。") % {"code": lead.code})
        events.lead(lead, LeadEvent.Kind.RELEASED, actor=actor, reason=reason.strip())
    lead.refresh_from_db()
    return lead


def return_stale_leads(*, now: dt.datetime | None = None) -> int:
    """Leads nobody touched for ``lead_return_days`` go back to the pool (sweep; safe in parallel)."""
    now = now or timezone.now()
    days = InvestmentSettings.current().lead_return_days
    cutoff = now - dt.timedelta(days=days)
    returned = 0
    for lead in Lead.objects.filter(status=Lead.Status.ASSIGNED, touched_at__lt=cutoff).select_related(
        "owner"
    ):
        with transaction.atomic():
            done = Lead.objects.filter(pk=lead.pk, status=Lead.Status.ASSIGNED, touched_at__lt=cutoff).update(
                owner=None, team=None, status=Lead.Status.POOL, assigned_at=None, updated_at=now
            )
            if not done:
                continue  # another worker returned it, or someone just touched it
            events.lead(
                lead,
                LeadEvent.Kind.RETURNED,
                actor=None,
                days=days,
                previous=lead.owner.display_name if lead.owner else "",
            )
            notify(
                [lead.owner],
                kind=Notification.Kind.LEAD_RETURNED,
                key=f"lead-{lead.pk}-returned-{now:%Y%m%d}",
                title=_("线索已退回公海：%(name)s") % {"name": lead.company_name},
                body=_("线索 %(code)s 超过 %(days)d 天没有跟进，已退回公海。")
                % {"code": lead.code, "days": days},
                url=lead.get_absolute_url(),
            )
            returned += 1
    return returned


def touch_lead(lead: Lead, *, now: dt.datetime | None = None) -> None:
    Lead.objects.filter(pk=lead.pk).update(touched_at=now or timezone.now())


def update_lead(*, lead: Lead, actor: User, data: dict[str, Any]) -> Lead:
    with transaction.atomic():
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        before = audit.snapshot(current)
        for key in LEAD_FIELDS:
            if key in data:
                nullable = Lead._meta.get_field(key).null
                setattr(current, key, data[key] if data[key] is not None or nullable else "")
        current.refresh_search_fields()
        current.touched_at = timezone.now()
        current.save()
        audit.log_change(current, before, actor=actor)
    return current


def add_note(*, lead: Lead, actor: User, text: str) -> LeadEvent:
    if not text.strip():
        raise ActionError(_("跟进记录不能为空。"), fields={"text": [_("请填写跟进内容。")]})
    with transaction.atomic():
        touch_lead(lead)
        return events.lead(lead, LeadEvent.Kind.NOTE, actor=actor, text=text.strip())


def merge_leads(*, keep: Lead, merge: Lead, actor: User) -> Lead:
    """Fold ``merge`` into ``keep``: its sources, activities and visits move over, empty fields
    are filled from it, and its own history stays readable from the kept lead."""
    if keep.pk == merge.pk:
        raise ActionError(_("不能把线索合并到它自己。"))
    with transaction.atomic():
        locked = {
            lead.pk: lead for lead in Lead.objects.select_for_update().filter(pk__in=[keep.pk, merge.pk])
        }
        keep, merge = locked[keep.pk], locked[merge.pk]
        if not merge.is_open or not keep.is_open:
            raise Conflict(_("只能合并仍在公海或跟进中的线索。"))
        before = audit.snapshot(keep)
        for name in (*LEAD_FIELDS, "organization", "contact"):
            if getattr(keep, name) in (None, "") and getattr(merge, name) not in (None, ""):
                setattr(keep, name, getattr(merge, name))
        keep.touched_at = timezone.now()
        keep.refresh_search_fields()
        keep.save()
        moved = {
            "sources": LeadSource.objects.filter(lead=merge).update(lead=keep),
            "activities": Activity.objects.filter(lead=merge).update(lead=keep),
            "visits": SiteVisit.objects.filter(lead=merge).update(lead=keep),
        }
        Lead.objects.filter(pk=merge.pk).update(
            status=Lead.Status.MERGED,
            merged_into=keep,
            owner=None if merge.owner_id is None else merge.owner,
            updated_at=timezone.now(),
        )
        events.lead(
            keep,
            LeadEvent.Kind.MERGED,
            actor=actor,
            merged=merge.code,
            merged_name=merge.company_name,
            **moved,
        )
        events.lead(merge, LeadEvent.Kind.MERGED, actor=actor, into=keep.code)
        audit.log_change(keep, before, actor=actor)
    return keep


def discard_lead(*, lead: Lead, actor: User, reason: str) -> Lead:
    if not reason.strip():
        raise ActionError(_("标记无效须说明原因。"), fields={"reason": [_("请填写原因。")]})
    with transaction.atomic():
        done = Lead.objects.filter(pk=lead.pk, status__in=[Lead.Status.POOL, Lead.Status.ASSIGNED]).update(
            status=Lead.Status.DISCARDED,
            owner=None,
            discard_reason=reason.strip()[:200],
            updated_at=timezone.now(),
        )
        if not done:
            raise Conflict(_("线索 %(code)s 已关闭。") % {"code": lead.code})
        events.lead(lead, LeadEvent.Kind.DISCARDED, actor=actor, reason=reason.strip())
    lead.refresh_from_db()
    return lead


def qualify_lead(*, lead: Lead, actor: User, data: dict[str, Any]) -> Project:
    """Turn a lead into a project for its investor organization (created as a prospect when the
    directory has none), with a contact when the lead has a phone number. The lead's sources
    travel with the project."""
    from yimatong.investment.actions.projects import create_project

    with transaction.atomic():
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        if not current.is_open:
            raise Conflict(_("线索 %(code)s 已关闭，不能再转为项目。") % {"code": lead.code})
        owner = data.get("owner") or current.owner or actor
        org = current.organization or _organization_for(current, owner=owner, actor=actor)
        contact = current.contact or _contact_for(current, org, owner=owner, actor=actor)
        if contact is not None and contact.organization_id is None:
            # A contact that came in before the company was known (a WeChat follower) joins it.
            Contact.objects.filter(pk=contact.pk).update(organization=org, updated_at=timezone.now())
            contact.organization = org
        first_source = current.sources.order_by("received_at", "pk").first()
        project = create_project(
            actor=actor,
            data={
                "name": data.get("name") or current.company_name,
                "organization": org,
                "contact": contact,
                "chain_node": data.get("chain_node") or current.chain_node,
                "planned_investment": data.get("planned_investment") or current.planned_investment,
                "description": data.get("description") or current.interest,
                "owner": owner,
                "stage": data.get("stage") or "contact",
                "source_channel": first_source.channel if first_source else Channel.STAFF,
            },
            lead=current,
        )
        # Visits the investor booked before there was a project now belong to it.
        SiteVisit.objects.filter(lead=current, project__isnull=True).update(project=project)
        Lead.objects.filter(pk=current.pk).update(
            status=Lead.Status.QUALIFIED,
            organization=org,
            contact=contact,
            owner=owner,
            team=owner.team,
            updated_at=timezone.now(),
        )
        events.lead(current, LeadEvent.Kind.QUALIFIED, actor=actor, project=project.code)
    return project


def _organization_for(lead: Lead, *, owner: User, actor: User | None) -> Organization:
    if lead.uscc:
        existing = Organization.objects.filter(uscc=lead.uscc).first()
        if existing is not None:
            return existing
    existing = Organization.objects.filter(name=lead.company_name).first()
    if existing is not None:
        return existing
    return directory_actions.create_organization(
        actor=actor,
        data={
            "name": lead.company_name,
            "uscc": lead.uscc or None,
            "org_type": Organization.Type.PROSPECT,
            "chain_node": lead.chain_node,
            "owner": owner,
            "team": owner.team,
        },
    )


def _contact_for(lead: Lead, org: Organization, *, owner: User, actor: User | None) -> Contact | None:
    if not lead.contact_phone and not lead.contact_name:
        return None
    existing = (
        Contact.objects.filter(organization=org)
        .filter(Q(mobile=lead.contact_phone) if lead.contact_phone else Q(name=lead.contact_name))
        .first()
    )
    if existing is not None or not lead.contact_phone:
        return existing
    return directory_actions.create_contact(
        actor=actor,
        data={
            "organization": org,
            "name": lead.contact_name or lead.company_name,
            "mobile": lead.contact_phone,
            "owner": owner,
        },
    )
