"""The demo park: 重庆国际生物城 with its 1+3+N chain, teams, departments, people and
about sixty organizations.

Residents named in the 2022 newspaper report on the park keep their names; everyone else is
invented. Every unified social credit code is generated with a correct organization-code
check digit (GB 11714) and a correct USCC check digit (GB 32100), derived from the name so
that loading twice gives the same codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

# Industry chain: (code, name, English name, kind, parent code) -----------------------------
CHAIN: list[tuple[str, str, str, str, str | None]] = [
    ("biologics", "生物药", "Biologics", "core", None),
    ("antibody", "抗体药物", "Antibody drugs", "core", "biologics"),
    ("vaccine", "疫苗", "Vaccines", "core", "biologics"),
    ("vaccine-protein", "重组蛋白疫苗", "Recombinant protein vaccines", "core", "vaccine"),
    ("vaccine-adenovirus", "腺病毒载体疫苗", "Adenovirus-vector vaccines", "core", "vaccine"),
    ("vaccine-nucleic", "核酸疫苗", "Nucleic-acid vaccines", "core", "vaccine"),
    ("peptide", "多肽药物", "Peptide drugs", "core", "biologics"),
    ("cgt", "细胞与基因治疗", "Cell and gene therapy", "core", "biologics"),
    ("adc", "抗体偶联药物（ADC）", "Antibody-drug conjugates (ADC)", "core", "biologics"),
    ("chemical", "化学药", "Chemical drugs", "feature", None),
    ("chemical-formulation", "化学制剂", "Formulations", "feature", "chemical"),
    ("mah", "MAH 品种转移", "MAH product transfers", "feature", "chemical"),
    ("api", "化学原料药", "Active pharmaceutical ingredients", "feature", "chemical"),
    ("tcm", "现代中药", "Modern traditional Chinese medicine", "feature", None),
    ("tcm-patent", "中成药", "Proprietary Chinese medicines", "feature", "tcm"),
    ("tcm-pieces", "中药饮片", "Decoction pieces", "feature", "tcm"),
    ("devices", "医疗器械", "Medical devices", "feature", None),
    ("rehab", "康复辅具", "Rehabilitation aids", "feature", "devices"),
    ("bio3d", "生物材料3D打印", "3D-printed biomaterials", "feature", "devices"),
    ("diagnostics", "诊断设备与试剂", "Diagnostics", "feature", "devices"),
    ("consumables", "医用耗材与卫生材料", "Medical consumables", "feature", "devices"),
    ("platforms", "公共服务平台", "Service platforms", "platform", None),
    ("cro-cdmo", "CRO/CDMO", "CRO / CDMO", "platform", "platforms"),
    ("safety", "药物安全评价", "Drug safety evaluation", "platform", "platforms"),
    ("p3", "P3 实验室", "BSL-3 laboratory", "platform", "platforms"),
    ("packaging", "医药包装", "Pharmaceutical packaging", "platform", "platforms"),
    ("cold-chain", "冷链物流", "Cold-chain logistics", "platform", "platforms"),
]

# Teams follow the chain: (code, name, chain roots) -------------------------------------------
TEAMS = [
    ("biologics", "生物药招商组", ["biologics", "platforms"]),
    ("chemical-tcm", "化学药与中药招商组", ["chemical", "tcm"]),
    ("devices", "医疗器械招商组", ["devices"]),
]

DEPARTMENTS = [
    ("service-center", "生物城企业服务中心", "023-66220001"),
    ("economy", "区经济和信息化委员会", "023-66220002"),
    ("market", "区市场监督管理局", "023-66220003"),
    ("hr", "区人力资源和社会保障局", "023-66220004"),
    ("land", "区规划和自然资源局", "023-66220005"),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    role: str
    phone: str
    team: str | None = None
    department: str | None = None
    organization: str | None = None  # name of the organization, for enterprise users
    note: str = ""


USERS = [
    DemoUser("admin", "陈立新", "admin", "13983000001", note="系统管理员：用户、字典、审计日志"),
    DemoUser("leader", "王振华", "leader", "13983000002", note="局领导：查看全部，只读"),
    DemoUser("teamlead", "李敏", "team_lead", "13983000003", team="biologics", note="生物药招商组组长"),
    DemoUser("promoter", "张伟", "promoter", "13983000004", team="biologics", note="生物药招商组专员"),
    DemoUser("promoter2", "刘洋", "promoter", "13983000005", team="devices", note="医疗器械招商组专员"),
    DemoUser("service", "赵静", "service", "13983000006", department="service-center", note="企业服务中心"),
    DemoUser("enterprise", "周凯", "enterprise", "13983000007", organization="重庆智翔金泰生物制药股份有限公司",
             note="智翔金泰企业用户"),
]
DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class DemoOrg:
    name: str
    org_type: str
    chain: str | None = None
    industry: str | None = None
    capital: str | None = None  # 万元
    registered_on: str | None = None
    size: str = ""
    above_scale: bool = False
    high_tech: bool = False
    specialized: bool = False
    district: str | None = "500113"
    owner: str | None = None
    collaborators: tuple[str, ...] = ()
    address: str = ""
    description: str = ""
    registered: bool = True  # False: a prospect not yet registered in China (no USCC)
    contacts: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (position, email domain)


_JIESHI = "重庆市巴南区界石镇"
_BIOCITY = "重庆市巴南区重庆国际生物城"

ORGANIZATIONS: list[DemoOrg] = [
    # Residents named in the report ---------------------------------------------------------
    DemoOrg("重庆智翔金泰生物制药股份有限公司", "resident", "antibody", "2761", "36667", "2015-08-12", "large",
            True, True, True, address=f"{_BIOCITY}科技大道8号",
            description="抗体药物研发与产业化，一期改扩建项目已签约；自身免疫、感染和肿瘤领域单抗及双抗。",
            contacts=(("董事长", "zxjt"), ("注册事务总监", "zxjt"))),
    DemoOrg("重庆百亚卫生用品股份有限公司", "resident", "consumables", "2770", "43000", "2001-06-18", "large",
            True, True, False, address=f"{_JIESHI}百亚路1号",
            description="卫生用品与医用护理材料，园区重点服务企业。", contacts=(("总经理", "baiya"), ("行政经理", "baiya"))),
    DemoOrg("重庆钛业有限公司", "resident", None, None, "50000", "1993-05-10", "large", True, False, False,
            address="重庆市巴南区钛业路2号", description="钛白粉生产，园区存量重点企业（尚未归入生物医药产业链）。",
            contacts=(("副总经理", "cqty"),)),
    DemoOrg("重庆合兴包装有限公司", "resident", "packaging", "2780", "8000", "2011-03-22", "medium", True, False,
            False, address=f"{_JIESHI}工业园5号", description="在建医药包装项目，推动投产投用。",
            contacts=(("项目经理", "hexing"),)),
    DemoOrg("珂蓝国际生物科技（重庆）有限公司", "resident", "bio3d", "3589", "5000", "2019-09-10", "small",
            False, True, False, address=f"{_BIOCITY}创新路16号", description="在建生物材料项目。",
            contacts=(("总经理", "kelan"),)),
    DemoOrg("重庆宏冠医疗器械有限公司", "resident", "consumables", "3584", "3000", "2018-04-02", "small", False,
            True, True, address=f"{_BIOCITY}医械园3栋", description="医用耗材与外科器械，在建项目加快投产。",
            contacts=(("董事长", "honguan"), ("生产负责人", "honguan"))),
    DemoOrg("重庆九彩医药包装有限公司", "resident", "packaging", "2780", "2000", "2021-11-15", "small",
            address=f"{_JIESHI}工业园9号", description="医药包装材料，2022 年签约项目。", contacts=(("总经理", "jiucai"),)),
    DemoOrg("重庆智睿生物医药有限公司", "resident", "cro-cdmo", "7340", "10000", "2020-07-08", "medium", False,
            True, False, address=f"{_BIOCITY}孵化大道1号",
            description="智睿国际生物产业创新孵化中心运营主体。", contacts=(("运营总监", "zhirui"),)),
    DemoOrg("重庆美莱德生物医药有限公司", "resident", "safety", "7340", "6000", "2019-12-20", "medium", False, True,
            True, address=f"{_BIOCITY}安评中心", description="药物安全评价研究中心（GLP）。",
            contacts=(("机构负责人", "mld"), ("质量保证经理", "mld"))),
    # Invented residents ------------------------------------------------------------------------
    DemoOrg("重庆渝康抗体生物科技有限公司", "resident", "antibody", "2761", "8500", "2017-05-16", "medium", True,
            True, False, address=f"{_BIOCITY}科技大道21号", contacts=(("总经理", "yukang"), ("财务总监", "yukang"))),
    DemoOrg("重庆巴渝重组蛋白疫苗有限公司", "resident", "vaccine-protein", "2762", "12000", "2016-10-09", "medium",
            True, True, True, address=f"{_BIOCITY}疫苗产业园2号", contacts=(("董事长", "byvax"),)),
    DemoOrg("重庆长嘉腺病毒载体生物技术有限公司", "resident", "vaccine-adenovirus", "2762", "6800", "2020-03-27",
            "small", False, True, False, address=f"{_BIOCITY}疫苗产业园6号", contacts=(("研发总监", "changjia"),)),
    DemoOrg("重庆核睿生物科技有限公司", "resident", "vaccine-nucleic", "2762", "5200", "2021-06-30", "small", False,
            True, False, address=f"{_BIOCITY}疫苗产业园8号", description="mRNA 疫苗平台。",
            contacts=(("首席执行官", "herui"),)),
    DemoOrg("重庆肽达生物制药有限公司", "resident", "peptide", "2761", "4600", "2018-08-08", "small", False, True,
            True, address=f"{_BIOCITY}科技大道33号", contacts=(("总经理", "taida"),)),
    DemoOrg("重庆赛维细胞治疗技术有限公司", "resident", "cgt", "2761", "3000", "2019-11-11", "small", False, True,
            False, address=f"{_BIOCITY}细胞谷1号", contacts=(("总经理", "saiwei"),)),
    DemoOrg("重庆联拓偶联药物有限公司", "resident", "adc", "2761", "9000", "2021-02-03", "medium", False, True,
            False, address=f"{_BIOCITY}科技大道45号", contacts=(("副总经理", "liantuo"),)),
    DemoOrg("重庆渝南制药有限公司", "resident", "chemical-formulation", "2720", "15000", "2008-04-21", "medium",
            True, True, False, address=f"{_JIESHI}制药路7号", contacts=(("总经理", "yunan"), ("注册经理", "yunan"))),
    DemoOrg("重庆康瑞缓释制剂有限公司", "resident", "mah", "2720", "6000", "2022-03-15", "small",
            address=f"{_JIESHI}制药路11号", description="承接喹硫平缓释片、二甲双胍缓释片等 MAH 品种转移。",
            contacts=(("质量受权人", "kangrui"),)),
    DemoOrg("重庆界石化学原料药有限公司", "resident", "api", "2710", "7500", "2012-09-05", "medium", True,
            address=f"{_JIESHI}化工路3号", contacts=(("厂长", "jieshiapi"),)),
    DemoOrg("重庆巴山中药饮片有限公司", "resident", "tcm-pieces", "2730", "2000", "2010-12-01", "small", True,
            address=f"{_JIESHI}中药园1号", contacts=(("总经理", "bashan"),)),
    DemoOrg("重庆本草堂中成药有限公司", "resident", "tcm-patent", "2740", "8000", "2005-07-19", "medium", True,
            True, False, address=f"{_JIESHI}中药园6号", contacts=(("董事长", "bencaotang"),)),
    DemoOrg("重庆康复之家辅具科技有限公司", "resident", "rehab", "3586", "1500", "2020-05-20", "small", False, True,
            False, address=f"{_BIOCITY}康复辅具产业园1号", contacts=(("总经理", "kfzj"),)),
    DemoOrg("重庆骨创生物材料3D打印科技有限公司", "resident", "bio3d", "3589", "3200", "2019-06-06", "small",
            False, True, True, address=f"{_BIOCITY}创新路20号", contacts=(("技术总监", "guchuang"),)),
    DemoOrg("重庆明析医疗诊断设备有限公司", "resident", "diagnostics", "3581", "4200", "2017-01-12", "small",
            True, True, False, address=f"{_BIOCITY}医械园7栋", contacts=(("总经理", "mingxi"),)),
    DemoOrg("重庆安瑞医用敷料有限公司", "resident", "consumables", "2770", "2500", "2015-03-03", "small", True,
            address=f"{_JIESHI}工业园12号", contacts=(("总经理", "anrui"),)),
    DemoOrg("重庆药谷生物技术服务有限公司", "resident", "cro-cdmo", "7340", "12000", "2018-10-10", "medium",
            False, True, False, address=f"{_BIOCITY}孵化大道9号", description="药学（CMC）研发与中试 CDMO 平台。",
            contacts=(("商务总监", "yaogu"),)),
    DemoOrg("重庆生物城P3实验室运营有限公司", "resident", "p3", "7340", "5000", "2021-08-18", "small",
            address=f"{_BIOCITY}公共平台区1号", contacts=(("实验室主任", "p3lab"),)),
    DemoOrg("重庆渝冷医药物流有限公司", "resident", "cold-chain", None, "3000", "2016-06-16", "small",
            address=f"{_JIESHI}物流园2号", contacts=(("运营经理", "yuleng"),)),
    DemoOrg("重庆爱睿眼视光科技有限公司", "resident", "devices", "3587", "1800", "2019-04-09", "small",
            address=f"{_BIOCITY}医械园9栋", contacts=(("总经理", "airui"),)),
    DemoOrg("重庆慧康口腔器械有限公司", "resident", "devices", "3582", "2200", "2017-09-09", "small", True,
            address=f"{_BIOCITY}医械园11栋", contacts=(("总经理", "huikang"),)),
    # Investor prospects (confidential to the promoters who court them) -------------------------
    DemoOrg("苏州启明抗体药物有限公司", "prospect", "antibody", "2761", "20000", "2014-05-06", "medium",
            district="320500", owner="promoter", address="江苏省苏州市工业园区星湖街218号",
            description="双抗平台，拟在西部布局商业化生产基地，已完成首次接洽。",
            contacts=(("投资总监", "qiming"), ("副总裁", "qiming"))),
    DemoOrg("上海源峰生物医药科技有限公司", "prospect", "adc", "2761", "15000", "2016-09-01", "medium",
            district="310000", owner="promoter", collaborators=("teamlead",), address="上海市浦东新区张江路88号",
            description="ADC 药物开发，寻找偶联车间与 GMP 产能。", contacts=(("创始人", "yuanfeng"),)),
    DemoOrg("北京华晟疫苗研究院有限公司", "prospect", "vaccine-nucleic", "2762", "30000", "2012-11-20", "large",
            district="110000", owner="teamlead", address="北京市大兴区生物医药基地",
            description="核酸疫苗产业化项目，计划投资约 8 亿元。", contacts=(("总裁", "huasheng"),)),
    DemoOrg("深圳瑞康细胞基因科技有限公司", "prospect", "cgt", "2761", "8000", "2018-02-14", "small",
            district="440300", owner="promoter", address="广东省深圳市南山区科技园",
            contacts=(("董事长", "ruikang"),)),
    DemoOrg("杭州禾泰多肽生物技术有限公司", "prospect", "peptide", "2761", "6000", "2017-07-07", "small",
            district="330100", owner="promoter", address="浙江省杭州市钱塘区医药港",
            contacts=(("总经理", "hetai"),)),
    DemoOrg("成都锦程生物技术服务有限公司", "prospect", "cro-cdmo", "7340", "5000", "2019-03-15", "small",
            district="510100", owner="teamlead", address="四川省成都市高新区天府国际生物城",
            contacts=(("商务副总裁", "jincheng"),)),
    DemoOrg("武汉楚康康复器械有限公司", "prospect", "rehab", "3586", "3000", "2016-12-12", "small",
            district="420100", owner="promoter2", address="湖北省武汉市东湖高新区光谷生物城",
            contacts=(("总经理", "chukang"),)),
    DemoOrg("广州粤创医疗影像设备有限公司", "prospect", "diagnostics", "3581", "12000", "2013-08-08", "medium",
            district="440100", owner="promoter2", address="广东省广州市黄埔区科学城",
            contacts=(("战略投资部总监", "yuechuang"),)),
    DemoOrg("南京金陵体外诊断有限公司", "prospect", "diagnostics", "3581", "5000", "2015-10-10", "small",
            district="320100", owner="promoter2", address="江苏省南京市江北新区生物医药谷",
            contacts=(("董事长", "jinling"),)),
    DemoOrg("重庆两江医疗机器人有限公司", "prospect", "devices", "3585", "4000", "2020-10-20", "small",
            district="500112", owner="promoter2", address="重庆市渝北区两江新区",
            description="手术与康复机器人，考虑在生物城设立生产基地。", contacts=(("总经理", "liangjiang"),)),
    DemoOrg("苏州微构生物材料有限公司", "prospect", "bio3d", "3589", "2600", "2019-05-05", "small",
            district="320500", owner="promoter2", address="江苏省苏州市工业园区", contacts=(("创始人", "weigou"),)),
    DemoOrg("天津渤海化学制药有限公司", "prospect", "chemical-formulation", "2720", "18000", "2009-09-09",
            "medium", district="120000", address="天津市滨海新区",
            description="拟转移 3 个缓释制剂品种（MAH），尚未分配招商专员。", contacts=(("副总经理", "bohai"),)),
    DemoOrg("上海浦江中药现代化研究有限公司", "prospect", "tcm", "2740", "5000", "2011-04-04", "small",
            district="310000", address="上海市闵行区", contacts=(("总经理", "pujiang"),)),
    DemoOrg("维港生命科学投资有限公司", "prospect", "antibody", None, None, None, "", district="810000",
            owner="teamlead", registered=False, address="香港中环金融街8号",
            description="香港生命科学基金，关注抗体与 ADC 项目落地，尚未在内地注册主体。",
            contacts=(("合伙人", "harbourls"),)),
    # Banks and investors ------------------------------------------------------------------------
    DemoOrg("渝南银行重庆国际生物城支行", "bank", None, None, None, "2018-01-08", "",
            address=f"{_BIOCITY}金融服务中心1楼", description="科技型企业知识产权质押贷款。",
            contacts=(("客户经理", "yunanbank"),)),
    DemoOrg("巴渝农村商业银行界石支行", "bank", None, None, None, "2008-06-01", "", address=f"{_JIESHI}正街18号",
            contacts=(("行长", "byrcb"),)),
    DemoOrg("长江生物医药产业投资基金管理有限公司", "bank", None, None, "10000", "2019-07-01", "small",
            address=f"{_BIOCITY}金融服务中心5楼", contacts=(("投资经理", "cjfund"),)),
    DemoOrg("重庆科创融资担保有限公司", "bank", None, None, "50000", "2014-03-18", "medium",
            district="500112", address="重庆市渝北区金开大道", contacts=(("业务部经理", "kcdb"),)),
    DemoOrg("重庆西部科技小额贷款有限公司", "bank", None, None, "30000", "2013-11-11", "small",
            district="500103", address="重庆市渝中区解放碑", contacts=(("风控经理", "xbkd"),)),
    # Research institutes and platforms ---------------------------------------------------------
    DemoOrg("国家级抗体药物孵化中心", "research", "antibody", "7340", None, "2020-12-01", "",
            address=f"{_BIOCITY}孵化大道3号", description="已建成投用。", contacts=(("主任", "abincub"),)),
    DemoOrg("国家级疫苗孵化中心", "research", "vaccine", "7340", None, "2022-01-01", "",
            address=f"{_BIOCITY}疫苗产业园1号", description="加快建设中。", contacts=(("筹建负责人", "vaxincub"),)),
    DemoOrg("重庆国际生物城创新中心", "research", "platforms", "7340", None, "2021-05-01", "",
            address=f"{_BIOCITY}创新中心", contacts=(("主任", "biocityic"),)),
    DemoOrg("重庆国际生物医药知识产权运营中心", "research", "platforms", None, None, "2022-05-01", "",
            address=f"{_BIOCITY}创新中心8楼", description="市科协、市知识产权局、中国生物工程学会和巴南区共建。",
            contacts=(("运营负责人", "bioip"),)),
    DemoOrg("重庆理工大学知识产权学院", "research", None, None, None, None, "", district="500113",
            address="重庆市巴南区红光大道69号", contacts=(("副院长", "cqut"),)),
    DemoOrg("重庆生物医药产业技术研究院", "research", "cro-cdmo", "7340", "5000", "2019-09-19", "small",
            address=f"{_BIOCITY}孵化大道5号", contacts=(("院长", "cqbiotech"),)),
    # Government departments ---------------------------------------------------------------------
    DemoOrg("重庆市巴南区招商投资促进中心", "government", None, None, None, None, "",
            address="重庆市巴南区鱼洞街道", contacts=(("主任", "bninvest"),)),
    DemoOrg("重庆市巴南区经济和信息化委员会", "government", None, None, None, None, "",
            address="重庆市巴南区鱼洞街道", contacts=(("副主任", "bneconomy"),)),
    DemoOrg("重庆市巴南区市场监督管理局", "government", None, None, None, None, "",
            address="重庆市巴南区鱼洞街道", contacts=(("科长", "bnmarket"),)),
    DemoOrg("重庆市巴南区人力资源和社会保障局", "government", None, None, None, None, "",
            address="重庆市巴南区鱼洞街道", contacts=(("科长", "bnhr"),)),
    DemoOrg("重庆市巴南区规划和自然资源局", "government", None, None, None, None, "",
            address="重庆市巴南区鱼洞街道", contacts=(("科长", "bnland"),)),
    DemoOrg("重庆国际生物城建设管理办公室", "government", None, None, None, None, "",
            address=f"{_BIOCITY}管理服务中心", contacts=(("办公室主任", "biocity"),)),
]

# People -----------------------------------------------------------------------------------------
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = ["建国", "志强", "海燕", "晓东", "丽华", "明", "静怡", "文博", "俊杰", "雪梅", "国庆", "红", "子涵", "浩然",
          "婷", "振宇", "敏", "亚男", "晨曦", "思远", "立新", "秀英", "佳琪", "天宇", "文静", "凯", "一鸣", "欣然"]
_MOBILE_PREFIXES = ["138", "139", "135", "136", "137", "150", "151", "158", "159", "186", "187", "188", "133",
                    "153", "177", "180", "189", "199", "166", "173"]


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def person_name(seed: str) -> str:
    n = _digest(seed)
    return _SURNAMES[n % len(_SURNAMES)] + _GIVEN[(n // 997) % len(_GIVEN)]


def mobile(seed: str) -> str:
    n = _digest("mobile:" + seed)
    return _MOBILE_PREFIXES[n % len(_MOBILE_PREFIXES)] + f"{(n // 101) % 10**8:08d}"


# Codes ------------------------------------------------------------------------------------------
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organization_code(seed: str) -> str:
    """A nine-character organization code (GB 11714) whose check digit is right."""
    body = f"{_digest('org:' + seed) % 10**8:08d}"
    remainder = 11 - sum(int(d) * w for d, w in zip(body, _ORG_CODE_WEIGHTS, strict=True)) % 11
    check = {10: "X", 11: "0"}.get(remainder, str(remainder))
    return body + check


def uscc_for(org: DemoOrg) -> str | None:
    """A USCC: authority 9 (market regulation) and type 1 (enterprise) for companies; 1 1 for
    government bodies; 1 2 for public institutions (事业单位)."""
    if not org.registered:
        return None
    from yimatong.lib.identifiers import uscc_with_check_digit

    prefix = {"government": "11", "research": "12"}.get(org.org_type, "91")
    return uscc_with_check_digit(prefix + (org.district or "500113") + organization_code(org.name))


def to_decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def to_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
