"""Personas and a small park shared by the suite.

The park: a biologics team (lead + owner promoter + colleague) and a devices team (another
promoter), a bureau leader, a service-department officer, an enterprise user of a resident,
and an investor account. Prospects belong to promoters; residents are the park directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client

from tests.factories import (
    ChainNodeFactory,
    ContactFactory,
    DepartmentFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)
from yimatong.accounts.models import User
from yimatong.directory.models import ChainNode, Contact, Organization

PASSWORD = "secret-pass-123"
PERSONAS = [
    "anonymous",
    "admin",
    "leader",
    "teamlead",
    "owner",
    "colleague",
    "other_team",
    "service",
    "enterprise",
    "investor",
]


@dataclass
class Park:
    biologics: ChainNode
    antibody: ChainNode
    devices: ChainNode
    users: dict[str, User]
    prospect: Organization  # owned by "owner" (biologics team)
    other_prospect: Organization  # owned by "other_team" (devices team)
    shared_prospect: Organization  # owned by "other_team", shared with "owner"
    resident: Organization  # the enterprise user's own company
    other_resident: Organization
    prospect_contact: Contact
    resident_contact: Contact

    def user(self, persona: str) -> User | None:
        return self.users.get(persona)


@pytest.fixture
def park(db) -> Park:
    biologics = ChainNodeFactory(code="biologics", name="生物药", name_en="Biologics")
    antibody = ChainNodeFactory(code="antibody", name="抗体药物", name_en="Antibody drugs", parent=biologics)
    devices = ChainNodeFactory(code="devices", name="医疗器械", name_en="Medical devices", kind="feature")
    bio_team = TeamFactory(code="bio", name="生物药招商组")
    bio_team.chain_nodes.set([biologics])
    dev_team = TeamFactory(code="dev", name="医疗器械招商组")
    dev_team.chain_nodes.set([devices])
    department = DepartmentFactory(code="service-center", name="企业服务中心")

    resident = OrganizationFactory(
        name="重庆智翔金泰生物制药股份有限公司", chain_node=antibody, is_above_scale=True
    )
    other_resident = OrganizationFactory(name="重庆宏冠医疗器械有限公司", chain_node=devices)
    users = {
        "admin": UserFactory(
            username="admin", name="管理员", role=User.Role.ADMIN, is_staff=True, is_superuser=True
        ),
        "leader": UserFactory(username="leader", name="王局长", role=User.Role.LEADER, phone="13983000002"),
        "teamlead": UserFactory(username="teamlead", name="李组长", role=User.Role.TEAM_LEAD, team=bio_team),
        "owner": UserFactory(
            username="owner", name="张专员", role=User.Role.PROMOTER, team=bio_team, phone="13983000004"
        ),
        "colleague": UserFactory(username="colleague", name="孙专员", role=User.Role.PROMOTER, team=bio_team),
        "other_team": UserFactory(username="other", name="刘专员", role=User.Role.PROMOTER, team=dev_team),
        "service": UserFactory(
            username="service", name="赵主任", role=User.Role.SERVICE, department=department
        ),
        "enterprise": UserFactory(
            username="enterprise", name="周经理", role=User.Role.ENTERPRISE, organization=resident
        ),
        "investor": UserFactory(username="investor", name="投资人", role=User.Role.INVESTOR),
    }
    prospect = OrganizationFactory(
        name="苏州启明抗体药物有限公司",
        org_type="prospect",
        chain_node=antibody,
        owner=users["owner"],
        team=bio_team,
    )
    other_prospect = OrganizationFactory(
        name="广州粤创医疗影像设备有限公司",
        org_type="prospect",
        chain_node=devices,
        owner=users["other_team"],
        team=dev_team,
    )
    shared_prospect = OrganizationFactory(
        name="南京金陵体外诊断有限公司",
        org_type="prospect",
        chain_node=devices,
        owner=users["other_team"],
        team=dev_team,
        collaborators=[users["owner"]],
    )
    prospect_contact = ContactFactory(
        organization=prospect, name="陈投资", mobile="13812345678", owner=users["owner"], position="投资总监"
    )
    resident_contact = ContactFactory(
        organization=resident, name="周凯", mobile="13912345678", position="董事长"
    )
    return Park(
        biologics,
        antibody,
        devices,
        users,
        prospect,
        other_prospect,
        shared_prospect,
        resident,
        other_resident,
        prospect_contact,
        resident_contact,
    )


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_persona(park):
    """``as_persona("owner")`` -> a test client signed in as that persona (anonymous: not signed in)."""

    def make(persona: str) -> Client:
        return client_for(park.user(persona))

    return make


@pytest.fixture
def investment(park):
    """The park plus the investment rules: lights at 60/90 days, pool return at 15, no
    admission requirement unless a test asks for it."""
    from yimatong.investment.models import InvestmentSettings

    config = InvestmentSettings.current()
    config.require_admission = False
    config.save()
    return park


@pytest.fixture
def new_project(investment):
    """``new_project(**fields)``: a project owned by the "owner" persona (biologics team)."""
    from yimatong.investment.actions.projects import create_project

    def make(**fields):
        data = {
            "name": "启明双抗生产基地",
            "organization": investment.prospect,
            "owner": investment.users["owner"],
            "chain_node": investment.antibody,
            "planned_investment": Decimal("80000"),
        }
        data.update(fields)
        return create_project(actor=investment.users["owner"], data=data)

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache (cached figures must not leak between tests), and
    the WeChat callback reads its accounts afresh."""
    from django.core.cache import cache

    from yimatong.wechat import callback_accounts

    cache.clear()
    callback_accounts.forget()
    yield
    cache.clear()
    callback_accounts.forget()


@pytest.fixture
def on_commit_runs(monkeypatch):
    """Each test-client request runs the ``transaction.on_commit`` work it scheduled (tasks
    enqueued after commit) when it returns, as the commit at the end of a real request would;
    the test's own transaction otherwise swallows it."""
    from django.test import TestCase

    original = Client.request

    def request(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return original(self, **kwargs)

    monkeypatch.setattr(Client, "request", request)


@pytest.fixture
def fake_wechat(settings):
    """The fake WeChat server on an ephemeral loopback port; our client and OAuth point at it."""
    from yimatong.wechat.fake import FakeWeChat

    fake = FakeWeChat().start()
    settings.WECHAT_API_BASE_URL = fake.base_url
    settings.WECHAT_OPEN_BASE_URL = fake.base_url
    settings.WECHAT_TIMEOUT = 2.0
    settings.WECHAT_RETRY_DELAYS = [0.0, 0.0, 0.0]
    yield fake
    fake.stop()


@pytest.fixture
def wechat_offline(settings):
    """WeChat's API points at a loopback port nothing listens on: outbound calls fail fast."""
    settings.WECHAT_API_BASE_URL = "http://127.0.0.1:9"
    settings.WECHAT_TIMEOUT = 0.5


@pytest.fixture
def wechat_accounts(db):
    from tests.wechat_support import make_accounts

    return make_accounts()


@pytest.fixture
def expo_channel(wechat_accounts, park):
    """The safe account's channel code at the 2026 expo: the owner promoter's, for antibody drugs."""
    from yimatong.wechat.models import QrCode

    return QrCode.objects.create(
        account=wechat_accounts[0],
        name="2026 生物医药大会展台",
        purpose=QrCode.Purpose.EVENT,
        event_name="2026 生物医药大会",
        scene="expo-2026",
        is_permanent=True,
        url="http://weixin.qq.com/q/expo",
        welcome_text="感谢光临生物城展台！",
        promoter=park.users["owner"],
        chain_node=park.antibody,
    )


@pytest.fixture
def live_wechat(live_server, fake_wechat, wechat_accounts, settings):
    """The app served on a live port with the fake WeChat pushing to it (both accounts)."""
    from yimatong.wechat.provider import fake_account

    settings.WECHAT_PUBLIC_URL = live_server.url
    for account in wechat_accounts:
        fake_wechat.add_account(fake_account(account, base_url=live_server.url))
    return fake_wechat
