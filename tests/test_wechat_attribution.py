"""A lead's attribution does not depend on the order WeChat's pushes are processed in: the scan
that brought an investor may arrive after their first message, and the lead still ends with the
code's promoter, team and chain segment, unless a person has assigned it meanwhile."""

from __future__ import annotations

import pytest

from tests import wechat_support as wx
from yimatong.investment.actions.leads import assign_lead, auto_assign
from yimatong.investment.models import Lead, LeadEvent
from yimatong.wechat.models import Follower, QrCode

pytestmark = pytest.mark.usefixtures("on_commit_runs")


@pytest.fixture
def accounts(wechat_offline, wechat_accounts):
    return wechat_accounts


def attribution(lead: Lead) -> tuple:
    """Who follows the lead up, for which chain segment, and the code the funnel counts it for."""
    return (
        lead.owner,
        lead.team,
        lead.status,
        lead.chain_node,
        lead.sources.filter(qr_scene="expo-2026").count(),
    )


@pytest.mark.parametrize("order", ["scan-first", "message-first"])
def test_the_investors_lead_goes_to_the_codes_promoter_whichever_push_is_processed_first(
    client, accounts, expo_channel, park, order
):
    safe, _ = accounts
    scan = wx.event("o-investor", "subscribe", "qrscene_expo-2026")
    message = wx.text("o-investor", "想了解抗体药物产业化基地")
    for push in [scan, message] if order == "scan-first" else [message, scan]:
        assert wx.post(client, safe, push).status_code == 200
    lead = Lead.objects.get()
    owner = park.users["owner"]
    assert attribution(lead) == (owner, owner.team, Lead.Status.ASSIGNED, park.antibody, 1)
    assert Follower.objects.get().assigned_to == owner


def test_a_scan_processed_after_the_first_message_says_why_the_lead_changed_hands(
    client, accounts, expo_channel, park, as_persona
):
    safe, _ = accounts
    wx.post(client, safe, wx.text("o-late", "你好"))
    lead = Lead.objects.get()
    assert lead.owner is None and lead.status == Lead.Status.POOL
    wx.post(client, safe, wx.event("o-late", "subscribe", "qrscene_expo-2026"))
    given = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.ASSIGNED)
    assert given.actor is None
    assert given.data["why"] == "late_scan" and given.data["scene"] == "expo-2026"
    assert given.data["owner_name"] == park.users["owner"].display_name
    assert given.data["chain"] == park.antibody.name
    page = as_persona("leader").get(lead.get_absolute_url()).content.decode()
    assert "扫码晚于首条留言到达，按渠道二维码 expo-2026 归属" in page


def test_a_lead_a_person_assigned_keeps_its_owner_when_the_scan_arrives_late(
    client, accounts, expo_channel, park
):
    safe, _ = accounts
    wx.post(client, safe, wx.text("o-kept", "我们想来考察"))
    lead = Lead.objects.get()
    assign_lead(lead=lead, actor=park.users["teamlead"], owner=park.users["colleague"])
    wx.post(client, safe, wx.event("o-kept", "subscribe", "qrscene_expo-2026"))
    lead.refresh_from_db()
    assert lead.owner == park.users["colleague"] and lead.chain_node is None
    assert sorted(lead.sources.values_list("qr_scene", flat=True)) == ["", "expo-2026"]
    assert not LeadEvent.objects.filter(lead=lead, data__why="late_scan").exists()


def test_a_lead_the_round_robin_gave_away_goes_to_the_codes_promoter(client, accounts, expo_channel, park):
    safe, _ = accounts
    wx.post(client, safe, wx.text("o-robin", "hello"))
    lead = Lead.objects.get()
    # The investor named a chain segment in the portal meanwhile: the devices team's turn.
    Lead.objects.filter(pk=lead.pk).update(chain_node=park.devices)
    lead.refresh_from_db()
    assert auto_assign(lead) == park.users["other_team"]
    wx.post(client, safe, wx.event("o-robin", "subscribe", "qrscene_expo-2026"))
    lead.refresh_from_db()
    assert lead.owner == park.users["owner"]
    given = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.REASSIGNED)
    assert (
        given.data["previous"] == park.users["other_team"].display_name and given.data["why"] == "late_scan"
    )
    assert Follower.objects.get().assigned_to == park.users["owner"]


def test_a_second_code_scanned_later_leaves_the_first_codes_attribution(client, accounts, expo_channel, park):
    safe, _ = accounts
    QrCode.objects.create(
        account=safe,
        name="器械手册",
        purpose=QrCode.Purpose.BROCHURE,
        scene="devices-brochure",
        is_permanent=True,
        url="u",
        promoter=park.users["other_team"],
        chain_node=park.devices,
    )
    wx.post(client, safe, wx.event("o-two", "subscribe", "qrscene_expo-2026"))
    wx.post(client, safe, wx.event("o-two", "SCAN", "devices-brochure"))
    lead = Lead.objects.get()
    assert (lead.owner, lead.chain_node) == (park.users["owner"], park.antibody)
    assert sorted(lead.sources.values_list("qr_scene", flat=True)) == ["devices-brochure", "expo-2026"]


def test_a_code_without_a_promoter_gives_its_chain_segment_and_the_teams_round_robin(client, accounts, park):
    safe, _ = accounts
    QrCode.objects.create(
        account=safe,
        name="抗体专场",
        scene="antibody-day",
        is_permanent=True,
        url="u",
        chain_node=park.antibody,
    )
    wx.post(client, safe, wx.text("o-chain", "hi"))
    wx.post(client, safe, wx.event("o-chain", "subscribe", "qrscene_antibody-day"))
    lead = Lead.objects.get()
    assert lead.chain_node == park.antibody
    assert lead.team == park.users["owner"].team and lead.status == Lead.Status.ASSIGNED
    given = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.ASSIGNED)
    assert given.data["auto"] is True and given.data["why"] == "late_scan"
