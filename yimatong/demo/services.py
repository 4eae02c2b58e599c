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
        signed = timezone.now() - dt.timedelta(days=2)
        demand = actions.sign(actor=handler, demand=demand, now=signed)
        if goal == "handling":
            continue
        demand = actions.complete(actor=handler, demand=demand, resolution="已对接办理，详见答复。")
        demand = actions.review(actor=centre, demand=demand, passed=True)
        if goal == "follow_up":
            continue
        actions.rate(
            actor=enterprise_user, demand=demand, rating=Demand.Rating.SATISFIED, comment="答复及时。"
        )
