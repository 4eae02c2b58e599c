"""Directory endpoints: organizations, contacts, the industry chain and reference codes.

Input is parsed by pydantic schemas, then checked by the same forms as the console (USCC check
digit, phone numbers, duplicates) and applied by the same actions.
"""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yimatong.accounts import access, audit
from yimatong.accounts.models import Team, User
from yimatong.directory import actions
from yimatong.directory.filters import organizations_for
from yimatong.directory.forms import ContactForm, OrganizationForm, chain_choices
from yimatong.directory.models import ChainNode, Contact, District, IndustryCode, Organization
from yimatong.lib.errors import ActionError
from yimatong.lib.limits import IsoDate, column
from yimatong.lib.lookups import first_or_none
from yimatong.lib.pagination import LIST_ERRORS, Mapped, Pagination
from yimatong.lib.search import JSONList

router = Router(tags=["directory"])

OrgType = Literal["prospect", "resident", "bank", "research", "government"]
SizeClass = Literal["", "large", "medium", "small", "micro"]


# Schemas -------------------------------------------------------------------------------------


class CodeName(Schema):
    code: str
    name: str


class UserRef(Schema):
    username: str
    name: str


class ChainRef(Schema):
    code: str
    name: str
    path: str


class OrganizationOut(Schema):
    code: UUID
    name: str
    uscc: str | None
    org_type: str
    org_type_label: str
    industry: CodeName | None
    registered_capital: Decimal | None = Field(None, description="万元")
    registered_on: IsoDate | None
    district: CodeName | None
    address: str
    size_class: str
    is_above_scale: bool
    is_high_tech: bool
    is_specialized: bool
    chain_node: ChainRef | None
    website: str
    description: str
    owner: UserRef | None
    team: CodeName | None
    collaborators: list[UserRef]
    can_change: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class OrganizationIn(Schema):
    name: str = Field(..., max_length=120)
    uscc: str | None = Field(None, description="统一社会信用代码, 18 characters")
    org_type: OrgType
    industry: str | None = Field(None, description="GB/T 4754-2017 code, e.g. 2762")
    registered_capital: Decimal | None = column(
        Organization, "registered_capital", None, ge=0, description="万元"
    )
    registered_on: IsoDate | None = None
    district: str | None = Field(None, description="six-digit division code, e.g. 500113")
    address: str = ""
    size_class: SizeClass = ""
    is_above_scale: bool = False
    is_high_tech: bool = False
    is_specialized: bool = False
    chain_node: str | None = Field(None, description="chain node code")
    website: str = ""
    description: str = ""
    owner: str | None = Field(None, description="username; team leads and admins only")
    team: str | None = Field(None, description="team code; team leads and admins only")
    collaborators: list[str] = Field(default_factory=list, description="usernames")
    confirm_similar: bool = Field(False, description="save although a similar name exists")


class OrganizationPatch(Schema):
    name: str | None = Field(None, max_length=120)
    uscc: str | None = None
    org_type: OrgType | None = None
    industry: str | None = None
    registered_capital: Decimal | None = column(Organization, "registered_capital", None, ge=0)
    registered_on: IsoDate | None = None
    district: str | None = None
    address: str | None = None
    size_class: SizeClass | None = None
    is_above_scale: bool | None = None
    is_high_tech: bool | None = None
    is_specialized: bool | None = None
    chain_node: str | None = None
    website: str | None = None
    description: str | None = None
    owner: str | None = None
    team: str | None = None
    collaborators: list[str] | None = None
    confirm_similar: bool = False
    version: int | None = Field(None, description="the version you read; a newer one answers 409")


class OrganizationFilters(Schema):
    q: str = Field("", description="name, USCC, pinyin initials or a contact's phone")
    type: OrgType | None = None
    chain_node: str | None = Field(None, description="chain node code (nodes below included)")
    district: str | None = None
    mine: bool = False


class ContactOut(Schema):
    code: UUID
    name: str
    position: str
    mobile: str = Field(..., description="masked (138****1234) unless you may change the contact")
    email: str
    is_primary: bool
    notes: str
    organization: CodeName | None
    owner: UserRef | None
    can_change: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactIn(Schema):
    organization: UUID | None = None
    name: str = Field(..., max_length=60)
    position: str = ""
    mobile: str = ""
    email: str = ""
    is_primary: bool = False
    notes: str = ""


class ContactPatch(Schema):
    organization: UUID | None = None
    name: str | None = Field(None, max_length=60)
    position: str | None = None
    mobile: str | None = None
    email: str | None = None
    is_primary: bool | None = None
    notes: str | None = None
    version: int | None = None


class ChangeOut(Schema):
    field: str
    old: str
    new: str


class AuditOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    action_label: str
    channel: str
    ip: str | None
    changes: list[ChangeOut]


class ChainNodeOut(Schema):
    code: str
    name: str
    name_en: str
    kind: str
    parent: str | None
    depth: int
    organizations: int = Field(..., description="organizations on this node that you may see")


class IndustryOut(Schema):
    code: str
    name: str
    level: str
    parent: str


# Helpers -------------------------------------------------------------------------------------


def _org_out(org: Organization, user: User, editable: set[int] | None = None) -> dict[str, Any]:
    can_change = (org.pk in editable) if editable is not None else access.can_change_organization(user, org)
    return {
        "code": org.code,
        "name": org.name,
        "uscc": org.uscc,
        "org_type": org.org_type,
        "org_type_label": str(org.get_org_type_display()),
        "industry": {"code": org.industry.code, "name": org.industry.name} if org.industry else None,
        "registered_capital": org.registered_capital,
        "registered_on": org.registered_on,
        "district": {"code": org.district.code, "name": org.district.name} if org.district else None,
        "address": org.address,
        "size_class": org.size_class,
        "is_above_scale": org.is_above_scale,
        "is_high_tech": org.is_high_tech,
        "is_specialized": org.is_specialized,
        "chain_node": {
            "code": org.chain_node.code,
            "name": org.chain_node.name,
            "path": org.chain_node.path(),
        }
        if org.chain_node
        else None,
        "website": org.website,
        "description": org.description,
        "owner": {"username": org.owner.username, "name": org.owner.display_name} if org.owner else None,
        "team": {"code": org.team.code, "name": org.team.name} if org.team else None,
        "collaborators": _collaborators(org),
        "can_change": can_change,
        "version": org.version,
        "created_at": org.created_at,
        "updated_at": org.updated_at,
    }


def _collaborators(org: Organization) -> list[dict[str, str]]:
    if hasattr(org, "collaborators_json"):  # a list page read them with the organizations
        rows = sorted(org.collaborators_json or [], key=lambda u: u["username"])  # the users' ordering
        return [{"username": u["username"], "name": u["name"] or u["username"]} for u in rows]
    return [{"username": u.username, "name": u.display_name} for u in org.collaborators.all()]


def _with_collaborators(qs: Any) -> Any:
    """The organizations with their collaborators as one JSON list each, in the same query: a page
    asks as many questions whether it has rows or not."""
    through = Organization.collaborators.through
    rows = (
        through.objects.filter(organization=OuterRef("pk"))
        .order_by()
        .values("organization")
        .annotate(rows=JSONList(JSONObject(id="user_id", username="user__username", name="user__name")))
        .values("rows")
    )
    return qs.annotate(collaborators_json=Subquery(rows))


def _org_queryset() -> Any:
    return Organization.objects.select_related(
        "industry", "district", "chain_node__parent__parent", "owner", "team"
    ).prefetch_related("collaborators")


def _lookup(model: Any, field: str, value: Any, name: str, message: str, errors: dict[str, list[str]]) -> Any:
    if value in (None, ""):
        return None
    obj = first_or_none(model.objects.all(), **{field: value})
    if obj is None:
        errors.setdefault(name, []).append(message % {"value": value})
        return None
    return obj.pk


def _org_form_data(payload: dict[str, Any]) -> dict[str, Any]:
    """API values (natural keys) to the form's values (primary keys)."""
    errors: dict[str, list[str]] = {}
    data = dict(payload)
    data["industry"] = _lookup(
        IndustryCode,
        "code",
        payload.get("industry"),
        "industry",
        _("没有行业代码 %(value)s（GB/T 4754-2017）。"),
        errors,
    )
    data["district"] = _lookup(
        District, "code", payload.get("district"), "district", _("没有区划代码 %(value)s。"), errors
    )
    data["chain_node"] = _lookup(
        ChainNode,
        "code",
        payload.get("chain_node"),
        "chain_node",
        _("没有编码为 %(value)s 的产业链环节。"),
        errors,
    )
    data["owner"] = _lookup(
        User, "username", payload.get("owner"), "owner", _("没有用户 %(value)s。"), errors
    )
    data["team"] = _lookup(Team, "code", payload.get("team"), "team", _("没有团队 %(value)s。"), errors)
    collaborators = []
    for username in payload.get("collaborators") or []:
        pk = _lookup(User, "username", username, "collaborators", _("没有用户 %(value)s。"), errors)
        if pk:
            collaborators.append(pk)
    data["collaborators"] = collaborators
    if errors:
        raise ActionError(_("引用的记录不存在：%(fields)s") % {"fields": "、".join(errors)}, fields=errors)
    return {k: ("" if v is None and k in ("uscc",) else v) for k, v in data.items()}


def _form_error(form: Any) -> ActionError:
    fields = {name: [str(e) for e in errs] for name, errs in form.errors.items() if name != "__all__"}
    general = [str(e) for e in form.non_field_errors()]
    code = "invalid"
    extra: dict[str, list[str]] = {}
    if getattr(form, "needs_similar_confirmation", False):
        code = "similar_name"
        extra["similar"] = [o.name for o in form.similar_visible]
        if form.similar_hidden:
            extra["similar"].append(
                ngettext("另有 %(n)d 家由其他团队负责", "另有 %(n)d 家由其他团队负责", form.similar_hidden)
                % {"n": form.similar_hidden}
            )
    first = general[0] if general else next((f"{k}: {v[0]}" for k, v in fields.items()), _("输入有误。"))
    if general:
        fields["__all__"] = general
    fields.update(extra)
    return ActionError(first, code=code, fields=fields)


def _contact_out(contact: Contact, can_change: bool) -> dict[str, Any]:
    return {
        "code": contact.code,
        "name": contact.name,
        "position": contact.position,
        "mobile": contact.mobile_for(can_change),
        "email": contact.email,
        "is_primary": contact.is_primary,
        "notes": contact.notes,
        "organization": {"code": str(contact.organization.code), "name": contact.organization.name}
        if contact.organization
        else None,
        "owner": {"username": contact.owner.username, "name": contact.owner.display_name}
        if contact.owner
        else None,
        "can_change": can_change,
        "version": contact.version,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def _audit_out(obj: Any, user: User, *, reveal: bool) -> list[dict[str, Any]]:
    show_ip = access.is_staff_member(user)
    return [
        {
            "at": entry.at,
            "actor": entry.actor_name,
            "action": entry.action,
            "action_label": str(entry.get_action_display()),
            "channel": entry.channel,
            "ip": entry.ip if show_ip else None,
            "changes": [{"field": r.label, "old": r.old, "new": r.new} for r in rows],
        }
        for entry, rows in audit.timeline(obj, reveal=reveal)
    ]


# Organizations -------------------------------------------------------------------------------


@router.get(
    "/organizations",
    response={200: list[OrganizationOut], **LIST_ERRORS},
    summary="Organizations you may see",
)
@paginate(Pagination)
def list_organizations(request: HttpRequest, filters: Query[OrganizationFilters]) -> list[dict[str, Any]]:
    user = request.auth
    qs, _applied = organizations_for(user, filters.dict())
    editable = Organization.objects.editable_by(user).filter(pk=OuterRef("pk"))
    qs = _with_collaborators(
        qs.select_related("industry", "district", "chain_node__parent__parent", "owner", "team")
    ).annotate(can_change=Exists(editable))
    return Mapped(qs, rows=_org_rows(user))


def _org_rows(user: User) -> Any:
    """One page of organizations in the answer's shape; ``can_change`` and the collaborators come
    with the rows (``list_organizations``)."""

    def rows(orgs: list[Organization]) -> list[dict[str, Any]]:
        return [_org_out(org, user, {org.pk} if org.can_change else set()) for org in orgs]

    return rows


@router.post("/organizations", response={201: OrganizationOut}, summary="Register an organization")
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Status:
    user = request.auth
    if not access.can_create_organization(user):
        raise PermissionDenied
    form = OrganizationForm(_org_form_data(payload.dict()), user=user)
    if not form.is_valid():
        raise _form_error(form)
    org = actions.create_organization(actor=user, data=form.action_data())
    return Status(201, _org_out(_org_queryset().get(pk=org.pk), user))


@router.get("/organizations/{code}", response=OrganizationOut)
def get_organization(request: HttpRequest, code: UUID) -> dict[str, Any]:
    org = access.get_visible_or_404(_org_queryset(), request.auth, code=code)
    return _org_out(org, request.auth)


@router.patch("/organizations/{code}", response=OrganizationOut, summary="Change some fields")
def patch_organization(request: HttpRequest, code: UUID, payload: OrganizationPatch) -> dict[str, Any]:
    user = request.auth
    org = access.get_visible_or_404(_org_queryset(), user, code=code)
    if not access.can_change_organization(user, org):
        raise PermissionDenied
    current = _org_out(org, user)
    merged = {
        "name": org.name,
        "uscc": org.uscc,
        "org_type": org.org_type,
        "industry": org.industry.code if org.industry else None,
        "registered_capital": org.registered_capital,
        "registered_on": org.registered_on,
        "district": org.district.code if org.district else None,
        "address": org.address,
        "size_class": org.size_class,
        "is_above_scale": org.is_above_scale,
        "is_high_tech": org.is_high_tech,
        "is_specialized": org.is_specialized,
        "chain_node": org.chain_node.code if org.chain_node else None,
        "website": org.website,
        "description": org.description,
        "owner": current["owner"]["username"] if current["owner"] else None,
        "team": org.team.code if org.team else None,
        "collaborators": [c["username"] for c in current["collaborators"]],
    }
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    merged.update(changes)
    form = OrganizationForm(_org_form_data(merged), user=user, instance=org)
    if not form.is_valid():
        raise _form_error(form)
    data = form.action_data()
    # Only what the client sent (plus what the form normalized) is applied.
    data = {k: v for k, v in data.items() if k in changes or k == "name"}
    org = actions.update_organization(actor=user, org=org, data=data, version=version)
    return _org_out(_org_queryset().get(pk=org.pk), user)


@router.delete("/organizations/{code}", response={204: None})
def delete_organization(request: HttpRequest, code: UUID) -> Status:
    org = access.get_visible_or_404(Organization.objects.all(), request.auth, code=code)
    if not access.can_change_organization(request.auth, org):
        raise PermissionDenied
    actions.delete_organization(actor=request.auth, org=org)
    return Status(204, None)


@router.get("/organizations/{code}/audit", response=list[AuditOut], summary="The record's audit timeline")
def organization_audit(request: HttpRequest, code: UUID) -> list[dict[str, Any]]:
    org = access.get_visible_or_404(Organization.objects.all(), request.auth, code=code)
    return _audit_out(org, request.auth, reveal=access.can_change_organization(request.auth, org))


@router.get("/organizations/{code}/contacts", response=list[ContactOut])
def organization_contacts(request: HttpRequest, code: UUID) -> list[dict[str, Any]]:
    org = access.get_visible_or_404(Organization.objects.all(), request.auth, code=code)
    contacts = org.contacts.with_editable_flag(request.auth).select_related("organization", "owner")
    return [_contact_out(c, c.can_edit) for c in contacts]


# Contacts ------------------------------------------------------------------------------------


@router.get("/contacts", response={200: list[ContactOut], **LIST_ERRORS})
@paginate(Pagination)
def list_contacts(request: HttpRequest, q: str = "") -> Any:
    qs = (
        Contact.objects.visible_to(request.auth)
        .with_editable_flag(request.auth)
        .select_related("organization", "owner")
        .search(q, request.auth)
    )
    return Mapped(qs, lambda c: _contact_out(c, c.can_edit))


def _contact_form_data(payload: dict[str, Any], user: User) -> dict[str, Any]:
    data = dict(payload)
    org_code = payload.get("organization")
    if org_code:
        org = Organization.objects.visible_to(user).filter(code=org_code).first()
        if org is None:
            raise ActionError(_("未找到所属企业/机构。"), fields={"organization": [_("未找到该企业/机构。")]})
        data["organization"] = org.pk
    return data


@router.post("/contacts", response={201: ContactOut})
def create_contact(request: HttpRequest, payload: ContactIn) -> Status:
    user = request.auth
    if not access.can_create_organization(user):
        raise PermissionDenied
    form = ContactForm(_contact_form_data(payload.dict(), user), user=user)
    if not form.is_valid():
        raise _form_error(form)
    contact = actions.create_contact(actor=user, data=form.action_data())
    return Status(201, _contact_out(contact, True))


@router.get("/contacts/{code}", response=ContactOut)
def get_contact(request: HttpRequest, code: UUID) -> dict[str, Any]:
    contact = access.get_visible_or_404(
        Contact.objects.select_related("organization", "owner"), request.auth, code=code
    )
    return _contact_out(contact, access.can_change_contact(request.auth, contact))


@router.patch("/contacts/{code}", response=ContactOut)
def patch_contact(request: HttpRequest, code: UUID, payload: ContactPatch) -> dict[str, Any]:
    user = request.auth
    contact = access.get_visible_or_404(Contact.objects.select_related("organization"), user, code=code)
    if not access.can_change_contact(user, contact):
        raise PermissionDenied
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    merged = {
        "organization": contact.organization.code if contact.organization else None,
        "name": contact.name,
        "position": contact.position,
        "mobile": contact.mobile,
        "email": contact.email,
        "is_primary": contact.is_primary,
        "notes": contact.notes,
        **changes,
    }
    form = ContactForm(_contact_form_data(merged, user), user=user, instance=contact)
    if not form.is_valid():
        raise _form_error(form)
    data = {k: v for k, v in form.action_data().items() if k in changes}
    contact = actions.update_contact(actor=user, contact=contact, data=data, version=version)
    return _contact_out(contact, True)


@router.delete("/contacts/{code}", response={204: None})
def delete_contact(request: HttpRequest, code: UUID) -> Status:
    contact = access.get_visible_or_404(Contact.objects.all(), request.auth, code=code)
    if not access.can_change_contact(request.auth, contact):
        raise PermissionDenied
    actions.delete_contact(actor=request.auth, contact=contact)
    return Status(204, None)


@router.get("/contacts/{code}/audit", response=list[AuditOut])
def contact_audit(request: HttpRequest, code: UUID) -> list[dict[str, Any]]:
    contact = access.get_visible_or_404(Contact.objects.all(), request.auth, code=code)
    return _audit_out(contact, request.auth, reveal=access.can_change_contact(request.auth, contact))


# Reference data ------------------------------------------------------------------------------


@router.get("/chain-nodes", response=list[ChainNodeOut], summary="The industry chain, depth first")
def list_chain_nodes(request: HttpRequest) -> list[dict[str, Any]]:
    if not access.is_staff_member(request.auth):
        raise PermissionDenied
    counts = dict(ChainNode.objects.with_counts(request.auth).values_list("pk", "org_count"))
    nodes = chain_choices()
    codes = {n.pk: n.code for n in nodes}
    return [
        {
            "code": n.code,
            "name": n.name,
            "name_en": n.name_en,
            "kind": n.kind,
            "parent": codes.get(n.parent_id),
            "depth": n.depth,
            "organizations": counts.get(n.pk, 0),
        }
        for n in nodes
    ]


@router.get("/industry-codes", response=list[IndustryOut], summary="GB/T 4754-2017 codes the park uses")
def list_industry_codes(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"code": i.code, "name": i.name, "level": i.level, "parent": i.parent_code}
        for i in IndustryCode.objects.all()
    ]


@router.get("/districts", response=list[CodeName], summary="Administrative division codes")
def list_districts(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"code": d.code, "name": d.full_name} for d in District.objects.all()]
