"""The demo park's enterprise services: demand categories with their time limits, and demands
of a resident enterprise at every step of their lifecycle, written through the actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from yimatong.accounts.models import Department, User
from yimatong.directory.models import Organization
from yimatong.services import actions
from yimatong.services.models import Demand, DemandCategory

# code, name, English, statutory days, promised days, default department
CATEGORIES = [
    ("financing", "融资", "Financing", 13, 7, "economy"),
    ("land", "用地", "Land", 13, 10, "land"),
    ("utilities", "水电气", "Water, power, gas", 5, 3, "economy"),
    ("labour", "劳动用工", "Labour and hiring", 13, 7, "hr"),
    ("construction", "项目建设", "Project construction", 13, 10, "land"),
    ("approval", "审批", "Approvals", 13, 7, "market"),
    ("policy", "政策咨询", "Policy enquiry", 3, 2, "economy"),
    ("amenities", "园区配套", "Park amenities", 13, 5, "service-center"),
    ("talent", "人才", "Talent", 13, 7, "hr"),
    ("logistics", "物流", "Logistics", 13, 7, "economy"),
    ("other", "其他", "Other", 13, 5, "service-center"),
]

ENTERPRISE = "重庆智翔金泰生物制药股份有限公司"

# title, category, description, how far it goes, department
DEMANDS = [
    (
        "新建制剂车间用地规划调整",
        "land",
        "二期制剂车间拟向东扩建约 12 亩，需调整用地规划条件，请协调规划部门。",
        "handling",
        "land",
    ),
    (
        "双回路供电增容",
        "utilities",
        "抗体原液车间扩产后用电负荷增加约 4000 kVA，申请双回路供电增容。",
        "dispatched",
        "economy",
    ),
    (
        "招聘 30 名 GMP 操作工",
        "labour",
        "三季度投产需招聘 30 名 GMP 操作工，希望对接区人社局专场招聘会。",
        "follow_up",
        "hr",
    ),
    ("研发费用加计扣除政策咨询", "policy", "2026 年研发费用加计扣除比例及申报时间？", "archived", "economy"),
    ("园区通勤班车增加班次", "amenities", "早高峰班车满员，建议增加 7:30 一班。", "submitted", ""),
]


def load_services(
    *, users: dict[str, User], orgs: dict[str, Organization], departments: dict[str, Department], report: Any
) -> None:
    categories = {}
    for position, (code, name, name_en, statutory, promised, department) in enumerate(CATEGORIES):
        category, created = DemandCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "statutory_days": statutory,
                "promised_days": promised,
                "default_department": departments.get(department),
                "position": position,
            },
        )
        categories[code] = category
        report.count("created" if created else "unchanged")
    head = users.get("landdept")
    if head is not None and departments["land"].head_id is None:
        Department.objects.filter(pk=departments["land"].pk).update(head=head)
    enterprise_user = User.objects.filter(username="enterprise").first()
    organization = orgs.get(ENTERPRISE) or Organization.objects.filter(name=ENTERPRISE).first()
    if enterprise_user is None or organization is None:
        return
    load_policies(users=users, report=report)
    load_care(users=users, report=report)
    centre = users["service"]
    for title, category, description, goal, department in DEMANDS:
        if Demand.objects.filter(organization=organization, title=title).exists():
            report.count("unchanged")
            continue
        demand = actions.file_demand(
            actor=enterprise_user,
            data={"category": categories[category], "title": title, "description": description},
        )
        report.count("created")
        if goal == "submitted":
            continue
        demand = actions.accept(actor=centre, demand=demand)
        lead = Department.objects.get(code=department)
        demand = actions.dispatch(actor=centre, demand=demand, lead=lead)
        if goal == "dispatched":
            continue
        handler = users.get("landdept") if department == "land" else None
        handler = (
            handler or User.objects.filter(role=User.Role.SERVICE, department=lead).first() or users["admin"]
        )
        demand = actions.sign(actor=handler, demand=demand)
        if goal == "handling":
            continue
        demand = actions.complete(actor=handler, demand=demand, resolution="已对接办理，详见答复。")
        demand = actions.review(actor=centre, demand=demand, passed=True)
        if goal == "follow_up":
            continue
        actions.rate(
            actor=enterprise_user, demand=demand, rating=Demand.Rating.SATISFIED, comment="答复及时。"
        )


# Enterprise profiles: (name, revenue 万元, R&D %, employees, invention, utility, design, tech SME)
PROFILES = [
    (ENTERPRISE, 62000, 14.5, 820, 46, 58, 6, False),
    ("重庆宏冠医疗器械有限公司", 4200, 3.2, 160, 3, 21, 4, True),
]

POLICIES = [
    {
        "code": "rd-post-subsidy",
        "title": "生物医药企业研发投入后补助",
        "issuer": "重庆国际生物城管委会（示例）",
        "document_number": "渝生物城发〔2026〕12号（示例）",
        "benefit": "subsidy",
        "amount": 100,
        "amount_note": "按上年研发投入增量的 10% 给予补助，最高 100 万元",
        "mode": "apply",
        "materials": "研发费用专项审计报告\n上年度财务报表\n营业执照",
        "summary": "支持园区生物药企业加大研发投入；研发投入占比按营业收入分档：5,000 万元以下 ≥ 5%，5,000 万–2 亿元 ≥ 4%，2 亿元以上 ≥ 3%。",
        "conditions": {
            "all": [
                {"fact": "chain_node", "op": "within", "value": "biologics"},
                {"fact": "rd_ratio", "op": ">=", "by": "revenue", "tiers": [[0, 5], [5000, 4], [20000, 3]]},
                {"fact": "years_registered", "op": ">=", "value": 1},
            ]
        },
    },
    {
        "code": "high-tech-award",
        "title": "高新技术企业认定奖励",
        "issuer": "重庆国际生物城管委会（示例）",
        "benefit": "subsidy",
        "amount": 20,
        "amount_note": "首次认定奖励 20 万元",
        "mode": "fast",
        "summary": "对首次认定的高新技术企业给予一次性奖励。",
        "conditions": {"fact": "certifications", "op": "has", "value": "high_tech"},
    },
    {
        "code": "growth-award-auto",
        "title": "规上工业企业稳增长奖励（免申即享）",
        "issuer": "重庆国际生物城管委会（示例）",
        "benefit": "subsidy",
        "amount": 50,
        "amount_note": "营业收入 2 亿元以上的规上企业奖励 50 万元，系统比对后直接兑付",
        "mode": "auto",
        "budget": 200,
        "summary": "免申即享：系统比对 → 推送 → 企业确认 → 兑付 → 公示。",
        "conditions": {
            "all": [
                {"fact": "is_above_scale", "op": "is", "value": True},
                {"fact": "revenue", "op": ">=", "value": 20000},
            ]
        },
    },
    {
        "code": "specialized-award",
        "title": "专精特新企业培育奖励",
        "issuer": "重庆国际生物城管委会（示例）",
        "benefit": "subsidy",
        "amount": 30,
        "mode": "apply",
        "summary": "专精特新企业，或专利加权分（发明 5、实用新型 2、外观 1）达到 80 分的科技型中小企业。",
        "conditions": {
            "any": [
                {"fact": "certifications", "op": "has", "value": "specialized"},
                {
                    "all": [
                        {"fact": "certifications", "op": "has", "value": "tech_sme"},
                        {"fact": "patent_score", "op": ">=", "value": 80},
                    ]
                },
            ]
        },
    },
]


def load_policies(*, users: dict[str, User], report: Any) -> None:
    from decimal import Decimal

    from yimatong.services import policy_actions
    from yimatong.services.models import Policy

    for name, revenue, rd, employees, invention, utility, design, tech_sme in PROFILES:
        org = Organization.objects.filter(name=name).first()
        if org is None or _has_profile(org):
            report.count("unchanged")
            continue
        policy_actions.save_profile(
            actor=users["service"],
            organization=org,
            data={
                "revenue": Decimal(revenue),
                "rd_ratio": Decimal(str(rd)),
                "employees": employees,
                "patents_invention": invention,
                "patents_utility": utility,
                "patents_design": design,
                "is_tech_sme": tech_sme,
            },
        )
        report.count("created")
    for spec in POLICIES:
        if Policy.objects.filter(code=spec["code"]).exists():
            report.count("unchanged")
            continue
        data = {**spec, "is_published": True}
        for key in ("amount", "budget"):
            if key in data:
                data[key] = Decimal(str(data[key]))
        policy = policy_actions.save_policy(actor=users["service"], data=data)
        policy_actions.match_policy(policy)
        report.count("created")


def _has_profile(org: Organization) -> bool:
    from yimatong.services.models import EnterpriseProfile

    return EnterpriseProfile.objects.filter(organization=org).exists()


# Bank products: (bank, name, min, max 万元, months, rate %, collateral, chain codes)
PRODUCTS = [
    (
        "渝南银行重庆国际生物城支行",
        "生物医药科创信用贷",
        100,
        1000,
        36,
        "3.45",
        "credit",
        ["biologics", "chemical"],
    ),
    ("渝南银行重庆国际生物城支行", "知识产权质押贷", 200, 3000, 36, "3.30", "ip_pledge", []),
    ("巴渝农村商业银行界石支行", "标准厂房按揭贷", 500, 20000, 120, "3.10", "mortgage", []),
    ("重庆科创融资担保有限公司", "医疗器械担保贷", 100, 2000, 24, "3.80", "guarantee", ["devices"]),
]


def load_care(*, users: dict[str, User], report: Any) -> None:
    from decimal import Decimal

    from yimatong.directory.models import ChainNode
    from yimatong.services import care_actions
    from yimatong.services.models import BankProduct, FinancingNeed, ServicePlan

    for bank, name, low, high, months, rate, collateral, chain in PRODUCTS:
        org = Organization.objects.filter(name=bank).first()
        if org is None or BankProduct.objects.filter(name=name).exists():
            report.count("unchanged")
            continue
        product = BankProduct.objects.create(
            bank=org,
            name=name,
            amount_min=Decimal(low),
            amount_max=Decimal(high),
            max_term_months=months,
            rate=Decimal(rate),
            collateral=collateral,
        )
        product.target_chain.set(ChainNode.objects.filter(code__in=chain))
        report.count("created")
    organization = Organization.objects.filter(name=ENTERPRISE).first()
    if organization is None:
        return
    if not ServicePlan.objects.filter(organization=organization).exists():
        plan = care_actions.create_plan(
            actor=users["admin"],
            organization=organization,
            officer=users["service"],
            goals="二期制剂车间年内投产；2027 年营业收入突破 10 亿元。",
        )
        today = timezone.localdate()
        for kind, title, owner, days in (
            ("problem", "制剂车间双回路供电增容", "区经济和信息化委员会", 20),
            ("problem", "二期用地规划条件调整", "区规划和自然资源局", 35),
            ("action", "对接人才公寓 30 套", "生物城企业服务中心", 10),
        ):
            care_actions.add_item(
                actor=users["service"],
                plan=plan,
                data={
                    "kind": kind,
                    "title": title,
                    "owner": owner,
                    "deadline": today + dt.timedelta(days=days),
                },
            )
        care_actions.record_progress(
            actor=users["service"], plan=plan, month=today, summary="完成供电方案评审，用地调整已上会。"
        )
        report.count("created")
    if not FinancingNeed.objects.filter(organization=organization).exists():
        enterprise_user = User.objects.filter(username="enterprise").first()
        care_actions.file_need(
            actor=enterprise_user,
            organization=organization,
            data={
                "amount": Decimal("800"),
                "term_months": 24,
                "purpose": "二期设备采购",
                "collateral": "ip_pledge",
            },
        )
        report.count("created")
