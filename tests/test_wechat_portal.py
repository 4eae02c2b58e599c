"""The investor's H5 portal: OAuth identification (state, single-use codes, snapshot users),
consulting, booking a visit, following one's project; and the steps investors are told of."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from yimatong.investment.actions import leads as lead_actions
from yimatong.investment.actions import projects as project_actions
from yimatong.investment.actions import work
from yimatong.investment.models import Lead, SiteVisit
from yimatong.services.models import WorkCalendarDay, is_park_workday
from yimatong.wechat.models import Follower, InboundMessage, OutboundMessage

pytestmark = pytest.mark.usefixtures("on_commit_runs")


def _next_weekday(days: int = 3) -> dt.date:
    """The first working day (on the park's calendar) ``days`` or more days from now."""
    day = timezone.localdate() + dt.timedelta(days=days)
    while not is_park_workday(day):
        day += dt.timedelta(days=1)
    return day


def sign_in(client: Client, fake, account, openid: str, *, snapshot: bool = False, next_page: str = "me"):
    """Follow the OAuth redirects through the fake's authorize URL; returns the final response."""
    start = client.get(reverse(f"wechat:portal_{next_page}", args=[account.slug]))
    assert start.status_code == 302
    authorize = start["Location"].split("#")[0]
    assert authorize.startswith(fake.base_url + "/connect/oauth2/authorize?")
    query = parse_qs(urlparse(authorize).query)
    assert query["scope"] == ["snsapi_base"] and query["appid"] == [account.appid]
    extra = "&fake_snapshot=1" if snapshot else f"&fake_openid={openid}"
    back = requests.get(authorize + extra, allow_redirects=False, timeout=5)
    assert back.status_code == 302
    callback = urlparse(back.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}"), f"{callback.path}?{callback.query}"


@pytest.fixture
def portal(fake_wechat, wechat_accounts):
    from yimatong.wechat.provider import fake_account

    for account in wechat_accounts:
        fake_wechat.add_account(fake_account(account, base_url="http://testserver"))
    return wechat_accounts[0]


def test_the_public_pages_need_no_sign_in(client, portal, park):
    home = client.get(reverse("wechat:portal_home", args=[portal.slug]))
    assert home.status_code == 200
    assert "抗体药物" in home.content.decode()
    assert client.get(reverse("wechat:portal_policies", args=[portal.slug])).status_code == 200


def test_the_portal_pages_are_light_and_load_nothing_from_outside(client, portal, park):
    for name in ("portal_home", "portal_policies"):
        response = client.get(reverse(f"wechat:{name}", args=[portal.slug]))
        body = response.content.decode()
        assert len(response.content) < 150 * 1024
        links = re.findall(r'(?:src|href)="([^"]*)"', body)
        assert links and all(link.startswith(("/", "?", "#", "tel:")) for link in links), links
        assert "<script" not in body  # no JavaScript at all on the investor's pages


def test_signing_in_through_oauth_binds_the_openid_and_returns_to_the_page(client, portal, fake_wechat):
    response, _ = sign_in(client, fake_wechat, portal, "o-h5-1", next_page="consult")
    assert response.status_code == 302
    assert response["Location"] == reverse("wechat:portal_consult", args=[portal.slug])
    follower = Follower.objects.get(openid="o-h5-1")
    assert client.session["wechat_follower_id"] == follower.pk
    assert client.get(response["Location"]).status_code == 200


def test_an_oauth_code_works_once(client, portal, fake_wechat):
    _, callback = sign_in(client, fake_wechat, portal, "o-h5-2")
    # The same callback again: the state was used up.
    assert client.get(callback).status_code == 400
    # A fresh sign-in's state with the old code: WeChat answers 40163.
    other = Client()
    start = other.get(reverse("wechat:portal_me", args=[portal.slug]))
    state = parse_qs(urlparse(start["Location"].split("#")[0]).query)["state"][0]
    code = parse_qs(urlparse(callback).query)["code"][0]
    answer = other.get(reverse("wechat:portal_oauth", args=[portal.slug]) + f"?code={code}&state={state}")
    assert answer.status_code == 400
    assert "授权码已被使用" in answer.content.decode()
    assert "wechat_follower_id" not in other.session


def test_a_forged_state_is_refused(client, portal, fake_wechat):
    client.get(reverse("wechat:portal_me", args=[portal.slug]))
    response = client.get(reverse("wechat:portal_oauth", args=[portal.slug]) + "?code=abc&state=forged")
    assert response.status_code == 400
    assert not Follower.objects.exists()


def test_a_snapshot_mode_user_stays_anonymous(client, portal, fake_wechat):
    response, _ = sign_in(client, fake_wechat, portal, "", snapshot=True)
    assert response.status_code == 403
    assert not Follower.objects.exists()
    assert "wechat_follower_id" not in client.session


def test_consulting_creates_a_lead_from_the_h5_form_and_joins_the_conversation(
    client, portal, fake_wechat, park
):
    sign_in(client, fake_wechat, portal, "o-h5-3")
    response = client.post(
        reverse("wechat:portal_consult", args=[portal.slug]),
        {
            "company_name": "杭州启航生物科技有限公司",
            "contact_name": "王总",
            "contact_phone": "13812340000",
            "chain_node": park.antibody.pk,
            "interest": "双抗中试基地，约 2 亿元",
        },
    )
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert lead.company_name == "杭州启航生物科技有限公司" and lead.contact_phone == "13812340000"
    assert lead.chain_node == park.antibody and lead.sources.get().channel == "h5_form"
    follower = Follower.objects.get(openid="o-h5-3")
    assert follower.lead == lead and follower.contact.name == "王总"
    assert InboundMessage.objects.get(follower=follower).msg_type == "h5"
    assert lead.team is not None  # assigned by chain segment like any lead


def test_a_bad_phone_number_is_refused_naming_the_field_and_nothing_is_stored(client, portal, fake_wechat):
    sign_in(client, fake_wechat, portal, "o-h5-4")
    for phone in ("12345", "13812abc678"):
        response = client.post(
            reverse("wechat:portal_consult", args=[portal.slug]),
            {"company_name": "某公司", "contact_name": "李", "contact_phone": phone, "interest": "x"},
        )
        assert response.status_code == 400
        assert "手机号" in response.content.decode()
    assert not Lead.objects.exists()


def test_booking_a_visit_lands_on_the_investment_calendar_as_requested(client, portal, fake_wechat, park):
    sign_in(client, fake_wechat, portal, "o-h5-5")
    day = _next_weekday()
    response = client.post(
        reverse("wechat:portal_visit", args=[portal.slug]),
        {
            "date": day.isoformat(),
            "slot": "09:30",
            "visitor_count": 3,
            "visitors": "王总、李工",
            "notes": "看厂房",
        },
    )
    assert response.status_code == 302
    visit = SiteVisit.objects.get()
    assert visit.requested_by == "investor" and visit.status == "requested"
    assert timezone.localtime(visit.starts_at).date() == day and visit.visitor_count == 3
    assert visit.lead is not None and visit.lead.wechat_followers.get().openid == "o-h5-5"
    me = client.get(reverse("wechat:portal_me", args=[portal.slug])).content.decode()
    assert "待确认" in me


def test_a_visit_on_a_weekend_or_in_the_past_is_refused(client, portal, fake_wechat):
    sign_in(client, fake_wechat, portal, "o-h5-6")
    saturday = timezone.localdate() + dt.timedelta(days=(5 - timezone.localdate().weekday()) % 7 or 7)
    for day in (timezone.localdate() - dt.timedelta(days=1), saturday):
        response = client.post(
            reverse("wechat:portal_visit", args=[portal.slug]),
            {"date": day.isoformat(), "slot": "09:30", "visitor_count": 1},
        )
        assert response.status_code == 400 and "考察日期" in response.content.decode()
    assert not SiteVisit.objects.exists()


def test_a_visit_on_a_public_holiday_of_the_parks_calendar_is_refused(client, portal, fake_wechat):
    sign_in(client, fake_wechat, portal, "o-h5-6")
    holiday = _next_weekday()
    WorkCalendarDay.objects.create(date=holiday, is_workday=False, note="园区年假")
    response = client.post(
        reverse("wechat:portal_visit", args=[portal.slug]),
        {"date": holiday.isoformat(), "slot": "09:30", "visitor_count": 1},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["date"] == [
        f"{holiday.isoformat()} 是节假日，不安排考察，请选择工作日。"
    ]
    assert not SiteVisit.objects.exists()


@pytest.mark.django_db
def test_a_visit_on_a_national_holiday_is_refused_but_a_make_up_saturday_is_bookable():
    from yimatong.wechat.forms import VisitBookingForm

    # 2024: 1–7 October off (National Day); Saturday 12 October a make-up working day.
    today = dt.date(2024, 9, 20)
    national_day = VisitBookingForm({"date": "2024-10-02", "slot": "09:30", "visitor_count": 1}, today=today)
    make_up_saturday = VisitBookingForm(
        {"date": "2024-10-12", "slot": "09:30", "visitor_count": 1}, today=today
    )
    assert national_day.errors["date"] == ["2024-10-02 是节假日，不安排考察，请选择工作日。"]
    assert make_up_saturday.is_valid(), make_up_saturday.errors


def _investor_with_project(client, portal, fake_wechat, park, openid="o-h5-7"):
    sign_in(client, fake_wechat, portal, openid)
    client.post(
        reverse("wechat:portal_consult", args=[portal.slug]),
        {
            "company_name": "苏州新域抗体有限公司",
            "contact_name": "赵总",
            "contact_phone": "13812341111",
            "interest": "抗体",
        },
    )
    lead = Lead.objects.get(company_name="苏州新域抗体有限公司")
    project = lead_actions.qualify_lead(
        lead=lead, actor=park.users["owner"], data={"owner": park.users["owner"]}
    )
    return lead, project


def test_my_projects_lists_the_project_and_opens_its_progress_page(client, portal, fake_wechat, park):
    _lead, project = _investor_with_project(client, portal, fake_wechat, park)
    me = client.get(reverse("wechat:portal_me", args=[portal.slug])).content.decode()
    assert project.name in me
    progress = client.get(reverse("project_onecode", args=[project.qr_token]))
    assert progress.status_code == 200
    text = progress.content.decode()
    assert "下一步" in text and park.users["owner"].display_name in text
    # Another visitor learns nothing from the same URL.
    assert Client().get(reverse("project_onecode", args=[project.qr_token])).status_code == 404


def test_documents_shared_with_the_investor_can_be_downloaded_and_others_cannot(
    client, portal, fake_wechat, park, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    _lead, project = _investor_with_project(client, portal, fake_wechat, park)
    shared = work.upload_document(
        actor=park.users["owner"],
        project=project,
        kind="agreement",
        title="投资协议（草案）",
        visibility="investor",
        upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 shared", "application/pdf"),
    ).document
    internal = work.upload_document(
        actor=park.users["owner"],
        project=project,
        kind="minutes",
        title="内部评审纪要",
        visibility="team",
        upload=SimpleUploadedFile("b.pdf", b"%PDF-1.4 internal", "application/pdf"),
    ).document
    page = client.get(reverse("project_onecode", args=[project.qr_token])).content.decode()
    assert "投资协议（草案）" in page and "内部评审纪要" not in page
    download = client.get(reverse("project_onecode_document", args=[project.qr_token, shared.code]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 shared"
    assert (
        client.get(reverse("project_onecode_document", args=[project.qr_token, internal.code])).status_code
        == 404
    )
    assert (
        Client().get(reverse("project_onecode_document", args=[project.qr_token, shared.code])).status_code
        == 404
    )


def test_a_confirmed_visit_and_the_registration_are_told_to_the_investor_once(
    client, portal, fake_wechat, park, investment
):
    _lead, project = _investor_with_project(client, portal, fake_wechat, park, openid="o-h5-8")
    follower = Follower.objects.get(openid="o-h5-8")
    Follower.objects.filter(pk=follower.pk).update(subscribed=True)
    fake_wechat.user_subscribe(portal.appid, "o-h5-8")  # the fake knows them as a follower
    start = timezone.now() + dt.timedelta(days=4)
    committed = TestCase.captureOnCommitCallbacks
    with committed(execute=True):
        visit = work.schedule_visit(
            actor=park.users["owner"],
            project=project,
            data={"title": "来园考察", "starts_at": start, "ends_at": start + dt.timedelta(hours=2)},
        )
    with committed(execute=True):
        work.set_visit_status(actor=park.users["owner"], visit=visit, status="done")
        work.set_visit_status(actor=park.users["owner"], visit=visit, status="confirmed")  # no second notice
    templates = [m for m in fake_wechat.inbox(portal.appid, "o-h5-8") if m["kind"] == "template"]
    assert [m["template_id"] for m in templates] == ["TPL-VISIT"]
    assert (
        OutboundMessage.objects.get(purpose="visit_confirmed").client_msg_id
        == f"visit{visit.pk}-visit_confirmed"
    )

    meeting_at = timezone.now() + dt.timedelta(days=9)
    with committed(execute=True):
        work.schedule_visit(
            actor=park.users["owner"],
            project=project,
            data={
                "title": "签约仪式",
                "purpose": "signing",
                "starts_at": meeting_at,
                "ends_at": meeting_at + dt.timedelta(hours=1),
            },
        )
    project.refresh_from_db()
    for stage in ("visit", "negotiation"):
        project = project_actions.move_stage(actor=park.users["owner"], project=project, to=stage)
    project = project_actions.move_stage(
        actor=park.users["owner"],
        project=project,
        to="signed",
        facts={
            "agreement_type": "investment",
            "signed_on": timezone.localdate(),
            "contracted_investment": 20000,
        },
    )
    with committed(execute=True):
        project_actions.move_stage(
            actor=park.users["owner"],
            project=project,
            to="registered",
            facts={
                "registered_uscc": "91500113MA5U7ABC3F",
                "registered_name": "苏州新域抗体（重庆）有限公司",
                "registered_on": timezone.localdate(),
            },
        )
    templates = [
        m["template_id"] for m in fake_wechat.inbox(portal.appid, "o-h5-8") if m["kind"] == "template"
    ]
    assert templates == ["TPL-VISIT", "TPL-MEET", "TPL-REG"]


def test_a_staff_reply_shows_in_the_investors_conversation_page(client, portal, fake_wechat, park):
    sign_in(client, fake_wechat, portal, "o-h5-9")
    client.post(reverse("wechat:portal_messages", args=[portal.slug]), {"text": "请问厂房租金多少？"})
    follower = Follower.objects.get(openid="o-h5-9")
    OutboundMessage.objects.create(
        follower=follower,
        kind="template",
        purpose="reply",
        text="每月每平方米约 20 元。",
        status="sent",
        sender=park.users["owner"],
    )
    page = client.get(reverse("wechat:portal_messages", args=[portal.slug])).content.decode()
    assert "请问厂房租金多少？" in page and "每月每平方米约 20 元。" in page


def test_the_english_account_speaks_english(client, wechat_accounts, park):
    _safe, plain = wechat_accounts
    response = client.get(reverse("wechat:portal_home", args=[plain.slug]))
    assert response["Content-Language"] == "en"
    chinese = client.get(reverse("wechat:portal_home", args=[plain.slug]) + "?lang=zh-hans")
    assert chinese["Content-Language"] == "zh-hans"


def test_a_visit_booked_before_the_project_is_confirmed_from_the_lead_and_follows_the_project(
    client, portal, fake_wechat, park
):
    sign_in(client, fake_wechat, portal, "o-h5-10")
    client.post(
        reverse("wechat:portal_visit", args=[portal.slug]),
        {"date": _next_weekday().isoformat(), "slot": "14:30", "visitor_count": 2},
    )
    visit = SiteVisit.objects.get()
    lead = visit.lead
    lead_actions.assign_lead(lead=lead, actor=park.users["teamlead"], owner=park.users["owner"])
    owner = Client()
    owner.force_login(park.users["owner"])
    page = owner.get(lead.get_absolute_url()).content.decode()
    assert "待确认" in page and reverse("investment:visit_status", args=[visit.pk]) in page
    response = owner.post(
        reverse("investment:visit_status", args=[visit.pk]),
        {"status": "confirmed", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()
    visit.refresh_from_db()
    assert visit.status == "confirmed"
    project = lead_actions.qualify_lead(lead=lead, actor=park.users["owner"], data={})
    visit.refresh_from_db()
    assert visit.project == project
