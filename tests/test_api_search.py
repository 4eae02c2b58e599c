"""The API's searches (Chinese words of any length, pinyin initials, English words, code and USCC
prefixes) and its pages (a capped count, pages past the last one, numbers too large to be pages),
on SQLite and on PostgreSQL (where the searches read the tripled trigram indexes)."""

import json

import pytest
from django.db import connection
from django.test import Client

from tests.test_api import bearer
from yimatong.directory.models import ChainNode


def get(park, persona: str, url: str):
    return Client().get(url, **bearer(park, persona))


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item.get("name") or item.get("company_name") for item in response.json()["items"]}


@pytest.fixture
def projects(new_project):
    return {
        name: new_project(name=name)
        for name in ("启明双抗生产基地", "康弘眼科药物项目", "CDMO 制剂平台", "细胞治疗中试基地")
    }


def test_a_promoter_finds_projects_by_a_two_character_chinese_word(investment, projects):
    assert names(get(investment, "owner", "/api/v1/projects?q=双抗")) == {"启明双抗生产基地"}
    assert names(get(investment, "owner", "/api/v1/projects?q=基地")) == {
        "启明双抗生产基地",
        "细胞治疗中试基地",
    }


def test_a_promoter_finds_projects_by_a_single_chinese_character(investment, projects):
    assert names(get(investment, "owner", "/api/v1/projects?q=康")) == {"康弘眼科药物项目"}


def test_a_promoter_finds_projects_by_a_longer_chinese_phrase_only_where_it_appears_whole(
    investment, projects
):
    assert names(get(investment, "owner", "/api/v1/projects?q=细胞治疗中试")) == {"细胞治疗中试基地"}
    assert names(get(investment, "owner", "/api/v1/projects?q=治疗细胞")) == set()


def test_a_promoter_finds_projects_by_pinyin_initials(investment, projects):
    assert names(get(investment, "owner", "/api/v1/projects?q=sksc")) == {"启明双抗生产基地"}
    assert names(get(investment, "owner", "/api/v1/projects?q=KHYK")) == {"康弘眼科药物项目"}


def test_a_leader_finds_projects_by_an_english_word_in_any_case(investment, projects):
    assert names(get(investment, "leader", "/api/v1/projects?q=cdmo")) == {"CDMO 制剂平台"}


def test_a_promoter_finds_projects_by_a_code_prefix(investment, projects):
    codes = sorted(p.code for p in projects.values())
    found = get(investment, "owner", f"/api/v1/projects?q={codes[0][:-1].lower()}").json()["items"]
    assert sorted(item["code"] for item in found) == [c for c in codes if c.startswith(codes[0][:-1])]
    assert [
        item["code"] for item in get(investment, "owner", f"/api/v1/projects?q={codes[0]}").json()["items"]
    ] == [codes[0]]


def test_a_search_does_not_treat_like_wildcards_as_wildcards(investment, projects):
    assert names(get(investment, "owner", "/api/v1/projects?q=%25")) == set()
    assert names(get(investment, "owner", "/api/v1/projects?q=_")) == set()


def test_another_teams_promoter_finds_none_of_the_projects_they_may_not_see(investment, projects):
    assert names(get(investment, "other_team", "/api/v1/projects?q=基地")) == set()


def lead(park, persona: str, company: str, **fields) -> dict:
    payload = {"company_name": company, "channel": "expo", "confirm_duplicates": True, **fields}
    response = Client().post(
        "/api/v1/leads", json.dumps(payload), content_type="application/json", **bearer(park, persona)
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_promoter_finds_leads_by_chinese_word_initials_and_code_prefix(investment):
    kanghong = lead(investment, "owner", "成都康弘药业集团股份有限公司", contact_name="钟先生")
    lead(investment, "owner", "重庆宏冠生物医药有限公司")
    assert names(get(investment, "owner", "/api/v1/leads?q=康弘")) == {"成都康弘药业集团股份有限公司"}
    assert names(get(investment, "owner", "/api/v1/leads?q=钟")) == {"成都康弘药业集团股份有限公司"}
    assert names(get(investment, "owner", "/api/v1/leads?q=cdkh")) == {"成都康弘药业集团股份有限公司"}
    assert names(get(investment, "owner", f"/api/v1/leads?q={kanghong['code']}")) == {
        "成都康弘药业集团股份有限公司"
    }


def test_a_lead_reads_the_same_in_the_list_and_on_its_own(investment):
    created = lead(investment, "owner", "成都康弘药业集团股份有限公司", event="2026 生物医药博览会")
    listed = get(investment, "owner", "/api/v1/leads?q=康弘").json()["items"]
    alone = get(investment, "owner", f"/api/v1/leads/{created['code']}").json()
    assert listed == [alone]
    assert [(s["channel"], s["event"]) for s in alone["sources"]] == [("expo", "2026 生物医药博览会")]


def test_a_promoter_finds_organizations_by_chinese_word_and_uscc_prefix(investment):
    resident = investment.resident
    assert names(get(investment, "owner", "/api/v1/organizations?q=智翔")) == {resident.name}
    found = names(get(investment, "owner", f"/api/v1/organizations?q={resident.uscc[:17]}"))
    assert found == {resident.name}


def test_an_organization_lists_its_collaborators_and_whether_you_may_change_it(investment):
    investment.other_prospect.collaborators.add(investment.users["colleague"], investment.users["owner"])
    items = get(investment, "owner", "/api/v1/organizations?page_size=50").json()["items"]
    shared = next(item for item in items if item["name"] == investment.other_prospect.name)
    alone = get(investment, "owner", f"/api/v1/organizations/{investment.other_prospect.code}").json()
    assert shared == alone
    assert [c["username"] for c in shared["collaborators"]] == ["colleague", "owner"]


def test_a_leader_paging_past_the_last_page_is_told_which_field_is_wrong(investment, projects):
    response = get(investment, "leader", "/api/v1/projects?page=3&page_size=2")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "第 3 页不存在：共 2 页。",
            "fields": {"page": ["第 3 页不存在：共 2 页。"]},
        }
    }


@pytest.mark.parametrize("page", ["10000000000000000000000", "0", "-1", "abc"])
def test_a_page_number_that_cannot_be_a_page_answers_400_naming_the_page(investment, page):
    response = get(investment, "leader", f"/api/v1/projects?page={page}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert list(body["error"]["fields"]) == ["page"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects",
        "/api/v1/leads",
        "/api/v1/organizations",
        "/api/v1/contacts",
        "/api/v1/demands",
        "/api/v1/wechat/codes",
    ],
)
def test_every_list_answers_a_page_past_the_last_with_404_not_an_error(investment, url):
    response = get(investment, "admin", f"{url}?page=999999")
    assert response.status_code == 404
    assert list(response.json()["error"]["fields"]) == ["page"]


def test_a_leader_sees_the_count_capped_and_told_there_are_more(investment, new_project, settings):
    settings.API_COUNT_LIMIT = 5
    for n in range(12):
        new_project(name=f"项目{n}")
    first = get(investment, "leader", "/api/v1/projects?page_size=2").json()
    assert {k: first[k] for k in ("count", "count_capped", "pages", "has_next")} == {
        "count": 5,
        "count_capped": True,
        "pages": 3,
        "has_next": True,
    }
    # Past the cap the count reaches the page asked for, and the last page is exact.
    deep = get(investment, "leader", "/api/v1/projects?page=6&page_size=2").json()
    assert (deep["count"], deep["count_capped"], deep["has_next"], len(deep["items"])) == (
        12,
        False,
        False,
        2,
    )
    assert get(investment, "leader", "/api/v1/projects?page=7&page_size=2").status_code == 404


def test_a_short_list_counts_exactly_without_saying_more(investment, projects):
    body = get(investment, "leader", "/api/v1/projects").json()
    assert (body["count"], body["count_capped"], body["pages"], body["has_next"]) == (4, False, 1, False)


def test_the_openapi_schema_names_the_400_and_404_of_every_list(investment):
    from yimatong.api import api

    paths = api.get_openapi_schema()["paths"]
    for path in (
        "/api/v1/projects",
        "/api/v1/leads",
        "/api/v1/organizations",
        "/api/v1/contacts",
        "/api/v1/demands",
    ):
        responses = paths[path]["get"]["responses"]
        assert {"200", "400", "404"} <= set(map(str, responses)), path
        assert "count_capped" in json.dumps(api.get_openapi_schema()["components"])


def test_the_chain_filter_reads_the_subtree_in_one_query(investment, django_assert_num_queries):
    leaf = ChainNode.objects.create(code="bispecific", name="双抗", parent=investment.antibody)
    with django_assert_num_queries(1):
        ids = ChainNode.subtree_ids(code="biologics")
    assert ids == {investment.biologics.pk, investment.antibody.pk, leaf.pk}
    assert ChainNode.subtree_ids(code="nope") is None


def test_a_promoter_filtering_by_a_chain_sees_the_projects_below_it(investment, new_project):
    new_project(name="抗体项目", chain_node=investment.antibody)
    assert names(get(investment, "owner", "/api/v1/projects?chain=biologics")) == {"抗体项目"}
    assert names(get(investment, "owner", "/api/v1/projects?chain=devices")) == set()
    assert names(get(investment, "owner", "/api/v1/projects?chain=nope")) == set()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram indexes exist on PostgreSQL only")
def test_on_postgresql_a_two_character_search_reads_the_trigram_index(investment, projects):
    from yimatong.investment.models import Project

    qs = Project.objects.search("双抗").order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = qs.explain()
        cursor.execute("SET enable_seqscan = on")
    assert "investment_project_name_trgm" in plan
