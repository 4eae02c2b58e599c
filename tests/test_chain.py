from django.urls import reverse

from yimatong.accounts.models import AuditEntry
from yimatong.directory.models import ChainNode


def test_the_chain_page_counts_visible_organizations_per_node_and_below(park, as_persona):
    nodes = {n.code: n for n in as_persona("owner").get(reverse("directory:chain")).context["nodes"]}
    assert (nodes["biologics"].org_count, nodes["biologics"].total_count) == (0, 2)
    assert (nodes["antibody"].org_count, nodes["antibody"].total_count) == (2, 2)
    # The devices node holds the other team's prospects too; this promoter sees one of them (shared).
    assert nodes["devices"].org_count == 2


def test_an_admin_adds_a_node_under_a_parent_with_a_pinyin_code(park, as_persona):
    response = as_persona("admin").post(
        reverse("directory:chain_node_create"),
        {"name": "双特异性抗体", "kind": "core", "parent": park.antibody.pk, "position": 3},
    )
    assert response.status_code == 302
    node = ChainNode.objects.get(name="双特异性抗体")
    assert node.parent == park.antibody
    assert node.code == "shuangteyixingkangti"
    assert node.path() == "生物药 / 抗体药物 / 双特异性抗体"
    assert AuditEntry.objects.for_object(node).get().action == "create"


def test_two_siblings_cannot_share_a_name(park, as_persona):
    response = as_persona("admin").post(
        reverse("directory:chain_node_create"),
        {"name": "抗体药物", "kind": "core", "parent": park.biologics.pk, "position": 1},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["同一上级下已有名为「抗体药物」的环节。"]


def test_a_node_cannot_be_moved_under_itself_or_its_children(park, as_persona):
    response = as_persona("admin").post(
        reverse("directory:chain_node_edit", args=[park.biologics.pk]),
        {"name": "生物药", "kind": "core", "parent": park.antibody.pk, "position": 0},
    )
    assert response.status_code == 400
    assert "parent" in response.context["form"].errors
    assert ChainNode.objects.get(pk=park.biologics.pk).parent is None


def test_a_node_with_organizations_or_children_cannot_be_deleted(park, as_persona):
    response = as_persona("admin").post(reverse("directory:chain_node_delete", args=[park.biologics.pk]))
    assert response.status_code == 409
    assert "还有 1 个下级环节、0 家企业/机构" in response.content.decode()
    assert ChainNode.objects.filter(pk=park.biologics.pk).exists()


def test_renaming_a_node_is_audited(park, as_persona):
    as_persona("admin").post(
        reverse("directory:chain_node_edit", args=[park.antibody.pk]),
        {
            "name": "抗体药物",
            "name_en": "Antibodies",
            "kind": "core",
            "parent": park.biologics.pk,
            "position": 0,
        },
    )
    entry = AuditEntry.objects.for_object(park.antibody).get(action="update")
    assert {c["field"]: c["new"] for c in entry.changes}["name_en"] == "Antibodies"
