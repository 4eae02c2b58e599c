"""Channel codes: created through WeChat's QR API (the fake), printed, and their funnel
attributed back through the lead → project link."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from yimatong.investment.actions import leads as lead_actions
from yimatong.investment.actions import projects as project_actions
from yimatong.investment.actions import work
from yimatong.lib.errors import ActionError
from yimatong.wechat import actions
from yimatong.wechat import models as wechat_models
from yimatong.wechat.models import QrCode

pytestmark = pytest.mark.usefixtures("on_commit_runs")


@pytest.fixture
def qr_api(fake_wechat, wechat_accounts):
    from yimatong.wechat.provider import fake_account

    for account in wechat_accounts:
        fake_wechat.add_account(fake_account(account, base_url="http://testserver"))
    return fake_wechat


def test_a_temporary_code_lives_at_most_thirty_days_and_is_made_by_wechats_api(qr_api, wechat_accounts, park):
    safe, _ = wechat_accounts
    code = actions.create_code(
        actor=park.users["owner"],
        data={"account": safe, "name": "展台", "purpose": "event", "event_name": "大会", "days": 30},
    )
    assert code.ticket and code.url.startswith(qr_api.base_url)
    assert code.expires_at - timezone.now() > dt.timedelta(days=29, hours=23)
    sent = next(payload for path, payload in qr_api.calls if path == "/cgi-bin/qrcode/create")
    assert sent["action_name"] == "QR_STR_SCENE" and sent["expire_seconds"] == 30 * 86400
    with pytest.raises(ActionError) as refused:
        actions.create_code(actor=park.users["owner"], data={"account": safe, "name": "x", "days": 31})
    assert "days" in refused.value.fields


def test_permanent_codes_are_counted_against_the_cap(qr_api, wechat_accounts, park, monkeypatch):
    safe, _ = wechat_accounts
    monkeypatch.setattr(actions, "PERMANENT_CODE_CAP", 2)
    for n in range(2):
        actions.create_code(
            actor=park.users["owner"], data={"account": safe, "name": f"手册 {n}", "is_permanent": True}
        )
    with pytest.raises(ActionError) as refused:
        actions.create_code(
            actor=park.users["owner"], data={"account": safe, "name": "第三个", "is_permanent": True}
        )
    assert "is_permanent" in refused.value.fields
    assert QrCode.objects.filter(is_permanent=True).count() == 2
    assert wechat_models.PERMANENT_CODE_CAP == 100_000


def test_a_purpose_needs_its_subject(qr_api, wechat_accounts, park):
    safe, _ = wechat_accounts
    for purpose, field in (
        ("promoter", "promoter"),
        ("chain", "chain_node"),
        ("project", "project"),
        ("event", "event_name"),
    ):
        with pytest.raises(ActionError) as refused:
            actions.create_code(
                actor=park.users["owner"], data={"account": safe, "name": "x", "purpose": purpose}
            )
        assert field in refused.value.fields
    assert not QrCode.objects.exists()


def test_a_refusal_from_wechat_stores_nothing(qr_api, wechat_accounts, park):
    safe, _ = wechat_accounts
    qr_api.fail_next("/cgi-bin/qrcode/create", 48001, "api unauthorized")
    with pytest.raises(ActionError) as refused:
        actions.create_code(actor=park.users["owner"], data={"account": safe, "name": "x"})
    assert "48001" in refused.value.message
    assert not QrCode.objects.exists()


def test_staff_create_a_code_in_the_console_and_download_it_for_print(qr_api, wechat_accounts, park):
    safe, _ = wechat_accounts
    owner = client_for(park.users["owner"])
    response = owner.post(
        reverse("wechat:code_create"),
        {
            "account": safe.pk,
            "name": "张专员名片",
            "purpose": "promoter",
            "promoter": park.users["owner"].pk,
            "is_permanent": "on",
            "caption": "招商专员 张明",
        },
    )
    assert response.status_code == 302
    code = QrCode.objects.get()
    png = owner.get(reverse("wechat:code_image", args=[code.pk, "png"]))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    svg = owner.get(reverse("wechat:code_image", args=[code.pk, "svg"])).content.decode()
    assert svg.startswith("<svg") and "招商专员 张明" in svg
    bad = owner.post(reverse("wechat:code_create"), {"account": safe.pk, "name": "", "purpose": "promoter"})
    assert bad.status_code == 400 and "名称" in bad.content.decode()


def test_the_funnel_follows_a_code_from_scans_to_signed_investment(qr_api, wechat_accounts, investment):
    park = investment
    safe, _ = wechat_accounts
    code = actions.create_code(
        actor=park.users["owner"],
        data={
            "account": safe,
            "name": "展台",
            "purpose": "promoter",
            "promoter": park.users["owner"],
            "is_permanent": True,
        },
    )
    other = actions.create_code(
        actor=park.users["owner"], data={"account": safe, "name": "官网", "is_permanent": True}
    )
    from django.test import Client

    from tests import wechat_support as wx

    client = Client()
    for openid in ("o-f1", "o-f2", "o-f3"):
        wx.post(client, safe, wx.event(openid, "subscribe", f"qrscene_{code.scene}"))
    wx.post(client, safe, wx.event("o-f1", "SCAN", code.scene))  # a second scan: a scan, not a follower
    wx.post(client, safe, wx.event("o-f4", "subscribe", f"qrscene_{other.scene}"))
    lead = wechat_models.Follower.objects.get(openid="o-f1").lead
    project = lead_actions.qualify_lead(lead=lead, actor=park.users["owner"], data={})
    start = timezone.now() + dt.timedelta(days=2)
    work.schedule_visit(
        actor=park.users["owner"],
        project=project,
        data={"title": "考察", "starts_at": start, "ends_at": start + dt.timedelta(hours=1)},
    )
    for stage in ("visit", "negotiation"):
        project = project_actions.move_stage(actor=park.users["owner"], project=project, to=stage)
    project_actions.move_stage(
        actor=park.users["owner"],
        project=project,
        to="signed",
        facts={
            "agreement_type": "investment",
            "signed_on": timezone.localdate(),
            "contracted_investment": Decimal("30000"),
        },
    )
    # A visit of a lead not yet qualified counts too; a lead's visit carried to its project once.
    second = wechat_models.Follower.objects.get(openid="o-f2").lead
    work.schedule_visit(
        actor=park.users["owner"],
        lead=second,
        data={"title": "预约考察", "starts_at": start, "ends_at": start + dt.timedelta(hours=1)},
    )
    row = QrCode.objects.with_funnel().get(pk=code.pk)
    assert (row.scans, row.new_followers, row.leads, row.visits, row.signed_projects) == (4, 3, 3, 2, 1)
    assert row.signed_investment == Decimal("30000")
    assert QrCode.objects.with_funnel().get(pk=other.pk).leads == 1

    leader = client_for(park.users["leader"])
    page = leader.get(reverse("wechat:code_compare") + "?by=promoter").content.decode()
    assert park.users["owner"].display_name in page and "30,000" in page
