"""The project ledger (招商项目台账) in Excel: the template, row-by-row checks, the import, and
the exports of project lists and the weekly major-project schedule.

A check reads every row and reports each problem with its row number, column and rule. The
import writes in one transaction: all rows or none (``all``), or only the rows that passed
(``valid``), so a failing import leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from yimatong.accounts.models import User
from yimatong.directory.models import ChainNode, Organization
from yimatong.investment.models import (
    STAGE_INDEX,
    Channel,
    InvestmentSettings,
    Light,
    Project,
    ProjectEvent,
    Stage,
)
from yimatong.lib.identifiers import clean_mobile, clean_uscc
from yimatong.lib.text import normalize_org_name


@dataclass(frozen=True)
class Column:
    key: str
    header: Any
    required: bool = False
    note: Any = ""


COLUMNS = [
    Column("name", gettext_lazy("项目名称"), True),
    Column("investor", gettext_lazy("投资方名称"), True),
    Column("uscc", gettext_lazy("统一社会信用代码"), note=gettext_lazy("18 位，可不填")),
    Column("chain", gettext_lazy("产业链环节"), note=gettext_lazy("环节名称或编码，见“取值”页")),
    Column("planned_investment", gettext_lazy("计划投资（万元）")),
    Column("expected_output", gettext_lazy("预计年产值（万元）")),
    Column("expected_tax", gettext_lazy("预计年税收（万元）")),
    Column("land_mu", gettext_lazy("用地（亩）")),
    Column("floor_area", gettext_lazy("建筑面积（㎡）")),
    Column("jobs", gettext_lazy("预计就业（人）")),
    Column(
        "stage",
        gettext_lazy("当前阶段"),
        True,
        gettext_lazy("线索、接洽、考察、洽谈、签约、注册落地、开工建设、投产、达产、搁置、流失"),
    ),
    Column(
        "agreement_type", gettext_lazy("协议类型"), note=gettext_lazy("签约及以后必填：框架协议或正式协议")
    ),
    Column("signed_on", gettext_lazy("签约日期"), note=gettext_lazy("签约及以后必填")),
    Column("contracted_investment", gettext_lazy("合同投资（万元）"), note=gettext_lazy("签约及以后必填")),
    Column(
        "registered_uscc", gettext_lazy("注册企业统一社会信用代码"), note=gettext_lazy("注册落地及以后必填")
    ),
    Column(
        "registered_name", gettext_lazy("注册企业名称"), note=gettext_lazy("系统中没有该代码的企业时必填")
    ),
    Column("registered_on", gettext_lazy("注册日期"), note=gettext_lazy("注册落地及以后必填")),
    Column("construction_started_on", gettext_lazy("开工日期"), note=gettext_lazy("开工建设及以后必填")),
    Column(
        "fixed_asset_investment",
        gettext_lazy("累计固定资产投资（万元）"),
        note=gettext_lazy("开工建设及以后必填"),
    ),
    Column("production_started_on", gettext_lazy("投产日期"), note=gettext_lazy("投产及以后必填")),
    Column("full_capacity_on", gettext_lazy("达产日期"), note=gettext_lazy("达产必填")),
    Column("exit_reason", gettext_lazy("搁置/流失原因"), note=gettext_lazy("搁置、流失必填")),
    Column("owner", gettext_lazy("负责人"), True, gettext_lazy("用户名或姓名")),
    Column("priority", gettext_lazy("优先级"), note=gettext_lazy("A、B 或 C，默认 B")),
    Column("source", gettext_lazy("来源渠道"), note=gettext_lazy("默认“Excel 导入”")),
    Column("contact_name", gettext_lazy("联系人")),
    Column("contact_phone", gettext_lazy("联系电话")),
    Column("is_major", gettext_lazy("重大项目"), note=gettext_lazy("是或否")),
    Column("description", gettext_lazy("备注")),
]
MONEY_KEYS = (
    "planned_investment",
    "expected_output",
    "expected_tax",
    "contracted_investment",
    "fixed_asset_investment",
    "land_mu",
    "floor_area",
)
DATE_KEYS = (
    "signed_on",
    "registered_on",
    "construction_started_on",
    "production_started_on",
    "full_capacity_on",
)
HEADER_FILL = PatternFill("solid", fgColor="0F766E")


LANGUAGES = ("zh-hans", "en")  # a ledger is read whichever interface language it was filled in
YES = {"是", "y", "yes", "1", "true"}
NO = {"否", "n", "no", "0", "false"}


def _in_every_language(choices: Any) -> dict[str, str]:
    """Label (in Chinese and English, any case) or stored value -> stored value."""
    mapping: dict[str, str] = {}
    for language in LANGUAGES:
        with translation.override(language):
            for value, label in choices:
                mapping[str(label).lower()] = value
    for value, _label in choices:
        mapping[str(value).lower()] = value
    return mapping


def _stage_by_label() -> dict[str, str]:
    labels = _in_every_language(Stage.choices)
    labels["签约（框架）"] = labels["签约（正式）"] = Stage.SIGNED
    return labels


def _agreement_by_label() -> dict[str, str]:
    return _in_every_language(Project.Agreement.choices) | {"框架": "framework", "正式": "formal"}


def _headers() -> dict[str, str]:
    """Column header (either language, with or without the required mark) -> column key."""
    headers: dict[str, str] = {}
    for language in LANGUAGES:
        with translation.override(language):
            for column in COLUMNS:
                headers[str(column.header).strip().lower()] = column.key
    return headers


# Template ---------------------------------------------------------------------------------------


def template_workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("招商项目台账")
    _write_header(sheet, [str(c.header) + ("*" if c.required else "") for c in COLUMNS])
    example = {
        "name": _("示例：启明双抗生产基地"),
        "investor": "苏州启明抗体药物有限公司",
        "chain": "antibody",
        "planned_investment": 80000,
        "expected_output": 150000,
        "expected_tax": 8000,
        "land_mu": 120,
        "floor_area": 60000,
        "jobs": 300,
        "stage": str(Stage.SIGNED.label),
        "agreement_type": str(Project.Agreement.FRAMEWORK.label),
        "signed_on": dt.date(2026, 3, 18),
        "contracted_investment": 50000,
        "owner": "promoter",
        "priority": "A",
        "source": str(Channel.EXPO.label),
        "contact_name": "陈总",
        "contact_phone": "13812345678",
        "is_major": _("是"),
        "description": _("删除本示例行后填写"),
    }
    sheet.append([example.get(column.key) for column in COLUMNS])
    stages = DataValidation(
        type="list", formula1=f'"{",".join(str(s.label) for s in Stage)}"', allow_blank=False
    )
    stages.error = _("请选择表中列出的阶段。")
    sheet.add_data_validation(stages)
    stage_col = get_column_letter([c.key for c in COLUMNS].index("stage") + 1)
    stages.add(f"{stage_col}2:{stage_col}10000")
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = (
            16 if column.key not in ("name", "investor") else 28
        )
    sheet.freeze_panes = "B2"

    guide = book.create_sheet(_("填写说明"))
    _write_header(guide, [_("列"), _("是否必填"), _("说明")])
    for column in COLUMNS:
        guide.append([str(column.header), _("必填") if column.required else "", str(column.note)])
    guide.column_dimensions["A"].width = 28
    guide.column_dimensions["C"].width = 60

    values = book.create_sheet(_("取值"))
    _write_header(values, [_("阶段"), _("来源渠道"), _("产业链环节"), _("编码")])
    chain = list(ChainNode.objects.order_by("position", "pk"))
    rows = max(len(Stage.choices), len(Channel.choices), len(chain))
    for i in range(rows):
        values.append(
            [
                str(Stage.choices[i][1]) if i < len(Stage.choices) else "",
                str(Channel.choices[i][1]) if i < len(Channel.choices) else "",
                chain[i].path() if i < len(chain) else "",
                chain[i].code if i < len(chain) else "",
            ]
        )
    values.column_dimensions["C"].width = 36
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_header(sheet: Any, labels: list[str]) -> None:
    sheet.append(labels)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)


# Reading and checking ---------------------------------------------------------------------------


def read_rows(content: bytes, filename: str) -> list[list[Any]]:
    """All rows of the first sheet (header first), through python-calamine (fast, xlsx and xls)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return book.get_sheet_by_index(0).to_python(skip_empty_area=False)


def cell_text(value: Any) -> str:
    """A cell as text. Excel keeps a phone number typed without a leading quote as the number
    13912345678.0: whole numbers come back without the ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class CheckedRow:
    number: int  # the row number a user sees in Excel
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class LedgerChecker:
    """Checks ledger rows for one importing user; lookups are loaded once, not per row."""

    def __init__(self, user: User):
        self.user = user
        self.stages = _stage_by_label()
        self.agreements = _agreement_by_label()
        self.channels = _in_every_language(Channel.choices)
        self.headers = _headers()
        self.labels = {c.key: str(c.header) for c in COLUMNS}  # in the language of the check
        self.nodes: dict[str, ChainNode] = {}
        for node in ChainNode.objects.all():
            self.nodes[node.code] = node
            self.nodes.setdefault(node.name, node)
        self.owners = self._owners()
        visible = Organization.objects.visible_to(user)
        self.visible_orgs = set(visible.values_list("pk", flat=True))
        self.orgs_by_uscc = dict(Organization.objects.exclude(uscc=None).values_list("uscc", "pk"))
        self.orgs_by_key: dict[str, int] = {}
        for pk, key in Organization.objects.values_list("pk", "normalized_name"):
            self.orgs_by_key.setdefault(key, pk)
        self.existing = {
            (name, org): code
            for name, org, code in Project.objects.values_list("name", "organization_id", "code")
        }
        self.seen: dict[tuple[str, str], int] = {}

    def _owners(self) -> dict[str, User]:
        staff = User.objects.filter(is_active=True, role__in=[User.Role.PROMOTER, User.Role.TEAM_LEAD])
        if self.user.role == User.Role.PROMOTER:
            staff = staff.filter(pk=self.user.pk)
        elif self.user.role == User.Role.TEAM_LEAD:
            staff = staff.filter(team_id=self.user.team_id)
        owners: dict[str, User] = {}
        for user in staff.select_related("team"):
            owners[user.username.lower()] = user
            if user.name:
                owners.setdefault(user.name, user)
        return owners

    def positions(self, header: list[Any]) -> dict[str, int]:
        """Column key -> position, from the header row in either language."""
        found: dict[str, int] = {}
        for index, cell in enumerate(header):
            key = self.headers.get(str(cell or "").strip().rstrip("*").strip().lower())
            if key is not None:
                found.setdefault(key, index)
        return found

    def header_errors(self, header: list[Any]) -> list[RowError]:
        found = self.positions(header)
        return [
            RowError(1, str(c.header), _("缺少这一列，请使用系统提供的台账模板。"))
            for c in COLUMNS
            if c.key not in found
        ]

    def check(
        self, number: int, header: list[Any], raw: list[Any], positions: dict[str, int] | None = None
    ) -> CheckedRow:
        positions = positions if positions is not None else self.positions(header)
        cells = {
            c.key: raw[positions[c.key]] if positions.get(c.key, len(raw)) < len(raw) else None
            for c in COLUMNS
        }
        row = CheckedRow(number)
        labels = self.labels

        def error(key: str, message: str) -> None:
            row.errors.append(RowError(number, labels[key], message))

        text = {k: cell_text(v) for k, v in cells.items()}
        for column in COLUMNS:
            if column.required and not text[column.key]:
                error(column.key, _("必填。"))
        values = row.values
        values["name"], values["investor"] = text["name"][:150], text["investor"][:120]
        values["description"] = text["description"]
        for key in MONEY_KEYS:
            values[key] = self._decimal(cells[key], key, error)
        values["jobs"] = self._integer(cells["jobs"], "jobs", error)
        for key in DATE_KEYS:
            values[key] = self._date(cells[key], key, error)
        stage = self.stages.get(text["stage"].lower())
        if text["stage"] and stage is None:
            error("stage", _("“%(value)s”不是有效的阶段。") % {"value": text["stage"]})
        values["stage"] = stage
        if text["agreement_type"]:
            values["agreement_type"] = self.agreements.get(text["agreement_type"].lower())
            if values["agreement_type"] is None:
                error("agreement_type", _("应为“框架协议”或“正式协议”。"))
        else:
            values["agreement_type"] = ""
        values["uscc"] = self._uscc(text["uscc"], "uscc", error)
        values["registered_uscc"] = self._uscc(text["registered_uscc"], "registered_uscc", error)
        values["registered_name"] = text["registered_name"]
        values["exit_reason"] = text["exit_reason"][:200]
        node = self.nodes.get(text["chain"]) if text["chain"] else None
        if text["chain"] and node is None:
            error("chain", _("没有“%(value)s”这个产业链环节。") % {"value": text["chain"]})
        values["chain_node"] = node
        owner = (
            self.owners.get(text["owner"].lower()) or self.owners.get(text["owner"])
            if text["owner"]
            else None
        )
        if text["owner"] and owner is None:
            error(
                "owner", _("“%(value)s”不是您可以指定的负责人（用户名或姓名）。") % {"value": text["owner"]}
            )
        values["owner"] = owner
        priority = text["priority"].lower() or "b"
        if priority not in Project.Priority.values:
            error("priority", _("应为 A、B 或 C。"))
        values["priority"] = priority
        source = self.channels.get(text["source"].lower()) if text["source"] else Channel.IMPORT
        if source is None:
            error("source", _("“%(value)s”不是有效的来源渠道。") % {"value": text["source"]})
        values["source_channel"] = source
        flag = text["is_major"].lower()
        values["is_major"] = flag in YES
        if flag and flag not in YES | NO:
            error("is_major", _("应为“是”或“否”。"))
        values["contact_name"] = text["contact_name"][:60]
        values["contact_phone"] = ""
        if text["contact_phone"]:
            try:
                values["contact_phone"] = clean_mobile(text["contact_phone"])
            except ValidationError as exc:
                error("contact_phone", exc.messages[0])
        if stage:
            self._gates(values, error)
        self._investor(values, error)
        self._duplicate(values, number, error)
        return row

    def _gates(self, values: dict[str, Any], error: Callable[[str, str], None]) -> None:
        stage = values["stage"]
        today = timezone.localdate()
        for key in DATE_KEYS:
            if values.get(key) and values[key] > today:
                error(key, _("日期不能晚于今天。"))
        if stage in (Stage.ON_HOLD, Stage.LOST):
            if not values["exit_reason"]:
                error("exit_reason", _("搁置或流失的项目须写明原因。"))
            return
        index = STAGE_INDEX[stage]
        needs = [
            (Stage.SIGNED, ("agreement_type", "signed_on", "contracted_investment")),
            (Stage.REGISTERED, ("registered_uscc", "registered_on")),
            (Stage.CONSTRUCTION, ("construction_started_on", "fixed_asset_investment")),
            (Stage.PRODUCTION, ("production_started_on",)),
            (Stage.FULL_CAPACITY, ("full_capacity_on",)),
        ]
        for gate, keys in needs:
            if index >= STAGE_INDEX[gate]:
                for key in keys:
                    if values.get(key) in (None, ""):
                        error(key, _("阶段为“%(stage)s”时必填。") % {"stage": Stage(stage).label})
        code = values.get("registered_uscc")
        if code and code not in self.orgs_by_uscc and not values["registered_name"]:
            error("registered_name", _("系统中没有该代码的企业，请填写注册企业名称。"))

    def _investor(self, values: dict[str, Any], error: Callable[[str, str], None]) -> None:
        org_id = None
        if values["uscc"]:
            org_id = self.orgs_by_uscc.get(values["uscc"])
        if org_id is None and values["investor"]:
            org_id = self.orgs_by_key.get(normalize_org_name(values["investor"]))
        if org_id is not None and org_id not in self.visible_orgs:
            error("investor", _("该投资方已由其他团队登记（撞单），请联系团队负责人协调。"))
        values["organization_id"] = org_id

    def _duplicate(self, values: dict[str, Any], number: int, error: Callable[[str, str], None]) -> None:
        key = (values["name"], values["investor"])
        if key in self.seen:
            error("name", _("与第 %(row)d 行重复。") % {"row": self.seen[key]})
        else:
            self.seen[key] = number
        if values.get("organization_id") and (values["name"], values["organization_id"]) in self.existing:
            code = self.existing[(values["name"], values["organization_id"])]
            error("name", _("该投资方已有同名项目 %(code)s。") % {"code": code})

    def _decimal(self, value: Any, key: str, error: Callable[[str, str], None]) -> Decimal | None:
        if value in (None, ""):
            return None
        try:
            number = Decimal(str(value).replace(",", "").strip())
        except InvalidOperation:
            error(key, _("应为数字，单位见列名。"))
            return None
        if number < 0:
            error(key, _("不能为负数。"))
            return None
        return number.quantize(Decimal("0.01"))

    def _integer(self, value: Any, key: str, error: Callable[[str, str], None]) -> int | None:
        number = self._decimal(value, key, error)
        if number is None:
            return None
        if number != number.to_integral():
            error(key, _("应为整数。"))
            return None
        return int(number)

    def _date(self, value: Any, key: str, error: Callable[[str, str], None]) -> dt.date | None:
        if value in (None, ""):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = (
            str(value)
            .strip()
            .replace("/", "-")
            .replace(".", "-")
            .replace("年", "-")
            .replace("月", "-")
            .rstrip("日")
        )
        try:
            return dt.date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
        except ValueError:
            error(key, _("日期格式应为 2026-03-18。"))
            return None

    def _uscc(self, value: str, key: str, error: Callable[[str, str], None]) -> str:
        if not value:
            return ""
        try:
            return clean_uscc(value)
        except ValidationError as exc:
            error(key, exc.messages[0])
            return ""


def check(
    content: bytes, filename: str, user: User, progress: Callable[[int, int], None] | None = None
) -> tuple[list[CheckedRow], list[RowError]]:
    rows = read_rows(content, filename)
    if not rows:
        return [], [RowError(1, "", _("文件是空的。"))]
    header, body = rows[0], rows[1:]
    checker = LedgerChecker(user)
    header_errors = checker.header_errors(header)
    if header_errors:
        return [], header_errors
    checked = []
    positions = checker.positions(header)
    for index, raw in enumerate(body, start=2):
        if not any(cell not in (None, "") for cell in raw):
            continue  # blank lines are not rows
        checked.append(checker.check(index, header, raw, positions))
        if progress is not None and len(checked) % 200 == 0:
            progress(len(checked), len(body))
    return checked, []


# Import -------------------------------------------------------------------------------------------


def import_rows(rows: Iterable[CheckedRow], user: User, progress: Callable[[int], None] | None = None) -> int:
    """Create the projects of checked rows in one transaction (set-based: a few inserts per
    2,000 rows); ``progress`` is told how many are written after each batch. Returns how many."""
    from yimatong.investment.actions.projects import import_projects

    return len(import_projects(actor=user, rows=[row.values for row in rows], progress=progress))


# Exports ------------------------------------------------------------------------------------------


# The project list's columns that are the project's own fields, read as they are.
_PLAIN_KEYS = (
    "planned_investment",
    "expected_output",
    "expected_tax",
    "land_mu",
    "floor_area",
    "jobs",
    "signed_on",
    "contracted_investment",
    "registered_on",
    "construction_started_on",
    "fixed_asset_investment",
    "production_started_on",
    "full_capacity_on",
    "exit_reason",
    "description",
)


def projects_workbook(user: Any, params: dict[str, Any]) -> tuple[bytes, int]:
    """A filtered project list in the ledger's columns (plus code, light and last progress).

    Streamed: the rows are read as tuples through one cursor (the investor, the registered
    company, the contact and the owner joined in), the chain paths and the labels are worked
    out once, and who may see a codenamed project's investor is read once for the requester,
    so a list of 50,000 projects is one query and no query per row."""
    from yimatong.accounts import access
    from yimatong.investment.filters import projects_for

    qs, _filters = projects_for(user, params, InvestmentSettings.current())
    fields = (
        "code",
        "name",
        "organization__name",
        "organization__uscc",
        "chain_node_id",
        "stage",
        "agreement_type",
        "registered_organization__uscc",
        "registered_organization__name",
        "owner__name",
        "owner__username",
        "priority",
        "source_channel",
        "contact__name",
        "is_major",
        "codename",
        "owner_id",
        "pk",
        "light",
        "last_progress_at",
        *_PLAIN_KEYS,
    )
    position = {name: index for index, name in enumerate(fields)}
    plain = [position[key] for key in _PLAIN_KEYS]
    sees_every_investor = access.role_of(user) == access.Role.ADMIN
    insider_of = set(
        Project.insiders.through.objects.filter(user_id=user.pk).values_list("project_id", flat=True)
    )
    paths = _chain_paths()
    stages = {value: str(label) for value, label in Stage.choices}
    agreements = {value: str(label) for value, label in Project.Agreement.choices}
    channels = {value: str(label) for value, label in Channel.choices}
    lights = {value: str(label) for value, label in Light.choices}
    yes, no = _("是"), _("否")
    zone = timezone.get_current_timezone()

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("招商项目"))
    sheet.append([_("项目编号"), *[str(c.header) for c in COLUMNS], _("灯色"), _("最近进展")])
    rows = 0
    for row in qs.order_by("code").values_list(*fields).iterator(chunk_size=2000):
        (code, name, investor, uscc, chain_id, stage, agreement, reg_uscc, reg_name, owner_name,
         owner_username, priority, source, contact, is_major, codename, owner_id, pk, light,
         last_progress_at) = row[:20]  # fmt: skip
        shows = not codename or sees_every_investor or owner_id == user.pk or pk in insider_of
        values = {
            "name": name,
            "investor": investor if shows else codename,
            "uscc": (uscc or "") if shows else "",
            "chain": paths.get(chain_id, ""),
            "stage": stages.get(stage, stage),
            "agreement_type": agreements.get(agreement, agreement) if agreement else "",
            "registered_uscc": reg_uscc if reg_name is not None else "",
            "registered_name": reg_name or "",
            "owner": owner_name or owner_username,
            "priority": priority.upper(),
            "source": channels.get(source, source),
            "contact_name": contact if contact is not None and shows else "",
            "contact_phone": "",
            "is_major": yes if is_major else no,
        }
        values.update(zip(_PLAIN_KEYS, (row[i] for i in plain), strict=True))
        line = [code, *[values[column.key] for column in COLUMNS]]
        line += [lights.get(light, ""), last_progress_at.astimezone(zone).date()]
        sheet.append(line)
        rows += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), rows


def _chain_paths() -> dict[int, str]:
    """Every chain node's path (``ChainNode.path``), from the whole tree read once."""
    nodes = {node.pk: node for node in ChainNode.objects.all()}
    paths = {}
    for node in nodes.values():
        chain, current, seen = [node], nodes.get(node.parent_id), {node.pk}
        while current is not None and current.pk not in seen:
            chain.append(current)
            seen.add(current.pk)
            current = nodes.get(current.parent_id)
        paths[node.pk] = " / ".join(n.display_name() for n in reversed(chain))
    return paths


def major_weekly_workbook(user: Any, params: dict[str, Any]) -> tuple[bytes, int]:
    """重大项目调度周报 in the bureau's table shape: one row per major project with this week's
    progress, milestones (plan / actual), open problems and the light."""
    today = timezone.localdate()
    week_start = today - dt.timedelta(days=7)
    since = timezone.make_aware(dt.datetime.combine(week_start, dt.time.min))
    config = InvestmentSettings.current()
    projects = (
        Project.objects.visible_to(user)
        .filter(is_major=True)
        .with_light(config)
        .select_related("organization", "owner", "chain_node")
        .prefetch_related("insiders", "milestones__department", "problems__department")
        .order_by("chain_node__position", "code")
    )
    events = (
        ProjectEvent.objects.filter(project__in=projects, at__gte=since)
        .exclude(kind__in=[ProjectEvent.Kind.CHANGED, ProjectEvent.Kind.MAJOR])
        .order_by("at")
    )
    progress: dict[int, list[str]] = {}
    for event in events:
        progress.setdefault(event.project_id, []).append(_event_line(event))
    lights = dict(Light.choices)
    book = Workbook()
    sheet = book.active
    sheet.title = _("重大项目周调度")
    title = _("重大项目调度周报（%(start)s 至 %(end)s）") % {"start": week_start, "end": today}
    headers = [
        _("序号"),
        _("项目名称"),
        _("投资方"),
        _("产业链"),
        _("总投资（万元）"),
        _("当前阶段"),
        _("本周进展"),
        _("计划节点（计划/实际）"),
        _("存在问题"),
        _("责任单位"),
        _("办结时限"),
        _("灯色"),
        _("负责人"),
    ]
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [6, 26, 24, 14, 12, 10, 36, 36, 30, 16, 12, 8, 10]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    count = 0
    for count, project in enumerate(projects, start=1):
        milestones = "\n".join(
            f"{m.name}：{m.planned_on:%Y-%m-%d} / {m.actual_on:%Y-%m-%d}"
            if m.actual_on
            else f"{m.name}：{m.planned_on:%Y-%m-%d} / —"
            for m in project.milestones.all()
        )
        open_problems = [p for p in project.problems.all() if p.status != "resolved"]
        sheet.append(
            [
                count,
                project.name,
                project.investor_label(user),
                project.chain_node.name if project.chain_node else "",
                project.contracted_investment or project.planned_investment,
                str(project.get_stage_display()),
                "\n".join(progress.get(project.pk, [])) or _("本周无新进展"),
                milestones,
                "\n".join(p.description for p in open_problems),
                "\n".join(p.department.name for p in open_problems),
                "\n".join(f"{p.deadline:%Y-%m-%d}" for p in open_problems),
                str(lights.get(project.light, "")),
                project.owner.display_name,
            ]
        )
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), count


def _event_line(event: ProjectEvent) -> str:
    data = event.data
    day = timezone.localtime(event.at).strftime("%m-%d")
    if event.kind == ProjectEvent.Kind.STAGE:
        return f"{day} {event.get_from_stage_display()}→{event.get_to_stage_display()}"
    if event.kind == ProjectEvent.Kind.ACTIVITY:
        return f"{day} {data.get('summary', '')}"
    if event.kind == ProjectEvent.Kind.CAPITAL:
        return f"{day} " + _("到位资金 %(amount)s 万元") % {"amount": data.get("amount")}
    if event.kind == ProjectEvent.Kind.MILESTONE:
        return f"{day} {data.get('milestone', '')}" + (
            f" ✓{data['actual_on']}" if data.get("actual_on") else ""
        )
    if event.kind == ProjectEvent.Kind.PROBLEM:
        return f"{day} {data.get('problem', '')}"
    return f"{day} {event.get_kind_display()}"
