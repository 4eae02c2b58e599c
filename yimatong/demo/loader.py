"""Load (or bring up to date) the demo park. Running it again changes nothing.

Records are found by their natural keys (chain node code, username, USCC or name) and
written through the same actions as the console, so the demo has a real audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from yimatong.accounts.models import Department, Team, User
from yimatong.demo import park
from yimatong.directory import actions
from yimatong.directory.models import ChainNode, Contact, District, IndustryCode, Organization
from yimatong.lib.text import pinyin_full


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def load_demo() -> LoadReport:
    if settings.PRODUCTION:
        raise ImproperlyConfigured(
            "The demo park (with its password 'demo' accounts) is never loaded in production."
        )
    report = LoadReport()
    with transaction.atomic():
        nodes = _chain(report)
        teams = _teams(nodes, report)
        departments = _departments(report)
        users = _staff(teams, departments, report)
        orgs = _organizations(nodes, users, report)
        _enterprise_users(orgs, report)
        from yimatong.demo.investment import load_investment

        load_investment(users=users, orgs=orgs, nodes=nodes, departments=departments, report=report)
        from yimatong.demo.wechat import load_wechat

        load_wechat(users=users, nodes=nodes, report=report)
        from yimatong.demo.services import load_services

        load_services(users=users, orgs=orgs, departments=departments, report=report)
        from yimatong.demo.statistics import load_statistics

        load_statistics(users=users, nodes=nodes, report=report)
    return report


def _upsert(model: Any, lookup: dict[str, Any], values: dict[str, Any], report: LoadReport) -> Any:
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        report.count("created")
        return obj
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        for key in changed:
            setattr(obj, key, values[key])
        obj.save()
        report.count("updated")
    else:
        report.count("unchanged")
    return obj


def _chain(report: LoadReport) -> dict[str, ChainNode]:
    nodes: dict[str, ChainNode] = {}
    for position, (code, name, name_en, kind, parent) in enumerate(park.CHAIN):
        nodes[code] = _upsert(
            ChainNode,
            {"code": code},
            {
                "name": name,
                "name_en": name_en,
                "kind": kind,
                "parent": nodes[parent] if parent else None,
                "position": position,
            },
            report,
        )
    return nodes


def _teams(nodes: dict[str, ChainNode], report: LoadReport) -> dict[str, Team]:
    teams = {}
    for code, name, roots in park.TEAMS:
        team = _upsert(Team, {"code": code}, {"name": name}, report)
        wanted = {nodes[r].pk for r in roots}
        if set(team.chain_nodes.values_list("pk", flat=True)) != wanted:
            team.chain_nodes.set(wanted)
        teams[code] = team
    return teams


def _departments(report: LoadReport) -> dict[str, Department]:
    return {
        code: _upsert(
            Department,
            {"code": code},
            {
                "name": name,
                "phone": phone,
                "is_dispatch_center": code == "service-center",
                "is_statistics_office": code == "statistics",
            },
            report,
        )
        for code, name, phone in park.DEPARTMENTS
    }


def _user(spec: park.DemoUser, extra: dict[str, Any], report: LoadReport) -> User:
    is_admin = spec.role == User.Role.ADMIN
    user = _upsert(
        User,
        {"username": spec.username},
        {
            "name": spec.name,
            "role": spec.role,
            "phone": spec.phone,
            "is_staff": is_admin,
            "is_superuser": is_admin,
            "is_active": True,
            **extra,
        },
        report,
    )
    if not user.check_password(park.DEMO_PASSWORD):
        user.set_password(park.DEMO_PASSWORD)
        user.save(update_fields=["password"])
    if user.failed_login_count or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
    return user


def _staff(teams: dict[str, Team], departments: dict[str, Department], report: LoadReport) -> dict[str, User]:
    users = {}
    for spec in park.USERS:
        if spec.role == User.Role.ENTERPRISE:
            continue
        users[spec.username] = _user(
            spec,
            {
                "team": teams[spec.team] if spec.team else None,
                "department": departments[spec.department] if spec.department else None,
                "organization": None,
            },
            report,
        )
    return users


def _organizations(
    nodes: dict[str, ChainNode], users: dict[str, User], report: LoadReport
) -> dict[str, Organization]:
    industries = {i.code: i for i in IndustryCode.objects.all()}
    districts = {d.code: d for d in District.objects.all()}
    orgs = {}
    for spec in park.ORGANIZATIONS:
        owner = users.get(spec.owner) if spec.owner else None
        data = {
            "name": spec.name,
            "uscc": park.uscc_for(spec),
            "org_type": spec.org_type,
            "industry": industries.get(spec.industry) if spec.industry else None,
            "registered_capital": park.to_decimal(spec.capital),
            "registered_on": park.to_date(spec.registered_on),
            "district": districts.get(spec.district) if spec.district else None,
            "address": spec.address,
            "size_class": spec.size,
            "is_above_scale": spec.above_scale,
            "is_high_tech": spec.high_tech,
            "is_specialized": spec.specialized,
            "chain_node": nodes[spec.chain] if spec.chain else None,
            "website": "",
            "description": spec.description,
            "owner": owner,
            "team": owner.team if owner is not None else None,
        }
        collaborators = [users[u] for u in spec.collaborators]
        existing = (
            Organization.objects.filter(uscc=data["uscc"]).first()
            if data["uscc"]
            else Organization.objects.filter(name=spec.name).first()
        )
        if existing is None:
            org = actions.create_organization(actor=None, data={**data, "collaborators": collaborators})
            report.count("created")
        else:
            differs = any(getattr(existing, k) != v for k, v in data.items())
            if differs or {u.pk for u in existing.collaborators.all()} != {u.pk for u in collaborators}:
                org = actions.update_organization(
                    actor=None, org=existing, data={**data, "collaborators": collaborators}
                )
                report.count("updated")
            else:
                org = existing
                report.count("unchanged")
        orgs[spec.name] = org
        _contacts(org, spec, owner, report)
    return orgs


def _contacts(org: Organization, spec: park.DemoOrg, owner: User | None, report: LoadReport) -> None:
    for index, (position, domain) in enumerate(spec.contacts):
        seed = f"{spec.name}/{position}/{index}"
        name = park.person_name(seed)
        data = {
            "organization": org,
            "name": name,
            "position": position,
            "mobile": park.mobile(seed),
            "email": f"{pinyin_full(name)}@{domain}.example",
            "is_primary": index == 0 and spec.org_type != "government",
            "notes": "",
        }
        existing = Contact.objects.filter(organization=org, name=name).first()
        if existing is None:
            actions.create_contact(actor=None, data={**data, "owner": owner})
            report.count("created")
        elif any(getattr(existing, k) != v for k, v in data.items()) or existing.owner != owner:
            actions.update_contact(actor=None, contact=existing, data={**data, "owner": owner})
            report.count("updated")
        else:
            report.count("unchanged")


def _enterprise_users(orgs: dict[str, Organization], report: LoadReport) -> None:
    for spec in park.USERS:
        if spec.role == User.Role.ENTERPRISE:
            _user(spec, {"organization": orgs[spec.organization], "team": None, "department": None}, report)


def logins_table() -> str:
    width = max(len(u.username) for u in park.USERS)
    lines = [f"  {'username'.ljust(width)}  password  role / 角色"]
    for spec in park.USERS:
        role = User.Role(spec.role)
        lines.append(
            f"  {spec.username.ljust(width)}  {park.DEMO_PASSWORD.ljust(8)}  {role.value} · {role.label} · {spec.note}"
        )
    return "\n".join(lines)
