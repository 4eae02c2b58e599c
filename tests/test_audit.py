import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from yimatong.accounts.models import AuditEntry, Team
from yimatong.directory import actions


def an_entry(park) -> AuditEntry:
    actions.update_organization(actor=park.users["owner"], org=park.prospect, data={"address": "苏州"})
    return AuditEntry.objects.for_object(park.prospect).get()


def test_an_entry_cannot_be_changed_or_deleted_through_the_orm(park):
    entry = an_entry(park)
    entry.object_repr = "篡改"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(object_repr="篡改")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


def test_the_database_itself_refuses_to_update_an_entry(park):
    entry = an_entry(park)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditentry SET object_repr = %s WHERE id = %s", ["篡改", entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == "苏州启明抗体药物有限公司"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps DELETE for the test runner's flush"
)
def test_postgresql_refuses_to_delete_an_entry(park):
    entry = an_entry(park)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_admin_shows_the_log_read_only(park, as_persona):
    entry = an_entry(park)
    client = as_persona("admin")
    assert client.get(reverse("admin:accounts_auditentry_changelist")).status_code == 200
    detail = client.get(reverse("admin:accounts_auditentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert b'name="object_repr"' not in detail.content  # no editable field
    assert (
        client.post(reverse("admin:accounts_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_changes_made_in_the_admin_are_audited_too(park, as_persona):
    team = Team.objects.get(code="bio")
    as_persona("admin").post(
        reverse("admin:accounts_team_change", args=[team.pk]),
        {"code": "bio", "name": "生物药一组", "chain_nodes": [park.biologics.pk]},
    )
    entry = AuditEntry.objects.for_object(team).get()
    assert entry.actor == park.users["admin"]
    assert {c["field"]: (c["old"], c["new"]) for c in entry.changes} == {
        "name": ("生物药招商组", "生物药一组")
    }


def test_only_admins_reach_the_admin_site(park, as_persona):
    assert as_persona("admin").get("/admin/").status_code == 200
    for persona in ("leader", "teamlead", "owner", "service", "enterprise"):
        assert as_persona(persona).get("/admin/").status_code == 302


def test_the_timeline_shows_who_when_from_where_and_old_to_new(park, as_persona):
    an_entry(park)
    page = as_persona("owner").get(park.prospect.get_absolute_url())
    ((entry, rows),) = page.context["timeline"]
    assert entry.actor_name == "张专员"
    assert [(r.label, r.old, r.new) for r in rows] == [("地址", "—", "苏州")]
    assert "变更记录" in page.content.decode()


def test_the_park_wide_log_filters_by_action_and_record_type(park, as_persona):
    an_entry(park)
    response = as_persona("leader").get(
        reverse("accounts:audit_log"), {"action": "update", "model": "directory.organization"}
    )
    assert [e.object_repr for e, _type, _rows in response.context["rows"]] == ["苏州启明抗体药物有限公司"]


def test_the_audit_records_the_address_from_the_trusted_proxy_and_ignores_garbage(park, as_persona, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = as_persona("owner")
    url = reverse("directory:organization_edit", args=[park.prospect.code])

    def save(address, forwarded):
        org = park.prospect
        org.refresh_from_db()
        client.post(
            url,
            {
                "name": org.name,
                "uscc": org.uscc,
                "org_type": "prospect",
                "address": address,
                "chain_node": park.antibody.pk,
                "version": org.version,
            },
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        return AuditEntry.objects.for_object(org).filter(action="update").first()

    assert save("一", "203.0.113.9, 10.0.0.2").ip == "10.0.0.2"
    assert save("二", "not-an-address").ip == "127.0.0.1"  # falls back to the socket's address
