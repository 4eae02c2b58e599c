"""The work on a project, through the console as people use it: follow-up activities, site-visit
bookings and the investment calendar, documents and their versions, capital in place, major-project
milestones and problems, the admission review, supervision (督办) and the project one-code.

Each test checks what is stored and what the pages then show.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import DepartmentFactory, UserFactory
from yimatong.accounts.models import User
from yimatong.investment.actions import projects as project_actions
from yimatong.investment.actions import work
from yimatong.investment.actions.leads import create_lead
from yimatong.investment.models import (
    Activity,
    AdmissionReview,
    CapitalArrival,
    Document,
    DocumentVersion,
    InvestmentSettings,
    Lead,
    LeadEvent,
    Milestone,
    Problem,
    Project,
    ScoreItem,
    SiteVisit,
)
from yimatong.lib.errors import ActionError
from yimatong.notifications.models import Notification

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# Reading pages ---------------------------------------------------------------------------------


def page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    return unescape(response.content.decode())


def section(html: str, anchor: str) -> str:
    """The card ``<section ... id="anchor">`` of a page."""
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def timeline(html: str) -> list[str]:
    """The project timeline's entries, newest first, each as its plain text."""
    start = html.index('<ol class="timeline">')
    items = re.findall(r"<li [^>]*>(.*?)</li>", html[start : html.index("</ol>", start)], re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def in_timeline(html: str, *parts: str) -> bool:
    """Whether one timeline entry tells all of ``parts``."""
    return any(all(part in entry for part in parts) for entry in timeline(html))


def activity_list(html: str) -> str:
    start = html.index('<ul class="activity-list">')
    return html[start : html.index("</ul>", start)]


def shown_messages(response) -> list[str]:
    """The flash messages on the page a POST redirected to (``follow=True``)."""
    html = unescape(response.content.decode())
    return [m.strip() for m in re.findall(r'<div class="message message-\w+">(.*?)</div>', html, re.S)]


def post(client, url, data):
    return client.post(url, data, follow=True)


def local(year, month, day, hour=0, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


# Small factories -------------------------------------------------------------------------------


@pytest.fixture
def project(new_project):
    return new_project()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def schedule(project, actor, *, starts_at, minutes=90, title="启明来园考察") -> SiteVisit:
    return work.schedule_visit(
        actor=actor,
        project=project,
        data={"title": title, "starts_at": starts_at, "ends_at": starts_at + dt.timedelta(minutes=minutes)},
    )


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def upload_document(
    client, project, *, name="启明BP.pdf", content=PDF, visibility="team", content_type="application/pdf"
):
    data = {
        "kind": "business_plan",
        "title": "启明商业计划书",
        "visibility": visibility,
        "note": "首版",
        "file": upload(name, content, content_type),
    }
    return post(client, reverse("investment:document_create", args=[project.code]), data)


def download(client, document, number):
    return client.get(
        reverse("investment:document_download", args=[document.project.code, document.code, number])
    )


def downloaded(response) -> bytes:
    # Reading the stream to its end lets the test client close the file.
    return b"".join(response.streaming_content)


def dispatch_problem(project, actor, department, description="电力增容") -> Problem:
    return work.raise_problem(
        actor=actor,
        project=project,
        data={"description": description, "department": department, "deadline": days_ago(-30)},
    )


# 1. Activities ---------------------------------------------------------------------------------


def test_a_promoter_records_a_leader_led_visit_and_it_shows_on_the_activities_and_the_timeline(
    project, investment, as_persona
):
    owner, leader, colleague = (investment.users[p] for p in ("owner", "leader", "colleague"))
    occurred, follow_up = days_ago(2), days_ago(-7)
    response = post(
        as_persona("owner"),
        reverse("investment:activity_create", args=[project.code]),
        {
            "kind": "leader_visit",
            "occurred_on": occurred.isoformat(),
            "summary": "王局长带队赴苏州拜访启明",
            "notes": "对方确认年内定址",
            "participants": [owner.pk, colleague.pk],
            "external_participants": "陈投资、启明董事长",
            "leader": leader.pk,
            "next_follow_up_on": follow_up.isoformat(),
            "anchor": "#activities",
        },
    )
    assert response.redirect_chain[-1][0] == project.get_absolute_url() + "#activities"
    assert shown_messages(response) == ["已记录跟进活动。"]

    activity = Activity.objects.get(project=project)
    assert (activity.kind, activity.leader, activity.occurred_on, activity.next_follow_up_on) == (
        "leader_visit",
        leader,
        occurred,
        follow_up,
    )
    assert set(activity.participants.all()) == {owner, colleague}
    assert (activity.created_by, activity.follow_up_done) == (owner, False)
    event = project.events.get(kind="activity")
    assert (event.actor, event.data["leader"], event.data["next_follow_up_on"]) == (
        owner,
        "王局长",
        follow_up.isoformat(),
    )

    html = unescape(response.content.decode())
    listed = activity_list(html)
    assert "领导带队" in listed and "王局长带队赴苏州拜访启明" in listed
    assert "带队领导：王局长" in listed
    assert "对方：陈投资、启明董事长" in listed
    assert f"下次跟进：{follow_up:%Y-%m-%d}" in listed
    assert "对方确认年内定址" in listed
    assert in_timeline(
        html, "王局长带队赴苏州拜访启明", "带队领导 王局长", f"下次跟进 {follow_up.isoformat()}"
    )


def test_the_project_page_shows_which_staff_took_part_in_an_activity(project, investment, as_persona):
    colleague = investment.users["colleague"]
    work.add_activity(
        actor=investment.users["owner"],
        project=project,
        data={
            "kind": "meeting",
            "summary": "与启明管理层会谈",
            "occurred_on": days_ago(1),
            "participants": [colleague],
        },
    )
    html = page(as_persona("owner"), project.get_absolute_url())
    assert colleague.display_name in activity_list(html)


def test_a_leader_led_visit_may_name_a_leader_who_has_no_account(project, as_persona):
    post(
        as_persona("owner"),
        reverse("investment:activity_create", args=[project.code]),
        {
            "kind": "leader_visit",
            "occurred_on": days_ago(1).isoformat(),
            "summary": "区长接待启明考察团",
            "leader_name": "李区长",
        },
    )
    activity = Activity.objects.get(project=project)
    assert (activity.leader, activity.leader_name) == (None, "李区长")
    html = page(as_persona("teamlead"), project.get_absolute_url())
    assert "带队领导：李区长" in activity_list(html)
    assert in_timeline(html, "区长接待启明考察团", "带队领导 李区长")


def test_a_later_activity_marks_the_earlier_follow_up_done_on_the_page(project, investment, as_persona):
    client = as_persona("owner")
    url = reverse("investment:activity_create", args=[project.code])
    post(
        client,
        url,
        {
            "kind": "call",
            "occurred_on": days_ago(5).isoformat(),
            "summary": "电话约见",
            "next_follow_up_on": days_ago(1).isoformat(),
        },
    )
    first = Activity.objects.get(project=project)
    # Overdue: the owner's home page asks for it.
    assert [a.pk for a in client.get("/").context["investment"]["follow_ups"]] == [first.pk]

    response = post(
        client, url, {"kind": "meeting", "occurred_on": days_ago(0).isoformat(), "summary": "面谈落地条件"}
    )
    first.refresh_from_db()
    assert first.follow_up_done is True
    listed = activity_list(unescape(response.content.decode()))
    assert listed.index("面谈落地条件") < listed.index("电话约见")  # newest first
    assert f"下次跟进：{days_ago(1):%Y-%m-%d} ✓" in listed
    assert list(client.get("/").context["investment"]["follow_ups"]) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda: {"summary": ""}, "未保存：摘要：这个字段是必填项。"),
        (lambda: {"kind": "leader_visit"}, "未保存：带队领导：领导带队的活动须记录带队领导。"),
        (
            lambda: {"occurred_on": days_ago(-1).isoformat()},
            "未保存：日期：活动日期不能晚于今天；计划中的安排请填在“下次跟进日期”或考察预约。",
        ),
        (
            lambda: {"next_follow_up_on": days_ago(4).isoformat()},
            "未保存：下次跟进日期：下次跟进日期不能早于本次活动日期。",
        ),
    ],
    ids=["no-summary", "leader-visit-without-leader", "in-the-future", "follow-up-before-activity"],
)
def test_a_bad_activity_is_refused_naming_the_field_and_nothing_is_stored(
    project, as_persona, change, message
):
    data = {"kind": "call", "occurred_on": days_ago(3).isoformat(), "summary": "电话沟通"}
    data.update(change())  # activity on days_ago(3)
    response = post(as_persona("owner"), reverse("investment:activity_create", args=[project.code]), data)
    assert response.status_code == 200
    assert shown_messages(response) == [message]
    assert not Activity.objects.exists()
    assert not project.events.filter(kind="activity").exists()
    assert "还没有跟进活动。" in section(unescape(response.content.decode()), "activities")


def test_only_those_who_change_the_project_record_activities_on_it(project, as_persona):
    data = {"kind": "call", "occurred_on": days_ago(1).isoformat(), "summary": "电话"}
    url = reverse("investment:activity_create", args=[project.code])
    assert as_persona("leader").post(url, data).status_code == 403
    assert as_persona("other_team").post(url, data).status_code == 404
    assert not Activity.objects.exists()


def test_a_promoter_records_a_call_on_their_lead(investment, as_persona):
    owner = investment.users["owner"]
    lead = create_lead(actor=owner, data={"company_name": "成都天府细胞治疗有限公司"}, source={})
    touched_before = lead.touched_at
    response = post(
        as_persona("owner"),
        reverse("investment:lead_activity_create", args=[lead.code]),
        {
            "kind": "call",
            "occurred_on": days_ago(1).isoformat(),
            "summary": "电话了解扩产意向",
            "next_follow_up_on": days_ago(-3).isoformat(),
        },
    )
    assert response.redirect_chain[-1][0] == lead.get_absolute_url()
    assert shown_messages(response) == ["已记录跟进活动。"]
    activity = Activity.objects.get(lead=lead)
    assert (activity.project, activity.created_by, activity.summary) == (None, owner, "电话了解扩产意向")
    assert Lead.objects.get(pk=lead.pk).touched_at > touched_before
    note = LeadEvent.objects.get(lead=lead, kind="note")
    assert note.data == {"text": "电话了解扩产意向", "activity": activity.pk}
    listed = activity_list(unescape(response.content.decode()))
    assert "电话了解扩产意向" in listed and f"下次跟进：{days_ago(-3):%Y-%m-%d}" in listed

    refused = as_persona("other_team").post(
        reverse("investment:lead_activity_create", args=[lead.code]),
        {"kind": "call", "occurred_on": days_ago(1).isoformat(), "summary": "越权"},
    )
    assert refused.status_code == 404
    bad = post(
        as_persona("owner"),
        reverse("investment:lead_activity_create", args=[lead.code]),
        {"kind": "call", "occurred_on": days_ago(1).isoformat(), "summary": ""},
    )
    assert shown_messages(bad) == ["未保存：摘要：这个字段是必填项。"]
    assert Activity.objects.filter(lead=lead).count() == 1


def test_the_lead_page_offers_the_activity_form(investment, as_persona):
    lead = create_lead(
        actor=investment.users["owner"], data={"company_name": "成都天府细胞治疗有限公司"}, source={}
    )
    html = page(as_persona("owner"), lead.get_absolute_url())
    action = reverse("investment:lead_activity_create", args=[lead.code])
    form = html[html.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    for name in ("kind", "occurred_on", "summary", "next_follow_up_on"):
        assert f'name="{name}"' in form


# 2. Site visits and the investment calendar ----------------------------------------------------


def calendar_entries(client, year, month) -> dict[dt.date, list[str]]:
    response = client.get(reverse("investment:calendar"), {"year": year, "month": month})
    assert response.status_code == 200
    return {
        day: [v.title for v in visits]
        for week in response.context["weeks"]
        for day, visits, _in_month, _more in week
        if visits
    }


def test_staff_schedule_a_visit_and_it_is_on_the_calendar_of_those_who_may_see_the_project(
    project, investment, as_persona
):
    response = post(
        as_persona("teamlead"),
        reverse("investment:visit_create", args=[project.code]),
        {
            "title": "启明来园考察",
            "starts_at": "2026-12-09T17:30",
            "ends_at": "2026-12-09T19:00",
            "location": "一号楼会议室",
            "visitors": "启明董事长等",
            "visitor_count": 4,
            "hosts": [investment.users["owner"].pk],
            "anchor": "#visits",
        },
    )
    assert shown_messages(response) == ["已安排考察，已加入招商日历。"]
    visit = SiteVisit.objects.get(project=project)
    assert visit.starts_at == local(2026, 12, 9, 17, 30)
    assert (visit.status, visit.requested_by, visit.visitor_count) == ("confirmed", "staff", 4)
    assert list(visit.hosts.all()) == [investment.users["owner"]]
    assert project.events.get(kind="visit").data["status"] == "confirmed"
    visits = section(unescape(response.content.decode()), "visits")
    assert "2026-12-09 17:30" in visits and "启明来园考察" in visits and "一号楼会议室" in visits
    assert "visit-confirmed" in visits
    # The owner did not book it themselves: they are told, in local time.
    note = Notification.objects.get(kind=Notification.Kind.VISIT_BOOKED)
    assert (note.recipient, note.body, note.url) == (
        investment.users["owner"],
        "2026-12-09 17:30",
        project.get_absolute_url(),
    )

    for persona in ("owner", "teamlead", "leader", "admin"):
        assert calendar_entries(as_persona(persona), 2026, 12) == {dt.date(2026, 12, 9): ["启明来园考察"]}
    assert "17:30 启明来园考察" in page(
        as_persona("owner"), reverse("investment:calendar"), year=2026, month=12
    )
    assert calendar_entries(as_persona("owner"), 2026, 11) == {}
    # A promoter of another team does not see the project, nor its visit.
    other = page(as_persona("other_team"), reverse("investment:calendar"), year=2026, month=12)
    assert calendar_entries(as_persona("other_team"), 2026, 12) == {}
    assert "启明来园考察" not in other


def test_a_visit_early_in_the_morning_is_on_its_shanghai_day_and_month(project, investment, as_persona):
    # 07:00 on 1 December in Shanghai is still 30 November in UTC.
    schedule(project, investment.users["owner"], starts_at=local(2026, 12, 1, 7, 0))
    client = as_persona("owner")
    assert calendar_entries(client, 2026, 12) == {dt.date(2026, 12, 1): ["启明来园考察"]}
    assert calendar_entries(client, 2026, 11) == {}


def test_the_timeline_shows_the_visit_time_in_shanghai_time(project, investment, as_persona):
    visit = schedule(project, investment.users["owner"], starts_at=local(2026, 12, 9, 17, 30))
    # A status change reloads the visit from the database, where the time is in UTC (09:30).
    work.set_visit_status(actor=investment.users["owner"], visit=visit, status="done")
    entries = [
        e for e in timeline(page(as_persona("owner"), project.get_absolute_url())) if "启明来园考察" in e
    ]
    assert len(entries) == 2
    for entry in entries:
        assert "2026-12-09 17:30" in entry and "2026-12-09 09:30" not in entry
    assert any("已确认" in e for e in entries) and any("已完成" in e for e in entries)


@pytest.mark.parametrize(("status", "label"), [("done", "已完成"), ("cancelled", "已取消")])
def test_confirming_completing_or_cancelling_a_visit_is_an_event(
    project, investment, as_persona, status, label
):
    visit = work.schedule_visit(
        actor=None,
        project=project,
        requested_by=SiteVisit.RequestedBy.INVESTOR,
        data={
            "title": "投资方预约考察",
            "starts_at": local(2026, 12, 10, 9, 0),
            "ends_at": local(2026, 12, 10, 11, 0),
        },
    )
    assert visit.status == "requested"
    client = as_persona("owner")
    pending = client.get(reverse("investment:calendar"), {"year": 2026, "month": 12}).context["pending"]
    assert [v.pk for v in pending] == [visit.pk]
    before = Project.objects.get(pk=project.pk).last_progress_at

    url = reverse("investment:visit_status", args=[visit.pk])
    for step in ("confirmed", status):
        response = post(client, url, {"status": step})
        assert shown_messages(response) == ["考察状态已更新。"]
    visit.refresh_from_db()
    assert visit.status == status
    statuses = list(
        project.events.filter(kind="visit").order_by("at", "pk").values_list("data__status", flat=True)
    )
    assert statuses == ["requested", "confirmed", status]
    assert in_timeline(unescape(response.content.decode()), "投资方预约考察", "2026-12-10 09:00", label)
    assert (
        list(client.get(reverse("investment:calendar"), {"year": 2026, "month": 12}).context["pending"]) == []
    )
    # Only a completed visit counts as progress on the project.
    moved = Project.objects.get(pk=project.pk).last_progress_at > before
    assert moved is (status == "done")


def test_a_visit_status_is_changed_only_by_those_who_change_the_project(project, investment, as_persona):
    visit = schedule(project, investment.users["owner"], starts_at=local(2026, 12, 9, 17, 30))
    url = reverse("investment:visit_status", args=[visit.pk])
    assert as_persona("leader").post(url, {"status": "cancelled"}).status_code == 403
    assert as_persona("other_team").post(url, {"status": "cancelled"}).status_code == 404
    visit.refresh_from_db()
    assert visit.status == "confirmed"
    assert project.events.filter(kind="visit").count() == 1


def test_the_calendar_names_the_days_of_the_week(investment, as_persona):
    html = page(as_persona("owner"), reverse("investment:calendar"), year=2026, month=12)
    head = html[html.index('<table class="calendar">') :]
    head = head[: head.index("</thead>")]
    names = [name.strip() for name in re.findall(r"<th>(.*?)</th>", head)]
    assert len(names) == 7 and all(names)


def test_a_visit_that_ends_before_it_starts_is_refused(project, as_persona):
    response = post(
        as_persona("owner"),
        reverse("investment:visit_create", args=[project.code]),
        {
            "title": "启明来园考察",
            "starts_at": "2026-12-09T17:30",
            "ends_at": "2026-12-09T16:00",
            "visitor_count": 2,
        },
    )
    assert shown_messages(response) == ["未保存：结束时间：结束时间必须晚于开始时间。"]
    assert not SiteVisit.objects.exists()
    assert "暂无考察安排。" in section(unescape(response.content.decode()), "visits")


# 3. Documents ----------------------------------------------------------------------------------


def test_a_promoter_uploads_a_business_plan_and_those_who_see_the_project_download_it(
    project, investment, as_persona, media
):
    response = upload_document(as_persona("owner"), project)
    assert shown_messages(response) == ["已上传文件。"]
    document = Document.objects.get(project=project)
    version = document.versions.get()
    assert (document.kind, document.title, document.visibility) == ("business_plan", "启明商业计划书", "team")
    assert (version.number, version.original_name, version.size, version.note) == (
        1,
        "启明BP.pdf",
        len(PDF),
        "首版",
    )
    assert (version.content_type, version.uploaded_by) == ("application/pdf", investment.users["owner"])
    assert project.events.get(kind="document").data == {
        "document_id": document.pk,
        "document": "启明商业计划书",
        "version": 1,
        "file": "启明BP.pdf",
    }
    html = unescape(response.content.decode())
    assert "启明商业计划书" in section(html, "documents") and "v1 · 启明BP.pdf" in section(html, "documents")
    assert in_timeline(html, "启明商业计划书 v1", "启明BP.pdf")

    # A service officer sees the project once a problem is dispatched to their department.
    dispatch_problem(project, investment.users["owner"], investment.users["service"].department)
    for persona in ("owner", "teamlead", "leader", "admin", "service"):
        got = download(as_persona(persona), document, 1)
        assert got.status_code == 200, persona
        assert "attachment" in got["Content-Disposition"]
        assert downloaded(got) == PDF
    for persona in ("other_team", "colleague"):
        assert download(as_persona(persona), document, 1).status_code == 404, persona
    assert download(as_persona("owner"), document, 2).status_code == 404


def test_uploading_again_makes_version_two_and_keeps_version_one(project, as_persona, media):
    client = as_persona("owner")
    upload_document(client, project)
    document = Document.objects.get()
    second = PDF.replace(b"1.7", b"2.0") + b"% revised\n"
    response = post(
        client,
        reverse("investment:document_version", args=[project.code, document.code]),
        {"file": upload("启明BP-修订.pdf", second), "note": "更新财务预测"},
    )
    assert shown_messages(response) == ["已上传新版本。"]
    assert list(document.versions.order_by("number").values_list("number", "original_name", "note")) == [
        (1, "启明BP.pdf", "首版"),
        (2, "启明BP-修订.pdf", "更新财务预测"),
    ]
    assert downloaded(download(client, document, 1)) == PDF
    assert downloaded(download(client, document, 2)) == second
    documents = section(unescape(response.content.decode()), "documents")
    assert "v2 · 启明BP-修订.pdf" in documents and "v1 启明BP.pdf" in documents
    assert in_timeline(unescape(response.content.decode()), "启明商业计划书 v2", "启明BP-修订.pdf")


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        (
            "setup.exe",
            b"MZ\x90\x00\x03\x00\x00\x00",
            "application/x-msdownload",
            "未保存：文件：不支持 .exe 文件，可上传：doc、docx、jpeg、jpg、pdf、png、pptx、xls、xlsx。",
        ),
        (
            "计划书.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00",
            "application/pdf",
            "未保存：文件：文件内容与扩展名 .pdf 不符，请确认文件未损坏。",
        ),
        (
            "说明",
            PDF,
            "application/pdf",
            "未保存：文件：不支持 .? 文件，可上传：doc、docx、jpeg、jpg、pdf、png、pptx、xls、xlsx。",
        ),
    ],
    ids=["exe", "renamed-exe", "no-extension"],
)
def test_a_file_of_a_type_not_allowed_is_refused_and_nothing_is_stored(
    project, as_persona, media, name, content, content_type, message
):
    response = upload_document(
        as_persona("owner"), project, name=name, content=content, content_type=content_type
    )
    assert shown_messages(response) == [message]
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    assert not project.events.filter(kind="document").exists()
    assert not [p for p in media.rglob("*") if p.is_file()]


@override_settings(DOCUMENT_MAX_MB=1)
def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(project, as_persona, media):
    too_big = PDF + b"0" * (1024 * 1024 + 1 - len(PDF))
    response = upload_document(as_persona("owner"), project, content=too_big)
    assert shown_messages(response) == ["未保存：文件：文件太大：1.0 MB，上限为 1 MB。"]
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    assert not [p for p in media.rglob("*") if p.is_file()]
    # A new version is held to the same limit, and version 1 stays the only one.
    upload_document(as_persona("owner"), project)
    document = Document.objects.get()
    refused = post(
        as_persona("owner"),
        reverse("investment:document_version", args=[project.code, document.code]),
        {"file": upload("启明BP.pdf", too_big)},
    )
    assert shown_messages(refused) == ["未保存：新版本文件：文件太大：1.0 MB，上限为 1 MB。"]
    assert list(document.versions.values_list("number", flat=True)) == [1]


@override_settings(DOCUMENT_MAX_MB=5)
def test_the_upload_form_states_the_size_limit_the_server_applies(project, as_persona):
    documents = section(page(as_persona("owner"), project.get_absolute_url()), "documents")
    assert "不超过 5 MB" in documents


def test_a_restricted_document_opens_only_for_the_owner_insiders_the_team_lead_and_leaders(
    new_project, investment, as_persona, media
):
    users = investment.users
    project = new_project(codename="项目 K", collaborators=[users["colleague"]])
    dispatch_problem(project, users["owner"], users["service"].department)
    upload_document(as_persona("owner"), project, visibility="restricted")
    document = Document.objects.get()
    assert document.visibility == "restricted"

    for persona in ("owner", "teamlead", "leader", "admin"):
        assert download(as_persona(persona), document, 1).status_code == 200, persona
        assert "启明商业计划书" in section(page(as_persona(persona), project.get_absolute_url()), "documents")
    # The collaborator and the dispatched department see the project but not this document.
    for persona in ("colleague", "service"):
        assert download(as_persona(persona), document, 1).status_code == 404, persona
        assert "启明商业计划书" not in section(
            page(as_persona(persona), project.get_absolute_url()), "documents"
        )
    refused = as_persona("colleague").post(
        reverse("investment:document_version", args=[project.code, document.code]),
        {"file": upload("启明BP.pdf", PDF)},
    )
    assert refused.status_code == 404
    assert document.versions.count() == 1
    assert download(as_persona("other_team"), document, 1).status_code == 404

    project.insiders.add(users["colleague"])
    assert downloaded(download(as_persona("colleague"), document, 1)) == PDF


def test_the_timeline_does_not_name_a_restricted_document_to_those_who_may_not_open_it(
    new_project, investment, as_persona, media
):
    users = investment.users
    project = new_project(codename="项目 K", collaborators=[users["colleague"]])
    dispatch_problem(project, users["owner"], users["service"].department)
    upload_document(as_persona("owner"), project, visibility="restricted")
    assert in_timeline(page(as_persona("owner"), project.get_absolute_url()), "启明商业计划书", "启明BP.pdf")
    for persona in ("colleague", "service"):
        html = page(as_persona(persona), project.get_absolute_url())
        assert "启明商业计划书" not in html and "启明BP.pdf" not in html, persona


# 4. Capital in place ---------------------------------------------------------------------------


def test_capital_in_place_adds_up_over_time_on_the_project(project, investment, as_persona):
    signed = project_actions.move_stage(
        actor=investment.users["owner"],
        project=project,
        to="signed",
        facts={
            "agreement_type": "formal",
            "signed_on": days_ago(60),
            "contracted_investment": Decimal("50000"),
        },
    )
    client = as_persona("owner")
    url = reverse("investment:capital_create", args=[signed.code])
    post(client, url, {"arrived_on": days_ago(30).isoformat(), "amount": "1200", "note": "首期注册资本"})
    response = post(
        client, url, {"arrived_on": days_ago(3).isoformat(), "amount": "3800.50", "anchor": "#facts"}
    )
    assert response.redirect_chain[-1][0] == signed.get_absolute_url() + "#facts"
    assert shown_messages(response) == ["已登记到位资金。"]

    assert Project.objects.get(pk=signed.pk).capital_in_place() == Decimal("5000.50")
    assert list(CapitalArrival.objects.order_by("arrived_on").values_list("amount", "recorded_by")) == [
        (Decimal("1200.00"), investment.users["owner"].pk),
        (Decimal("3800.50"), investment.users["owner"].pk),
    ]
    amounts = [e.data["amount"] for e in signed.events.filter(kind="capital").order_by("at", "pk")]
    assert amounts == ["1200", "3800.50"]
    html = unescape(response.content.decode())
    facts = section(html, "facts")
    # 5,000.5 of a 50,000 contract: 10.0 % in place.
    assert re.search(r"<dt>到位资金</dt><dd>5,000\.50 万元 · 到位率 10\.0%</dd>", facts)
    assert in_timeline(html, "到位 1,200 万元", days_ago(30).isoformat(), "首期注册资本")


@pytest.mark.parametrize("amount", ["0", "-100", "0.001"])
def test_a_zero_or_negative_capital_amount_is_refused(project, investment, as_persona, amount):
    response = post(
        as_persona("owner"),
        reverse("investment:capital_create", args=[project.code]),
        {"arrived_on": days_ago(1).isoformat(), "amount": amount},
    )
    (message,) = shown_messages(response)
    assert message.startswith("未保存：到位金额（万元）：")
    assert not CapitalArrival.objects.exists()
    assert not project.events.filter(kind="capital").exists()


def test_recording_capital_refuses_a_nonpositive_amount_or_a_future_date(project, investment, as_persona):
    for amount in (Decimal("0"), Decimal("-5")):
        with pytest.raises(ActionError) as exc:
            work.record_capital(
                actor=investment.users["owner"], project=project, arrived_on=days_ago(1), amount=amount
            )
        assert exc.value.fields == {"amount": ["请填写大于 0 的金额。"]}
    response = post(
        as_persona("owner"),
        reverse("investment:capital_create", args=[project.code]),
        {"arrived_on": days_ago(-1).isoformat(), "amount": "100"},
    )
    assert shown_messages(response) == ["未保存：到位日期：到位日期不能晚于今天。"]
    assert not CapitalArrival.objects.exists()


# 5. Major projects: milestones and problems ----------------------------------------------------


def test_a_leader_flags_a_project_major_and_it_joins_the_major_schedule(project, investment, as_persona):
    url = reverse("investment:project_major", args=[project.code])
    assert as_persona("owner").post(url, {"is_major": "1"}).status_code == 403
    assert Project.objects.get(pk=project.pk).is_major is False

    response = post(as_persona("leader"), url, {"is_major": "1"})
    assert Project.objects.get(pk=project.pk).is_major is True
    assert project.events.get(kind="major").data == {"is_major": True}
    html = unescape(response.content.decode())
    assert '<span class="tag">重大项目</span>' in html
    assert in_timeline(html, "列为重大项目")
    assert project.name in page(as_persona("leader"), reverse("investment:major"))
    assert project.name in page(as_persona("owner"), reverse("investment:major"))
    assert project.name not in page(as_persona("other_team"), reverse("investment:major"))


def test_milestones_show_planned_against_actual(project, investment, as_persona):
    department = investment.users["service"].department
    client = as_persona("owner")
    response = post(
        client,
        reverse("investment:milestone_create", args=[project.code]),
        {"name": "取得施工许可证", "planned_on": days_ago(10).isoformat(), "department": department.pk},
    )
    assert shown_messages(response) == ["已添加计划节点。"]
    milestone = Milestone.objects.get(project=project)
    assert (milestone.planned_on, milestone.actual_on, milestone.department) == (
        days_ago(10),
        None,
        department,
    )
    major = section(unescape(response.content.decode()), "major")
    assert re.search(
        rf"取得施工许可证</td><td>企业服务中心</td><td>{days_ago(10)}</td><td>—\s*<span class=\"tag tag-red\">逾期</span>",
        major,
    )

    response = post(
        client,
        reverse("investment:milestone_edit", args=[milestone.pk]),
        {
            "name": "取得施工许可证",
            "planned_on": days_ago(10).isoformat(),
            "actual_on": days_ago(4).isoformat(),
            "department": department.pk,
        },
    )
    assert shown_messages(response) == ["已更新计划节点。"]
    milestone.refresh_from_db()
    assert (milestone.actual_on, milestone.days_late()) == (days_ago(4), 6)
    html = unescape(response.content.decode())
    assert (
        f"取得施工许可证</td><td>企业服务中心</td><td>{days_ago(10)}</td><td>{days_ago(4)}</td>"
        in section(html, "major")
    )
    assert in_timeline(html, "取得施工许可证", f"计划 {days_ago(10)}", f"实际 {days_ago(4)}")


def test_a_department_updates_the_items_dispatched_to_it_and_not_those_of_another(
    project, investment, as_persona
):
    owner, service = investment.users["owner"], investment.users["service"]
    planning = DepartmentFactory(code="planning", name="规划自然资源局")
    planner = UserFactory(username="planner", name="钱科长", role=User.Role.SERVICE, department=planning)
    ours = work.add_milestone(
        actor=owner,
        project=project,
        data={"name": "完成环评", "planned_on": days_ago(-20), "department": service.department},
    )
    theirs = dispatch_problem(project, owner, planning, description="用地指标未落实")
    client = as_persona("service")

    form = client.get(reverse("investment:milestone_edit", args=[ours.pk]))
    assert form.status_code == 200 and "更新计划节点" in form.content.decode()
    response = post(
        client,
        reverse("investment:milestone_edit", args=[ours.pk]),
        {
            "name": "完成环评",
            "planned_on": days_ago(-20).isoformat(),
            "actual_on": days_ago(0).isoformat(),
            "department": service.department.pk,
        },
    )
    assert response.redirect_chain[-1][0] == project.get_absolute_url() + "#major"
    ours.refresh_from_db()
    assert ours.actual_on == days_ago(0)
    assert project.events.filter(kind="milestone", actor=service).exists()

    # Not the problem dispatched to the planning bureau.
    assert client.get(reverse("investment:problem_edit", args=[theirs.pk])).status_code == 403
    assert (
        client.post(
            reverse("investment:problem_edit", args=[theirs.pk]),
            {
                "description": "已处理",
                "department": planning.pk,
                "deadline": days_ago(-30),
                "status": "in_progress",
            },
        ).status_code
        == 403
    )
    # The planning bureau sees the project through its problem, but not our milestone.
    refused = client_for(planner).post(
        reverse("investment:milestone_edit", args=[ours.pk]),
        {"name": "改名", "planned_on": days_ago(-20).isoformat(), "department": planning.pk},
    )
    assert refused.status_code == 403
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert (theirs.status, theirs.description, theirs.version) == ("open", "用地指标未落实", 1)
    assert (ours.name, ours.department) == ("完成环评", service.department)
    # A department with nothing on the project does not learn it exists.
    stranger = UserFactory(role=User.Role.SERVICE, department=DepartmentFactory(name="税务局"))
    assert client_for(stranger).get(reverse("investment:milestone_edit", args=[ours.pk])).status_code == 404


def test_resolving_a_problem_needs_the_resolution_and_sets_the_date(project, investment, as_persona):
    problem = dispatch_problem(project, investment.users["owner"], investment.users["service"].department)
    client = as_persona("service")
    url = reverse("investment:problem_edit", args=[problem.pk])
    fields = {
        "description": "电力增容",
        "department": problem.department_id,
        "deadline": problem.deadline.isoformat(),
        "version": 1,
    }
    refused = client.post(url, {**fields, "status": "resolved", "resolution": " "})
    assert refused.status_code == 400
    assert "标记已解决须填写解决情况。" in refused.content.decode()
    problem.refresh_from_db()
    assert (problem.status, problem.resolved_on, problem.version) == ("open", None, 1)

    response = post(client, url, {**fields, "status": "resolved", "resolution": "供电公司已完成增容"})
    assert shown_messages(response) == ["问题已更新。"]
    problem.refresh_from_db()
    assert (problem.status, problem.resolution, problem.resolved_on, problem.version) == (
        "resolved",
        "供电公司已完成增容",
        timezone.localdate(),
        2,
    )
    event = project.events.filter(kind="problem").order_by("-at", "-pk").first()
    assert (event.actor, event.data["status"]) == (investment.users["service"], "resolved")
    html = unescape(response.content.decode())
    major = section(html, "major")
    assert "供电公司已完成增容" in major and "problem-resolved" in major
    assert in_timeline(html, "电力增容", "已解决")


def test_a_problem_edited_from_a_stale_page_is_refused_and_nothing_is_lost(project, investment, as_persona):
    owner = investment.users["owner"]
    problem = dispatch_problem(project, owner, investment.users["service"].department)
    client = as_persona("service")
    url = reverse("investment:problem_edit", args=[problem.pk])
    form = client.get(url)
    assert re.search(r'name="version" value="1"', form.content.decode())

    # Meanwhile the owner moves the deadline.
    work.update_problem(actor=owner, problem=problem, data={"deadline": days_ago(-60)}, version=1)

    response = client.post(
        url,
        {
            "description": "电力增容（已协调）",
            "department": problem.department_id,
            "deadline": days_ago(-30).isoformat(),
            "status": "in_progress",
            "version": 1,
        },
    )
    assert response.status_code == 400
    assert "该记录已被他人修改（电力增容），您的修改未保存。" in unescape(response.content.decode())
    problem.refresh_from_db()
    assert (problem.description, problem.deadline, problem.status, problem.version) == (
        "电力增容",
        days_ago(-60),
        "open",
        2,
    )


# 6. Admission review ---------------------------------------------------------------------------


@pytest.fixture
def scorecard(investment):
    items = {
        "intensity": ScoreItem.objects.create(
            name="投资强度",
            kind="measured",
            metric="investment_intensity",
            thresholds=[[100, 5], [200, 10], [300, 17]],
            max_points=17,
            position=1,
        ),
        "tax": ScoreItem.objects.create(
            name="亩均税收",
            kind="measured",
            metric="tax_intensity",
            thresholds=[[10, 5], [20, 10]],
            max_points=10,
            position=2,
        ),
        "size": ScoreItem.objects.create(
            name="投资规模",
            kind="measured",
            metric="planned_investment",
            thresholds=[[10000, 3], [50000, 8]],
            max_points=8,
            position=3,
        ),
        "team": ScoreItem.objects.create(name="团队与技术", kind="judged", max_points=15, position=4),
        "veto": ScoreItem.objects.create(name="属于淘汰类产业", kind="veto", position=5),
    }
    ScoreItem.objects.create(
        name="已停用项", kind="measured", metric="jobs", thresholds=[[0, 50]], max_points=50, is_active=False
    )
    return items


def test_the_admission_review_scores_the_project_by_the_parks_scorecard(
    new_project, investment, scorecard, as_persona
):
    # 80,000 万元 on 200 亩 = 400 万元/亩 (17 of 17); tax 3,000 / 200 = 15 万元/亩 (5 of 10);
    # 80,000 万元 planned (8 of 8); the reviewers give 12.5 of 15: 42.5 of 50. The inactive item
    # does not count.
    project = new_project(land_mu=Decimal("200"), expected_tax=Decimal("3000"))
    client = as_persona("owner")
    url = reverse("investment:admission_review", args=[project.code])
    form = client.get(url)
    assert form.status_code == 200
    assert form.context["preview"]["total"] == Decimal("30")
    assert '<th class="num">30 / 50</th>' in form.content.decode()

    response = post(
        client,
        url,
        {f"judged_{scorecard['team'].pk}": "12.5", "decision": "approved", "opinion": "符合园区产业定位"},
    )
    assert response.redirect_chain[-1][0] == project.get_absolute_url() + "#admission"
    assert shown_messages(response) == ["准入评审已保存。"]
    review = AdmissionReview.objects.get(project=project)
    assert (review.total, review.max_total, review.vetoed, review.decision, review.opinion) == (
        Decimal("42.5"),
        Decimal("50"),
        False,
        "approved",
        "符合园区产业定位",
    )
    assert review.decided_by == investment.users["owner"]
    assert [(line["name"], line.get("value"), line.get("points")) for line in review.breakdown] == [
        ("投资强度", "400.00", "17"),
        ("亩均税收", "15.00", "5"),
        ("投资规模", "80000.00", "8"),
        ("团队与技术", None, "12.5"),
        ("属于淘汰类产业", None, None),
    ]
    event = project.events.get(kind="admission")
    assert (event.actor, event.data) == (
        investment.users["owner"],
        {"total": "42.5", "max_total": "50", "decision": "approved", "vetoed": False},
    )
    html = unescape(response.content.decode())
    assert re.search(r"<strong>通过</strong> · 42\.5 / 50 分", section(html, "admission"))
    assert in_timeline(html, "通过", "42.5 / 50")


def test_a_veto_item_rejects_the_project_whatever_its_score(new_project, investment, scorecard, as_persona):
    config = InvestmentSettings.current()
    config.require_admission = True
    config.save()
    project = new_project(land_mu=Decimal("200"), expected_tax=Decimal("3000"))
    client = as_persona("owner")
    url = reverse("investment:admission_review", args=[project.code])
    vetoed = {f"judged_{scorecard['team'].pk}": "15", f"veto_{scorecard['veto'].pk}": "on"}
    for decision in ("approved", "conditional"):
        response = client.post(url, {**vetoed, "decision": decision})
        assert response.status_code == 400
        assert "请选择“不通过”。" in unescape(response.content.decode())
    assert not AdmissionReview.objects.exists()
    assert not project.events.filter(kind="admission").exists()

    post(client, url, {**vetoed, "decision": "rejected", "opinion": "属于淘汰类"})
    review = AdmissionReview.objects.get()
    assert (review.total, review.vetoed, review.decision) == (Decimal("45"), True, "rejected")
    assert review.breakdown[-1] == {
        "item": scorecard["veto"].pk,
        "name": "属于淘汰类产业",
        "kind": "veto",
        "vetoed": True,
    }
    assert project.events.get(kind="admission").data["vetoed"] is True
    admission = section(page(client, project.get_absolute_url()), "admission")
    assert "<strong>不通过</strong> · 45 / 50 分" in admission and "触发否决项" in admission
    # A rejected review does not admit the project to signing.
    with pytest.raises(ActionError) as exc:
        project_actions.move_stage(
            actor=project.owner,
            project=project,
            to="signed",
            facts={
                "agreement_type": "framework",
                "signed_on": days_ago(1),
                "contracted_investment": Decimal("1"),
            },
        )
    assert exc.value.code == "admission_required"


def test_only_those_who_change_the_project_review_it(project, scorecard, as_persona):
    url = reverse("investment:admission_review", args=[project.code])
    assert (
        as_persona("leader")
        .post(url, {"decision": "approved", f"judged_{scorecard['team'].pk}": "1"})
        .status_code
        == 403
    )
    assert as_persona("other_team").get(url).status_code == 404
    assert not AdmissionReview.objects.exists()


# 7. Supervision (督办) -------------------------------------------------------------------------


def test_a_leader_raises_supervision_and_the_owner_and_team_lead_see_it(project, investment, as_persona):
    response = post(
        as_persona("leader"),
        reverse("investment:project_supervise", args=[project.code]),
        {"note": "两周内解决用地指标"},
    )
    assert shown_messages(response) == ["已督办，项目负责人和团队负责人会在首页看到。"]
    supervised = Project.objects.get(pk=project.pk)
    assert (supervised.supervised_by, supervised.supervision_note) == (
        investment.users["leader"],
        "两周内解决用地指标",
    )
    assert supervised.supervised_at is not None
    event = project.events.get(kind="supervision")
    assert (event.actor, event.data) == (
        investment.users["leader"],
        {"raised": True, "note": "两周内解决用地指标"},
    )
    told = set(Notification.objects.filter(kind="supervision").values_list("recipient__username", flat=True))
    assert told == {"owner", "teamlead"}
    html = unescape(response.content.decode())
    banner_on_project = html[html.index('<div class="alert alert-warning" role="status">') :]
    banner_on_project = banner_on_project[: banner_on_project.index("</div>")]
    assert "王局长" in banner_on_project and "两周内解决用地指标" in banner_on_project
    assert "解除督办" in banner_on_project  # the leader may lift it from there
    assert in_timeline(html, "督办：两周内解决用地指标")

    banner = f"{project.name}</strong></a> · 督办：两周内解决用地指标（王局长）"
    for persona in ("owner", "teamlead", "leader"):
        assert banner in page(as_persona(persona), "/"), persona
    assert banner not in page(as_persona("other_team"), "/")
    assert banner not in page(as_persona("colleague"), "/")
    screen = page(as_persona("teamlead"), reverse("investment:supervision"))
    assert f">{project.name}</a> · 张专员" in screen and "：两周内解决用地指标" in screen
    assert project.name not in page(as_persona("other_team"), reverse("investment:supervision"))


def test_a_promoter_cannot_raise_supervision(project, as_persona):
    url = reverse("investment:project_supervise", args=[project.code])
    assert as_persona("owner").post(url, {"note": "自己督办自己"}).status_code == 403
    assert as_persona("teamlead").post(url, {"note": "组长督办"}).status_code == 403
    assert as_persona("other_team").post(url, {"note": "越权"}).status_code == 404
    assert Project.objects.get(pk=project.pk).supervised_at is None
    assert not project.events.filter(kind="supervision").exists()
    assert "督办事项" not in page(as_persona("owner"), project.get_absolute_url())


def test_supervision_needs_a_note(project, as_persona):
    response = post(
        as_persona("leader"), reverse("investment:project_supervise", args=[project.code]), {"note": "  "}
    )
    assert shown_messages(response) == ["督办须写明督办事项。"]
    assert Project.objects.get(pk=project.pk).supervised_at is None
    assert not Notification.objects.exists()


def test_lifting_supervision_is_an_event_and_clears_the_home_pages(project, investment, as_persona):
    leader = investment.users["leader"]
    project_actions.supervise(actor=leader, project=project, note="两周内解决用地指标")
    response = post(
        as_persona("leader"),
        reverse("investment:project_supervise", args=[project.code]),
        {"lift": "1", "note": "用地指标已落实"},
    )
    assert shown_messages(response) == ["已解除督办。"]
    lifted = Project.objects.get(pk=project.pk)
    assert (lifted.supervised_at, lifted.supervised_by, lifted.supervision_note) == (None, None, "")
    events = list(
        project.events.filter(kind="supervision").order_by("at", "pk").values_list("data", flat=True)
    )
    assert events == [
        {"raised": True, "note": "两周内解决用地指标"},
        {"raised": False, "note": "用地指标已落实"},
    ]
    assert in_timeline(unescape(response.content.decode()), "解除督办：用地指标已落实")
    assert "两周内解决用地指标（王局长）" not in page(as_persona("owner"), "/")
    assert list(as_persona("teamlead").get(reverse("investment:supervision")).context["supervised"]) == []


# 8. The project one-code -----------------------------------------------------------------------


def qr_path(svg: bytes) -> str:
    """The modules of a segno SVG (its path data), whatever the size and colour."""
    match = re.search(rb'<path[^>]* d="([^"]+)"', svg)
    assert match, svg[:200]
    return match.group(1).decode()


def test_staff_who_see_the_project_download_its_code_as_png_and_svg(project, new_project, as_persona):
    onecode = "http://testserver" + reverse("project_onecode", args=[project.qr_token])
    expected = qr_path(segno.make(onecode, error="m").svg_inline(border=2).encode())
    another = new_project(name="另一个项目")
    for persona in ("owner", "teamlead", "leader", "admin"):
        client = as_persona(persona)
        png = client.get(reverse("investment:project_qr", args=[project.code, "png"]))
        assert png.status_code == 200, persona
        assert (png["Content-Type"], png.content[:8]) == ("image/png", b"\x89PNG\r\n\x1a\n")
        assert png["Content-Disposition"] == f'inline; filename="{project.code}.png"'
        svg = client.get(reverse("investment:project_qr", args=[project.code, "svg"]))
        assert (svg.status_code, svg["Content-Type"]) == (200, "image/svg+xml")
        assert b"<svg" in svg.content
        assert svg["Content-Disposition"] == f'inline; filename="{project.code}.svg"'
        # The code holds the project's one-code address, and no other project's.
        assert qr_path(svg.content) == expected
        assert (
            qr_path(client.get(reverse("investment:project_qr", args=[another.code, "svg"])).content)
            != expected
        )


def test_the_code_opens_the_project_page_for_staff_who_may_see_it(project, as_persona):
    url = reverse("project_onecode", args=[project.qr_token])
    for persona in ("owner", "teamlead", "leader"):
        response = as_persona(persona).get(url, follow=True)
        assert response.redirect_chain == [(project.get_absolute_url(), 302)], persona
        assert f"<h1>{project.name}</h1>" in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "image_status"),
    [
        ("anonymous", 302),  # to the login page
        ("other_team", 404),
        ("colleague", 404),
        ("service", 404),
        ("enterprise", 403),
        ("investor", 403),
    ],
)
def test_anyone_else_learns_nothing_about_the_project_from_its_code(
    project, investment, as_persona, persona, image_status
):
    client = as_persona(persona)
    secrets = (project.name, project.code, investment.prospect.name, "张专员")
    scanned = client.get(reverse("project_onecode", args=[project.qr_token]))
    assert scanned.status_code == 404
    for secret in secrets:
        assert secret not in scanned.content.decode()
    # Nor from the code image's address, which carries the project code they already have.
    image = client.get(reverse("investment:project_qr", args=[project.code, "svg"]))
    assert image.status_code == image_status
    assert b"<svg" not in image.content
    for secret in (project.name, investment.prospect.name, "张专员"):
        assert secret not in image.content.decode()


def test_a_code_that_belongs_to_no_project_opens_nothing(project, as_persona):
    assert as_persona("admin").get(reverse("project_onecode", args=[uuid.uuid4()])).status_code == 404


def test_a_department_reports_on_its_problem_but_cannot_rewrite_it_or_move_its_deadline(
    project, investment, as_persona
):
    problem = dispatch_problem(project, investment.users["owner"], investment.users["service"].department)
    asked = (problem.description, problem.deadline, problem.department_id)
    other = DepartmentFactory(code="tax", name="税务局")
    response = post(
        as_persona("service"),
        reverse("investment:problem_edit", args=[problem.pk]),
        {
            "description": "没有问题",
            "department": other.pk,
            "deadline": days_ago(-300).isoformat(),
            "status": "in_progress",
            "resolution": "已约供电公司现场踏勘",
            "version": 1,
        },
    )
    assert shown_messages(response) == ["问题已更新。"]
    problem.refresh_from_db()
    assert (problem.description, problem.deadline, problem.department_id) == asked
    assert (problem.status, problem.resolution) == ("in_progress", "已约供电公司现场踏勘")

    # The owner may still change what was asked.
    post(
        as_persona("owner"),
        reverse("investment:problem_edit", args=[problem.pk]),
        {
            "description": "电力增容（二期）",
            "department": other.pk,
            "deadline": days_ago(-30).isoformat(),
            "status": "in_progress",
            "version": problem.version,
        },
    )
    problem.refresh_from_db()
    assert (problem.description, problem.department_id) == ("电力增容（二期）", other.pk)


def test_through_the_api_a_department_moves_only_the_actual_date_of_its_milestone(project, investment):
    from yimatong.accounts.actions import create_api_token

    service = investment.users["service"]
    milestone = work.add_milestone(
        actor=investment.users["owner"],
        project=project,
        data={"name": "完成环评", "planned_on": days_ago(-20), "department": service.department},
    )
    _token, secret = create_api_token(service, name="test")
    response = client_for(None).patch(
        f"/api/v1/milestones/{milestone.pk}",
        {"name": "改名", "planned_on": days_ago(-200).isoformat(), "actual_on": days_ago(0).isoformat()},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.content
    milestone.refresh_from_db()
    assert (milestone.name, milestone.planned_on, milestone.actual_on, milestone.department) == (
        "完成环评",
        days_ago(-20),
        days_ago(0),
        service.department,
    )


def test_the_timeline_does_not_quote_the_investor_a_codename_hides(new_project, investment, as_persona):
    from tests.factories import OrganizationFactory

    project = new_project(codename="项目 K")
    project.insiders.set([investment.users["teamlead"]])
    other = OrganizationFactory(name="上海另一家生物科技有限公司", org_type="prospect")
    project_actions.update_project(
        actor=investment.users["owner"], project=project, data={"organization": other}
    )
    work.schedule_visit(
        actor=investment.users["owner"],
        project=project,
        data={
            "title": "苏州启明抗体药物有限公司 来园考察",
            "starts_at": local(2026, 12, 9, 17, 30),
            "ends_at": local(2026, 12, 9, 19, 0),
        },
    )
    url = project.get_absolute_url()
    for insider in ("owner", "teamlead"):
        lines = " ".join(timeline(page(as_persona(insider), url)))
        assert "苏州启明抗体药物有限公司" in lines and "上海另一家生物科技有限公司" in lines
    lines = " ".join(timeline(page(as_persona("leader"), url)))
    assert "苏州启明抗体药物有限公司" not in lines and "上海另一家生物科技有限公司" not in lines
    assert "项目 K 来园考察" in lines
    api = as_persona("leader").get(f"/api/v1/projects/{project.code}/events")
    assert api.status_code == 200
    assert "苏州启明抗体药物有限公司" not in api.content.decode()
    assert "上海另一家生物科技有限公司" not in api.content.decode()
