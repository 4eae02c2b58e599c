"""Every console URL and API route, for every persona: the status it must answer, and for a
refused change, proof that nothing changed.

Adding a route without an entry here fails ``test_every_route_has_a_matrix_entry``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db.models import Max, Sum
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import PERSONAS, Park, client_for
from tests.factories import ChainNodeFactory
from yimatong.accounts import actions as account_actions
from yimatong.accounts.models import ApiToken, AuditEntry, User
from yimatong.api import api
from yimatong.directory.models import ChainNode, Contact, Organization
from yimatong.exports import actions as export_actions
from yimatong.exports.models import Export

STAFF = {"admin", "leader", "teamlead", "owner", "colleague", "other_team", "service"}
CONSOLE = STAFF | {"enterprise"}
CREATORS = {"admin", "teamlead", "owner", "colleague", "other_team"}


def expect(
    ok: set[str],
    status: int = 200,
    *,
    forbidden: set[str] = frozenset(),
    hidden: set[str] = frozenset(),
    anonymous: int = 302,
    outsider: int = 403,
    **special: int,
) -> dict[str, int]:
    """Statuses per persona: ``ok`` get ``status``, ``forbidden`` 403, ``hidden`` 404, the
    anonymous visitor ``anonymous``; everyone else (including the investor) ``outsider``."""
    table = {p: outsider for p in PERSONAS}
    table["anonymous"] = anonymous
    table.update({p: status for p in ok})
    table.update({p: 403 for p in forbidden})
    table.update({p: 404 for p in hidden})
    table.update(special)
    return table


def api_expect(
    ok: set[str], status: int = 200, *, forbidden: set[str] = frozenset(), hidden: set[str] = frozenset()
) -> dict[str, int]:
    """API: no session or a non-console account is 401, not a redirect."""
    return expect(ok, status, forbidden=forbidden, hidden=hidden, anonymous=401, investor=401)


# The prospect is owned by "owner" (biologics team); "teamlead" leads that team.
PROSPECT_VIEWERS = {"admin", "leader", "teamlead", "owner"}
PROSPECT_OUTSIDERS = {"colleague", "other_team", "service", "enterprise"}
PROSPECT_EDITORS = {"admin", "teamlead", "owner"}
# The shared prospect is owned by "other_team" and shared with "owner".
SHARED_EDITORS = {"admin", "teamlead", "owner", "other_team"}
SHARED_OUTSIDERS = {"colleague", "service", "enterprise"}


@dataclass
class Case:
    key: str  # URL name, or "METHOD /api/v1/path"
    method: str
    url: Callable[[Park], str]
    expected: dict[str, int]
    data: Callable[[Park], dict[str, Any]] | None = None
    json: bool = False
    setup: Callable[[Park], Any] | None = None
    tags: list[str] = field(default_factory=list)


def new_org_form(park: Park) -> dict[str, Any]:
    return {
        "name": "杭州新药研究有限公司",
        "org_type": "prospect",
        "uscc": "",
        "chain_node": park.antibody.pk,
    }


def org_edit_form(park: Park) -> dict[str, Any]:
    return {
        "name": park.prospect.name,
        "org_type": "prospect",
        "uscc": park.prospect.uscc,
        "chain_node": park.antibody.pk,
        "address": "江苏省苏州市工业园区 1 号",
        "version": park.prospect.version,
    }


def contact_form(park: Park) -> dict[str, Any]:
    return {"name": "吴经理", "mobile": "13700001111", "position": "经理"}


def chain_form(park: Park) -> dict[str, Any]:
    return {"name": "新环节", "kind": "core", "parent": park.biologics.pk, "position": 9}


def leaf_node(park: Park) -> ChainNode:
    return ChainNodeFactory(code="cold-chain", name="冷链物流", parent=park.devices)


def own_token(park: Park) -> ApiToken:
    token, _raw = account_actions.create_api_token(park.users["owner"], name="对接")
    return token


def owners_export(park: Park) -> Export:
    export = Export.objects.create(kind="organizations", params={}, requested_by=park.users["owner"])
    export_actions.build(export.pk)
    return export


def locked_user(park: Park) -> User:
    User.objects.filter(pk=park.users["colleague"].pk).update(
        failed_login_count=0, locked_until="2099-01-01T00:00Z"
    )
    return park.users["colleague"]


# Investment objects, created per test by the URL functions below ---------------------------


def calendar_day(park: Park) -> Any:
    from yimatong.services.models import WorkCalendarDay

    return WorkCalendarDay.objects.create(date=dt.date(2027, 10, 9), is_workday=True, note="国庆调休上班")


def owned_lead(park: Park) -> Any:
    from yimatong.investment.actions.leads import create_lead

    return create_lead(actor=park.users["owner"], data={"company_name": "杭州新药研究有限公司"}, source={})


def pool_lead(park: Park) -> Any:
    from yimatong.investment.actions.leads import create_lead

    return create_lead(actor=None, data={"company_name": "无锡新药研究有限公司"}, source={"channel": "expo"})


def project(park: Park) -> Any:
    from yimatong.investment.actions.projects import create_project

    return create_project(
        actor=park.users["owner"],
        data={
            "name": "启明双抗生产基地",
            "organization": park.prospect,
            "owner": park.users["owner"],
            "chain_node": park.antibody,
        },
    )


def dispatched(park: Park, kind: str) -> Any:
    """A milestone or problem of the owner's project, dispatched to the service department."""
    import datetime as dt

    from yimatong.investment.actions.work import add_milestone, raise_problem

    target = project(park)
    department = park.users["service"].department
    if kind == "milestone":
        return add_milestone(
            actor=park.users["owner"],
            project=target,
            data={"name": "取得施工许可", "planned_on": dt.date(2026, 12, 1), "department": department},
        )
    return raise_problem(
        actor=park.users["owner"],
        project=target,
        data={"description": "用地指标", "department": department, "deadline": dt.date(2026, 12, 1)},
    )


def document(park: Park) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yimatong.investment.actions.work import upload_document

    version = upload_document(
        actor=park.users["owner"],
        project=project(park),
        kind="business_plan",
        title="商业计划书",
        visibility="team",
        upload=SimpleUploadedFile("bp.pdf", b"%PDF-1.4 test", "application/pdf"),
    )
    return version.document


def visit(park: Park) -> Any:
    import datetime as dt

    from django.utils import timezone

    from yimatong.investment.actions.work import schedule_visit

    start = timezone.now() + dt.timedelta(days=3)
    return schedule_visit(
        actor=park.users["owner"],
        project=project(park),
        data={"title": "来园考察", "starts_at": start, "ends_at": start + dt.timedelta(hours=2)},
    )


def own_filter(park: Park) -> Any:
    from yimatong.investment.models import SavedFilter

    return SavedFilter.objects.create(owner=park.users["owner"], name="我的签约", query="stage=signed")


def own_notification(park: Park) -> Any:
    from yimatong.notifications.models import Notification

    return Notification.objects.create(
        recipient=park.users["owner"], kind="supervision", key="k", title="督办", url="/"
    )


def score_item(park: Park) -> Any:
    from yimatong.investment.models import ScoreItem

    return ScoreItem.objects.create(
        name="投资强度", kind="measured", metric="investment_intensity", thresholds=[[100, 5]], max_points=17
    )


def own_ledger(park: Park) -> Any:
    from yimatong.investment.models import LedgerImport

    return LedgerImport.objects.create(
        uploaded_by=park.users["owner"], original_name="台账.xlsx", status="checked", file="imports/none.xlsx"
    )


def pdf_upload(name: str = "plan.pdf") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"%PDF-1.4 matrix", "application/pdf")


INVESTORS_VIEW = {"admin", "leader", "teamlead", "owner"}
LEAD_EDITORS = {"admin", "teamlead", "owner"}
LEAD_OUTSIDERS = {"colleague", "other_team", "service"}
PROMOTERS = {"admin", "teamlead", "owner", "colleague", "other_team"}


CASES: list[Case] = [
    # Project-level pages -----------------------------------------------------------------
    # An enterprise user's home is their own company's page.
    Case("home", "GET", lambda p: reverse("home"), expect(STAFF, enterprise=302)),
    Case("search", "GET", lambda p: reverse("search") + "?q=zxjt", expect(CONSOLE)),
    Case("healthz", "GET", lambda p: reverse("healthz"), {p: 200 for p in PERSONAS}),
    Case("readyz", "GET", lambda p: reverse("readyz"), {p: 200 for p in PERSONAS}),
    Case(
        "set_language",
        "POST",
        lambda p: reverse("set_language"),
        {p: 302 for p in PERSONAS},
        data=lambda p: {"language": "en", "next": "/"},
    ),
    # Accounts ------------------------------------------------------------------------------
    Case(
        "accounts:login",
        "GET",
        lambda p: reverse("accounts:login"),
        {**{p: 302 for p in CONSOLE}, "anonymous": 200, "investor": 200},
    ),
    Case("accounts:logout", "POST", lambda p: reverse("accounts:logout"), {p: 302 for p in PERSONAS}),
    Case("accounts:password_change", "GET", lambda p: reverse("accounts:password_change"), expect(CONSOLE)),
    Case("accounts:api_tokens", "GET", lambda p: reverse("accounts:api_tokens"), expect(STAFF)),
    Case(
        "accounts:api_token_revoke",
        "POST",
        lambda p: reverse("accounts:api_token_revoke", args=[own_token(p).pk]),
        expect({"owner"}, 302, hidden=STAFF - {"owner"}),
    ),
    Case(
        "accounts:audit_log",
        "GET",
        lambda p: reverse("accounts:audit_log"),
        expect({"admin", "leader"}, forbidden=STAFF - {"admin", "leader"}),
    ),
    Case("accounts:user_list", "GET", lambda p: reverse("accounts:user_list"), expect(STAFF)),
    Case(
        "accounts:user_unlock",
        "POST",
        lambda p: reverse("accounts:user_unlock", args=[locked_user(p).pk]),
        expect({"admin"}, 302, forbidden=STAFF - {"admin"}),
    ),
    # Organizations -------------------------------------------------------------------------
    Case(
        "directory:organization_list",
        "GET",
        lambda p: reverse("directory:organization_list"),
        expect(CONSOLE),
    ),
    Case(
        "directory:organization_create",
        "GET",
        lambda p: reverse("directory:organization_create"),
        expect(CREATORS, forbidden={"leader", "service", "enterprise"}),
    ),
    Case(
        "directory:organization_create",
        "POST",
        lambda p: reverse("directory:organization_create"),
        expect(CREATORS, 302, forbidden={"leader", "service", "enterprise"}),
        data=new_org_form,
    ),
    Case(
        "directory:organization_validate",
        "POST",
        lambda p: reverse("directory:organization_validate"),
        expect(CREATORS, forbidden={"leader", "service", "enterprise"}),
        data=new_org_form,
    ),
    Case(
        "directory:organization_detail",
        "GET",
        lambda p: p.prospect.get_absolute_url(),
        expect(PROSPECT_VIEWERS, hidden=PROSPECT_OUTSIDERS),
    ),
    Case(
        "directory:organization_detail",
        "GET",
        lambda p: p.resident.get_absolute_url(),
        expect(CONSOLE),
        tags=["resident"],
    ),
    Case(
        "directory:organization_edit",
        "GET",
        lambda p: reverse("directory:organization_edit", args=[p.prospect.code]),
        expect(PROSPECT_EDITORS, forbidden={"leader"}, hidden=PROSPECT_OUTSIDERS),
    ),
    Case(
        "directory:organization_edit",
        "POST",
        lambda p: reverse("directory:organization_edit", args=[p.prospect.code]),
        expect(PROSPECT_EDITORS, 302, forbidden={"leader"}, hidden=PROSPECT_OUTSIDERS),
        data=org_edit_form,
    ),
    Case(
        "directory:organization_edit",
        "GET",
        lambda p: reverse("directory:organization_edit", args=[p.resident.code]),
        expect({"admin"}, forbidden=CONSOLE - {"admin"}),
        tags=["resident"],
    ),
    Case(
        "directory:organization_delete",
        "GET",
        lambda p: reverse("directory:organization_delete", args=[p.shared_prospect.code]),
        expect(SHARED_EDITORS, forbidden={"leader"}, hidden=SHARED_OUTSIDERS),
    ),
    Case(
        "directory:organization_delete",
        "POST",
        lambda p: reverse("directory:organization_delete", args=[p.shared_prospect.code]),
        expect(SHARED_EDITORS, 302, forbidden={"leader"}, hidden=SHARED_OUTSIDERS),
    ),
    # Contacts --------------------------------------------------------------------------------
    Case("directory:contact_list", "GET", lambda p: reverse("directory:contact_list"), expect(CONSOLE)),
    Case(
        "directory:contact_create",
        "GET",
        lambda p: reverse("directory:contact_create"),
        expect(CREATORS, forbidden={"leader", "service", "enterprise"}),
    ),
    Case(
        "directory:contact_create",
        "POST",
        lambda p: reverse("directory:contact_create"),
        expect(CREATORS, 302, forbidden={"leader", "service", "enterprise"}),
        data=contact_form,
    ),
    Case(
        "directory:contact_detail",
        "GET",
        lambda p: p.prospect_contact.get_absolute_url(),
        expect(PROSPECT_VIEWERS, hidden=PROSPECT_OUTSIDERS),
    ),
    Case(
        "directory:contact_edit",
        "GET",
        lambda p: reverse("directory:contact_edit", args=[p.prospect_contact.code]),
        expect(PROSPECT_EDITORS, forbidden={"leader"}, hidden=PROSPECT_OUTSIDERS),
    ),
    Case(
        "directory:contact_edit",
        "POST",
        lambda p: reverse("directory:contact_edit", args=[p.prospect_contact.code]),
        expect(PROSPECT_EDITORS, 302, forbidden={"leader"}, hidden=PROSPECT_OUTSIDERS),
        data=lambda p: {
            "organization": p.prospect.pk,
            "name": "陈投资",
            "mobile": "13812345679",
            "version": p.prospect_contact.version,
        },
    ),
    Case(
        "directory:contact_delete",
        "GET",
        lambda p: reverse("directory:contact_delete", args=[p.prospect_contact.code]),
        expect(PROSPECT_EDITORS, forbidden={"leader"}, hidden=PROSPECT_OUTSIDERS),
    ),
    Case(
        "directory:contact_delete",
        "POST",
        lambda p: reverse("directory:contact_delete", args=[p.prospect_contact.code]),
        expect(PROSPECT_EDITORS, 302, forbidden={"leader"}, hidden=PROSPECT_OUTSIDERS),
    ),
    # Industry chain --------------------------------------------------------------------------
    Case("directory:chain", "GET", lambda p: reverse("directory:chain"), expect(STAFF)),
    Case(
        "directory:chain_node_create",
        "GET",
        lambda p: reverse("directory:chain_node_create"),
        expect({"admin"}, forbidden=STAFF - {"admin"}),
    ),
    Case(
        "directory:chain_node_create",
        "POST",
        lambda p: reverse("directory:chain_node_create"),
        expect({"admin"}, 302, forbidden=STAFF - {"admin"}),
        data=chain_form,
    ),
    Case(
        "directory:chain_node_edit",
        "GET",
        lambda p: reverse("directory:chain_node_edit", args=[p.antibody.pk]),
        expect({"admin"}, forbidden=STAFF - {"admin"}),
    ),
    Case(
        "directory:chain_node_edit",
        "POST",
        lambda p: reverse("directory:chain_node_edit", args=[p.antibody.pk]),
        expect({"admin"}, 302, forbidden=STAFF - {"admin"}),
        data=lambda p: {
            "name": "抗体药物",
            "name_en": "Antibodies",
            "kind": "core",
            "parent": p.biologics.pk,
            "position": 1,
        },
    ),
    Case(
        "directory:chain_node_delete",
        "GET",
        lambda p: reverse("directory:chain_node_delete", args=[leaf_node(p).pk]),
        expect({"admin"}, forbidden=STAFF - {"admin"}),
    ),
    Case(
        "directory:chain_node_delete",
        "POST",
        lambda p: reverse("directory:chain_node_delete", args=[leaf_node(p).pk]),
        expect({"admin"}, 302, forbidden=STAFF - {"admin"}),
    ),
    # Exports --------------------------------------------------------------------------------
    Case("exports:list", "GET", lambda p: reverse("exports:list"), expect(STAFF)),
    Case(
        "exports:create",
        "POST",
        lambda p: reverse("exports:create"),
        expect(STAFF, 302),
        data=lambda p: {"kind": "organizations"},
    ),
    Case(
        "exports:download",
        "GET",
        lambda p: reverse("exports:download", args=[owners_export(p).code]),
        expect({"owner"}, hidden=STAFF - {"owner"}),
    ),
    # Leads ------------------------------------------------------------------------------------
    Case(
        "investment:lead_list",
        "GET",
        lambda p: reverse("investment:lead_list"),
        expect(PROMOTERS | {"leader"}, forbidden={"service"}),
    ),
    Case(
        "investment:lead_create",
        "GET",
        lambda p: reverse("investment:lead_create"),
        expect(PROMOTERS, forbidden={"leader", "service"}),
    ),
    Case(
        "investment:lead_create",
        "POST",
        lambda p: reverse("investment:lead_create"),
        expect(PROMOTERS, 302, forbidden={"leader", "service"}),
        data=lambda p: {"company_name": "南通新药研究有限公司", "channel": "expo"},
    ),
    Case(
        "investment:lead_detail",
        "GET",
        lambda p: owned_lead(p).get_absolute_url(),
        expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS),
    ),
    Case(
        "investment:lead_edit",
        "GET",
        lambda p: reverse("investment:lead_edit", args=[owned_lead(p).code]),
        expect(LEAD_EDITORS, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
    ),
    Case(
        "investment:lead_claim",
        "POST",
        lambda p: reverse("investment:lead_claim", args=[pool_lead(p).code]),
        expect(
            {"teamlead", "owner", "colleague", "other_team"},
            302,
            forbidden={"admin", "leader"},
            hidden={"service"},
        ),
    ),
    Case(
        "investment:lead_assign",
        "POST",
        lambda p: reverse("investment:lead_assign", args=[owned_lead(p).code]),
        expect({"admin", "teamlead"}, 302, forbidden={"leader", "owner"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"owner": p.users["colleague"].pk},
    ),
    Case(
        "investment:lead_release",
        "POST",
        lambda p: reverse("investment:lead_release", args=[owned_lead(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"reason": "不对口"},
    ),
    Case(
        "investment:lead_note",
        "POST",
        lambda p: reverse("investment:lead_note", args=[owned_lead(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"text": "电话沟通"},
    ),
    Case(
        "investment:lead_activity_create",
        "POST",
        lambda p: reverse("investment:lead_activity_create", args=[owned_lead(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"kind": "call", "summary": "首次电话", "occurred_on": "2026-11-20"},
    ),
    Case(
        "investment:lead_discard",
        "POST",
        lambda p: reverse("investment:lead_discard", args=[owned_lead(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"reason": "重复"},
    ),
    Case(
        "investment:lead_merge",
        "GET",
        lambda p: reverse("investment:lead_merge", args=[owned_lead(p).code]),
        expect(LEAD_EDITORS, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
    ),
    Case(
        "investment:lead_qualify",
        "GET",
        lambda p: reverse("investment:lead_qualify", args=[owned_lead(p).code]),
        expect(LEAD_EDITORS, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
    ),
    # Projects ---------------------------------------------------------------------------------
    Case("investment:project_list", "GET", lambda p: reverse("investment:project_list"), expect(STAFF)),
    Case("investment:project_board", "GET", lambda p: reverse("investment:project_board"), expect(STAFF)),
    Case(
        "investment:project_create",
        "GET",
        lambda p: reverse("investment:project_create"),
        expect(PROMOTERS, forbidden={"leader", "service"}),
    ),
    Case(
        "investment:project_create",
        "POST",
        lambda p: reverse("investment:project_create"),
        expect(PROMOTERS - {"colleague"}, 302, forbidden={"leader", "service"}, colleague=400),
        data=lambda p: {
            "name": "金陵诊断西南基地",
            "organization": p.shared_prospect.pk,
            "stage": "contact",
            "source_channel": "staff",
            "priority": "b",
        },
    ),
    Case(
        "investment:project_detail",
        "GET",
        lambda p: project(p).get_absolute_url(),
        expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS),
    ),
    Case(
        "investment:project_edit",
        "GET",
        lambda p: reverse("investment:project_edit", args=[project(p).code]),
        expect(LEAD_EDITORS, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
    ),
    Case(
        "investment:project_move",
        "GET",
        lambda p: reverse("investment:project_move", args=[project(p).code]) + "?to=visit",
        expect(LEAD_EDITORS, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
    ),
    Case(
        "investment:project_move",
        "POST",
        lambda p: reverse("investment:project_move", args=[project(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"to": "visit", "expected_stage": "contact"},
    ),
    Case(
        "investment:project_contract",
        "POST",
        lambda p: reverse("investment:project_contract", args=[project(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {
            "agreement_type": "formal",
            "signed_on": "2026-01-01",
            "contracted_investment": "100",
        },
    ),
    Case(
        "investment:project_supervise",
        "POST",
        lambda p: reverse("investment:project_supervise", args=[project(p).code]),
        expect({"admin", "leader"}, 302, forbidden={"teamlead", "owner"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"note": "两周内解决用地"},
    ),
    Case(
        "investment:project_major",
        "POST",
        lambda p: reverse("investment:project_major", args=[project(p).code]),
        expect({"admin", "leader", "teamlead"}, 302, forbidden={"owner"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"is_major": "1"},
    ),
    Case(
        "investment:project_qr",
        "GET",
        lambda p: reverse("investment:project_qr", args=[project(p).code, "svg"]),
        expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS),
    ),
    Case(
        "investment:activity_create",
        "POST",
        lambda p: reverse("investment:activity_create", args=[project(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"kind": "visit", "summary": "拜访", "occurred_on": "2026-11-20"},
    ),
    Case(
        "investment:visit_create",
        "POST",
        lambda p: reverse("investment:visit_create", args=[project(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {
            "title": "来园考察",
            "starts_at": "2026-12-01T09:00",
            "ends_at": "2026-12-01T11:00",
            "visitor_count": 3,
        },
    ),
    Case(
        "investment:visit_status",
        "POST",
        lambda p: reverse("investment:visit_status", args=[visit(p).pk]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"status": "done"},
    ),
    Case(
        "investment:document_create",
        "POST",
        lambda p: reverse("investment:document_create", args=[project(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {
            "kind": "business_plan",
            "title": "商业计划书",
            "visibility": "team",
            "file": pdf_upload(),
        },
    ),
    Case(
        "investment:document_version",
        "POST",
        lambda p: (lambda d: reverse("investment:document_version", args=[d.project.code, d.code]))(
            document(p)
        ),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"file": pdf_upload("v2.pdf")},
    ),
    Case(
        "investment:document_download",
        "GET",
        lambda p: (lambda d: reverse("investment:document_download", args=[d.project.code, d.code, 1]))(
            document(p)
        ),
        expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS),
    ),
    Case(
        "investment:capital_create",
        "POST",
        lambda p: reverse("investment:capital_create", args=[project(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"arrived_on": "2026-11-01", "amount": "1000"},
    ),
    Case(
        "investment:milestone_create",
        "POST",
        lambda p: reverse("investment:milestone_create", args=[project(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {"name": "土地摘牌", "planned_on": "2026-12-31"},
    ),
    Case(
        "investment:problem_create",
        "POST",
        lambda p: reverse("investment:problem_create", args=[project(p).code]),
        expect(LEAD_EDITORS, 302, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
        data=lambda p: {
            "description": "电力增容",
            "department": p.users["service"].department_id,
            "deadline": "2026-12-31",
            "status": "open",
        },
    ),
    Case(
        "investment:admission_review",
        "GET",
        lambda p: reverse("investment:admission_review", args=[project(p).code]),
        expect(LEAD_EDITORS, forbidden={"leader"}, hidden=LEAD_OUTSIDERS),
    ),
    # Dispatched to the service department: its staff see the project and update the item.
    Case(
        "investment:milestone_edit",
        "GET",
        lambda p: reverse("investment:milestone_edit", args=[dispatched(p, "milestone").pk]),
        expect(LEAD_EDITORS | {"service"}, forbidden={"leader"}, hidden={"colleague", "other_team"}),
    ),
    Case(
        "investment:problem_edit",
        "GET",
        lambda p: reverse("investment:problem_edit", args=[dispatched(p, "problem").pk]),
        expect(LEAD_EDITORS | {"service"}, forbidden={"leader"}, hidden={"colleague", "other_team"}),
    ),
    Case("investment:calendar", "GET", lambda p: reverse("investment:calendar"), expect(STAFF)),
    Case("investment:supervision", "GET", lambda p: reverse("investment:supervision"), expect(STAFF)),
    Case("investment:major", "GET", lambda p: reverse("investment:major"), expect(STAFF)),
    Case("investment:numbers", "GET", lambda p: reverse("investment:numbers"), expect(STAFF)),
    Case(
        "investment:filter_save",
        "POST",
        lambda p: reverse("investment:filter_save"),
        expect(STAFF, 302),
        data=lambda p: {"name": "签约项目", "query": "stage=signed"},
    ),
    Case(
        "investment:filter_delete",
        "POST",
        lambda p: reverse("investment:filter_delete", args=[own_filter(p).pk]),
        expect({"owner"}, 302, hidden=STAFF - {"owner"}),
    ),
    Case(
        "investment:settings",
        "GET",
        lambda p: reverse("investment:settings"),
        expect({"admin"}, forbidden=STAFF - {"admin"}),
    ),
    Case(
        "investment:score_item_create",
        "GET",
        lambda p: reverse("investment:score_item_create"),
        expect({"admin"}, forbidden=STAFF - {"admin"}),
    ),
    Case(
        "investment:score_item_edit",
        "GET",
        lambda p: reverse("investment:score_item_edit", args=[score_item(p).pk]),
        expect({"admin"}, forbidden=STAFF - {"admin"}),
    ),
    Case(
        "investment:ledger_template",
        "GET",
        lambda p: reverse("investment:ledger_template"),
        expect(PROMOTERS, forbidden={"leader", "service"}),
    ),
    Case(
        "investment:ledger_import",
        "GET",
        lambda p: reverse("investment:ledger_import"),
        expect(PROMOTERS, forbidden={"leader", "service"}),
    ),
    Case(
        "investment:ledger_import_detail",
        "GET",
        lambda p: reverse("investment:ledger_import_detail", args=[own_ledger(p).code]),
        expect({"owner"}, forbidden={"leader", "service"}, hidden=PROMOTERS - {"owner"}),
    ),
    Case(
        "investment:ledger_import_confirm",
        "POST",
        lambda p: reverse("investment:ledger_import_confirm", args=[own_ledger(p).code]),
        expect({"owner"}, 302, forbidden={"leader", "service"}, hidden=PROMOTERS - {"owner"}),
        data=lambda p: {"mode": "valid"},
    ),
    # A project's one-code: staff who may see the project get its record, nobody else learns anything.
    Case(
        "project_onecode",
        "GET",
        lambda p: reverse("project_onecode", args=[project(p).qr_token]),
        {**{persona: 404 for persona in PERSONAS}, **{persona: 302 for persona in INVESTORS_VIEW}},
    ),
    # Notifications ----------------------------------------------------------------------------
    Case("notifications:list", "GET", lambda p: reverse("notifications:list"), expect(CONSOLE)),
    Case("notifications:bell", "GET", lambda p: reverse("notifications:bell"), expect(CONSOLE)),
    Case(
        "notifications:open",
        "POST",
        lambda p: reverse("notifications:open", args=[own_notification(p).pk]),
        expect({"owner"}, 302, hidden=CONSOLE - {"owner"}),
    ),
    Case("notifications:read_all", "POST", lambda p: reverse("notifications:read_all"), expect(CONSOLE, 302)),
    # API documentation is public (it describes the API, it holds no data) -------------------
    Case("api:openapi-json", "GET", lambda p: reverse("api:openapi-json"), {p: 200 for p in PERSONAS}),
    Case("api:openapi-view", "GET", lambda p: reverse("api:openapi-view"), {p: 200 for p in PERSONAS}),
    # API -------------------------------------------------------------------------------------
    Case("GET /api/v1/me", "GET", lambda p: "/api/v1/me", api_expect(CONSOLE)),
    Case("GET /api/v1/organizations", "GET", lambda p: "/api/v1/organizations", api_expect(CONSOLE)),
    Case(
        "POST /api/v1/organizations",
        "POST",
        lambda p: "/api/v1/organizations",
        api_expect(CREATORS, 201, forbidden={"leader", "service", "enterprise"}),
        json=True,
        data=lambda p: {"name": "杭州新药研究有限公司", "org_type": "prospect", "chain_node": "antibody"},
    ),
    Case(
        "GET /api/v1/organizations/{code}",
        "GET",
        lambda p: f"/api/v1/organizations/{p.prospect.code}",
        api_expect(PROSPECT_VIEWERS, hidden=PROSPECT_OUTSIDERS),
    ),
    Case(
        "PATCH /api/v1/organizations/{code}",
        "PATCH",
        lambda p: f"/api/v1/organizations/{p.prospect.code}",
        api_expect(PROSPECT_EDITORS, forbidden={"leader"}, hidden=PROSPECT_OUTSIDERS),
        json=True,
        data=lambda p: {"address": "江苏省苏州市工业园区 1 号"},
    ),
    Case(
        "DELETE /api/v1/organizations/{code}",
        "DELETE",
        lambda p: f"/api/v1/organizations/{p.shared_prospect.code}",
        api_expect(SHARED_EDITORS, 204, forbidden={"leader"}, hidden=SHARED_OUTSIDERS),
    ),
    Case(
        "GET /api/v1/organizations/{code}/audit",
        "GET",
        lambda p: f"/api/v1/organizations/{p.prospect.code}/audit",
        api_expect(PROSPECT_VIEWERS, hidden=PROSPECT_OUTSIDERS),
    ),
    Case(
        "GET /api/v1/organizations/{code}/contacts",
        "GET",
        lambda p: f"/api/v1/organizations/{p.prospect.code}/contacts",
        api_expect(PROSPECT_VIEWERS, hidden=PROSPECT_OUTSIDERS),
    ),
    Case("GET /api/v1/contacts", "GET", lambda p: "/api/v1/contacts", api_expect(CONSOLE)),
    Case(
        "POST /api/v1/contacts",
        "POST",
        lambda p: "/api/v1/contacts",
        api_expect(CREATORS, 201, forbidden={"leader", "service", "enterprise"}),
        json=True,
        data=lambda p: {"name": "吴经理", "mobile": "13700001111"},
    ),
    Case(
        "GET /api/v1/contacts/{code}",
        "GET",
        lambda p: f"/api/v1/contacts/{p.prospect_contact.code}",
        api_expect(PROSPECT_VIEWERS, hidden=PROSPECT_OUTSIDERS),
    ),
    Case(
        "PATCH /api/v1/contacts/{code}",
        "PATCH",
        lambda p: f"/api/v1/contacts/{p.prospect_contact.code}",
        api_expect(PROSPECT_EDITORS, forbidden={"leader"}, hidden=PROSPECT_OUTSIDERS),
        json=True,
        data=lambda p: {"position": "副总裁"},
    ),
    Case(
        "DELETE /api/v1/contacts/{code}",
        "DELETE",
        lambda p: f"/api/v1/contacts/{p.prospect_contact.code}",
        api_expect(PROSPECT_EDITORS, 204, forbidden={"leader"}, hidden=PROSPECT_OUTSIDERS),
    ),
    Case(
        "GET /api/v1/contacts/{code}/audit",
        "GET",
        lambda p: f"/api/v1/contacts/{p.prospect_contact.code}/audit",
        api_expect(PROSPECT_VIEWERS, hidden=PROSPECT_OUTSIDERS),
    ),
    Case("GET /api/v1/chain-nodes", "GET", lambda p: "/api/v1/chain-nodes", api_expect(STAFF)),
    Case("GET /api/v1/industry-codes", "GET", lambda p: "/api/v1/industry-codes", api_expect(CONSOLE)),
    Case("GET /api/v1/districts", "GET", lambda p: "/api/v1/districts", api_expect(CONSOLE)),
    # Investment API ---------------------------------------------------------------------------
    Case(
        "GET /api/v1/leads",
        "GET",
        lambda p: "/api/v1/leads",
        api_expect(PROMOTERS | {"leader"}, forbidden={"service", "enterprise"}),
    ),
    Case(
        "POST /api/v1/leads",
        "POST",
        lambda p: "/api/v1/leads",
        api_expect(PROMOTERS, 201, forbidden={"leader", "service", "enterprise"}),
        json=True,
        data=lambda p: {"company_name": "南通新药研究有限公司", "channel": "expo"},
    ),
    Case(
        "GET /api/v1/leads/{code}",
        "GET",
        lambda p: f"/api/v1/leads/{owned_lead(p).code}",
        api_expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS | {"enterprise"}),
    ),
    Case(
        "POST /api/v1/leads/{code}/claim",
        "POST",
        lambda p: f"/api/v1/leads/{pool_lead(p).code}/claim",
        api_expect(
            {"teamlead", "owner", "colleague", "other_team"},
            forbidden={"admin", "leader"},
            hidden={"service", "enterprise"},
        ),
    ),
    Case(
        "POST /api/v1/leads/{code}/assign",
        "POST",
        lambda p: f"/api/v1/leads/{owned_lead(p).code}/assign",
        api_expect(
            {"admin", "teamlead"}, forbidden={"leader", "owner"}, hidden=LEAD_OUTSIDERS | {"enterprise"}
        ),
        json=True,
        data=lambda p: {"owner": "colleague"},
    ),
    Case(
        "POST /api/v1/leads/{code}/qualify",
        "POST",
        lambda p: f"/api/v1/leads/{owned_lead(p).code}/qualify",
        api_expect(LEAD_EDITORS, 201, forbidden={"leader"}, hidden=LEAD_OUTSIDERS | {"enterprise"}),
        json=True,
        data=lambda p: {"stage": "contact"},
    ),
    Case(
        "GET /api/v1/projects",
        "GET",
        lambda p: "/api/v1/projects",
        api_expect(STAFF, forbidden={"enterprise"}),
    ),
    Case(
        "POST /api/v1/projects",
        "POST",
        lambda p: "/api/v1/projects",
        {
            **api_expect(PROMOTERS - {"colleague"}, 201, forbidden={"leader", "service", "enterprise"}),
            "colleague": 400,
        },
        json=True,
        data=lambda p: {"name": "金陵诊断西南基地", "organization": str(p.shared_prospect.code)},
    ),
    Case(
        "GET /api/v1/projects/{code}",
        "GET",
        lambda p: f"/api/v1/projects/{project(p).code}",
        api_expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS | {"enterprise"}),
    ),
    Case(
        "PATCH /api/v1/projects/{code}",
        "PATCH",
        lambda p: f"/api/v1/projects/{project(p).code}",
        api_expect(LEAD_EDITORS, forbidden={"leader"}, hidden=LEAD_OUTSIDERS | {"enterprise"}),
        json=True,
        data=lambda p: {"jobs": 300},
    ),
    Case(
        "POST /api/v1/projects/{code}/move",
        "POST",
        lambda p: f"/api/v1/projects/{project(p).code}/move",
        api_expect(LEAD_EDITORS, forbidden={"leader"}, hidden=LEAD_OUTSIDERS | {"enterprise"}),
        json=True,
        data=lambda p: {"to": "visit", "expected_stage": "contact"},
    ),
    Case(
        "GET /api/v1/projects/{code}/events",
        "GET",
        lambda p: f"/api/v1/projects/{project(p).code}/events",
        api_expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS | {"enterprise"}),
    ),
    Case(
        "GET /api/v1/projects/{code}/activities",
        "GET",
        lambda p: f"/api/v1/projects/{project(p).code}/activities",
        api_expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS | {"enterprise"}),
    ),
    Case(
        "POST /api/v1/projects/{code}/activities",
        "POST",
        lambda p: f"/api/v1/projects/{project(p).code}/activities",
        api_expect(LEAD_EDITORS, 201, forbidden={"leader"}, hidden=LEAD_OUTSIDERS | {"enterprise"}),
        json=True,
        data=lambda p: {"kind": "call", "occurred_on": "2026-11-20", "summary": "电话沟通"},
    ),
    Case(
        "GET /api/v1/projects/{code}/milestones",
        "GET",
        lambda p: f"/api/v1/projects/{project(p).code}/milestones",
        api_expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS | {"enterprise"}),
    ),
    Case(
        "POST /api/v1/projects/{code}/milestones",
        "POST",
        lambda p: f"/api/v1/projects/{project(p).code}/milestones",
        api_expect(LEAD_EDITORS, 201, forbidden={"leader"}, hidden=LEAD_OUTSIDERS | {"enterprise"}),
        json=True,
        data=lambda p: {"name": "土地摘牌", "planned_on": "2026-12-31"},
    ),
    Case(
        "PATCH /api/v1/milestones/{milestone_id}",
        "PATCH",
        lambda p: f"/api/v1/milestones/{dispatched(p, 'milestone').pk}",
        api_expect(
            LEAD_EDITORS | {"service"}, forbidden={"leader"}, hidden={"colleague", "other_team", "enterprise"}
        ),
        json=True,
        data=lambda p: {
            "name": "取得施工许可",
            "planned_on": "2026-12-01",
            "actual_on": "2026-11-20",
            "department": "service-center",
        },
    ),
    Case(
        "GET /api/v1/projects/{code}/problems",
        "GET",
        lambda p: f"/api/v1/projects/{project(p).code}/problems",
        api_expect(INVESTORS_VIEW, hidden=LEAD_OUTSIDERS | {"enterprise"}),
    ),
    Case(
        "POST /api/v1/projects/{code}/problems",
        "POST",
        lambda p: f"/api/v1/projects/{project(p).code}/problems",
        api_expect(LEAD_EDITORS, 201, forbidden={"leader"}, hidden=LEAD_OUTSIDERS | {"enterprise"}),
        json=True,
        data=lambda p: {"description": "电力增容", "department": "service-center", "deadline": "2026-12-31"},
    ),
    Case(
        "PATCH /api/v1/problems/{problem_id}",
        "PATCH",
        lambda p: f"/api/v1/problems/{dispatched(p, 'problem').pk}",
        api_expect(
            LEAD_EDITORS | {"service"}, forbidden={"leader"}, hidden={"colleague", "other_team", "enterprise"}
        ),
        json=True,
        data=lambda p: {
            "description": "用地指标",
            "department": "service-center",
            "deadline": "2026-12-01",
            "status": "in_progress",
        },
    ),
    Case(
        "GET /api/v1/investment/numbers",
        "GET",
        lambda p: "/api/v1/investment/numbers",
        api_expect(STAFF, forbidden={"enterprise"}),
    ),
]


# WeChat ----------------------------------------------------------------------------------------


def wechat_account(park: Park) -> Any:
    from tests.wechat_support import make_accounts
    from yimatong.wechat.models import OfficialAccount

    return OfficialAccount.objects.filter(slug="park-cn").first() or make_accounts()[0]


def conversation(park: Park) -> Any:
    """A follower whose conversation is assigned to "owner", with a message that opens the window."""
    from django.utils import timezone

    from yimatong.wechat.models import Follower, InboundMessage

    account = wechat_account(park)
    follower = Follower.objects.create(
        account=account, openid="o-matrix", subscribed=True, assigned_to=park.users["owner"]
    )
    InboundMessage.objects.create(
        account=account,
        follower=follower,
        dedup_key="msg:1",
        msg_type="text",
        content="想了解用地政策",
        is_user_message=True,
        sent_at=timezone.now(),
    )
    return follower


def failed_outbound(park: Park) -> Any:
    from yimatong.wechat.models import OutboundMessage

    return OutboundMessage.objects.create(
        follower=conversation(park), kind="custom", text="您好", status="failed", error_code=-1
    )


def owners_code(park: Park) -> Any:
    from yimatong.wechat.models import QrCode

    return QrCode.objects.create(
        account=wechat_account(park),
        name="张专员名片",
        purpose="promoter",
        promoter=park.users["owner"],
        created_by=park.users["owner"],
        scene="promoter-owner",
        is_permanent=True,
        url="http://weixin.qq.com/q/x",
    )


def portal_article(park: Park) -> Any:
    from yimatong.wechat.models import PortalArticle

    return PortalArticle.objects.create(kind="policy", slug="rent", title="厂房租金补贴", body="……")


INBOX_READERS = STAFF - {"service"}
CONVERSATION_VIEWERS = {"admin", "leader", "teamlead", "owner"}
EVERYONE = set(PERSONAS) - {"anonymous"}


def public(status: int) -> dict[str, int]:
    return {p: status for p in PERSONAS}


WECHAT_CASES: list[Case] = [
    Case(
        "wechat:callback",
        "GET",
        lambda p: reverse("wechat:callback", args=[wechat_account(p).slug]),
        public(403),
    ),
    Case("wechat:inbox", "GET", lambda p: reverse("wechat:inbox"), expect(INBOX_READERS)),
    Case("wechat:inbox_unread", "GET", lambda p: reverse("wechat:inbox_unread"), expect(INBOX_READERS)),
    Case(
        "wechat:conversation",
        "GET",
        lambda p: conversation(p).get_absolute_url(),
        expect(CONVERSATION_VIEWERS, hidden={"colleague", "other_team"}),
    ),
    Case(
        "wechat:conversation_thread",
        "GET",
        lambda p: reverse("wechat:conversation_thread", args=[conversation(p).code]),
        expect(CONVERSATION_VIEWERS, hidden={"colleague", "other_team"}),
    ),
    Case(
        "wechat:conversation_reply",
        "POST",
        lambda p: reverse("wechat:conversation_reply", args=[conversation(p).code]),
        expect({"admin", "teamlead", "owner"}, 302, forbidden={"leader"}, hidden={"colleague", "other_team"}),
        data=lambda p: {"text": "您好，欢迎来园考察。"},
    ),
    Case(
        "wechat:conversation_template",
        "POST",
        lambda p: reverse("wechat:conversation_template", args=[conversation(p).code]),
        expect({"admin", "teamlead", "owner"}, 302, forbidden={"leader"}, hidden={"colleague", "other_team"}),
        data=lambda p: {"text": "您好，欢迎来园考察。"},
    ),
    Case(
        "wechat:conversation_assign",
        "POST",
        lambda p: reverse("wechat:conversation_assign", args=[conversation(p).code]),
        expect({"admin", "teamlead"}, 302, forbidden={"leader", "owner"}, hidden={"colleague", "other_team"}),
        data=lambda p: {"assignee": p.users["owner"].pk},
    ),
    Case(
        "wechat:outbound_retry",
        "POST",
        lambda p: reverse("wechat:outbound_retry", args=[failed_outbound(p).pk]),
        expect({"admin", "teamlead", "owner"}, 302, forbidden={"leader"}, hidden={"colleague", "other_team"}),
    ),
    Case("wechat:code_list", "GET", lambda p: reverse("wechat:code_list"), expect(INBOX_READERS)),
    Case(
        "wechat:code_create",
        "GET",
        lambda p: reverse("wechat:code_create"),
        expect(CREATORS, forbidden={"leader"}),
    ),
    Case(
        "wechat:code_compare",
        "GET",
        lambda p: reverse("wechat:code_compare"),
        expect({"admin", "leader", "teamlead"}, forbidden={"owner", "colleague", "other_team"}),
    ),
    Case(
        "wechat:code_detail",
        "GET",
        lambda p: owners_code(p).get_absolute_url(),
        expect(CONVERSATION_VIEWERS, hidden={"colleague", "other_team"}),
    ),
    Case(
        "wechat:code_image",
        "GET",
        lambda p: reverse("wechat:code_image", args=[owners_code(p).pk, "svg"]),
        expect(CONVERSATION_VIEWERS, hidden={"colleague", "other_team"}),
    ),
    Case(
        "wechat:code_print",
        "GET",
        lambda p: reverse("wechat:code_print", args=[owners_code(p).pk]),
        expect(CONVERSATION_VIEWERS, hidden={"colleague", "other_team"}),
    ),
    # The investor portal: public pages for everyone; personal pages send an unidentified
    # visitor to WeChat's OAuth first (staff sessions do not identify an investor).
    Case(
        "wechat:portal_home",
        "GET",
        lambda p: reverse("wechat:portal_home", args=[wechat_account(p).slug]),
        public(200),
    ),
    Case(
        "wechat:portal_policies",
        "GET",
        lambda p: reverse("wechat:portal_policies", args=[wechat_account(p).slug]),
        public(200),
    ),
    Case(
        "wechat:portal_article",
        "GET",
        lambda p: reverse("wechat:portal_article", args=[wechat_account(p).slug, portal_article(p).slug]),
        public(200),
    ),
    Case(
        "wechat:portal_consult",
        "GET",
        lambda p: reverse("wechat:portal_consult", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:portal_visit",
        "GET",
        lambda p: reverse("wechat:portal_visit", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:portal_me",
        "GET",
        lambda p: reverse("wechat:portal_me", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:portal_messages",
        "GET",
        lambda p: reverse("wechat:portal_messages", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:portal_oauth",
        "GET",
        lambda p: reverse("wechat:portal_oauth", args=[wechat_account(p).slug]) + "?code=x&state=forged",
        public(400),
    ),
    Case(
        "wechat:portal_sign_out",
        "GET",
        lambda p: reverse("wechat:portal_sign_out", args=[wechat_account(p).slug]),
        public(302),
    ),
    # The enterprise's H5 service: an unidentified visitor (a console session is not a
    # WeChat identity) goes to OAuth first; the bound account's rules are tested in
    # tests/test_enterprise_h5.py.
    Case(
        "wechat:ent_home",
        "GET",
        lambda p: reverse("wechat:ent_home", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:ent_bind",
        "GET",
        lambda p: reverse("wechat:ent_bind", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:ent_unbind",
        "POST",
        lambda p: reverse("wechat:ent_unbind", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:ent_demands",
        "GET",
        lambda p: reverse("wechat:ent_demands", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:ent_demand_new",
        "GET",
        lambda p: reverse("wechat:ent_demand_new", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:ent_demand",
        "GET",
        lambda p: reverse("wechat:ent_demand", args=[wechat_account(p).slug, demand(p).code]),
        public(302),
    ),
    Case(
        "wechat:ent_demand_attachment",
        "GET",
        lambda p: reverse("wechat:ent_demand_attachment", args=[wechat_account(p).slug, demand(p).code, 1]),
        public(302),
    ),
    Case(
        "wechat:ent_demand_step",
        "POST",
        lambda p: reverse(
            "wechat:ent_demand_step", args=[wechat_account(p).slug, demand(p).code, "withdraw"]
        ),
        public(302),
    ),
    Case(
        "wechat:ent_reports",
        "GET",
        lambda p: reverse("wechat:ent_reports", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:ent_report_new",
        "GET",
        lambda p: reverse("wechat:ent_report_new", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:ent_policies",
        "GET",
        lambda p: reverse("wechat:ent_policies", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:ent_not_interested",
        "POST",
        lambda p: reverse("wechat:ent_not_interested", args=[wechat_account(p).slug, 1]),
        public(302),
    ),
    Case(
        "wechat:ent_apply",
        "POST",
        lambda p: reverse("wechat:ent_apply", args=[wechat_account(p).slug, "any-policy"]),
        public(302),
    ),
    Case(
        "wechat:ent_applications",
        "GET",
        lambda p: reverse("wechat:ent_applications", args=[wechat_account(p).slug]),
        public(302),
    ),
    Case(
        "wechat:ent_application",
        "GET",
        lambda p: reverse("wechat:ent_application", args=[wechat_account(p).slug, "SB-0"]),
        public(302),
    ),
    Case(
        "wechat:ent_application_material",
        "GET",
        lambda p: reverse("wechat:ent_application_material", args=[wechat_account(p).slug, "SB-0", 1]),
        public(302),
    ),
    Case(
        "wechat:ent_application_step",
        "POST",
        lambda p: reverse("wechat:ent_application_step", args=[wechat_account(p).slug, "SB-0", "submit"]),
        public(302),
    ),
    Case(
        "project_onecode_document",
        "GET",
        lambda p: reverse("project_onecode_document", args=[project(p).qr_token, document(p).code]),
        public(404),
    ),
]
CASES += WECHAT_CASES
CASES += [
    Case(
        "GET /api/v1/wechat/codes",
        "GET",
        lambda p: (owners_code(p), "/api/v1/wechat/codes")[1],
        api_expect(INBOX_READERS, forbidden={"service", "enterprise"}),
    ),
    Case(
        "GET /api/v1/wechat/conversations",
        "GET",
        lambda p: (conversation(p), "/api/v1/wechat/conversations")[1],
        api_expect(INBOX_READERS, forbidden={"service", "enterprise"}),
    ),
]
CASES += [
    Case("notifications:preferences", "GET", lambda p: reverse("notifications:preferences"), expect(CONSOLE)),
    Case(
        "notifications:preferences",
        "POST",
        lambda p: reverse("notifications:preferences"),
        expect(CONSOLE, 302),
        data=lambda p: {"receive": ["wechat_message"]},
        tags=["save"],
    ),
]


# Enterprise services ----------------------------------------------------------------------------


def demand_category(park: Park) -> Any:
    from yimatong.services.models import DemandCategory

    centre = park.users["service"].department
    if not centre.is_dispatch_center:
        centre.is_dispatch_center = True
        centre.save()
    category, _created = DemandCategory.objects.get_or_create(
        code="utilities", defaults={"name": "水电气", "statutory_days": 5, "promised_days": 3}
    )
    return category


def demand(park: Park) -> Any:
    from yimatong.services.actions import file_demand

    return file_demand(
        actor=park.users["enterprise"],
        data={"category": demand_category(park), "title": "双回路供电", "description": "用电增容"},
    )


def demand_attachment_url(park: Park) -> str:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yimatong.services.models import DemandAttachment

    filed = demand(park)
    attachment = DemandAttachment.objects.create(
        demand=filed, file=SimpleUploadedFile("说明.pdf", b"%PDF-1.4\n"), original_name="说明.pdf"
    )
    return reverse("services:demand_attachment", args=[filed.code, attachment.pk])


SERVICE_USERS = {"admin", "leader", "service", "enterprise"}
PROMOTERS = {"teamlead", "owner", "colleague", "other_team"}

SERVICES_CASES: list[Case] = [
    Case("services:demand_list", "GET", lambda p: reverse("services:demand_list"), expect(SERVICE_USERS)),
    Case(
        "services:demand_create",
        "GET",
        lambda p: (demand_category(p), reverse("services:demand_create"))[1],
        expect({"admin", "service", "enterprise"}, forbidden={"leader"}),
    ),
    Case(
        "services:demand_kpis",
        "GET",
        lambda p: reverse("services:demand_kpis"),
        expect({"admin", "leader", "service"}, forbidden={"enterprise"}),
    ),
    Case(
        "services:demand_detail",
        "GET",
        lambda p: demand(p).get_absolute_url(),
        expect(SERVICE_USERS),
    ),
    Case(
        "services:demand_attachment",
        "GET",
        lambda p: demand_attachment_url(p),
        expect(SERVICE_USERS),
    ),
    Case(
        "services:demand_step",
        "POST",
        lambda p: reverse("services:demand_step", args=[demand(p).code, "accept"]),
        expect({"admin", "service"}, 302, forbidden={"leader", "enterprise"}),
        data=lambda p: {"category": demand_category(p).pk, "promised_days": 2},
    ),
    Case(
        "GET /api/v1/demands",
        "GET",
        lambda p: (demand(p), "/api/v1/demands")[1],
        api_expect(SERVICE_USERS, forbidden=PROMOTERS),
    ),
    Case(
        "POST /api/v1/demands",
        "POST",
        lambda p: (demand_category(p), "/api/v1/demands")[1],
        api_expect({"admin", "service", "enterprise"}, 201, forbidden=PROMOTERS | {"leader"}),
        json=True,
        data=lambda p: {
            "category": "utilities",
            "title": "路灯维修",
            "description": "厂区门口路灯不亮",
            "organization": p.resident.pk,
        },
    ),
    Case(
        "GET /api/v1/demands/kpis",
        "GET",
        lambda p: "/api/v1/demands/kpis",
        api_expect({"admin", "leader", "service"}, forbidden=PROMOTERS | {"enterprise"}),
    ),
    Case(
        "GET /api/v1/demands/{code}",
        "GET",
        lambda p: f"/api/v1/demands/{demand(p).code}",
        api_expect(SERVICE_USERS, forbidden=PROMOTERS),
    ),
    Case(
        "POST /api/v1/demands/{code}/steps/{step}",
        "POST",
        lambda p: f"/api/v1/demands/{demand(p).code}/steps/accept",
        api_expect({"admin", "service"}, forbidden=PROMOTERS | {"leader", "enterprise"}),
        json=True,
        data=lambda p: {"category": demand_category(p).pk},
    ),
]
CASES += SERVICES_CASES


def policy(park: Park) -> Any:
    from yimatong.services.models import Policy

    return Policy.objects.get_or_create(
        code="rd-reward",
        defaults={
            "title": "研发投入奖励",
            "issuer": "生物城管委会",
            "benefit": "subsidy",
            "mode": "auto",
            "is_published": True,
            "conditions": {"fact": "rd_ratio", "op": ">=", "value": 5},
        },
    )[0]


def _apply_mode(target: Any) -> Any:
    target.mode = "apply"
    target.save()
    return target


def residents_match(park: Park) -> Any:
    from yimatong.services.models import PolicyMatch

    return PolicyMatch.objects.create(
        policy=policy(park), organization=park.resident, policy_version=1, status="met", pass_rate=100
    )


POLICY_READERS = {"admin", "leader", "service"}
POLICY_EDITORS = {"admin", "service"}

POLICY_CASES: list[Case] = [
    Case("services:policy_list", "GET", lambda p: reverse("services:policy_list"), expect(SERVICE_USERS)),
    Case(
        "services:policy_create",
        "GET",
        lambda p: (demand_category(p), reverse("services:policy_create"))[1],
        expect(POLICY_EDITORS, forbidden={"leader", "enterprise"}),
    ),
    Case(
        "services:policy_preview",
        "POST",
        lambda p: (demand_category(p), reverse("services:policy_preview"))[1],
        expect(POLICY_EDITORS, forbidden={"leader", "enterprise"}),
        data=lambda p: {"conditions": '{"fact": "rd_ratio", "op": ">=", "value": 5}'},
    ),
    Case("services:policy_detail", "GET", lambda p: policy(p).get_absolute_url(), expect(SERVICE_USERS)),
    Case(
        "services:policy_edit",
        "GET",
        lambda p: (demand_category(p), reverse("services:policy_edit", args=[policy(p).code]))[1],
        expect(POLICY_EDITORS, forbidden={"leader", "enterprise"}),
    ),
    Case(
        "services:policy_auto",
        "POST",
        lambda p: (demand_category(p), reverse("services:policy_auto", args=[policy(p).code, "push"]))[1],
        expect(POLICY_EDITORS, 302, forbidden={"leader", "enterprise"}),
    ),
    Case(
        "services:match_not_interested",
        "POST",
        lambda p: reverse("services:match_not_interested", args=[residents_match(p).pk]),
        expect({"enterprise"}, 302, hidden={"admin", "leader", "service"}),
    ),
    # Staff open an enterprise's profile by its id (below); without one there is nothing to edit.
    Case(
        "services:profile_edit",
        "GET",
        lambda p: (demand_category(p), reverse("services:profile_edit"))[1],
        expect({"enterprise"}, hidden={"admin", "service"}, forbidden={"leader"}),
    ),
    Case(
        "services:profile_edit_for",
        "GET",
        lambda p: (demand_category(p), reverse("services:profile_edit_for", args=[p.resident.pk]))[1],
        expect(POLICY_EDITORS | {"enterprise"}, forbidden={"leader"}),
    ),
]
CASES += POLICY_CASES


def application(park: Park) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yimatong.services import application_actions

    demand_category(park)  # the centre is the dispatch centre
    target = policy(park)
    target.mode = "apply"
    target.materials = "营业执照"
    target.save()
    residents_match(park)
    app = application_actions.start(actor=park.users["enterprise"], policy=target)
    application_actions.upload(
        actor=park.users["enterprise"],
        app=app,
        name="营业执照",
        upload=SimpleUploadedFile("l.pdf", b"%PDF-1.4 x", "application/pdf"),
    )
    return application_actions.submit(actor=park.users["enterprise"], app=app)


APPLICATION_CASES: list[Case] = [
    Case(
        "services:application_list",
        "GET",
        lambda p: reverse("services:application_list"),
        expect(SERVICE_USERS),
    ),
    Case(
        "services:application_start",
        "POST",
        lambda p: (residents_match(p), reverse("services:application_start", args=[policy(p).code]))[1],
        expect({"enterprise"}, 302, forbidden={"admin", "leader", "service"}),
    ),
    Case(
        "services:application_detail",
        "GET",
        lambda p: application(p).get_absolute_url(),
        expect(SERVICE_USERS),
    ),
    Case(
        "services:application_material",
        "GET",
        lambda p: (lambda a: reverse("services:application_material", args=[a.code, a.materials.first().pk]))(
            application(p)
        ),
        expect(SERVICE_USERS),
    ),
    Case(
        "services:application_step",
        "POST",
        lambda p: reverse("services:application_step", args=[application(p).code, "advance"]),
        expect({"admin", "service"}, 302, forbidden={"leader", "enterprise"}),
    ),
]
CASES += APPLICATION_CASES


def residents_plan(park: Park) -> Any:
    from yimatong.services.care_actions import create_plan

    demand_category(park)
    return create_plan(actor=park.users["admin"], organization=park.resident, officer=park.users["service"])


def residents_need(park: Park) -> Any:
    from decimal import Decimal

    from yimatong.services.care_actions import file_need

    demand_category(park)
    return file_need(
        actor=park.users["enterprise"],
        organization=park.resident,
        data={"amount": Decimal("300"), "term_months": 12, "purpose": "采购", "collateral": "credit"},
    )


CARE_CASES: list[Case] = [
    Case("services:plan_list", "GET", lambda p: reverse("services:plan_list"), expect(SERVICE_USERS)),
    Case(
        "services:plan_create",
        "GET",
        lambda p: (demand_category(p), reverse("services:plan_create"))[1],
        expect(POLICY_EDITORS, forbidden={"leader", "enterprise"}),
    ),
    Case(
        "services:plan_detail", "GET", lambda p: residents_plan(p).get_absolute_url(), expect(SERVICE_USERS)
    ),
    Case(
        "services:plan_change",
        "POST",
        lambda p: reverse("services:plan_change", args=[residents_plan(p).pk, "progress"]),
        expect(POLICY_EDITORS, 302, forbidden={"leader", "enterprise"}),
        data=lambda p: {"month": "2026-11", "summary": "进展顺利"},
    ),
    Case(
        "services:financing_list",
        "GET",
        lambda p: (demand_category(p), reverse("services:financing_list"))[1],
        expect(SERVICE_USERS),
    ),
    Case(
        "services:financing_create",
        "GET",
        lambda p: reverse("services:financing_create"),
        expect({"enterprise"}, forbidden={"admin", "leader", "service"}),
    ),
    Case(
        "services:financing_detail",
        "GET",
        lambda p: residents_need(p).get_absolute_url(),
        expect(SERVICE_USERS),
    ),
    Case(
        "services:financing_change",
        "POST",
        lambda p: reverse("services:financing_change", args=[residents_need(p).pk, "refer"]),
        expect(POLICY_EDITORS, 404, forbidden={"leader", "enterprise"}),
        data=lambda p: {"product": 999999},
    ),
]
CASES += CARE_CASES
CASES += [
    Case(
        "GET /api/v1/policies",
        "GET",
        lambda p: (policy(p), "/api/v1/policies")[1],
        api_expect(SERVICE_USERS, forbidden=PROMOTERS),
    ),
    Case(
        "GET /api/v1/policies/{code}/matches",
        "GET",
        lambda p: f"/api/v1/policies/{residents_match(p).policy.code}/matches",
        api_expect(POLICY_READERS, forbidden=PROMOTERS | {"enterprise"}),
    ),
    Case(
        "GET /api/v1/my/policy-matches",
        "GET",
        lambda p: (residents_match(p), "/api/v1/my/policy-matches")[1],
        api_expect({"enterprise"}, forbidden=PROMOTERS | POLICY_READERS),
    ),
    Case(
        "GET /api/v1/applications",
        "GET",
        lambda p: (application(p), "/api/v1/applications")[1],
        api_expect(SERVICE_USERS, forbidden=PROMOTERS),
    ),
    Case(
        "GET /api/v1/plans",
        "GET",
        lambda p: (residents_plan(p), "/api/v1/plans")[1],
        api_expect(SERVICE_USERS, forbidden=PROMOTERS),
    ),
    Case(
        "POST /api/v1/policies",
        "POST",
        lambda p: (demand_category(p), "/api/v1/policies")[1],
        api_expect(POLICY_EDITORS, 201, forbidden=PROMOTERS | {"leader", "enterprise"}),
        json=True,
        data=lambda p: {
            "code": "talent-2026",
            "title": "人才安居补贴",
            "issuer": "管委会",
            "benefit": "talent",
            "mode": "apply",
            "conditions": {"fact": "employees", "op": ">=", "value": 50},
        },
    ),
    Case(
        "PUT /api/v1/policies/{code}",
        "PUT",
        lambda p: (demand_category(p), f"/api/v1/policies/{policy(p).code}")[1],
        api_expect(POLICY_EDITORS, forbidden=PROMOTERS | {"leader", "enterprise"}),
        json=True,
        data=lambda p: {
            "code": "rd-reward",
            "title": "研发投入奖励（修订）",
            "issuer": "生物城管委会",
            "benefit": "subsidy",
            "mode": "auto",
            "is_published": True,
            "conditions": {"fact": "rd_ratio", "op": ">=", "value": 4},
        },
    ),
    Case(
        "POST /api/v1/policies/{code}/applications",
        "POST",
        lambda p: (lambda pol: (residents_match(p), f"/api/v1/policies/{pol.code}/applications")[1])(
            _apply_mode(policy(p))
        ),
        api_expect({"enterprise"}, 201, forbidden=PROMOTERS | POLICY_READERS),
    ),
    Case(
        "POST /api/v1/applications/{code}/steps/{step}",
        "POST",
        lambda p: f"/api/v1/applications/{application(p).code}/steps/advance",
        api_expect(POLICY_EDITORS, forbidden=PROMOTERS | {"leader", "enterprise"}),
        json=True,
        data=lambda p: {"note": "受理"},
    ),
    Case(
        "POST /api/v1/financing/needs",
        "POST",
        lambda p: "/api/v1/financing/needs",
        api_expect({"enterprise"}, 201, forbidden=PROMOTERS | POLICY_READERS),
        json=True,
        data=lambda p: {"amount": "300", "term_months": 12, "purpose": "采购", "collateral": "credit"},
    ),
    Case(
        "GET /api/v1/financing/needs",
        "GET",
        lambda p: (residents_need(p), "/api/v1/financing/needs")[1],
        api_expect(SERVICE_USERS, forbidden=PROMOTERS),
    ),
]


# Plans and financing: the API's writes (the dispatch centre, or a plan's own officer) ------------


def residents_plan_item(park: Park) -> Any:
    import datetime as dt

    from yimatong.services.care_actions import add_item

    return add_item(
        actor=park.users["service"],
        plan=residents_plan(park),
        data={"kind": "problem", "title": "电力增容", "owner": "区经信委", "deadline": dt.date(2026, 12, 31)},
    )


def credit_product(park: Park) -> Any:
    from decimal import Decimal

    from tests.factories import OrganizationFactory
    from yimatong.services.models import BankProduct

    existing = BankProduct.objects.filter(name="科创信用贷").first()
    return existing or BankProduct.objects.create(
        bank=OrganizationFactory(name="重庆农村商业银行巴南支行", org_type="bank"),
        name="科创信用贷",
        amount_min=Decimal("100"),
        amount_max=Decimal("1000"),
        max_term_months=36,
        rate=Decimal("3.45"),
        collateral="credit",
    )


def residents_referral(park: Park) -> Any:
    from yimatong.services.care_actions import refer

    return refer(actor=park.users["service"], need=residents_need(park), product=credit_product(park))


def _care_state() -> dict[str, Any]:
    from yimatong.services.models import PlanItem, PlanProgress, Referral, ServicePlan

    return {
        "plans": ServicePlan.objects.count(),
        "items": list(PlanItem.objects.order_by("pk").values_list("pk", "status", "resolution")),
        "progress": PlanProgress.objects.count(),
        "referrals": list(Referral.objects.order_by("pk").values_list("pk", "outcome", "approved_amount")),
    }


CARE_WRITERS_REFUSED = PROMOTERS | {"leader", "enterprise"}
CASES += [
    Case(
        "POST /api/v1/plans",
        "POST",
        lambda p: (demand_category(p), "/api/v1/plans")[1],
        api_expect(POLICY_EDITORS, 201, forbidden=CARE_WRITERS_REFUSED),
        json=True,
        data=lambda p: {"organization": str(p.resident.code), "officer": "service", "goals": "二期投产"},
    ),
    Case(
        "POST /api/v1/plans/{plan_id}/items",
        "POST",
        lambda p: f"/api/v1/plans/{residents_plan(p).pk}/items",
        api_expect(POLICY_EDITORS, 201, forbidden=CARE_WRITERS_REFUSED),
        json=True,
        data=lambda p: {
            "kind": "action",
            "title": "对接人才公寓",
            "owner": "服务中心",
            "deadline": "2026-12-15",
        },
    ),
    Case(
        "PATCH /api/v1/plans/{plan_id}/items/{item_id}",
        "PATCH",
        lambda p: (lambda i: f"/api/v1/plans/{i.plan_id}/items/{i.pk}")(residents_plan_item(p)),
        api_expect(POLICY_EDITORS, forbidden=CARE_WRITERS_REFUSED),
        json=True,
        data=lambda p: {"status": "done", "resolution": "已完成双回路接入"},
    ),
    Case(
        "POST /api/v1/plans/{plan_id}/progress",
        "POST",
        lambda p: f"/api/v1/plans/{residents_plan(p).pk}/progress",
        api_expect(POLICY_EDITORS, 201, forbidden=CARE_WRITERS_REFUSED),
        json=True,
        data=lambda p: {"month": "2026-11", "summary": "进展顺利"},
    ),
    Case(
        "GET /api/v1/financing/needs/{need_id}/suggestions",
        "GET",
        lambda p: (credit_product(p), f"/api/v1/financing/needs/{residents_need(p).pk}/suggestions")[1],
        api_expect(POLICY_EDITORS, forbidden=CARE_WRITERS_REFUSED),
    ),
    Case(
        "POST /api/v1/financing/needs/{need_id}/referrals",
        "POST",
        lambda p: (credit_product(p), f"/api/v1/financing/needs/{residents_need(p).pk}/referrals")[1],
        api_expect(POLICY_EDITORS, 201, forbidden=CARE_WRITERS_REFUSED),
        json=True,
        data=lambda p: {"product": credit_product(p).pk},
    ),
    Case(
        "POST /api/v1/financing/referrals/{referral_id}/outcome",
        "POST",
        lambda p: f"/api/v1/financing/referrals/{residents_referral(p).pk}/outcome",
        api_expect(POLICY_EDITORS, forbidden=CARE_WRITERS_REFUSED),
        json=True,
        data=lambda p: {"outcome": "approved", "approved_amount": "250"},
    ),
]

# Statistics: monthly direct reports (企业直报) and the leaders' cockpit --------------------------------
# Of the personas, "admin" counts as the statistics office (the service persona's department is
# not it; a statistics officer's own rights are tested in tests/test_stats_reports.py).


def residents_report(park: Park) -> Any:
    """The enterprise persona's January–February 2024 report (a service enterprise's figures)."""
    import datetime as dt
    from decimal import Decimal

    from yimatong.stats.actions import submit_report

    return submit_report(
        actor=park.users["enterprise"],
        organization=park.resident,
        year=2024,
        month=2,
        data={
            "revenue_month": Decimal("80"),
            "revenue_cum": Decimal("80"),
            "tax_month": Decimal("5"),
            "tax_cum": Decimal("5"),
            "employees": 60,
        },
        today=dt.date(2024, 3, 1),
    )


def _stats_state() -> dict[str, Any]:
    from yimatong.stats.models import AboveScaleEvent, AboveScaleMember, MonthlyReport, Period, ReportRevision

    return {
        "reports": list(MonthlyReport.objects.order_by("pk").values_list("pk", "revision", "status")),
        "revisions": ReportRevision.objects.count(),
        "periods": list(Period.objects.values_list("year", "month", "published_at")),
        "above_scale": list(
            AboveScaleMember.objects.order_by("pk").values_list(
                "pk", "organization_id", "basis", "from_month", "left_month", "updated_at"
            )
        ),
        "above_scale_events": AboveScaleEvent.objects.count(),
    }


def above_scale_2024(park: Park) -> Park:
    """The 2024 set fixed from the directory's marks (no December 2023 report): the enterprise
    persona's company; the other resident becomes a medical-device maker (3581) outside it."""
    from yimatong.directory.models import IndustryCode
    from yimatong.stats.actions import fix_above_scale

    Organization.objects.filter(pk=park.other_resident.pk).update(
        industry=IndustryCode.objects.get(code="3581")
    )
    Organization.objects.filter(pk=park.resident.pk).update(industry=IndustryCode.objects.get(code="2761"))
    fix_above_scale(year=2024)
    return park


STATS_READERS = {"admin", "leader", "enterprise"}  # an enterprise its own reports
COCKPIT_USERS = {"admin", "leader"}
CASES += [
    Case("stats:report_list", "GET", lambda p: reverse("stats:report_list"), expect(STATS_READERS)),
    Case("stats:report_new", "GET", lambda p: reverse("stats:report_new"), expect({"admin", "enterprise"})),
    Case("stats:report_import", "GET", lambda p: reverse("stats:report_import"), expect({"admin"})),
    Case("stats:import_template", "GET", lambda p: reverse("stats:import_template"), expect({"admin"})),
    Case(
        "stats:publish",
        "POST",
        lambda p: (residents_report(p), reverse("stats:publish"))[1],
        expect({"admin"}, 302),
        data=lambda p: {"year": 2024, "month": 2},
    ),
    Case(
        "stats:report_detail",
        "GET",
        lambda p: residents_report(p).get_absolute_url(),
        expect(STATS_READERS, hidden={"teamlead", "owner", "colleague", "other_team", "service"}),
    ),
    Case(
        "stats:above_scale",
        "GET",
        lambda p: (above_scale_2024(p), reverse("stats:above_scale") + "?year=2024&month=5")[1],
        expect({"admin", "leader"}),
    ),
    Case(
        "stats:above_scale_join",
        "POST",
        lambda p: (above_scale_2024(p), reverse("stats:above_scale_join"))[1],
        expect({"admin"}, 302),
        data=lambda p: {
            "year": 2024,
            "view_month": 5,
            "organization": p.other_resident.pk,
            "month": 5,
            "basis": "grown",
            "note": "主营业务收入已达 2000 万元",
        },
    ),
    Case(
        "stats:above_scale_leave",
        "POST",
        lambda p: (above_scale_2024(p), reverse("stats:above_scale_leave"))[1],
        expect({"admin"}, 302),
        data=lambda p: {"year": 2024, "organization": p.resident.pk, "month": 6, "reason": "moved"},
    ),
    Case(
        "stats:above_scale_refix",
        "POST",
        lambda p: (above_scale_2024(p), reverse("stats:above_scale_refix"))[1],
        expect({"admin"}, 302),
        data=lambda p: {"year": 2024, "reason": "上年 12 月报表逾期补报"},
    ),
    Case("stats:cockpit", "GET", lambda p: reverse("stats:cockpit"), expect(COCKPIT_USERS)),
    Case("stats:bulletin", "GET", lambda p: reverse("stats:bulletin"), expect(COCKPIT_USERS)),
    Case(
        "stats:panel_data",
        "GET",
        lambda p: reverse("stats:panel_data", args=["statistics"]),
        expect(COCKPIT_USERS),
    ),
    Case(
        "stats:activity_feed",
        "GET",
        lambda p: reverse("stats:activity_feed", args=["csv"]),
        expect(COCKPIT_USERS),
    ),
    Case(
        "stats:project_list",
        "GET",
        lambda p: reverse("stats:project_list", args=["xlsx"]),
        expect(COCKPIT_USERS),
    ),
    # The working-day calendar: every console user reads it; administrators set it, as in the console.
    Case("GET /api/v1/calendar", "GET", lambda p: "/api/v1/calendar?year=2027", api_expect(CONSOLE)),
    Case(
        "PUT /api/v1/calendar/{day}",
        "PUT",
        lambda p: "/api/v1/calendar/2027-02-07",
        api_expect({"admin"}, forbidden=CONSOLE - {"admin"}),
        json=True,
        data=lambda p: {"is_workday": True, "note": "春节调休上班"},
    ),
    Case(
        "DELETE /api/v1/calendar/{day}",
        "DELETE",
        lambda p: (calendar_day(p), "/api/v1/calendar/2027-10-09")[1],
        api_expect({"admin"}, 204, forbidden=CONSOLE - {"admin"}),
    ),
    Case(
        "GET /api/v1/stats/indicators",
        "GET",
        lambda p: (residents_report(p), "/api/v1/stats/indicators?year=2024&month=2")[1],
        api_expect(COCKPIT_USERS),
    ),
    # Every console user may ask; each gets the reports they may see (others an empty list).
    Case(
        "GET /api/v1/stats/reports",
        "GET",
        lambda p: (residents_report(p), "/api/v1/stats/reports?year=2024")[1],
        api_expect(CONSOLE),
    ),
    Case(
        "POST /api/v1/stats/reports",
        "POST",
        lambda p: "/api/v1/stats/reports",
        api_expect({"admin", "enterprise"}, 201),
        json=True,
        data=lambda p: {
            "organization": p.resident.uscc,
            "year": 2024,
            "month": 2,
            "revenue_month": "80",
            "revenue_cum": "80",
            "tax_month": "5",
            "tax_cum": "5",
            "employees": 60,
            "explanations": {"late": "逾期补报"},  # whatever today is, the filing is explained
        },
    ),
    Case(
        "GET /api/v1/stats/above-scale",
        "GET",
        lambda p: (above_scale_2024(p), "/api/v1/stats/above-scale?year=2024&month=5")[1],
        api_expect({"admin", "leader"}),
    ),
    Case(
        "POST /api/v1/stats/above-scale/entrants",
        "POST",
        lambda p: (above_scale_2024(p), "/api/v1/stats/above-scale/entrants")[1],
        api_expect({"admin"}, 201),
        json=True,
        data=lambda p: {
            "organization": p.other_resident.uscc,
            "year": 2024,
            "month": 5,
            "basis": "grown",
            "note": "主营业务收入已达 2000 万元",
        },
    ),
    Case(
        "POST /api/v1/stats/above-scale/exits",
        "POST",
        lambda p: (above_scale_2024(p), "/api/v1/stats/above-scale/exits")[1],
        api_expect({"admin"}),
        json=True,
        data=lambda p: {"organization": p.resident.uscc, "year": 2024, "month": 6, "reason": "closed"},
    ),
    Case(
        "POST /api/v1/stats/above-scale/refix",
        "POST",
        lambda p: (above_scale_2024(p), "/api/v1/stats/above-scale/refix")[1],
        api_expect({"admin"}),
        json=True,
        data=lambda p: {"year": 2024, "reason": "上年 12 月报表逾期补报"},
    ),
    Case(
        "GET /api/v1/stats/activity",
        "GET",
        lambda p: "/api/v1/stats/activity?start=2024-03-01&end=2024-03-31",
        api_expect(COCKPIT_USERS),
    ),
]


def state() -> dict[str, Any]:
    """A fingerprint of everything a request could change."""
    return {
        "orgs": list(Organization.objects.order_by("pk").values_list("pk", "version", "name", "address")),
        "collaborators": Organization.collaborators.through.objects.count(),
        "contacts": list(Contact.objects.order_by("pk").values_list("pk", "version", "position", "mobile")),
        "chain": list(ChainNode.objects.order_by("pk").values_list("pk", "name", "name_en", "parent_id")),
        "audit": AuditEntry.objects.exclude(action__in=["login", "logout", "login_failed"]).count(),
        "tokens": ApiToken.objects.filter(revoked_at__isnull=False).count(),
        "locks": User.objects.aggregate(n=Sum("failed_login_count"), last=Max("locked_until")),
        "exports": Export.objects.count(),
        "investment": _investment_state(),
        "stats": _stats_state(),
    }


def _investment_state() -> dict[str, Any]:
    from yimatong.investment.models import (
        Activity,
        Document,
        Lead,
        Project,
        ProjectEvent,
        SavedFilter,
        ScoreItem,
    )
    from yimatong.notifications.models import Notification

    return {
        "leads": list(Lead.objects.order_by("pk").values_list("pk", "status", "owner_id", "touched_at")),
        "projects": list(
            Project.objects.order_by("pk").values_list("pk", "stage", "version", "is_major", "supervised_at")
        ),
        "events": ProjectEvent.objects.count(),
        "activities": Activity.objects.count(),
        "documents": Document.objects.count(),
        "filters": SavedFilter.objects.count(),
        "score_items": ScoreItem.objects.count(),
        "unread": Notification.objects.filter(read_at__isnull=True).count(),
        "wechat": _wechat_state(),
        "demands": _demand_state(),
    }


def _demand_state() -> dict[str, Any]:
    from yimatong.services.models import Application, Demand, DemandEvent, FinancingNeed, Policy

    return {
        "demands": list(Demand.objects.order_by("pk").values_list("pk", "status", "version")),
        "events": DemandEvent.objects.count(),
        "applications": list(Application.objects.order_by("pk").values_list("pk", "status", "version")),
        "policies": list(Policy.objects.order_by("pk").values_list("pk", "version", "title")),
        "needs": FinancingNeed.objects.count(),
        "care": _care_state(),
    }


def _wechat_state() -> dict[str, Any]:
    from yimatong.wechat.models import Follower, InboundMessage, OutboundMessage, QrCode

    return {
        "followers": list(Follower.objects.order_by("pk").values_list("pk", "assigned_to_id", "lead_id")),
        "inbound": InboundMessage.objects.count(),
        "outbound": list(OutboundMessage.objects.order_by("pk").values_list("pk", "status")),
        "codes": QrCode.objects.count(),
    }


def _case_id(case: Case) -> str:
    suffix = f"[{','.join(case.tags)}]" if case.tags else ""
    return f"{case.method} {case.key}{suffix}"


PARAMS = [
    pytest.param(case, persona, id=f"{_case_id(case)}-{persona}") for case in CASES for persona in PERSONAS
]


@pytest.mark.parametrize("case, persona", PARAMS)
def test_route_answers_each_persona_as_the_matrix_says(park, case: Case, persona: str, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(park.user(persona))
    url = case.url(park)
    before = state()
    kwargs: dict[str, Any] = {}
    if case.data is not None:
        payload = case.data(park)
        kwargs = (
            {"data": json.dumps(payload), "content_type": "application/json"}
            if case.json
            else {"data": payload}
        )
    response = getattr(client, case.method.lower())(url, **kwargs)
    expected = case.expected[persona]
    assert response.status_code == expected, (
        f"{persona} {case.method} {url}: {response.status_code}, expected {expected}\n"
        f"{response.content[:600].decode(errors='replace')}"
    )
    if expected >= 400 or (expected == 302 and persona in ("anonymous",) and case.method != "GET"):
        assert state() == before, "a refused request changed stored data"
    if expected >= 400 and case.key.startswith(("GET /api", "POST /api", "PATCH /api", "DELETE /api")):
        body = response.json()
        assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])


def _console_route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue  # Django's admin: its own login and permissions, see test_admin.py
                ns = ":".join(filter(None, [namespace, pattern.namespace]))
                walk(pattern.url_patterns, ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def _api_operations() -> set[str]:
    operations = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    operations.add(f"{method} /api/v1{prefix}{path}")
    return operations


def test_every_route_has_a_matrix_entry():
    covered = {case.key for case in CASES}
    api_views = {f"api:{name}" for name in [op.split(" ", 1)[1] for op in _api_operations()]}
    console = {
        name
        for name in _console_route_names()
        # API operations are covered by method and path below; ninja's own root is not a route we serve.
        if not (name.startswith("api:") and name not in ("api:openapi-json", "api:openapi-view"))
    }
    missing = (console | _api_operations()) - covered
    assert not missing, f"routes without an entry in the access matrix: {sorted(missing)}"
    assert api_views  # the API has operations at all


def test_every_matrix_entry_names_a_route_that_exists():
    known = _console_route_names() | _api_operations()
    assert {case.key for case in CASES} <= known
