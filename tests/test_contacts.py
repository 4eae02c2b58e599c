import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import ContactFactory
from yimatong.accounts.models import AuditEntry
from yimatong.directory.models import Contact


def test_a_promoter_adds_a_contact_to_their_prospect(park, as_persona):
    response = as_persona("owner").post(
        reverse("directory:contact_create"),
        {
            "organization": park.prospect.pk,
            "name": " 吴  经理 ",
            "mobile": "+86 137-0000-1111",
            "position": "副总裁",
        },
    )
    contact = Contact.objects.get(name="吴 经理")
    assert response.status_code == 302
    assert response.url == park.prospect.get_absolute_url()
    assert contact.mobile == "13700001111"
    assert contact.owner == park.users["owner"]
    assert AuditEntry.objects.for_object(contact).get().action == "create"


def test_a_contact_needs_a_way_to_be_reached(park, as_persona):
    response = as_persona("owner").post(reverse("directory:contact_create"), {"name": "吴经理"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["请至少填写手机号或电子邮箱中的一项，以便联系。"]


def test_a_landline_is_refused_as_a_mobile_number(park, as_persona):
    response = as_persona("owner").post(
        reverse("directory:contact_create"), {"name": "吴经理", "mobile": "023-66220001"}
    )
    assert response.context["form"].errors["mobile"] == ["请填写手机号码：023-66220001 是固定电话号码。"]


def test_a_promoter_cannot_attach_a_contact_to_an_organization_they_cannot_edit(park, as_persona):
    response = as_persona("owner").post(
        reverse("directory:contact_create"),
        {"organization": park.resident.pk, "name": "吴经理", "mobile": "13700001111"},
    )
    assert response.status_code == 400
    assert "organization" in response.context["form"].errors


def test_making_a_contact_primary_demotes_the_previous_primary_and_audits_both(park, as_persona):
    first = ContactFactory(organization=park.prospect, name="甲", is_primary=True, owner=park.users["owner"])
    second = park.prospect_contact
    response = as_persona("owner").post(
        reverse("directory:contact_edit", args=[second.code]),
        {
            "organization": park.prospect.pk,
            "name": second.name,
            "mobile": second.mobile,
            "is_primary": "on",
            "version": second.version,
        },
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    assert AuditEntry.objects.for_object(first).filter(action="update").count() == 1


def test_the_database_allows_one_primary_contact_per_organization(park):
    ContactFactory(organization=park.prospect, is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(organization=park.prospect, is_primary=True)


def test_contact_search_by_initials_and_phone(park, as_persona):
    client = as_persona("admin")
    assert [c.name for c in client.get("/directory/contacts/", {"q": "ctz"}).context["page"].object_list] == [
        "陈投资"
    ]
    assert [
        c.name for c in client.get("/directory/contacts/", {"q": "1381234"}).context["page"].object_list
    ] == ["陈投资"]


def test_the_contact_page_masks_the_number_for_readers_and_shows_it_to_owners(park, as_persona):
    url = park.prospect_contact.get_absolute_url()
    assert "13812345678" in as_persona("owner").get(url).content.decode()
    leader_page = as_persona("leader").get(url).content.decode()
    assert "138****5678" in leader_page and "13812345678" not in leader_page


def test_the_contact_list_masks_with_a_fixed_number_of_queries(park, as_persona, django_assert_num_queries):
    client = as_persona("owner")
    client.get("/directory/contacts/")
    for _ in range(10):
        ContactFactory(organization=park.resident)
    with django_assert_num_queries(
        5
    ):  # session, user, unread notifications, count, rows with the can-edit flag
        response = client.get("/directory/contacts/")
    rows = response.context["page"].object_list
    assert all(c.can_edit == (c.organization_id == park.prospect.pk) for c in rows)


def test_the_history_of_a_contact_masks_numbers_for_readers_too(park, as_persona):
    from yimatong.directory import actions

    actions.update_contact(
        actor=park.users["owner"], contact=park.prospect_contact, data={"mobile": "13700001111"}
    )
    url = park.prospect_contact.get_absolute_url()
    reader = as_persona("leader").get(url).content.decode()
    assert "137****1111" in reader and "13700001111" not in reader and "13812345678" not in reader
    owner = as_persona("owner").get(url).content.decode()
    assert "13812345678" in owner and "13700001111" in owner
    api = as_persona("leader").get(f"/api/v1/contacts/{park.prospect_contact.code}/audit").json()
    assert api[0]["changes"] == [{"field": "手机号", "old": "138****5678", "new": "137****1111"}]
    leader_log = as_persona("leader").get("/accounts/audit/").content.decode()
    assert "13700001111" not in leader_log
