"""The demo's WeChat side: loaded through the same code paths, idempotent, and what the fake
server's simulator is fed from the database."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from yimatong.demo.loader import load_demo
from yimatong.wechat.models import Follower, OfficialAccount, QrCode
from yimatong.wechat.provider import DatabaseProvider


@pytest.fixture
def demo(db):
    load_demo()


def test_the_demo_has_a_safe_mode_and_a_plain_mode_account_with_codes_and_conversations(demo):
    modes = dict(OfficialAccount.objects.values_list("slug", "mode"))
    assert modes == {"park-cn": "safe", "park-en": "plain"}
    assert (
        QrCode.objects.filter(is_permanent=False).exists()
        and QrCode.objects.filter(is_permanent=True).exists()
    )
    assert all(code.ticket and code.url for code in QrCode.objects.all())
    followers = Follower.objects.filter(openid__startswith="o_demo_")
    assert followers.count() == 4 and all(f.lead_id for f in followers)
    assert followers.get(openid="o_demo_card_holder").assigned_to.username == "promoter"


def test_loading_the_demo_twice_adds_nothing(demo):
    counts = (QrCode.objects.count(), Follower.objects.count(), OfficialAccount.objects.count())
    report = load_demo()
    assert report.created == 0
    assert (QrCode.objects.count(), Follower.objects.count(), OfficialAccount.objects.count()) == counts


def test_wechat_accounts_prints_what_to_type_into_the_developer_settings(demo):
    out = StringIO()
    call_command("wechat", "accounts", stdout=out)
    text = out.getvalue()
    assert "/wechat/callback/park-cn/" in text and "wxdemo0000biocity" in text and "safe" in text
    assert OfficialAccount.objects.get(slug="park-cn").encoding_aes_key in text


def test_the_simulator_is_fed_the_accounts_codes_and_menu_from_the_database(demo):
    provider = DatabaseProvider()
    accounts = {a.appid: a for a in provider.accounts()}
    assert accounts["wxdemo0000biocity"].mode == "safe"
    assert accounts["wxdemo0000biocity"].callback_url.endswith("/wechat/callback/park-cn/")
    assert {"name": "政策", "key": "政策"} in provider.menu("wxdemo0000biocity")
    assert any(c["scene"] == "expo-cbio-2026" for c in provider.codes("wxdemo0000biocity"))
    assert provider.portal_url("wxdemo0000biocity").endswith("/h5/park-cn/")
