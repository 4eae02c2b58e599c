from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import ContactFactory, OrganizationFactory, valid_uscc
from yimatong.accounts.models import AuditEntry
from yimatong.directory import actions
from yimatong.directory.models import Organization

CREATE = "/directory/organizations/new/"


def form_data(**overrides):
    data = {
        "name": "杭州新药研究有限公司",
        "org_type": "prospect",
        "uscc": "",
        "registered_capital": "1200.5",
        "registered_on": "2019-05-06",
    }
    data.update(overrides)
    return data


def test_a_promoter_registers_a_prospect_and_owns_it(park, as_persona):
    response = as_persona("owner").post(CREATE, form_data(uscc="91110000600037341l"))
    org = Organization.objects.get(name="杭州新药研究有限公司")
    assert response.status_code == 302
    assert response.url == org.get_absolute_url()
    assert org.uscc == "91110000600037341L"
    assert org.registered_capital == Decimal("1200.50")
    assert org.owner == park.users["owner"]
    assert org.team == park.users["owner"].team
    assert org.name_initials.startswith("hzxyyjyxgs")


def test_a_wrong_check_digit_is_refused_with_the_field_and_the_rule_and_nothing_is_stored(park, as_persona):
    before = Organization.objects.count()
    response = as_persona("owner").post(CREATE, form_data(uscc="91110000600037341M"))
    assert response.status_code == 400
    assert response.context["form"].errors["uscc"] == [
        "统一社会信用代码校验位不正确：第 18 位应为 L，而不是 M，请核对营业执照。"
    ]
    assert Organization.objects.count() == before


def test_the_form_keeps_what_the_user_typed_when_it_is_refused(park, as_persona):
    response = as_persona("owner").post(CREATE, form_data(uscc="123"))
    html = response.content.decode()
    assert 'value="杭州新药研究有限公司"' in html
    assert 'value="123"' in html
    assert "统一社会信用代码应为 18 位，当前为 3 位。" in html


def test_the_same_uscc_cannot_be_registered_twice(park, as_persona):
    response = as_persona("owner").post(CREATE, form_data(uscc=park.resident.uscc.lower()))
    assert response.status_code == 400
    assert response.context["form"].errors["uscc"] == [
        f"统一社会信用代码 {park.resident.uscc} 已登记为「重庆智翔金泰生物制药股份有限公司」，同一代码不能重复登记。"
    ]


def test_a_duplicate_uscc_held_by_another_team_is_named_as_a_duplicate_claim_without_its_name(
    park, as_persona
):
    response = as_persona("colleague").post(CREATE, form_data(uscc=park.other_prospect.uscc))
    assert response.context["form"].errors["uscc"] == [
        f"统一社会信用代码 {park.other_prospect.uscc} 已由其他团队登记，请联系团队负责人协调（撞单）。"
    ]
    assert "广州粤创" not in response.content.decode()


def test_the_database_refuses_a_second_organization_with_the_same_uscc(park):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationFactory(uscc=park.resident.uscc)


def test_the_database_refuses_a_lowercase_or_short_uscc(park):
    for bad in ("91110000600037341l", "9111"):
        with pytest.raises(IntegrityError), transaction.atomic():
            OrganizationFactory(uscc=bad)


def test_a_similar_name_is_warned_about_and_saved_only_when_confirmed(park, as_persona):
    client = as_persona("owner")
    first = client.post(CREATE, form_data(name="智翔金泰（重庆）生物制药有限公司", org_type="resident"))
    assert first.status_code == 400
    form = first.context["form"]
    assert form.needs_similar_confirmation
    assert [o.name for o in form.similar_visible] == ["重庆智翔金泰生物制药股份有限公司"]
    assert not Organization.objects.filter(name="智翔金泰（重庆）生物制药有限公司").exists()

    confirmed = client.post(
        CREATE, form_data(name="智翔金泰（重庆）生物制药有限公司", org_type="resident", confirm_similar="on")
    )
    assert confirmed.status_code == 302
    assert Organization.objects.filter(name="智翔金泰（重庆）生物制药有限公司").exists()


def test_a_similar_name_hidden_from_the_user_is_counted_not_named(park, as_persona):
    response = as_persona("colleague").post(CREATE, form_data(name="广州粤创医疗影像设备（广州）有限公司"))
    form = response.context["form"]
    assert form.similar_visible == []
    assert form.similar_hidden == 1
    assert "另有 1 家名称相近的机构由其他团队负责。" in response.content.decode()


def test_inline_validation_answers_one_field_with_its_error(park, as_persona):
    response = as_persona("owner").post(
        reverse("directory:organization_validate"),
        form_data(uscc="91110000600037341M"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="field-uscc"' in response.content.decode()
    assert "第 18 位应为 L" in response.content.decode()


def test_an_htmx_submit_with_errors_returns_the_form_alone(park, as_persona):
    response = as_persona("owner").post(CREATE, form_data(name=""), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 400
    assert html.lstrip().startswith('<form id="organization-form"')
    assert "这个字段是必填项。" in html


def test_an_htmx_submit_that_succeeds_tells_htmx_where_to_go(park, as_persona):
    response = as_persona("owner").post(CREATE, form_data(), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == Organization.objects.get(name="杭州新药研究有限公司").get_absolute_url()


def test_a_promoter_cannot_hand_a_record_to_someone_else(park, as_persona):
    response = as_persona("owner").post(CREATE, form_data(owner=park.users["colleague"].pk))
    assert response.status_code == 302
    assert Organization.objects.get(name="杭州新药研究有限公司").owner == park.users["owner"]


def test_a_team_lead_assigns_a_new_record_to_a_team_member(park, as_persona):
    response = as_persona("teamlead").post(CREATE, form_data(owner=park.users["colleague"].pk))
    assert response.status_code == 302
    org = Organization.objects.get(name="杭州新药研究有限公司")
    assert (org.owner, org.team) == (park.users["colleague"], park.users["teamlead"].team)


def test_a_team_lead_cannot_assign_to_another_teams_promoter(park, as_persona):
    response = as_persona("teamlead").post(CREATE, form_data(owner=park.users["other_team"].pk))
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors


def test_editing_records_old_and_new_values_in_the_timeline(park, as_persona):
    org = park.prospect
    client = as_persona("owner")
    response = client.post(
        reverse("directory:organization_edit", args=[org.code]),
        form_data(
            name=org.name,
            uscc=org.uscc,
            address="江苏省苏州市工业园区星湖街 218 号",
            registered_capital="20000",
            chain_node=park.antibody.pk,
            version=org.version,
        ),
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.for_object(org).filter(action="update").get()
    assert entry.actor == park.users["owner"]
    assert entry.channel == "web"
    assert entry.ip == "127.0.0.1"
    changed = {c["field"]: (c["old"], c["new"]) for c in entry.changes}
    assert changed["address"] == ("", "江苏省苏州市工业园区星湖街 218 号")
    assert changed["registered_capital"] == (None, "20000")
    page = client.get(org.get_absolute_url()).content.decode()
    assert "江苏省苏州市工业园区星湖街 218 号" in page
    assert "注册资本（万元）" in page


def test_saving_an_unchanged_form_writes_no_audit_entry(park, as_persona):
    org = park.prospect
    as_persona("owner").post(
        reverse("directory:organization_edit", args=[org.code]),
        {
            "name": org.name,
            "uscc": org.uscc,
            "org_type": "prospect",
            "chain_node": park.antibody.pk,
            "version": org.version,
        },
    )
    assert not AuditEntry.objects.for_object(org).filter(action="update").exists()


def test_two_people_editing_the_same_record_the_second_is_told_and_loses_nothing(park, as_persona):
    org = park.prospect
    url = reverse("directory:organization_edit", args=[org.code])
    base = {
        "name": org.name,
        "uscc": org.uscc,
        "org_type": "prospect",
        "chain_node": park.antibody.pk,
        "version": org.version,
    }
    first = as_persona("owner").post(url, {**base, "address": "A 地址"})
    second = as_persona("teamlead").post(url, {**base, "address": "B 地址"})
    assert first.status_code == 302
    assert second.status_code == 400
    assert "该记录已被他人修改" in second.content.decode()
    assert 'value="B 地址"' in second.content.decode()  # the second person's input is still on screen
    assert Organization.objects.get(pk=org.pk).address == "A 地址"


def test_deleting_an_organization_with_contacts_is_refused_with_the_reason(park, as_persona):
    response = as_persona("owner").post(reverse("directory:organization_delete", args=[park.prospect.code]))
    assert response.status_code == 409
    assert "还有 1 位联系人" in response.content.decode()
    assert Organization.objects.filter(pk=park.prospect.pk).exists()


def test_deleting_is_audited_with_what_was_deleted(park, as_persona):
    org = park.shared_prospect
    code, pk = org.code, org.pk
    as_persona("owner").post(reverse("directory:organization_delete", args=[code]))
    assert not Organization.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(action="delete", object_id=str(pk))
    assert entry.object_repr == "南京金陵体外诊断有限公司"
    assert {c["field"]: c["old"] for c in entry.changes}["uscc"] == org.uscc


@pytest.mark.parametrize(
    "query, expected",
    [
        ("zxjt", ["重庆智翔金泰生物制药股份有限公司"]),
        ("ZXJT", ["重庆智翔金泰生物制药股份有限公司"]),
        ("智翔", ["重庆智翔金泰生物制药股份有限公司"]),
        ("zhixiang", ["重庆智翔金泰生物制药股份有限公司"]),
        ("13912345678", ["重庆智翔金泰生物制药股份有限公司"]),
        ("9123 4567", ["重庆智翔金泰生物制药股份有限公司"]),
        ("hgyl", ["重庆宏冠医疗器械有限公司"]),
    ],
)
def test_the_list_finds_organizations_by_name_pinyin_initials_and_phone(park, as_persona, query, expected):
    response = as_persona("admin").get("/directory/organizations/", {"q": query})
    assert [o.name for o in response.context["page"].object_list] == expected


def test_phone_digits_find_nothing_for_someone_who_sees_the_number_masked(park, as_persona):
    # Otherwise ten searches for 1391x would reveal each hidden digit of 139****5678.
    for persona in ("service", "leader", "owner"):
        response = as_persona(persona).get("/directory/organizations/", {"q": "13912345678"})
        assert list(response.context["page"].object_list) == [], persona
    contacts = as_persona("leader").get("/directory/contacts/", {"q": "1391234"}).context["page"].object_list
    assert list(contacts) == []


def test_the_list_finds_by_uscc_prefix(park, as_persona):
    response = as_persona("admin").get("/directory/organizations/", {"q": park.resident.uscc[:12].lower()})
    assert park.resident in response.context["page"].object_list


def test_the_list_filters_by_chain_node_including_the_nodes_below(park, as_persona):
    response = as_persona("admin").get("/directory/organizations/", {"chain": park.biologics.pk})
    assert {o.name for o in response.context["page"].object_list} == {
        "重庆智翔金泰生物制药股份有限公司",
        "苏州启明抗体药物有限公司",
    }


def test_a_promoter_sees_the_park_directory_their_own_and_shared_prospects_only(park, as_persona):
    names = {o.name for o in as_persona("owner").get("/directory/organizations/").context["page"].object_list}
    assert names == {
        "重庆智翔金泰生物制药股份有限公司",
        "重庆宏冠医疗器械有限公司",
        "苏州启明抗体药物有限公司",
        "南京金陵体外诊断有限公司",
    }


def test_the_enterprise_user_sees_only_their_own_company(park, as_persona):
    names = [
        o.name for o in as_persona("enterprise").get("/directory/organizations/").context["page"].object_list
    ]
    assert names == ["重庆智翔金泰生物制药股份有限公司"]


def test_an_htmx_filter_returns_only_the_results_block(park, as_persona):
    response = as_persona("owner").get(
        "/directory/organizations/", {"q": "zxjt"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    html = response.content.decode()
    assert "<table" in html and "<aside" not in html


def test_the_list_page_uses_a_fixed_number_of_queries_however_many_rows(
    park, as_persona, django_assert_num_queries
):
    client = as_persona("admin")
    client.get("/directory/organizations/")  # warm the session and content types
    for _ in range(15):
        OrganizationFactory(chain_node=park.antibody, is_high_tech=True)
    # session, user, unread notifications, count, page rows (with joins), chain tree, districts in use
    with django_assert_num_queries(7):
        client.get("/directory/organizations/")


def test_mobile_numbers_are_masked_for_people_who_do_not_own_the_record(park, as_persona):
    page = as_persona("owner").get(park.resident.get_absolute_url()).content.decode()
    assert "139****5678" in page and "13912345678" not in page
    own = as_persona("owner").get(park.prospect.get_absolute_url()).content.decode()
    assert "13812345678" in own
    for persona in ("leader", "service"):
        listing = as_persona(persona).get("/directory/contacts/").content.decode()
        assert "138****5678" in listing or persona == "service"
        assert "13812345678" not in listing and "13912345678" not in listing


def test_creating_via_actions_outside_a_request_is_audited_as_the_system(park):
    org = actions.create_organization(
        actor=None, data={"name": "重庆新企业有限公司", "org_type": "resident", "uscc": valid_uscc(999)}
    )
    entry = AuditEntry.objects.for_object(org).get()
    assert (entry.action, entry.actor, entry.channel) == ("create", None, "system")


def test_contacts_and_users_keep_an_organization_from_being_deleted_in_the_database(park):
    ContactFactory(organization=park.other_resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.filter(pk=park.other_resident.pk).delete()


def test_a_team_lead_editing_another_teams_shared_record_keeps_its_owner_and_team(park, as_persona):
    org = park.shared_prospect
    page = as_persona("teamlead").get(reverse("directory:organization_edit", args=[org.code]))
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data["address"] = "南京江北新区 8 号"
    response = as_persona("teamlead").post(reverse("directory:organization_edit", args=[org.code]), data)
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.address, org.owner, org.team.code) == ("南京江北新区 8 号", park.users["other_team"], "dev")
    assert list(org.collaborators.all()) == [park.users["owner"]]


def test_the_edit_form_carries_the_version_it_was_read_at(park, as_persona):
    actions.update_organization(actor=None, org=park.prospect, data={"address": "一"})
    html = as_persona("owner").get(reverse("directory:organization_edit", args=[park.prospect.code])).content
    assert b'name="version" value="2"' in html
