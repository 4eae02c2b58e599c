"""The resident enterprise's H5 service in WeChat: binding an enterprise account (and who may
not bind), filing a demand with files, answering a request for information, rating; the
policies it qualifies for and why, applying and uploading materials; and that a bound account
never reaches another enterprise's records."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from tests.factories import OrganizationFactory, UserFactory
from tests.test_demands import desk  # noqa: F401  (the fixture)
from tests.test_wechat_portal import portal, sign_in  # noqa: F401  (the fixture)
from yimatong.accounts.models import User
from yimatong.services import actions, policy_actions
from yimatong.services.models import Application, Demand, DemandAttachment, PolicyMatch
from yimatong.wechat.models import Follower

pytestmark = pytest.mark.usefixtures("on_commit_runs")

PDF = b"%PDF-1.4\n% a demand's attachment\n"


def pdf(name: str = "现场照片说明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def url(name: str, account, *args) -> str:
    return reverse(f"wechat:{name}", args=[account.slug, *args])


@pytest.fixture
def bound(client, portal, fake_wechat, park):  # noqa: F811
    """An investor-portal follower who bound the park's enterprise account (周经理)."""
    sign_in(client, fake_wechat, portal, "o-ent-1")
    response = client.post(url("ent_bind", portal), {"username": "enterprise", "password": "secret-pass-123"})
    assert response.status_code == 302 and response["Location"] == url("ent_home", portal)
    return portal


def test_an_enterprise_account_binds_once_and_the_follower_then_acts_as_it(client, bound, park):
    follower = Follower.objects.get(openid="o-ent-1")
    assert follower.user == park.users["enterprise"] and follower.bound_at is not None
    home = client.get(url("ent_home", bound))
    assert home.status_code == 200
    assert park.resident.name in home.content.decode()
    # Binding again is not offered: the bind page goes home.
    assert client.get(url("ent_bind", bound))["Location"] == url("ent_home", bound)


def test_the_enterprise_pages_send_an_unbound_follower_to_bind_an_account(client, portal, fake_wechat):  # noqa: F811
    sign_in(client, fake_wechat, portal, "o-ent-2")
    response = client.get(url("ent_demands", portal))
    assert response.status_code == 302 and response["Location"].startswith(url("ent_bind", portal))


@pytest.mark.parametrize(
    "username, password, message",
    [
        ("enterprise", "wrong-password", "用户名/手机号或密码不正确"),
        ("service", "secret-pass-123", "只有入园企业的账号可以在这里绑定"),
        ("nobody", "secret-pass-123", "用户名/手机号或密码不正确"),
    ],
)
def test_a_wrong_password_or_a_staff_account_is_refused_and_nothing_is_bound(
    client,
    portal,  # noqa: F811
    fake_wechat,
    park,
    username,
    password,
    message,
):
    sign_in(client, fake_wechat, portal, "o-ent-3")
    response = client.post(url("ent_bind", portal), {"username": username, "password": password})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Follower.objects.get(openid="o-ent-3").user_id is None


def test_a_deactivated_account_no_longer_acts_through_its_binding(client, bound, park):
    User.objects.filter(pk=park.users["enterprise"].pk).update(is_active=False)
    response = client.get(url("ent_demands", bound))
    assert response.status_code == 302 and response["Location"].startswith(url("ent_bind", bound))


def test_unbinding_stops_the_follower_from_acting_as_the_enterprise(client, bound):
    assert client.post(url("ent_unbind", bound)).status_code == 302
    assert Follower.objects.get(openid="o-ent-1").user_id is None
    assert client.get(url("ent_home", bound)).status_code == 302


# Demands ---------------------------------------------------------------------------------------


def test_an_enterprise_files_a_demand_with_files_from_the_phone(client, bound, desk):  # noqa: F811
    park, _land, _officer, category = desk
    response = client.post(
        url("ent_demand_new", bound),
        {
            "category": category.pk,
            "title": "厂房扩建用地",
            "description": "二期扩建需要 12 亩地",
            "urgency": "normal",
            "attachments": [pdf(), pdf("规划示意.pdf")],
        },
    )
    assert response.status_code == 302
    demand = Demand.objects.get(title="厂房扩建用地")
    assert demand.organization == park.resident and demand.filed_by == park.users["enterprise"]
    assert sorted(demand.attachments.values_list("original_name", flat=True)) == [
        "现场照片说明.pdf",
        "规划示意.pdf",
    ]
    page = client.get(response["Location"]).content.decode()
    assert "厂房扩建用地" in page and "规划示意.pdf" in page
    attachment = demand.attachments.first()
    download = client.get(url("ent_demand_attachment", bound, demand.code, attachment.pk))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_a_renamed_program_is_refused_naming_the_file_and_nothing_is_filed(client, bound, desk):  # noqa: F811
    _park, _land, _officer, category = desk
    fake = SimpleUploadedFile("合同.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(
        url("ent_demand_new", bound),
        {
            "category": category.pk,
            "title": "用地",
            "description": "说明",
            "urgency": "normal",
            "attachments": [fake],
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "附件" in body and "合同.pdf" in body and "文件内容与扩展名 .pdf 不符" in body
    assert not Demand.objects.exists() and not DemandAttachment.objects.exists()


def test_a_missing_title_is_named_in_the_error(client, bound, desk):  # noqa: F811
    _park, _land, _officer, category = desk
    response = client.post(
        url("ent_demand_new", bound), {"category": category.pk, "description": "说明", "urgency": "normal"}
    )
    assert response.status_code == 400
    assert "标题" in response.content.decode() and not Demand.objects.exists()


def test_the_enterprise_answers_a_request_for_information_and_rates_the_handling(client, bound, desk):  # noqa: F811
    park, land, officer, category = desk
    with TestCase.captureOnCommitCallbacks(execute=True):
        demand = actions.file_demand(
            actor=park.users["enterprise"],
            data={"category": category, "title": "用地指标", "description": "需要 12 亩"},
        )
        demand = actions.accept(actor=park.users["service"], demand=demand)
        demand = actions.dispatch(actor=park.users["service"], demand=demand, lead=land)
        demand = actions.sign(actor=officer, demand=demand)
        demand = actions.request_info(actor=officer, demand=demand, what="请补充宗地图")
    page = client.get(url("ent_demand", bound, demand.code)).content.decode()
    assert "补充材料" in page and "请补充宗地图" in page
    response = client.post(
        url("ent_demand_step", bound, demand.code, "supply_info"),
        {"text": "宗地图见附件", "attachments": [pdf("宗地图.pdf")]},
    )
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.status == Demand.Status.HANDLING
    assert demand.attachments.filter(original_name="宗地图.pdf").exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        demand = actions.complete(actor=officer, demand=demand, resolution="已调整规划条件")
        demand = actions.review(actor=park.users["service"], demand=demand, passed=True)
    # Unsatisfied without a reason: refused, naming the field, and nothing changes.
    refused = client.post(url("ent_demand_step", bound, demand.code, "rate"), {"rating": "unsatisfied"})
    assert refused.status_code == 400 and "不满意时请说明原因" in refused.content.decode()
    demand.refresh_from_db()
    assert demand.status == Demand.Status.FOLLOW_UP
    rated = client.post(
        url("ent_demand_step", bound, demand.code, "rate"), {"rating": "satisfied", "comment": "很快"}
    )
    assert rated.status_code == 302
    demand.refresh_from_db()
    assert demand.status == Demand.Status.ARCHIVED and demand.rating == "satisfied"


def test_a_staff_step_cannot_be_taken_from_the_phone(client, bound, desk):  # noqa: F811
    park, *_rest, category = desk
    demand = actions.file_demand(
        actor=park.users["enterprise"], data={"category": category, "title": "用地", "description": "说明"}
    )
    assert client.post(url("ent_demand_step", bound, demand.code, "accept"), {}).status_code == 404
    demand.refresh_from_db()
    assert demand.status == Demand.Status.SUBMITTED


def test_a_bound_enterprise_never_reaches_another_enterprises_demand_or_application(
    client,
    bound,
    desk,  # noqa: F811
    park,
):
    _park, _land, _officer, category = desk
    other = OrganizationFactory(name="重庆另一家生物科技有限公司")
    stranger = UserFactory(username="stranger", role=User.Role.ENTERPRISE, organization=other)
    demand = actions.file_demand(
        actor=stranger, data={"category": category, "title": "别家的事", "description": "x"}
    )
    attachment = DemandAttachment.objects.create(demand=demand, file=pdf(), original_name="别家.pdf")
    assert client.get(url("ent_demand", bound, demand.code)).status_code == 404
    assert client.get(url("ent_demand_attachment", bound, demand.code, attachment.pk)).status_code == 404
    assert (
        client.post(url("ent_demand_step", bound, demand.code, "withdraw"), {"reason": "x"}).status_code
        == 404
    )
    assert "别家的事" not in client.get(url("ent_demands", bound)).content.decode()


# Policies and applications -----------------------------------------------------------------------


@pytest.fixture
def qualifying(park, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        policy = policy_actions.save_policy(
            actor=park.users["admin"],
            data={
                "code": "above-scale",
                "title": "规上企业奖励",
                "issuer": "生物城管委会",
                "benefit": "subsidy",
                "amount": Decimal("30"),
                "mode": "apply",
                "materials": "营业执照\n上年度审计报告",
                "is_published": True,
                "conditions": {"all": [{"fact": "is_above_scale", "op": "is", "value": True}]},
            },
        )
        near = policy_actions.save_policy(
            actor=park.users["admin"],
            data={
                "code": "high-tech",
                "title": "高新技术企业认定奖励",
                "issuer": "生物城管委会",
                "benefit": "subsidy",
                "amount": Decimal("20"),
                "mode": "apply",
                "is_published": True,
                "conditions": {
                    "all": [
                        {"fact": "is_above_scale", "op": "is", "value": True},
                        {"fact": "certifications", "op": "has", "value": "high_tech"},
                    ]
                },
            },
        )
    return policy, near


def test_the_enterprise_sees_what_it_qualifies_for_and_what_it_is_short_of(client, bound, qualifying):
    page = client.get(url("ent_policies", bound)).content.decode()
    assert "规上企业奖励" in page and "30" in page
    assert "高新技术企业认定奖励" in page and "差：具有高新技术企业认定" in page


def test_the_enterprise_applies_uploads_the_checklist_and_submits_from_the_phone(
    client, bound, qualifying, park
):
    policy, _near = qualifying
    started = client.post(url("ent_apply", bound, policy.code))
    assert started.status_code == 302
    app = Application.objects.get(policy=policy, organization=park.resident)
    # Submitting with materials missing is refused, naming them.
    refused = client.post(url("ent_application_step", bound, app.code, "submit"))
    assert refused.status_code == 400 and "营业执照" in refused.content.decode()
    for name in ("营业执照", "上年度审计报告"):
        response = client.post(
            url("ent_application_step", bound, app.code, "upload"), {"name": name, "file": pdf()}
        )
        assert response.status_code == 302
    assert client.post(url("ent_application_step", bound, app.code, "submit")).status_code == 302
    app.refresh_from_db()
    assert app.status == Application.Status.SUBMITTED
    page = client.get(url("ent_application", bound, app.code)).content.decode()
    assert "已提交" in page and "上传" not in page.split("办理进度")[0].split("材料清单")[1].replace(
        "上传人", ""
    )


def test_not_interested_hides_a_policy_from_the_enterprise(client, bound, qualifying, park):
    policy, _near = qualifying
    match = PolicyMatch.objects.get(policy=policy, organization=park.resident)
    assert client.post(url("ent_not_interested", bound, match.pk)).status_code == 302
    match.refresh_from_db()
    assert match.not_interested is True
    page = client.get(url("ent_policies", bound)).content.decode()
    assert "已标记为不感兴趣：规上企业奖励" in page and "<h2>规上企业奖励</h2>" not in page
    assert "<h2>高新技术企业认定奖励</h2>" in page


def test_binding_starts_no_console_session_and_returns_to_the_page_asked_for(
    client,
    portal,  # noqa: F811
    fake_wechat,
    park,
):
    sign_in(client, fake_wechat, portal, "o-ent-5")
    asked = client.get(url("ent_demand_new", portal))
    assert asked.status_code == 302
    bound = client.post(asked["Location"], {"username": "enterprise", "password": "secret-pass-123"})
    assert bound.status_code == 302 and bound["Location"] == url("ent_demand_new", portal)
    # The phone acts as the account on the H5 pages only: the console still asks to sign in.
    assert client.get(reverse("services:demand_list")).status_code == 302


def test_a_next_address_outside_the_enterprise_pages_is_ignored(client, portal, fake_wechat, park):  # noqa: F811
    sign_in(client, fake_wechat, portal, "o-ent-6")
    response = client.post(
        url("ent_bind", portal) + "?next=https://evil.example/steal",
        {"username": "enterprise", "password": "secret-pass-123"},
    )
    assert response["Location"] == url("ent_home", portal)
