from django.urls import reverse


def test_the_home_page_counts_what_the_user_may_see(park, as_persona):
    context = as_persona("owner").get("/").context
    cards = {value: count for value, _label, count in context["type_cards"]}
    assert cards == {"prospect": 2, "resident": 2, "bank": 0, "research": 0, "government": 0}
    assert context["mine_count"] == 2
    assert {root.code: n for root, n, _pct in context["chain_rows"]} == {"biologics": 2, "devices": 2}


def test_a_leader_sees_every_prospect_on_the_home_page(park, as_persona):
    cards = {v: n for v, _l, n in as_persona("leader").get("/").context["type_cards"]}
    assert cards["prospect"] == 3


def test_an_enterprise_user_goes_straight_to_their_company(park, as_persona):
    response = as_persona("enterprise").get("/")
    assert response.status_code == 302
    assert response.url == park.resident.get_absolute_url()


def test_the_navigation_follows_the_role(park, as_persona):
    def labels(persona):
        sections = as_persona(persona).get(reverse("directory:contact_list")).context["nav_sections"]
        return {str(item.label) for section in sections for item in section.items}

    assert {"审计日志", "系统管理"} <= labels("admin")
    assert "审计日志" in labels("leader") and "系统管理" not in labels("leader")
    assert not {"审计日志", "系统管理", "API 令牌"} & labels("enterprise")
    assert "重庆智翔金泰生物制药股份有限公司" in labels("enterprise")


def test_the_health_check_answers_without_login(db, client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_outsiders_get_a_friendly_404_page(park, as_persona):
    response = as_persona("colleague").get(park.other_prospect.get_absolute_url())
    assert response.status_code == 404
    assert "没有找到这个页面或记录，或者您无权查看。" in response.content.decode()


def test_read_only_users_get_a_403_page_that_says_why(park, as_persona):
    response = as_persona("leader").get(reverse("directory:organization_edit", args=[park.prospect.code]))
    assert response.status_code == 403
    assert "没有修改它的权限" in response.content.decode()


def test_the_top_bar_search_finds_organizations_and_contacts_the_user_may_see(park, as_persona):
    context = as_persona("owner").get("/search/", {"q": "陈"}).context
    assert [c.name for c in context["contacts"]] == ["陈投资"]
    context = as_persona("owner").get("/search/", {"q": "zxjt"}).context
    assert [o.name for o in context["orgs"]] == ["重庆智翔金泰生物制药股份有限公司"]
    outsider = as_persona("colleague").get("/search/", {"q": "1381234"}).context
    assert list(outsider["contacts"]) == [] and list(outsider["orgs"]) == []


def test_the_home_page_counts_follow_a_new_organization_and_a_new_share_at_once(park, as_persona):
    from yimatong.directory.actions import create_organization, update_organization
    from yimatong.directory.models import Organization

    def prospects(persona):
        return {v: n for v, _l, n in as_persona(persona).get("/").context["type_cards"]}["prospect"]

    assert (prospects("leader"), prospects("owner")) == (3, 2)  # now read from the cache
    other = park.users["other_team"]
    created = create_organization(
        actor=other,
        data={"name": "重庆新登记医药有限公司", "org_type": Organization.Type.PROSPECT, "owner": other},
    )
    assert (prospects("leader"), prospects("owner")) == (4, 2)
    update_organization(actor=park.users["admin"], org=created, data={"owner": park.users["owner"]})
    assert prospects("owner") == 3
