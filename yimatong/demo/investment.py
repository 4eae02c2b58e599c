"""The demo park's investment loop: the scorecard, leads in the pool and with promoters, and
projects at every stage (the 2022 report's signings, MAH transfers and projects under
construction among them), with their history at dates relative to today so the lights,
the calendar and the numbers look alive whenever the demo is loaded.

Projects and leads are found by name: loading twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from yimatong.accounts.models import Department, User
from yimatong.directory.models import ChainNode, Organization
from yimatong.investment.actions import leads as lead_actions
from yimatong.investment.actions import projects as project_actions
from yimatong.investment.actions import work
from yimatong.investment.models import InvestmentSettings, Lead, Project, ScoreItem

SCORECARD = [
    # name, kind, metric, thresholds, max points
    ("投资强度", "measured", "investment_intensity", [[150, 5], [200, 9], [300, 13], [400, 17]], 17),
    ("投资规模", "measured", "planned_investment", [[5000, 5], [10000, 9], [50000, 13], [100000, 17]], 17),
    ("亩均税收", "measured", "tax_intensity", [[10, 4], [20, 8], [30, 12], [50, 16]], 16),
    ("亩均产值", "measured", "output_intensity", [[100, 3], [300, 6], [500, 10]], 10),
    ("产业链契合", "measured", "chain_fit", [[1, 10]], 10),
    ("带动就业", "measured", "jobs", [[50, 2], [200, 5], [500, 8]], 8),
    ("技术水平", "judged", "", [], 12),
    ("团队与研发能力", "judged", "", [], 10),
    ("属于国家限制或淘汰类产业", "veto", "", [], 0),
    ("存在重大环保或安全隐患", "veto", "", [], 0),
]


@dataclass
class DemoLead:
    company: str
    channel: str
    owner: str | None = None
    chain: str | None = None
    contact: str = ""
    phone: str = ""
    event: str = ""
    interest: str = ""
    amount: str | None = None
    days_ago: int = 3


LEADS = [
    DemoLead(
        "成都天府细胞治疗有限公司",
        "wechat",
        None,
        "cgt",
        "何总",
        "13908001122",
        interest="扫码咨询 CAR-T 中试基地用地",
    ),
    DemoLead(
        "西安秦岭疫苗研究所有限公司",
        "h5_form",
        None,
        "vaccine",
        "邵博士",
        "13991002233",
        interest="H5 表单：了解疫苗孵化中心入驻政策",
        days_ago=1,
    ),
    DemoLead(
        "浙江海正泰康医疗器械有限公司",
        "expo",
        None,
        "devices",
        "程经理",
        "13757003344",
        event="2026 中国国际医疗器械博览会",
        interest="骨科植入物华西生产基地",
        days_ago=6,
    ),
    DemoLead(
        "合肥中科生命分析仪器有限公司",
        "expo",
        None,
        None,
        "万经理",
        "13905514455",
        event="2026 中国国际医疗器械博览会",
        interest="质谱仪组装线，产业链待定",
        days_ago=6,
    ),
    DemoLead(
        "山东鲁抗生化原料有限公司",
        "referral",
        None,
        "api",
        "孔总",
        "13853125566",
        interest="原料药产能转移，区招商局推荐",
        days_ago=20,
    ),
    DemoLead(
        "北京博奥抗体工程有限公司",
        "leader_visit",
        "promoter",
        "antibody",
        "许总",
        "13801236677",
        interest="区领导北京招商对接，意向建设抗体中试平台",
        amount="30000",
        days_ago=5,
    ),
    DemoLead(
        "苏州信诺偶联药物有限公司",
        "wechat",
        "promoter",
        "adc",
        "钟博士",
        "13962127788",
        interest="ADC 偶联车间需求",
        amount="15000",
        days_ago=9,
    ),
    DemoLead(
        "深圳迈瑞康复器械有限公司",
        "expo",
        "promoter2",
        "rehab",
        "叶经理",
        "13823458899",
        event="2026 中国国际医疗器械博览会",
        interest="康复辅具产业园厂房",
        days_ago=4,
    ),
    DemoLead(
        "长沙湘雅诊断试剂有限公司",
        "staff",
        "promoter2",
        "diagnostics",
        "邓经理",
        "13973119900",
        interest="体外诊断试剂分装线",
        days_ago=12,
    ),
    DemoLead(
        "上海复星生物材料有限公司",
        "referral",
        "teamlead",
        "bio3d",
        "吕总",
        "13601911234",
        interest="生物材料 3D 打印平台合作",
        days_ago=2,
    ),
]


@dataclass
class DemoProject:
    name: str
    org: str  # organization name
    owner: str
    stage: str
    chain: str | None
    planned: str | None
    started_days_ago: int
    land: str | None = None
    output: str | None = None
    tax: str | None = None
    jobs: int | None = None
    major: bool = False
    agreement: str = "formal"
    contracted: str | None = None
    registered_as: str | None = None  # name of the resident company registered
    capital: list[tuple[int, str]] = field(default_factory=list)  # (days ago, 万元)
    exit_reason: str = ""
    codename: str = ""
    insiders: tuple[str, ...] = ()
    quiet_days: int = 5  # days since the last progress (drives the light)
    description: str = ""


# How each project first reached the park (the rest were entered by staff).
SOURCE_CHANNELS = {
    "智翔金泰一期改扩建项目": "leader_visit",
    "华晟 mRNA 疫苗产业化基地": "leader_visit",
    "启明双抗商业化生产基地": "expo",
    "粤创医学影像设备西南基地": "expo",
    "源峰 ADC 偶联车间": "wechat",
    "瑞康 CAR-T 细胞制备中心": "h5_form",
    "锦程 CDMO 西南中心": "referral",
    "维港抗体与 ADC 产业基金项目": "referral",
}
# Supervision orders a leader has raised on stuck projects.
SUPERVISED = {
    "禾泰多肽原料药项目": "洽谈停滞超过三个月，请两周内约投资方高层面谈并报进展。",
    "珂蓝生物材料产业化项目": "洁净车间建设节点逾期，请协调区经信委本月内解决。",
}

PROJECTS = [
    DemoProject(
        "智睿国际生物产业创新孵化中心",
        "重庆智睿生物医药有限公司",
        "promoter",
        "signed",
        "cro-cdmo",
        "60000",
        420,
        land="80",
        output="50000",
        tax="3000",
        jobs=600,
        major=True,
        contracted="60000",
        description="2022 年签约：孵化器、中试平台与公共技术服务。",
    ),
    DemoProject(
        "智翔金泰一期改扩建项目",
        "重庆智翔金泰生物制药股份有限公司",
        "teamlead",
        "construction",
        "antibody",
        "120000",
        600,
        land="150",
        output="300000",
        tax="20000",
        jobs=800,
        major=True,
        contracted="120000",
        registered_as="重庆智翔金泰生物制药股份有限公司",
        capital=[(400, "20000"), (200, "30000"), (40, "15000")],
        description="抗体药物产能扩建，2022 年签约。",
    ),
    DemoProject(
        "九彩医药包装项目",
        "重庆九彩医药包装有限公司",
        "promoter",
        "registered",
        "packaging",
        "20000",
        500,
        land="40",
        output="30000",
        tax="1500",
        jobs=200,
        contracted="20000",
        registered_as="重庆九彩医药包装有限公司",
        capital=[(120, "5000")],
    ),
    DemoProject(
        "MAH 缓释制剂品种转移（喹硫平缓释片等 8 个品种）",
        "重庆康瑞缓释制剂有限公司",
        "promoter",
        "registered",
        "mah",
        "35000",
        330,
        land="30",
        output="62000",
        tax="4000",
        jobs=150,
        major=True,
        contracted="35000",
        registered_as="重庆康瑞缓释制剂有限公司",
        capital=[(100, "8000")],
        description="市场规模 62 亿元的 8 个成熟品种加快转移落地。",
    ),
    DemoProject(
        "合兴医药包装生产线",
        "重庆合兴包装有限公司",
        "promoter",
        "construction",
        "packaging",
        "25000",
        700,
        land="60",
        output="40000",
        tax="2000",
        jobs=300,
        major=True,
        contracted="25000",
        registered_as="重庆合兴包装有限公司",
        capital=[(500, "10000"), (300, "8000")],
        quiet_days=75,
    ),
    DemoProject(
        "珂蓝生物材料产业化项目",
        "珂蓝国际生物科技（重庆）有限公司",
        "promoter2",
        "construction",
        "bio3d",
        "18000",
        650,
        land="35",
        output="25000",
        tax="1200",
        jobs=180,
        major=True,
        contracted="18000",
        registered_as="珂蓝国际生物科技（重庆）有限公司",
        capital=[(450, "6000")],
        quiet_days=100,
    ),
    DemoProject(
        "宏冠医疗耗材扩产项目",
        "重庆宏冠医疗器械有限公司",
        "promoter2",
        "production",
        "consumables",
        "15000",
        800,
        land="30",
        output="30000",
        tax="1800",
        jobs=260,
        contracted="15000",
        registered_as="重庆宏冠医疗器械有限公司",
        capital=[(600, "9000"), (300, "6000")],
    ),
    DemoProject(
        "美莱德药物安全评价研究中心",
        "重庆美莱德生物医药有限公司",
        "teamlead",
        "full_capacity",
        "safety",
        "30000",
        1100,
        land="45",
        output="20000",
        tax="1500",
        jobs=220,
        contracted="30000",
        registered_as="重庆美莱德生物医药有限公司",
        capital=[(900, "15000"), (500, "15000")],
    ),
    DemoProject(
        "启明双抗商业化生产基地",
        "苏州启明抗体药物有限公司",
        "promoter",
        "negotiation",
        "antibody",
        "80000",
        120,
        land="200",
        output="150000",
        tax="9000",
        jobs=500,
        major=True,
    ),
    DemoProject(
        "源峰 ADC 偶联车间",
        "上海源峰生物医药科技有限公司",
        "promoter",
        "visit",
        "adc",
        "15000",
        60,
        land="30",
    ),
    DemoProject(
        "华晟 mRNA 疫苗产业化基地",
        "北京华晟疫苗研究院有限公司",
        "teamlead",
        "signed",
        "vaccine-nucleic",
        "80000",
        260,
        land="180",
        output="200000",
        tax="12000",
        jobs=700,
        major=True,
        agreement="framework",
        contracted="80000",
        quiet_days=70,
        description="框架协议已签，正式协议洽谈中。",
    ),
    DemoProject(
        "瑞康 CAR-T 细胞制备中心", "深圳瑞康细胞基因科技有限公司", "promoter", "contact", "cgt", "12000", 30
    ),
    DemoProject(
        "禾泰多肽原料药项目",
        "杭州禾泰多肽生物技术有限公司",
        "promoter",
        "negotiation",
        "peptide",
        "22000",
        200,
        land="50",
        output="40000",
        tax="2500",
        jobs=260,
        quiet_days=95,
    ),
    DemoProject(
        "锦程 CDMO 西南中心", "成都锦程生物技术服务有限公司", "teamlead", "visit", "cro-cdmo", "30000", 90
    ),
    DemoProject(
        "楚康康复辅具生产基地", "武汉楚康康复器械有限公司", "promoter2", "contact", "rehab", "8000", 20
    ),
    DemoProject(
        "粤创医学影像设备西南基地",
        "广州粤创医疗影像设备有限公司",
        "promoter2",
        "negotiation",
        "diagnostics",
        "45000",
        150,
        land="90",
        output="80000",
        tax="5000",
        jobs=400,
        major=True,
    ),
    DemoProject(
        "金陵体外诊断试剂项目",
        "南京金陵体外诊断有限公司",
        "promoter2",
        "lost",
        "diagnostics",
        "9000",
        300,
        exit_reason="投资方选择在成都落地。",
    ),
    DemoProject(
        "两江手术机器人生产线", "重庆两江医疗机器人有限公司", "promoter2", "visit", "devices", "20000", 45
    ),
    DemoProject(
        "微构生物材料 3D 打印项目",
        "苏州微构生物材料有限公司",
        "promoter2",
        "on_hold",
        "bio3d",
        "6000",
        400,
        exit_reason="投资方融资延后，暂缓推进。",
    ),
    DemoProject(
        "维港抗体与 ADC 产业基金项目",
        "维港生命科学投资有限公司",
        "teamlead",
        "negotiation",
        "antibody",
        "100000",
        100,
        major=True,
        codename="项目 H",
        insiders=("leader",),
        description="基金 + 项目落地模式，投资方要求保密。",
    ),
]

MILESTONES = {
    # project name: [(milestone, days from today (negative = past), done days ago or None, department code)]
    "智翔金泰一期改扩建项目": [
        ("完成环评批复", -300, 310, "economy"),
        ("主体结构封顶", -30, None, "land"),
        ("设备安装调试", 60, None, "economy"),
    ],
    "合兴医药包装生产线": [("取得施工许可", -400, 390, "land"), ("厂房竣工验收", -20, None, "land")],
    "珂蓝生物材料产业化项目": [
        ("洁净车间建设", -60, None, "economy"),
        ("医疗器械注册证", 120, None, "market"),
    ],
    "启明双抗商业化生产基地": [
        ("完成准入评审", -20, 25, "service-center"),
        ("签订正式协议", 30, None, "service-center"),
    ],
    "华晟 mRNA 疫苗产业化基地": [
        ("正式协议签订", -10, None, "service-center"),
        ("土地摘牌", 90, None, "land"),
    ],
    "MAH 缓释制剂品种转移（喹硫平缓释片等 8 个品种）": [
        ("药品上市许可持有人变更", -40, 45, "market"),
        ("生产线 GMP 符合性检查", 45, None, "market"),
    ],
}
PROBLEMS = {
    "智翔金泰一期改扩建项目": [("110kV 电力增容排期", "economy", -12), ("施工人员社保参保", "hr", 10)],
    "珂蓝生物材料产业化项目": [("洁净车间消防验收标准确认", "land", -3)],
    "华晟 mRNA 疫苗产业化基地": [("用地指标调剂", "land", 20)],
    "合兴医药包装生产线": [("厂区道路接驳", "land", -30)],
}


def _day(days_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


def load_investment(
    *,
    users: dict[str, User],
    orgs: dict[str, Organization],
    nodes: dict[str, ChainNode],
    departments: dict[str, Department],
    report: Any,
) -> None:
    config = InvestmentSettings.current()
    config.require_admission = True
    config.save()
    for position, (name, kind, metric, thresholds, points) in enumerate(SCORECARD):
        ScoreItem.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "metric": metric,
                "thresholds": thresholds,
                "max_points": points,
                "position": position,
            },
        )
    for spec in LEADS:
        if Lead.objects.filter(company_name=spec.company).exists():
            report.count("unchanged")
            continue
        lead_actions.create_lead(
            actor=users[spec.owner] if spec.owner else None,
            now=_day(spec.days_ago),
            data={
                "company_name": spec.company,
                "chain_node": nodes.get(spec.chain) if spec.chain else None,
                "contact_name": spec.contact,
                "contact_phone": spec.phone,
                "interest": spec.interest,
                "planned_investment": Decimal(spec.amount) if spec.amount else None,
            },
            source={"channel": spec.channel, "event": spec.event},
        )
        report.count("created")
    for spec in PROJECTS:
        if Project.objects.filter(name=spec.name).exists():
            report.count("unchanged")
            continue
        _project(spec, users, orgs, nodes, departments)
        report.count("created")


def _project(
    spec: DemoProject,
    users: dict[str, User],
    orgs: dict[str, Organization],
    nodes: dict[str, ChainNode],
    departments: dict[str, Department],
) -> Project:
    owner = users[spec.owner]
    org = orgs[spec.org]
    start = _day(spec.started_days_ago)
    project = project_actions.create_project(
        actor=owner,
        now=start,
        data={
            "name": spec.name,
            "organization": org,
            "owner": owner,
            "chain_node": nodes.get(spec.chain),
            "planned_investment": Decimal(spec.planned) if spec.planned else None,
            "land_mu": Decimal(spec.land) if spec.land else None,
            "expected_output": Decimal(spec.output) if spec.output else None,
            "expected_tax": Decimal(spec.tax) if spec.tax else None,
            "jobs": spec.jobs,
            "description": spec.description,
            "codename": spec.codename,
            "insiders": [users[u] for u in spec.insiders],
            "stage": "contact",
            "contact": org.contacts.filter(is_primary=True).first(),
            "source_channel": SOURCE_CHANNELS.get(spec.name, "staff"),
        },
    )
    ladder = ["visit", "negotiation", "signed", "registered", "construction", "production", "full_capacity"]
    target = spec.stage if spec.stage not in ("lost", "on_hold") else "negotiation"
    steps = ladder[: ladder.index(target) + 1] if target in ladder else []
    span = max(spec.started_days_ago - spec.quiet_days, 1)
    for index, stage in enumerate(steps, start=1):
        when = start + dt.timedelta(days=span * index / (len(steps) + 0.5))
        facts: dict[str, Any] = {}
        if stage == "signed":
            work.review_admission(
                actor=owner,
                project=project,
                judged={},
                vetoes={},
                decision="approved",
                opinion="符合园区产业定位，同意签约。",
            )
            facts = {
                "agreement_type": spec.agreement,
                "signed_on": timezone.localdate(when),
                "contracted_investment": Decimal(spec.contracted or spec.planned or "0"),
            }
        elif stage == "registered":
            registered = orgs[spec.registered_as]
            facts = {"registered_uscc": registered.uscc, "registered_on": timezone.localdate(when)}
        elif stage == "construction":
            facts = {
                "construction_started_on": timezone.localdate(when),
                "fixed_asset_investment": Decimal(spec.contracted or "0") * Decimal("0.4"),
            }
        elif stage == "production":
            facts = {"production_started_on": timezone.localdate(when)}
        elif stage == "full_capacity":
            facts = {"full_capacity_on": timezone.localdate(when)}
        project = project_actions.move_stage(actor=owner, project=project, to=stage, facts=facts, now=when)
        if stage == "visit":
            work.add_activity(
                actor=owner,
                project=project,
                data={
                    "kind": "site_visit",
                    "occurred_on": timezone.localdate(when),
                    "summary": "投资方来园实地考察",
                    "external_participants": "投资方高管 3 人",
                },
            )
    if spec.stage in ("lost", "on_hold"):
        project = project_actions.move_stage(
            actor=owner,
            project=project,
            to=spec.stage,
            reason=spec.exit_reason,
            now=_day(spec.quiet_days + 10),
        )
    for days_ago, amount in spec.capital:
        work.record_capital(
            actor=owner,
            project=project,
            arrived_on=timezone.localdate(_day(days_ago)),
            amount=Decimal(amount),
            note="银行进账凭证已核",
        )
    if spec.major:
        project = project_actions.set_major(actor=users["leader"], project=project, is_major=True)
    for name, planned_in, done_ago, department in MILESTONES.get(spec.name, []):
        milestone = work.add_milestone(
            actor=owner,
            project=project,
            data={
                "name": name,
                "planned_on": timezone.localdate() + dt.timedelta(days=planned_in),
                "department": departments[department],
            },
        )
        if done_ago is not None:
            work.update_milestone(
                actor=owner, milestone=milestone, data={"actual_on": timezone.localdate(_day(done_ago))}
            )
    for description, department, deadline_in in PROBLEMS.get(spec.name, []):
        work.raise_problem(
            actor=owner,
            project=project,
            data={
                "description": description,
                "department": departments[department],
                "deadline": timezone.localdate() + dt.timedelta(days=deadline_in),
            },
        )
    if spec.stage not in ("lost", "on_hold", "full_capacity"):
        follow_up = timezone.localdate() + dt.timedelta(days=-3 if spec.quiet_days > 60 else 7)
        work.add_activity(
            actor=owner,
            project=project,
            data={
                "kind": "call",
                "occurred_on": timezone.localdate(_day(spec.quiet_days)),
                "summary": "电话沟通项目进度",
                "next_follow_up_on": follow_up,
            },
        )
    if spec.stage in ("visit", "negotiation"):
        visit_day = timezone.localtime().replace(hour=9, minute=30, second=0, microsecond=0) + dt.timedelta(
            days=3 + len(spec.name) % 12
        )
        work.schedule_visit(
            actor=owner,
            project=project,
            data={
                "title": f"{spec.codename or org.name} 来园考察",
                "starts_at": visit_day,
                "ends_at": visit_day + dt.timedelta(hours=3),
                "location": "生物城展示中心",
                "visitors": "投资方考察团",
                "visitor_count": 4,
            },
        )
    if spec.name in SUPERVISED:
        project = project_actions.supervise(
            actor=users["leader"], project=project, note=SUPERVISED[spec.name]
        )
    # The light reflects the days since the last real progress.
    Project.objects.filter(pk=project.pk).update(last_progress_at=_day(spec.quiet_days))
    return project
