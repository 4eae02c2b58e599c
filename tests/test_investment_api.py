import json

from django.test import Client

from tests.test_api import bearer


def post(client, url, payload, **headers):
    return client.post(url, json.dumps(payload), content_type="application/json", **headers)


def test_a_stage_move_without_its_facts_names_every_missing_field(new_project, investment):
    project = new_project()
    response = post(
        Client(),
        f"/api/v1/projects/{project.code}/move",
        {"to": "signed", "expected_stage": "contact"},
        **bearer(investment, "owner"),
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"agreement_type", "signed_on", "contracted_investment"}


def test_a_move_from_a_stage_that_already_changed_answers_409_and_changes_nothing(new_project, investment):
    project = new_project()
    headers = bearer(investment, "owner")
    first = post(
        Client(),
        f"/api/v1/projects/{project.code}/move",
        {"to": "visit", "expected_stage": "contact"},
        **headers,
    )
    second = post(
        Client(),
        f"/api/v1/projects/{project.code}/move",
        {"to": "negotiation", "expected_stage": "contact"},
        **headers,
    )
    assert first.status_code == 200 and first.json()["stage"] == "visit"
    assert first.json()["light"] == "green"  # computed for the one project, as lists annotate it
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "stale"
    project.refresh_from_db()
    assert project.stage == "visit"


def test_signing_through_the_api_counts_the_contract(new_project, investment):
    project = new_project()
    response = post(
        Client(),
        f"/api/v1/projects/{project.code}/move",
        {
            "to": "signed",
            "expected_stage": "contact",
            "agreement_type": "formal",
            "signed_on": "2026-03-01",
            "contracted_investment": "50000",
        },
        **bearer(investment, "owner"),
    )
    assert response.status_code == 200
    events = Client().get(f"/api/v1/projects/{project.code}/events", **bearer(investment, "owner")).json()
    assert events[0]["to_stage"] == "signed" and events[0]["signed_amount"] == "50000.00"


def test_a_possible_duplicate_lead_is_answered_with_the_matches(investment):
    headers = bearer(investment, "owner")
    payload = {"company_name": "苏州启明抗体药物（江苏）有限公司", "channel": "expo"}
    refused = post(Client(), "/api/v1/leads", payload, **headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "duplicates"
    assert refused.json()["error"]["fields"]["duplicates"] == ["苏州启明抗体药物有限公司"]
    accepted = post(Client(), "/api/v1/leads", {**payload, "confirm_duplicates": True}, **headers)
    assert accepted.status_code == 201
    assert accepted.json()["owner"] == "owner"


def test_the_codename_stands_in_for_the_investor_in_the_api(new_project, investment):
    project = new_project(codename="项目 K")
    leader_view = Client().get(f"/api/v1/projects/{project.code}", **bearer(investment, "leader")).json()
    owner_view = Client().get(f"/api/v1/projects/{project.code}", **bearer(investment, "owner")).json()
    assert (leader_view["investor"], owner_view["investor"]) == ("项目 K", "苏州启明抗体药物有限公司")


def test_the_project_list_uses_a_fixed_number_of_queries(new_project, investment, django_assert_num_queries):
    headers = bearer(investment, "admin")
    Client().get("/api/v1/projects", **headers)
    for n in range(12):
        new_project(name=f"项目{n}")
    with django_assert_num_queries(6):  # token, settings, count, page (with joins), insiders, capital
        response = Client().get("/api/v1/projects?page_size=50", **headers)
    assert response.json()["count"] == 12


def test_numbers_are_served_for_a_year(new_project, investment):
    body = Client().get("/api/v1/investment/numbers?year=2026", **bearer(investment, "leader")).json()
    assert [row["stage"] for row in body["funnel"]][:3] == ["lead", "contact", "visit"]
    assert set(body["rates"]) >= {"performance_rate", "construction_rate", "production_rate", "capital_rate"}


def test_the_api_names_exactly_the_stages_and_channels_the_models_know():
    from typing import get_args

    from yimatong.investment.api import ChannelName, StageName
    from yimatong.investment.models import Channel, Stage

    assert set(get_args(StageName)) == set(Stage.values)
    assert set(get_args(ChannelName)) == set(Channel.values)
