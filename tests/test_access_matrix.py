"""Every console URL and API route, for every persona: the status it must answer, and for a
refused change, proof that nothing changed.

Adding a route without an entry here fails ``test_every_route_has_a_matrix_entry``.
"""

from __future__ import annotations

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


CASES: list[Case] = [
    # Project-level pages -----------------------------------------------------------------
    # An enterprise user's home is their own company's page.
    Case("home", "GET", lambda p: reverse("home"), expect(STAFF, enterprise=302)),
    Case("search", "GET", lambda p: reverse("search") + "?q=zxjt", expect(CONSOLE)),
    Case("healthz", "GET", lambda p: reverse("healthz"), {p: 200 for p in PERSONAS}),
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
