"""What the property-based run over the OpenAPI found (tests/test_api_fuzz.py), one test per class:
each answer is a 4xx in the API's one error shape that names the field, never a server error."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from tests.conftest import client_for
from tests.factories import ContactFactory, OrganizationFactory
from tests.test_api import bearer, patch_json, post_json
from yimatong.accounts.models import AuditEntry
from yimatong.directory.models import Contact, Organization
from yimatong.investment.models import Project
from yimatong.services.models import WorkCalendarDay


@pytest.mark.parametrize("page", ["10000000000000000000000", "1000001", "0", "-1", "1e3"])
def test_an_impossible_page_number_on_a_list_answers_400_naming_page(park, page):
    response = Client().get(f"/api/v1/organizations?page={page}", **bearer(park, "leader"))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["page"]


def test_a_page_past_the_last_answers_404_naming_page(park):
    response = Client().get("/api/v1/organizations?page=999999", **bearer(park, "leader"))
    assert response.status_code == 404
    assert response.json()["error"]["fields"]["page"] == ["第 999999 页不存在：共 1 页。"]


@pytest.mark.parametrize(
    "url", ["/api/v1/organizations?q=%00", "/api/v1/projects?q=a%00b", "/api/v1/leads?%00=1"]
)
def test_a_nul_character_in_a_query_string_answers_400_naming_the_parameter(park, url):
    response = Client().get(url, **bearer(park, "leader"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"].values()) == [["不能包含空字符（\\x00）。"]]


def test_a_nul_character_in_a_json_string_answers_400_naming_the_field_and_saves_nothing(park):
    headers = bearer(park, "owner")
    response = patch_json(
        Client(), f"/api/v1/organizations/{park.prospect.code}", {"industry": "27\u0000"}, **headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"industry": ["不能包含空字符（\\x00）。"]}
    created = post_json(
        Client(),
        "/api/v1/organizations",
        {"name": "某公司", "org_type": "prospect", "collaborators": ["a\u0000"]},
        **bearer(park, "admin"),
    )
    assert created.status_code == 400
    assert created.json()["error"]["fields"] == {"collaborators.0": ["不能包含空字符（\\x00）。"]}
    assert not Organization.objects.filter(name="某公司").exists()


def test_a_nul_character_in_a_path_answers_400_naming_it(investment):
    response = Client().get("/api/v1/projects/YMT%00", **bearer(investment, "leader"))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"code": ["不能包含空字符（\\x00）。"]}


def test_a_planned_investment_beyond_its_column_answers_400_on_patch_and_on_qualify(new_project, investment):
    from yimatong.investment.actions.leads import create_lead

    project = new_project()
    headers = bearer(investment, "owner")
    patched = patch_json(
        Client(), f"/api/v1/projects/{project.code}", {"planned_investment": 1e17}, **headers
    )
    assert patched.status_code == 400
    assert patched.json()["error"]["fields"] == {"planned_investment": ["最多 14 位数字。"]}
    project.refresh_from_db()
    assert project.planned_investment == 80000

    lead = create_lead(
        actor=investment.users["owner"], data={"company_name": "杭州新药研究有限公司"}, source={}
    )
    qualified = post_json(
        Client(), f"/api/v1/leads/{lead.code}/qualify", {"planned_investment": "1e17"}, **headers
    )
    assert qualified.status_code == 400
    assert list(qualified.json()["error"]["fields"]) == ["planned_investment"]
    places = post_json(
        Client(), f"/api/v1/leads/{lead.code}/qualify", {"planned_investment": "1.001"}, **headers
    )
    assert places.json()["error"]["fields"] == {"planned_investment": ["最多 2 位小数。"]}
    assert Project.objects.count() == 1


def test_a_bare_string_body_to_a_leads_qualify_answers_400_and_creates_no_project(investment):
    from yimatong.investment.actions.leads import create_lead

    lead = create_lead(
        actor=investment.users["owner"], data={"company_name": "杭州新药研究有限公司"}, source={}
    )
    for body in ('"abc"', "[]", "1", "null"):
        response = Client().post(
            f"/api/v1/leads/{lead.code}/qualify",
            body,
            content_type="application/json",
            **bearer(investment, "owner"),
        )
        assert response.status_code == 400, body
        assert response.json()["error"] == {
            "code": "invalid",
            "message": "输入有误：__all__ 请求体应为 JSON 对象。",
            "fields": {"__all__": ["请求体应为 JSON 对象。"]},
        }
    assert not Project.objects.exists()


@pytest.mark.parametrize("organization", ["0", "not-a-uuid", "12345678-1234-1234-1234-1234567890zz"])
def test_a_malformed_organization_code_in_a_new_project_answers_400_naming_organization(
    investment, organization
):
    response = post_json(
        Client(),
        "/api/v1/projects",
        {"name": "某项目", "organization": organization},
        **bearer(investment, "owner"),
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"organization": ["应为 UUID 编号。"]}


def test_a_date_must_be_written_as_yyyy_mm_dd(investment):
    response = Client().get("/api/v1/investment/numbers?start=0", **bearer(investment, "leader"))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"start": ["应为日期（YYYY-MM-DD）。"]}
    dated = Client().get(
        "/api/v1/investment/numbers?year=2000&start=2000-01-01", **bearer(investment, "leader")
    )
    assert dated.status_code == 200


def _project_on(org: Organization, park, **fields) -> Project:
    from yimatong.investment.actions.projects import create_project

    data = {"name": "某项目", "organization": org, "owner": park.users["owner"], "chain_node": park.antibody}
    return create_project(actor=park.users["owner"], data={**data, **fields})


def test_deleting_an_organization_that_a_project_uses_answers_409_saying_so(investment):
    org = OrganizationFactory(
        name="无锡药明康德新药开发股份有限公司", org_type="prospect", owner=investment.users["owner"]
    )
    _project_on(org, investment)
    response = Client().delete(f"/api/v1/organizations/{org.code}", **bearer(investment, "admin"))
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "in_use",
        "message": "「无锡药明康德新药开发股份有限公司」还被其他记录使用（招商项目 1 条），不能删除；请先处理这些记录。",
        "fields": {},
    }
    assert Organization.objects.filter(pk=org.pk).exists()
    assert not AuditEntry.objects.filter(action="delete").exists()


def test_deleting_a_contact_that_a_project_uses_answers_409_in_the_api_and_in_the_console(investment):
    contact = ContactFactory(organization=investment.prospect, name="吴经理", owner=investment.users["owner"])
    _project_on(investment.prospect, investment, contact=contact)
    response = Client().delete(f"/api/v1/contacts/{contact.code}", **bearer(investment, "owner"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"
    assert "「吴经理」还被其他记录使用" in response.json()["error"]["message"]

    console = client_for(investment.users["owner"]).post(f"/directory/contacts/{contact.code}/delete/")
    assert console.status_code == 409
    assert "「吴经理」还被其他记录使用" in console.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_an_anonymous_or_wrong_token_write_answers_401_not_a_csrf_refusal(park):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer ymt_nope"}):
        response = Client(enforce_csrf_checks=True).post(
            "/api/v1/contacts", json.dumps({"name": "吴经理"}), content_type="application/json", **headers
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"


def test_an_administrator_enters_and_removes_calendar_days_through_the_api_with_an_audit(park):
    headers = bearer(park, "admin")
    put = Client().put(
        "/api/v1/calendar/2027-02-07",
        json.dumps({"is_workday": True, "note": "春节调休上班"}),
        content_type="application/json",
        **headers,
    )
    assert put.status_code == 200
    assert put.json() == {"date": "2027-02-07", "is_workday": True, "note": "春节调休上班"}
    listed = Client().get("/api/v1/calendar?year=2027", **bearer(park, "leader"))
    assert listed.json() == [{"date": "2027-02-07", "is_workday": True, "note": "春节调休上班"}]
    changed = Client().put(
        "/api/v1/calendar/2027-02-07",
        json.dumps({"is_workday": False, "note": "春节"}),
        content_type="application/json",
        **headers,
    )
    assert changed.json()["is_workday"] is False
    deleted = Client().delete("/api/v1/calendar/2027-02-07", **headers)
    assert deleted.status_code == 204
    assert not WorkCalendarDay.objects.exists()
    entries = AuditEntry.objects.filter(content_type__model="workcalendarday").order_by("pk")
    assert [(e.action, e.channel) for e in entries] == [
        ("create", "api"),
        ("update", "api"),
        ("delete", "api"),
    ]


@pytest.mark.parametrize("persona", ["leader", "owner", "service"])
def test_only_administrators_change_the_calendar_others_get_403_and_nothing_changes(park, persona):
    WorkCalendarDay.objects.create(date=dt.date(2027, 10, 9), is_workday=True, note="国庆调休上班")
    headers = bearer(park, persona)
    put = Client().put(
        "/api/v1/calendar/2027-02-07",
        json.dumps({"is_workday": True}),
        content_type="application/json",
        **headers,
    )
    deleted = Client().delete("/api/v1/calendar/2027-10-09", **headers)
    assert (put.status_code, deleted.status_code) == (403, 403)
    assert list(WorkCalendarDay.objects.values_list("date", flat=True)) == [dt.date(2027, 10, 9)]


def test_every_operation_documents_its_error_statuses_in_the_one_error_shape():
    from yimatong.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {401, 403} <= set(operation["responses"]), (method, path)
            if method != "get":
                assert {400, 404, 409} <= set(operation["responses"]), (method, path)
            error = operation["responses"][401]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorOut"}


def test_no_two_schemas_share_a_component_name():
    from pydantic import BaseModel

    from yimatong.api import api

    seen: dict[str, set[str]] = {}
    visited: set[type] = set()

    def walk(annotation) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in visited:
            visited.add(annotation)
            seen.setdefault(annotation.__name__, set()).add(
                f"{annotation.__module__}.{annotation.__qualname__}"
            )
            for field in annotation.model_fields.values():
                walk(field.annotation)
        for argument in getattr(annotation, "__args__", ()):
            walk(argument)

    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.response_models.values():
                    walk(model)
                for model in operation.models:
                    walk(model)
    shared = {name: sorted(where) for name, where in seen.items() if len(where) > 1}
    # ninja's wrappers of each operation's parameters and answer are not components.
    shared.pop("NinjaResponseSchema", None)
    assert shared == {}


def test_a_year_beyond_its_column_when_refixing_the_above_scale_set_answers_400_naming_year(park):
    response = post_json(
        Client(),
        "/api/v1/stats/above-scale/refix",
        {"year": 786221573318913796204539150336, "reason": "重新确定"},
        **bearer(park, "admin"),
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"year": ["不能大于 32767。"]}
