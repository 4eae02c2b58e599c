"""Every change to the directory, each writing its audit entry in the same transaction.

Callers (console views, API endpoints, the demo loader) check access first and validate with
``directory.forms``; these functions enforce what must hold whoever calls them.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import User
from yimatong.directory.models import ChainNode, Contact, Organization
from yimatong.lib import bulk
from yimatong.lib.errors import ActionError, Conflict, InUse, StaleObject, refused_while_in_use

ORG_FIELDS = (
    "name",
    "uscc",
    "org_type",
    "industry",
    "registered_capital",
    "registered_on",
    "district",
    "address",
    "size_class",
    "is_above_scale",
    "is_high_tech",
    "is_specialized",
    "chain_node",
    "website",
    "description",
    "owner",
    "team",
)
CONTACT_FIELDS = ("organization", "name", "position", "mobile", "email", "is_primary", "notes")


def _uscc_taken(uscc: str | None) -> ActionError:
    return ActionError(
        _("统一社会信用代码 %(uscc)s 已被登记。") % {"uscc": uscc},
        code="uscc_taken",
        fields={"uscc": [_("该统一社会信用代码已存在。")]},
    )


def _assignment(actor: User | None, owner: User | None, team: Any) -> dict[str, Any]:
    """Who owns a new record: a promoter's is their own; a lead may hand it to a team member."""
    if actor is not None and actor.role == User.Role.PROMOTER:
        return {"owner": actor, "team": actor.team}
    if actor is not None and actor.role == User.Role.TEAM_LEAD:
        return {"owner": owner or actor, "team": team or actor.team}
    return {"owner": owner, "team": team or (owner.team if owner is not None else None)}


VersionedModel = Organization | Contact


def _lock_version(model: type[VersionedModel], pk: int, expected: int) -> tuple[Any, audit.Snapshot]:
    """The row, locked for this transaction, and its audit snapshot; refused if someone saved
    it since the caller read version ``expected``."""
    current = model.objects.select_for_update().get(pk=pk)
    if current.version != expected:
        raise StaleObject(str(current))
    return current, audit.snapshot(current)


def _save_version(
    current: Any, before: audit.Snapshot, *, actor: User | None, after_save: Any = None
) -> None:
    """Save one version up and write the audit entry for what changed since ``before``."""
    current.refresh_search_fields()
    current.version = F("version") + 1
    current.save()
    if after_save is not None:
        after_save(current)
    current.refresh_from_db()
    audit.log_change(current, before, actor=actor)


def create_organization(*, actor: User | None, data: dict[str, Any]) -> Organization:
    values = {k: data[k] for k in ORG_FIELDS if k in data}
    values.update(_assignment(actor, values.get("owner"), values.get("team")))
    org = Organization(**values)
    org.refresh_search_fields()
    try:
        with transaction.atomic():
            org.save()
            if data.get("collaborators"):
                org.collaborators.set(data["collaborators"])
            audit.log_create(org, actor=actor)
    except IntegrityError as exc:
        if org.uscc and Organization.objects.filter(uscc=org.uscc).exists():
            raise _uscc_taken(org.uscc) from exc
        raise
    return org


def create_organizations(*, actor: User | None, rows: list[dict[str, Any]]) -> list[Organization]:
    """``create_organization`` for many new records at once (a ledger import): one insert per
    batch and their audit entries, in the caller's transaction. A USCC registered meanwhile
    fails the whole batch."""
    orgs = []
    for data in rows:
        values = {k: data[k] for k in ORG_FIELDS if k in data}
        values.update(_assignment(actor, values.get("owner"), values.get("team")))
        org = Organization(**values)
        org.refresh_search_fields()
        orgs.append(org)
    try:
        with transaction.atomic():
            bulk.insert(Organization, orgs)
            audit.log_creates(orgs, actor=actor)
    except IntegrityError as exc:
        taken = Organization.objects.filter(uscc__in=[o.uscc for o in orgs if o.uscc]).first()
        if taken is not None:
            raise _uscc_taken(taken.uscc) from exc
        raise
    return orgs


def make_residents(*, actor: User | None, orgs: list[Organization]) -> list[Organization]:
    """Prospects that registered a company in the park become residents (what
    ``update_organization`` with ``org_type`` does for one), one version up each, with their
    audit entries."""
    changed = []
    with transaction.atomic():
        for org in (
            Organization.objects.select_for_update()
            .filter(pk__in=[o.pk for o in orgs], org_type=Organization.Type.PROSPECT)
            .order_by("pk")
        ):
            before = audit.snapshot(org)
            org.org_type = Organization.Type.RESIDENT
            org.version += 1
            changed.append((org, before))
        Organization.objects.filter(pk__in=[org.pk for org, _before in changed]).update(
            org_type=Organization.Type.RESIDENT, version=F("version") + 1, updated_at=timezone.now()
        )
        for org, before in changed:
            audit.log_change(org, before, actor=actor)
    return [org for org, _before in changed]


def create_contacts(*, actor: User | None, rows: list[dict[str, Any]]) -> list[Contact]:
    """``create_contact`` for many new contacts at once (none of them primary), with their audit
    entries, in the caller's transaction."""
    contacts = []
    for data in rows:
        contact = Contact(
            **{k: data[k] for k in CONTACT_FIELDS if k in data}, owner=data.get("owner") or actor
        )
        if contact.is_primary:
            raise ValueError("create_contacts does not name primary contacts")
        contact.refresh_search_fields()
        contacts.append(contact)
    with transaction.atomic():
        bulk.insert(Contact, contacts)
        audit.log_creates(contacts, actor=actor)
    return contacts


def update_organization(
    *, actor: User | None, org: Organization, data: dict[str, Any], version: int | None = None
) -> Organization:
    """Apply ``data``; with ``version``, refuse if someone saved the record since it was read."""
    values = {k: data[k] for k in ORG_FIELDS if k in data}
    expected = org.version if version is None else version
    try:
        with transaction.atomic():
            current, before = _lock_version(Organization, org.pk, expected)
            for key, value in values.items():
                setattr(current, key, value)

            def set_collaborators(saved: Organization) -> None:
                if "collaborators" in data:
                    saved.collaborators.set(data["collaborators"] or [])

            _save_version(current, before, actor=actor, after_save=set_collaborators)
    except IntegrityError as exc:
        if (
            values.get("uscc")
            and Organization.objects.filter(uscc=values["uscc"]).exclude(pk=org.pk).exists()
        ):
            raise _uscc_taken(values["uscc"]) from exc
        raise
    return current


def delete_organization(*, actor: User | None, org: Organization) -> None:
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=org.pk)
        contacts = org.contacts.count()
        users = org.users.count()
        if contacts or users:
            raise InUse(
                _("「%(name)s」下还有 %(contacts)d 位联系人、%(users)d 个企业账号，请先移除后再删除。")
                % {"name": org.name, "contacts": contacts, "users": users}
            )
        before = audit.snapshot(org)
        pk = org.pk
        with refused_while_in_use(org.name):
            org.delete()
        audit.log_delete(org, before, object_id=pk, actor=actor)


def _clear_other_primary(contact: Contact, actor: User | None) -> None:
    # Lock the organization first: two people naming a primary contact at once then queue here,
    # and the second sees (and demotes) the first one's choice instead of colliding on insert.
    Organization.objects.select_for_update().filter(pk=contact.organization_id).first()
    others = Contact.objects.select_for_update().filter(
        organization_id=contact.organization_id, is_primary=True
    )
    for other in others.exclude(pk=contact.pk):
        before = audit.snapshot(other)
        Contact.objects.filter(pk=other.pk).update(
            is_primary=False, version=F("version") + 1, updated_at=timezone.now()
        )
        other.refresh_from_db()
        audit.log_change(other, before, actor=actor)


def create_contact(*, actor: User | None, data: dict[str, Any]) -> Contact:
    values = {k: data[k] for k in CONTACT_FIELDS if k in data}
    if "wechat_openid" in data:
        values["wechat_openid"] = data["wechat_openid"]
    contact = Contact(**values, owner=data.get("owner") or actor)
    contact.refresh_search_fields()
    try:
        with transaction.atomic():
            if contact.is_primary:
                _clear_other_primary(contact, actor)
            contact.save()
            audit.log_create(contact, actor=actor)
    except IntegrityError as exc:
        raise Conflict(_("同时有人修改了该企业/机构的联系人，请刷新后重试。")) from exc
    return contact


def update_contact(
    *, actor: User | None, contact: Contact, data: dict[str, Any], version: int | None = None
) -> Contact:
    values = {k: data[k] for k in CONTACT_FIELDS if k in data}
    expected = contact.version if version is None else version
    try:
        with transaction.atomic():
            current, before = _lock_version(Contact, contact.pk, expected)
            for key, value in values.items():
                setattr(current, key, value)
            if "owner" in data:
                current.owner = data["owner"]
            if current.is_primary:
                _clear_other_primary(current, actor)
            _save_version(current, before, actor=actor)
    except IntegrityError as exc:
        raise Conflict(_("同时有人修改了该企业/机构的联系人，请刷新后重试。")) from exc
    return current


def delete_contact(*, actor: User | None, contact: Contact) -> None:
    with transaction.atomic():
        before = audit.snapshot(contact)
        pk = contact.pk
        with refused_while_in_use(contact.name):
            contact.delete()
        audit.log_delete(contact, before, object_id=pk, actor=actor)


# Industry chain ------------------------------------------------------------------------------


def save_chain_node(
    *, actor: User | None, data: dict[str, Any], node: ChainNode | None = None, code: str | None = None
) -> ChainNode:
    fields = ("name", "name_en", "kind", "parent", "position", "description")
    with transaction.atomic():
        if node is None:
            node = ChainNode(code=code, **{k: data[k] for k in fields if k in data})
            node.save()
            audit.log_create(node, actor=actor)
            return node
        before = audit.snapshot(node)
        parent = data.get("parent")
        if parent is not None and parent.pk in node.descendant_ids():
            raise ActionError(
                _("不能把环节移到它自己或它的下级之下。"), fields={"parent": [_("上级环节无效。")]}
            )
        for key in fields:
            if key in data:
                setattr(node, key, data[key])
        node.save()
        audit.log_change(node, before, actor=actor)
        return node


def delete_chain_node(*, actor: User | None, node: ChainNode) -> None:
    with transaction.atomic():
        children = node.children.count()
        orgs = node.organizations.count()
        if children or orgs:
            raise InUse(
                _("「%(name)s」下还有 %(children)d 个下级环节、%(orgs)d 家企业/机构，请先调整后再删除。")
                % {"name": node.name, "children": children, "orgs": orgs}
            )
        node.teams.clear()
        before = audit.snapshot(node)
        pk = node.pk
        node.delete()
        audit.log_delete(node, before, object_id=pk, actor=actor)
