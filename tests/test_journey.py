"""The whole investment journey, clicked through the console as the park's people do it.

An expo lead waits in the shared pool; the biologics promoter claims it, calls the investor and
turns the lead into a project; the project goes through the site visit, negotiation, the admission
review, signing, registration of the company in the park, construction and production; the bureau
head then reads the numbers, the lights and the timeline and raises a supervision order that the
promoter finds on the home page. A promoter of another team never sees the project.

Everything after the park's starting state goes through the console's URLs (and the numbers API)
with the Django test client; each step checks what was stored and what the next page shows.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Park
from yimatong.directory.models import Contact, Organization
from yimatong.investment.models import (
    Activity,
    AdmissionReview,
    CapitalArrival,
    Document,
    InvestmentSettings,
    Lead,
    LeadEvent,
    Project,
    ProjectEvent,
    ScoreItem,
    SiteVisit,
)
from yimatong.lib.identifiers import uscc_with_check_digit
from yimatong.notifications.models import Notification

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
COMPANY = "上海岚山抗体生物科技有限公司"
CONTACT_PHONE = "13983001234"
EXPO = "中国国际医药原料药博览会（CPHI China）"
PROJECT_NAME = "岚山双抗药物生产基地"
REGISTERED_USCC = uscc_with_check_digit("91500113MA60JR7K2")
REGISTERED_NAME = "岚山抗体药物（重庆）有限公司"
CONTRACT = Decimal("60000")
CAPITAL = Decimal("15000")
SUPERVISION_NOTE = "两周内协调解决二期用地指标"


# Reading pages ----------------------------------------------------------------------------------


def text(response) -> str:
    return unescape(response.content.decode())


def page(client: Client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    return text(response)


def shown_messages(response) -> list[str]:
    """The flash messages on the page a POST redirected to (``follow=True``)."""
    return [
        m.strip() for m in re.findall(r'<div class="message message-\w+">(.*?)</div>', text(response), re.S)
    ]


def section(html: str, anchor: str) -> str:
    """The card ``<section ... id="anchor">`` of a page."""
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def plain(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def timeline(html: str) -> list[str]:
    """The project timeline's entries as the page lists them (newest first), as plain text."""
    start = html.index('<ol class="timeline">')
    items = re.findall(r"<li [^>]*>(.*?)</li>", html[start : html.index("</ol>", start)], re.S)
    return [plain(item) for item in items]


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


# The journey ------------------------------------------------------------------------------------


@dataclass
class Journey:
    """The people at their browsers and what the journey has produced so far."""

    park: Park
    admin: Client
    owner: Client
    leader: Client
    outsider: Client  # the devices team's promoter
    lead: Lead | None = None
    project: Project | None = None
    judged_item: ScoreItem | None = None
    seen_by_outsider: list[str] = field(default_factory=list)

    # Helpers -------------------------------------------------------------------------------

    def fresh(self) -> Project:
        assert self.project is not None
        self.project = Project.objects.get(pk=self.project.pk)
        return self.project

    @property
    def url(self) -> str:
        assert self.project is not None
        return self.project.get_absolute_url()

    def outsider_sees_nothing(self) -> None:
        """The other team's promoter gets 404 on the project (and its lead once claimed)."""
        assert self.project is not None
        assert self.outsider.get(self.url).status_code == 404
        assert self.outsider.get(reverse("investment:lead_detail", args=[self.lead.code])).status_code == 404
        listed = self.outsider.get(reverse("investment:project_list"))
        assert listed.status_code == 200 and PROJECT_NAME not in text(listed)
        self.seen_by_outsider.append(self.fresh().stage)

    def move(self, to: str, facts: dict | None = None, *, follow: bool = True):
        return self.owner.post(
            reverse("investment:project_move", args=[self.project.code]),
            {"to": to, "expected_stage": self.fresh().stage, **(facts or {})},
            follow=follow,
        )

    def moved(self, to: str, label: str, facts: dict | None = None) -> str:
        """Move through the gate form as the promoter; answer the project page shown after it."""
        gate = page(self.owner, reverse("investment:project_move", args=[self.project.code]), to=to)
        assert f"推进到“{label}”" in gate
        before = self.fresh().stage
        response = self.move(to, facts)
        assert response.redirect_chain[-1][0] == self.url
        assert shown_messages(response) == [f"{self.project.code} 已推进到“{label}”。"]
        assert self.fresh().stage == to
        event = self.project.events.filter(kind="stage").first()
        assert (event.from_stage, event.to_stage, event.actor) == (before, to, self.park.users["owner"])
        html = text(response)
        assert f'<span class="badge stage-{to}">{label}</span>' in html
        assert '<li class="current">' + label + "</li>" in html
        return html

    def signed_total(self) -> Decimal:
        return ProjectEvent.objects.filter(project=self.project).aggregate(s=Sum("signed_amount"))["s"]

    def landed_total(self) -> Decimal:
        return ProjectEvent.objects.filter(project=self.project).aggregate(s=Sum("landed_amount"))["s"]

    # 0. The park's rules, set by the administrator ------------------------------------------------

    def park_rules(self) -> None:
        settings_url = reverse("investment:settings")
        response = self.admin.post(
            settings_url,
            {
                "lead_return_days": "15",
                # auto_assign left unticked: new leads wait in the pool to be claimed
                "yellow_after_days": "60",
                "red_after_days": "90",
                "archive_after_days": "180",
                "require_admission": "on",
            },
            follow=True,
        )
        assert shown_messages(response) == ["招商规则已保存。"]
        config = InvestmentSettings.current()
        assert (config.auto_assign, config.require_admission) == (False, True)

        create_item = reverse("investment:score_item_create")
        for item in (
            {
                "name": "投资规模",
                "kind": "measured",
                "metric": "planned_investment",
                "thresholds": "[[10000, 3], [50000, 8]]",
                "max_points": "8",
                "position": "1",
                "is_active": "on",
            },
            {
                "name": "团队与技术",
                "kind": "judged",
                "metric": "",
                "thresholds": "[]",
                "max_points": "15",
                "position": "2",
                "is_active": "on",
            },
        ):
            response = self.admin.post(create_item, item, follow=True)
            assert shown_messages(response) == [f"评审项“{item['name']}”已保存。"]
        self.judged_item = ScoreItem.objects.get(name="团队与技术", kind="judged")

    # 1. The expo lead in the pool, claimed -------------------------------------------------------

    def lead_from_the_expo(self) -> None:
        park = self.park
        response = self.admin.post(
            reverse("investment:lead_create"),
            {
                "company_name": COMPANY,
                "contact_name": "韩总",
                "contact_phone": CONTACT_PHONE,
                "chain_node": park.antibody.pk,
                "planned_investment": "60000",
                "interest": "拟建双抗药物商业化生产基地",
                "channel": "expo",
                "event": EXPO,
            },
            follow=True,
        )
        self.lead = Lead.objects.get(company_name=COMPANY)
        assert response.redirect_chain[-1][0] == self.lead.get_absolute_url()
        assert shown_messages(response) == [f"已录入线索 {self.lead.code}。"]
        assert (self.lead.status, self.lead.owner, self.lead.team) == ("pool", None, None)
        assert list(self.lead.sources.values_list("channel", "event")) == [("expo", EXPO)]

    def promoter_claims_from_the_pool(self) -> None:
        lead, owner_user = self.lead, self.park.users["owner"]
        pool = self.owner.get(reverse("investment:lead_list"), {"tab": "pool"})
        assert [found.code for found in pool.context["page"].object_list] == [lead.code]
        html = text(pool)
        assert COMPANY in html and '<span class="tag">展会</span>' in html
        assert re.search(r'公海 <span class="count">1</span>', html)
        claim_url = reverse("investment:lead_claim", args=[lead.code])
        assert f'action="{claim_url}"' in html

        response = self.owner.post(claim_url, follow=True)
        assert response.redirect_chain[-1][0] == lead.get_absolute_url()
        assert shown_messages(response) == [f"已认领线索 {lead.code}。"]
        lead.refresh_from_db()
        assert (lead.status, lead.owner, lead.team.code) == ("assigned", owner_user, "bio")
        assert LeadEvent.objects.get(lead=lead, kind="claimed").actor == owner_user
        html = text(response)
        assert "负责人：张专员" in html and f'action="{claim_url}"' not in html

        pool = self.owner.get(reverse("investment:lead_list"), {"tab": "pool"})
        assert list(pool.context["page"].object_list) == []
        assert "没有符合条件的线索。" in text(pool)
        mine = self.owner.get(reverse("investment:lead_list"), {"tab": "mine"})
        assert [found.code for found in mine.context["page"].object_list] == [lead.code]
        # Out of the pool, the lead is out of the other team's reach.
        assert self.outsider.get(lead.get_absolute_url()).status_code == 404

    # 2. A call, then the lead becomes a project -------------------------------------------------

    def promoter_calls_the_investor(self, occurred: dt.date, follow_up: dt.date) -> None:
        lead = self.lead
        response = self.owner.post(
            reverse("investment:lead_activity_create", args=[lead.code]),
            {
                "kind": "call",
                "occurred_on": occurred.isoformat(),
                "summary": "电话沟通：韩总计划下周来园考察",
                "next_follow_up_on": follow_up.isoformat(),
            },
            follow=True,
        )
        assert response.redirect_chain[-1][0] == lead.get_absolute_url()
        assert shown_messages(response) == ["已记录跟进活动。"]
        call = Activity.objects.get(lead=lead)
        assert (call.kind, call.occurred_on, call.next_follow_up_on, call.follow_up_done) == (
            "call",
            occurred,
            follow_up,
            False,
        )
        assert call.created_by == self.park.users["owner"] and call.project is None
        assert LeadEvent.objects.filter(lead=lead, kind="note", data__activity=call.pk).exists()
        html = text(response)
        assert '<span class="tag">电话</span> <strong>电话沟通：韩总计划下周来园考察</strong>' in html
        assert f"下次跟进：{follow_up:%Y-%m-%d}" in html

    def promoter_qualifies_the_lead(self) -> None:
        lead, park = self.lead, self.park
        qualify_url = reverse("investment:lead_qualify", args=[lead.code])
        form = self.owner.get(qualify_url)
        assert form.status_code == 200
        assert form.context["form"].initial["name"] == COMPANY
        response = self.owner.post(
            qualify_url,
            {
                "name": PROJECT_NAME,
                "chain_node": park.antibody.pk,
                "planned_investment": "60000",
                "stage": "contact",
                "description": "双抗药物商业化生产，分两期建设",
            },
            follow=True,
        )
        self.project = Project.objects.get(lead=lead)
        project = self.project
        assert response.redirect_chain[-1][0] == project.get_absolute_url()
        assert shown_messages(response) == [f"已转为项目 {project.code}。"]
        assert (project.name, project.stage, project.owner, project.team.code) == (
            PROJECT_NAME,
            "contact",
            park.users["owner"],
            "bio",
        )
        assert (project.chain_node, project.planned_investment) == (park.antibody, CONTRACT)
        # The lead's source channel travels to the project, and the investor enters the directory.
        assert project.source_channel == "expo"
        investor = project.organization
        assert (investor.name, investor.org_type, investor.owner) == (
            COMPANY,
            "prospect",
            park.users["owner"],
        )
        assert project.contact == Contact.objects.get(organization=investor, mobile=CONTACT_PHONE)
        lead.refresh_from_db()
        assert lead.status == "qualified"

        html = text(response)
        assert re.search(rf"<dt>来源渠道</dt><dd>展会 · <a [^>]*>{lead.code}</a></dd>", html)
        assert timeline(html) == [
            f"张专员 创建 {_stamp(project.events.get())} 创建于“接洽” · 来自线索 {lead.code}"
        ]
        lead_page = page(self.owner, lead.get_absolute_url())
        assert (
            f'该线索已转为项目 <a href="{project.get_absolute_url()}">{project.code} {PROJECT_NAME}</a>。'
            in lead_page
        )
        self.outsider_sees_nothing()

    # 3. Site visit, negotiation, the business plan ----------------------------------------------

    def site_visit(self) -> None:
        owner_user, colleague = self.park.users["owner"], self.park.users["colleague"]
        today = timezone.localdate()
        response = self.owner.post(
            reverse("investment:visit_create", args=[self.project.code]),
            {
                "title": "岚山抗体来园考察",
                "starts_at": f"{today:%Y-%m-%d}T09:30",
                "ends_at": f"{today:%Y-%m-%d}T11:30",
                "location": "国际生物城展示中心",
                "visitors": "韩总等",
                "visitor_count": "4",
                "hosts": [owner_user.pk, colleague.pk],
                "anchor": "#visits",
            },
            follow=True,
        )
        assert response.redirect_chain[-1][0] == self.url + "#visits"
        assert shown_messages(response) == ["已安排考察，已加入招商日历。"]
        visit = SiteVisit.objects.get(project=self.project)
        assert (visit.status, visit.requested_by, visit.visitor_count) == ("confirmed", "staff", 4)
        assert set(visit.hosts.all()) == {owner_user, colleague}
        assert timezone.localtime(visit.starts_at).strftime("%Y-%m-%d %H:%M") == f"{today:%Y-%m-%d} 09:30"
        assert "岚山抗体来园考察" in section(text(response), "visits")
        calendar = page(self.owner, reverse("investment:calendar"), year=today.year, month=today.month)
        assert "岚山抗体来园考察" in calendar

        gate = page(self.owner, reverse("investment:project_move", args=[self.project.code]), to="visit")
        assert "从“接洽”推进到“考察”" in gate and "无需补充信息，确认即可推进。" in gate
        self.moved("visit", "考察")

        response = self.owner.post(
            reverse("investment:activity_create", args=[self.project.code]),
            {
                "kind": "site_visit",
                "occurred_on": today.isoformat(),
                "summary": "韩总一行来园考察厂房与配套",
                "participants": [owner_user.pk, colleague.pk],
                "external_participants": "韩总、岚山生产副总",
                "next_follow_up_on": days_ago(-3).isoformat(),
                "anchor": "#activities",
            },
            follow=True,
        )
        assert response.redirect_chain[-1][0] == self.url + "#activities"
        assert shown_messages(response) == ["已记录跟进活动。"]
        activity = Activity.objects.get(project=self.project)
        assert (activity.kind, activity.summary, activity.created_by) == (
            "site_visit",
            "韩总一行来园考察厂房与配套",
            owner_user,
        )
        assert set(activity.participants.all()) == {owner_user, colleague}
        activities = section(text(response), "activities")
        assert '<span class="tag">来园考察</span> <strong>韩总一行来园考察厂房与配套</strong>' in activities

        response = self.owner.post(
            reverse("investment:visit_status", args=[visit.pk]), {"status": "done"}, follow=True
        )
        assert shown_messages(response) == ["考察状态已更新。"]
        visit.refresh_from_db()
        assert visit.status == "done"
        assert '<span class="badge visit-done">已完成</span>' in section(text(response), "visits")
        self.outsider_sees_nothing()

    def negotiation_with_the_business_plan(self, media) -> None:
        self.moved("negotiation", "洽谈")
        response = self.owner.post(
            reverse("investment:document_create", args=[self.project.code]),
            {
                "kind": "business_plan",
                "title": "岚山双抗商业计划书",
                "visibility": "team",
                "note": "首版",
                "file": SimpleUploadedFile("岚山BP.pdf", PDF, content_type="application/pdf"),
                "anchor": "#documents",
            },
            follow=True,
        )
        assert response.redirect_chain[-1][0] == self.url + "#documents"
        assert shown_messages(response) == ["已上传文件。"]
        document = Document.objects.get(project=self.project)
        version = document.versions.get()
        assert (document.kind, document.title, document.visibility) == (
            "business_plan",
            "岚山双抗商业计划书",
            "team",
        )
        assert (version.number, version.original_name, version.size) == (1, "岚山BP.pdf", len(PDF))
        assert version.file.path.startswith(str(media))
        documents = section(text(response), "documents")
        download_url = reverse("investment:document_download", args=[self.project.code, document.code, 1])
        assert "岚山双抗商业计划书" in documents and f'href="{download_url}"' in documents
        download = self.owner.get(download_url)
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PDF
        assert self.outsider.get(download_url).status_code == 404
        self.outsider_sees_nothing()

    # 4. Signing: the gate asks for its facts and for the admission review ------------------------

    def signing_without_its_facts_is_refused(self) -> None:
        gate = page(self.owner, reverse("investment:project_move", args=[self.project.code]), to="signed")
        for label in ("协议类型", "签约日期", "合同投资（万元）"):
            assert f">{label}<" in gate
        response = self.move("signed", follow=False)
        assert response.status_code == 400
        assert set(response.context["form"].errors) == {
            "agreement_type",
            "signed_on",
            "contracted_investment",
        }
        html = text(response)
        for name in ("agreement_type", "signed_on", "contracted_investment"):
            assert f'<div class="field has-error" id="field-{name}">' in html
        assert self.fresh().stage == "negotiation"
        assert self.signed_total() == 0

    def signing_before_the_admission_review_is_refused(self) -> None:
        response = self.move("signed", self.signing_facts(), follow=False)
        assert response.status_code == 400
        assert "签约前须完成准入评审并获得“通过”或“有条件通过”。" in text(response)
        project = self.fresh()
        assert (project.stage, project.agreement_type, project.contracted_investment) == (
            "negotiation",
            "",
            None,
        )
        assert not project.events.filter(to_stage="signed").exists()
        assert self.signed_total() == 0
        assert "签约前须完成准入评审。" in section(page(self.owner, self.url), "admission")

    def admission_review(self) -> None:
        url = reverse("investment:admission_review", args=[self.project.code])
        form = self.owner.get(url)
        assert form.status_code == 200
        assert form.context["preview"]["total"] == Decimal("8")  # 60,000 万元 planned: 8 of 8
        response = self.owner.post(
            url,
            {f"judged_{self.judged_item.pk}": "12", "decision": "approved", "opinion": "符合生物药产业定位"},
            follow=True,
        )
        assert response.redirect_chain[-1][0] == self.url + "#admission"
        assert shown_messages(response) == ["准入评审已保存。"]
        review = AdmissionReview.objects.get(project=self.project)
        assert (review.total, review.max_total, review.decision, review.decided_by) == (
            Decimal("20"),
            Decimal("23"),
            "approved",
            self.park.users["owner"],
        )
        assert re.search(r"<strong>通过</strong> · 20 / 23 分", section(text(response), "admission"))

    def signing_facts(self) -> dict:
        return {
            "agreement_type": "formal",
            "signed_on": days_ago(3).isoformat(),
            "contracted_investment": str(CONTRACT),
        }

    def signing(self) -> None:
        html = self.moved("signed", "签约", self.signing_facts())
        project = self.fresh()
        assert (project.agreement_type, project.signed_on, project.contracted_investment) == (
            "formal",
            days_ago(3),
            CONTRACT,
        )
        # Counted once: the refused attempts wrote nothing, the signing counts the contract.
        assert self.signed_total() == CONTRACT
        assert list(project.events.exclude(signed_amount=0).values_list("kind", "to_stage")) == [
            ("stage", "signed")
        ]
        facts = plain(section(html, "facts"))
        assert f"协议 正式协议 · {days_ago(3):%Y-%m-%d} · 60,000 万元" in facts
        self.outsider_sees_nothing()

    # 5. Registration of the company in the park -------------------------------------------------

    def registration(self) -> None:
        gate = page(self.owner, reverse("investment:project_move", args=[self.project.code]), to="registered")
        for label in ("注册企业统一社会信用代码", "注册企业名称", "注册日期"):
            assert f">{label}<" in gate
        assert not Organization.objects.filter(uscc=REGISTERED_USCC).exists()
        html = self.moved(
            "registered",
            "注册落地",
            {
                "registered_uscc": REGISTERED_USCC,
                "registered_name": REGISTERED_NAME,
                "registered_on": days_ago(2).isoformat(),
            },
        )
        project = self.fresh()
        company = project.registered_organization
        assert (company.uscc, company.name, company.org_type) == (
            REGISTERED_USCC,
            REGISTERED_NAME,
            "resident",
        )
        assert project.registered_on == days_ago(2)
        assert project.organization.name == COMPANY  # the investor stays the investor
        assert (self.signed_total(), self.landed_total()) == (CONTRACT, CONTRACT)
        assert f"注册企业 {REGISTERED_NAME} · {days_ago(2):%Y-%m-%d}" in plain(section(html, "facts"))
        assert f'<a href="{company.get_absolute_url()}">{REGISTERED_NAME}</a>' in html
        self.outsider_sees_nothing()

    # 6. Construction, capital in place, production ----------------------------------------------

    def construction_capital_and_production(self) -> None:
        html = self.moved(
            "construction",
            "开工建设",
            {"construction_started_on": days_ago(1).isoformat(), "fixed_asset_investment": "12000"},
        )
        project = self.fresh()
        assert (project.construction_started_on, project.fixed_asset_investment) == (
            days_ago(1),
            Decimal("12000"),
        )
        assert f"开工 {days_ago(1):%Y-%m-%d} · 累计固定资产投资 12,000 万元" in plain(section(html, "facts"))

        response = self.owner.post(
            reverse("investment:capital_create", args=[self.project.code]),
            {
                "arrived_on": days_ago(1).isoformat(),
                "amount": str(CAPITAL),
                "note": "首期注资",
                "anchor": "#facts",
            },
            follow=True,
        )
        assert response.redirect_chain[-1][0] == self.url + "#facts"
        assert shown_messages(response) == ["已登记到位资金。"]
        arrival = CapitalArrival.objects.get(project=self.project)
        assert (arrival.arrived_on, arrival.amount, arrival.recorded_by) == (
            days_ago(1),
            CAPITAL,
            self.park.users["owner"],
        )
        assert "到位资金 15,000 万元 · 到位率 25.0%" in plain(section(text(response), "facts"))

        html = self.moved("production", "投产", {"production_started_on": timezone.localdate().isoformat()})
        project = self.fresh()
        assert project.production_started_on == timezone.localdate()
        assert f"投产 / 达产 {timezone.localdate():%Y-%m-%d} / —" in plain(section(html, "facts"))
        assert (self.signed_total(), self.landed_total()) == (CONTRACT, CONTRACT)
        self.outsider_sees_nothing()

    # 7. What the bureau head sees, and the supervision order -------------------------------------

    def leader_reads_the_numbers(self) -> None:
        year = timezone.localdate().year
        numbers = self.leader.get(reverse("investment:numbers"), {"year": year})
        assert numbers.status_code == 200
        rates = numbers.context["rates"]
        assert (rates["signed_projects"], rates["contracted_investment"], rates["capital_in_place"]) == (
            1,
            CONTRACT,
            CAPITAL,
        )
        assert (rates["performance_rate"], rates["construction_rate"], rates["production_rate"]) == (
            Decimal("100.00"),
            Decimal("100.00"),
            Decimal("100.00"),
        )
        assert rates["capital_rate"] == Decimal("25.00")
        html = text(numbers)
        assert re.search(r'签约项目</span><span class="stat-value">1</span>', html)
        assert re.search(r'资金到位率</span><span class="stat-value">25.00%</span>', html)
        assert re.search(r'<td>展会</td><td class="num">60,000</td><td class="num">60,000</td>', html)
        assert re.search(r'<td>张专员</td><td class="num">60,000</td><td class="num">60,000</td>', html)

        body = self.leader.get("/api/v1/investment/numbers", {"year": year}).json()
        assert body["rates"]["signed_projects"] == 1
        assert sum(Decimal(str(row["signed"])) for row in body["by_month"]) == CONTRACT
        assert sum(Decimal(str(row["landed"])) for row in body["by_month"]) == CONTRACT
        assert [(row["key"], Decimal(str(row["signed"]))) for row in body["by_source"]] == [
            ("expo", CONTRACT)
        ]
        reached = {row["stage"]: row["reached"] for row in body["funnel"]}
        assert reached == {
            "lead": 1,
            "contact": 1,
            "visit": 1,
            "negotiation": 1,
            "signed": 1,
            "registered": 1,
            "construction": 1,
            "production": 1,
            "full_capacity": 0,
        }

    def leader_sees_a_green_light(self) -> None:
        supervision = self.leader.get(reverse("investment:supervision"))
        assert supervision.status_code == 200
        grid = dict((stage.value, counts) for stage, counts in supervision.context["grid"])
        assert grid["production"] == [1, 0, 0]  # green, yellow, red
        assert sum(sum(counts) for counts in grid.values()) == 1
        html = text(supervision)
        assert f'href="{reverse("investment:project_list")}?stage=production&light=green">1</a>' in html
        assert "没有红灯或黄灯项目。" in html
        assert '<span class="light light-green"' in page(self.leader, self.url)

    def leader_reads_the_timeline(self) -> None:
        html = page(self.leader, self.url)
        entries = list(reversed(timeline(html)))  # oldest first
        lead_code = self.lead.code
        expected = [
            ("创建", f"创建于“接洽” · 来自线索 {lead_code}"),
            ("考察预约", "岚山抗体来园考察", "已确认"),
            ("阶段变更", "接洽 → 考察"),
            ("跟进活动", "韩总一行来园考察厂房与配套", f"下次跟进 {days_ago(-3).isoformat()}"),
            ("考察预约", "岚山抗体来园考察", "已完成"),
            ("阶段变更", "考察 → 洽谈"),
            ("文件", "岚山双抗商业计划书 v1 · 岚山BP.pdf"),
            ("准入评审", "通过 · 20 / 23"),
            ("阶段变更", "洽谈 → 签约 · 计入签约 60,000 万元"),
            ("阶段变更", "签约 → 注册落地 · 计入落地 60,000 万元"),
            ("阶段变更", "注册落地 → 开工建设"),
            (
                "资金到位",
                re.compile(r"到位 15,?000 万元"),  # (the event quotes the amount without grouping)
                f"万元 · {days_ago(1).isoformat()} · 首期注资",
            ),
            ("阶段变更", "开工建设 → 投产"),
        ]
        assert len(entries) == len(expected), entries
        for entry, (kind, *parts) in zip(entries, expected, strict=True):
            assert entry.startswith("张专员 " + kind + " "), entry
            for part in parts:
                found = part.search(entry) if isinstance(part, re.Pattern) else part in entry
                assert found, (part, entry)
        stage_moves = [
            (e.from_stage, e.to_stage) for e in self.project.events.filter(kind="stage").order_by("at", "pk")
        ]
        assert stage_moves == [
            ("contact", "visit"),
            ("visit", "negotiation"),
            ("negotiation", "signed"),
            ("signed", "registered"),
            ("registered", "construction"),
            ("construction", "production"),
        ]

    def leader_raises_a_supervision_order(self) -> None:
        response = self.leader.post(
            reverse("investment:project_supervise", args=[self.project.code]),
            {"note": SUPERVISION_NOTE},
            follow=True,
        )
        assert response.redirect_chain[-1][0] == self.url
        assert shown_messages(response) == ["已督办，项目负责人和团队负责人会在首页看到。"]
        project = self.fresh()
        assert (project.supervised_by, project.supervision_note) == (
            self.park.users["leader"],
            SUPERVISION_NOTE,
        )
        assert project.supervised_at is not None
        html = text(response)
        assert f"督办 · 王局长 · {timezone.localdate():%Y-%m-%d}：{SUPERVISION_NOTE}" in plain(html)
        newest = timeline(html)[0]
        assert newest.startswith("王局长 督办 ") and newest.endswith(f"督办：{SUPERVISION_NOTE}")
        told = Notification.objects.filter(kind="supervision").values_list("recipient__username", flat=True)
        assert set(told) == {"owner", "teamlead"}

        supervision = page(self.leader, reverse("investment:supervision"))
        assert f"{PROJECT_NAME}</a> · 张专员" in supervision and SUPERVISION_NOTE in supervision

    def promoter_finds_the_order_at_home(self) -> None:
        home = self.owner.get(reverse("home"))
        assert home.status_code == 200
        assert [p.pk for p in home.context["investment"]["supervised"]] == [self.project.pk]
        html = text(home)
        assert re.search(
            rf'<div class="alert alert-warning small"><a href="{re.escape(self.url)}"><strong>{PROJECT_NAME}</strong></a>'
            rf" · 督办：{SUPERVISION_NOTE}（王局长）</div>",
            html,
        )
        # The other team's promoter is told nothing, on the home page or anywhere else.
        assert PROJECT_NAME not in text(self.outsider.get(reverse("home")))
        self.outsider_sees_nothing()


def _stamp(event: ProjectEvent) -> str:
    return timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def journey(investment, as_persona, settings, tmp_path) -> Journey:
    settings.MEDIA_ROOT = tmp_path
    return Journey(
        park=investment,
        admin=as_persona("admin"),
        owner=as_persona("owner"),
        leader=as_persona("leader"),
        outsider=as_persona("other_team"),
    )


def test_an_expo_lead_travels_from_the_pool_to_production_and_the_bureau_head_supervises_it(
    journey, tmp_path
):
    j = journey
    j.park_rules()

    # 1. The expo lead waits in the pool; the biologics promoter claims it.
    j.lead_from_the_expo()
    j.promoter_claims_from_the_pool()

    # 2. A call with a follow-up date, then the lead becomes a project that keeps its channel.
    j.promoter_calls_the_investor(occurred=timezone.localdate(), follow_up=days_ago(-7))
    j.promoter_qualifies_the_lead()

    # 3. Site visit, 考察, the visit recorded, 洽谈 with the business plan.
    j.site_visit()
    j.negotiation_with_the_business_plan(tmp_path)

    # 4. 签约: refused without its facts, refused before the admission review, then signed.
    j.signing_without_its_facts_is_refused()
    j.signing_before_the_admission_review_is_refused()
    j.admission_review()
    j.signing()

    # 5. 注册落地 as a new resident company.
    j.registration()

    # 6. 开工建设, capital in place, 投产.
    j.construction_capital_and_production()

    # 7. The bureau head's view, and the supervision order on the promoter's home page.
    j.leader_reads_the_numbers()
    j.leader_sees_a_green_light()
    j.leader_reads_the_timeline()
    j.leader_raises_a_supervision_order()
    j.promoter_finds_the_order_at_home()

    # 8. The other team's promoter got 404 at every step.
    assert j.seen_by_outsider == [
        "contact",
        "visit",
        "negotiation",
        "signed",
        "registered",
        "production",
        "production",
    ]


def test_a_follow_up_promised_on_the_lead_is_done_once_the_project_it_became_is_followed_up(journey):
    j = journey
    j.park_rules()
    j.lead_from_the_expo()
    j.promoter_claims_from_the_pool()
    # The expo call, logged late: the promised follow-up is already due.
    j.promoter_calls_the_investor(occurred=days_ago(10), follow_up=days_ago(3))
    home = j.owner.get(reverse("home"))
    assert [a.summary for a in home.context["investment"]["follow_ups"]] == ["电话沟通：韩总计划下周来园考察"]
    assert f"应于 {days_ago(3):%Y-%m-%d} 跟进 · 电话沟通：韩总计划下周来园考察" in plain(text(home))

    # The promoter follows up: the lead becomes a project and the investor visits the park.
    j.promoter_qualifies_the_lead()
    j.site_visit()
    lead_page = page(j.owner, j.lead.get_absolute_url())
    assert reverse("investment:lead_activity_create", args=[j.lead.code]) not in lead_page

    home = j.owner.get(reverse("home"))
    assert list(home.context["investment"]["follow_ups"]) == []
    assert "没有逾期的跟进。" in text(home)
