import json

from django.test import Client

from tests.conftest import client_for
from tests.factories import OrganizationFactory
from yimatong.accounts import actions as account_actions
from yimatong.accounts.models import ApiToken, AuditEntry
from yimatong.directory.models import Organization


def bearer(park, persona: str) -> dict[str, str]:
    _token, raw = account_actions.create_api_token(park.users[persona], name="测试")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_json(client: Client, url: str, payload: dict, **extra):
    return client.post(url, json.dumps(payload), content_type="application/json", **extra)


def patch_json(client: Client, url: str, payload: dict, **extra):
    return client.patch(url, json.dumps(payload), content_type="application/json", **extra)


def test_a_bearer_token_authenticates_as_its_user_with_the_same_visibility(park):
    response = Client().get("/api/v1/organizations", **bearer(park, "owner"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert {item["name"] for item in body["items"]} >= {
        "苏州启明抗体药物有限公司",
        "南京金陵体外诊断有限公司",
    }
    assert "广州粤创医疗影像设备有限公司" not in {item["name"] for item in body["items"]}


def test_a_revoked_or_unknown_token_is_refused_with_the_error_shape(park):
    headers = bearer(park, "owner")
    ApiToken.objects.update(revoked_at="2026-01-01T00:00Z")
    for auth in (headers, {"HTTP_AUTHORIZATION": "Bearer ymt_nope"}, {}):
        response = Client().get("/api/v1/me", **auth)
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "code": "unauthenticated",
                "message": "请先登录，或在 Authorization 头中提供有效的 API 令牌。",
                "fields": {},
            }
        }


def test_only_a_digest_of_the_token_is_stored(park):
    _token, raw = account_actions.create_api_token(park.users["owner"], name="测试")
    stored = ApiToken.objects.get()
    assert raw.startswith("ymt_") and raw not in (stored.digest, stored.prefix)
    assert stored.digest == ApiToken.digest_of(raw)


def test_session_writes_need_the_csrf_header(park):
    client = Client(enforce_csrf_checks=True)
    client.force_login(park.users["owner"])
    refused = post_json(client, "/api/v1/contacts", {"name": "吴经理", "mobile": "13700001111"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert "X-CSRFToken" in refused.json()["error"]["message"]
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = post_json(
        client, "/api/v1/contacts", {"name": "吴经理", "mobile": "13700001111"}, HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201


def test_creating_an_organization_runs_the_consoles_checks(park):
    headers = bearer(park, "owner")
    response = post_json(
        Client(),
        "/api/v1/organizations",
        {"name": "杭州新药研究有限公司", "org_type": "prospect", "uscc": "91110000600037341M"},
        **headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["fields"]["uscc"] == [
        "统一社会信用代码校验位不正确：第 18 位应为 L，而不是 M，请核对营业执照。"
    ]
    assert not Organization.objects.filter(name="杭州新药研究有限公司").exists()

    created = post_json(
        Client(),
        "/api/v1/organizations",
        {
            "name": "杭州新药研究有限公司",
            "org_type": "prospect",
            "uscc": "91110000600037341l",
            "industry": "2761",
            "district": "500113",
            "chain_node": "antibody",
            "registered_capital": "1500.00",
        },
        **headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["uscc"] == "91110000600037341L"
    assert body["industry"] == {"code": "2761", "name": "生物药品制造"}
    assert body["chain_node"]["path"] == "生物药 / 抗体药物"
    assert body["owner"]["username"] == "owner"
    assert body["registered_capital"] == "1500.00"
    assert (
        AuditEntry.objects.get(object_id=str(Organization.objects.get(code=body["code"]).pk)).channel == "api"
    )


def test_unknown_references_name_the_field(park):
    response = post_json(
        Client(),
        "/api/v1/organizations",
        {"name": "某公司", "org_type": "prospect", "industry": "9999", "chain_node": "nope"},
        **bearer(park, "owner"),
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["industry"] == ["没有行业代码 9999（GB/T 4754-2017）。"]
    assert fields["chain_node"] == ["没有编码为 nope 的产业链环节。"]


def test_schema_errors_use_the_same_shape_and_name_the_field(park):
    response = post_json(
        Client(), "/api/v1/organizations", {"name": "某公司", "org_type": "startup"}, **bearer(park, "owner")
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["org_type"]
    assert error["fields"]["org_type"][0].startswith("可选值：")


def test_a_malformed_body_is_a_clear_400(park):
    response = Client().post(
        "/api/v1/organizations", "{not json", content_type="application/json", **bearer(park, "owner")
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_a_similar_name_needs_confirmation_through_the_api_too(park):
    headers = bearer(park, "owner")
    payload = {"name": "智翔金泰（重庆）生物制药有限公司", "org_type": "resident"}
    refused = post_json(Client(), "/api/v1/organizations", payload, **headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "similar_name"
    assert refused.json()["error"]["fields"]["similar"] == ["重庆智翔金泰生物制药股份有限公司"]
    accepted = post_json(Client(), "/api/v1/organizations", {**payload, "confirm_similar": True}, **headers)
    assert accepted.status_code == 201


def test_patch_changes_only_the_fields_sent_and_audits_them(park):
    org = park.prospect
    response = patch_json(
        Client(),
        f"/api/v1/organizations/{org.code}",
        {"address": "苏州工业园区 1 号"},
        **bearer(park, "owner"),
    )
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.address == "苏州工业园区 1 号"
    assert org.chain_node == park.antibody
    entry = AuditEntry.objects.for_object(org).get(action="update")
    assert [c["field"] for c in entry.changes] == ["address"]


def test_patch_with_an_old_version_answers_409_and_changes_nothing(park):
    org = park.prospect
    headers = bearer(park, "owner")
    first = patch_json(
        Client(), f"/api/v1/organizations/{org.code}", {"address": "A", "version": 1}, **headers
    )
    second = patch_json(
        Client(), f"/api/v1/organizations/{org.code}", {"address": "B", "version": 1}, **headers
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "stale"
    org.refresh_from_db()
    assert org.address == "A"


def test_a_promoter_cannot_reassign_through_the_api(park):
    response = patch_json(
        Client(),
        f"/api/v1/organizations/{park.prospect.code}",
        {"owner": "colleague"},
        **bearer(park, "owner"),
    )
    assert response.status_code == 200
    park.prospect.refresh_from_db()
    assert park.prospect.owner == park.users["owner"]


def test_lists_are_paginated_with_totals(park):
    for _ in range(25):
        OrganizationFactory()
    body = Client().get("/api/v1/organizations?page=2&page_size=10", **bearer(park, "admin")).json()
    assert (body["count"], body["page"], body["page_size"], body["pages"], len(body["items"])) == (
        30,
        2,
        10,
        3,
        10,
    )
    too_big = Client().get("/api/v1/organizations?page_size=1000", **bearer(park, "admin"))
    assert too_big.status_code == 400
    assert too_big.json()["error"]["fields"] == {"page_size": ["不能大于 200。"]}


def test_contacts_are_masked_through_the_api_for_readers(park):
    body = Client().get(f"/api/v1/contacts/{park.prospect_contact.code}", **bearer(park, "leader")).json()
    assert body["mobile"] == "138****5678"
    assert body["can_change"] is False
    own = Client().get(f"/api/v1/contacts/{park.prospect_contact.code}", **bearer(park, "owner")).json()
    assert own["mobile"] == "13812345678"


def test_the_audit_timeline_is_served_with_labels(park):
    patch_json(
        Client(), f"/api/v1/organizations/{park.prospect.code}", {"address": "苏州"}, **bearer(park, "owner")
    )
    timeline = (
        Client().get(f"/api/v1/organizations/{park.prospect.code}/audit", **bearer(park, "owner")).json()
    )
    assert timeline[0]["action"] == "update"
    assert timeline[0]["actor"] == "张专员"
    assert timeline[0]["changes"] == [{"field": "地址", "old": "—", "new": "苏州"}]


def test_the_openapi_document_and_the_docs_are_served_without_outside_assets(park):
    spec = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/organizations/{code}" in spec["paths"]
    docs = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()


def test_an_unknown_api_path_answers_in_the_error_shape(park):
    response = client_for(park.users["owner"]).get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_team_lead_patches_another_teams_shared_record_without_touching_its_owner(park):
    org = park.shared_prospect
    response = patch_json(
        Client(), f"/api/v1/organizations/{org.code}", {"address": "南京"}, **bearer(park, "teamlead")
    )
    assert response.status_code == 200, response.json()
    org.refresh_from_db()
    assert (org.address, org.owner, org.team.code) == ("南京", park.users["other_team"], "dev")


def test_a_mobile_number_with_letters_is_refused_through_the_api_and_nothing_is_stored(park):
    from yimatong.directory.models import Contact

    before = Contact.objects.count()
    response = post_json(
        Client(),
        "/api/v1/contacts",
        {"organization": str(park.prospect.code), "name": "吴经理", "mobile": "13812abc678"},
        **bearer(park, "owner"),
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "mobile": ["手机号码只能包含数字：13812abc678 含有字母，请核对。"]
    }
    assert Contact.objects.count() == before
