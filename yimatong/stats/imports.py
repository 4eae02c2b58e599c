"""Importing a period's reports from Excel in the bureau's table shape, all or nothing.

Sheet 1 (企业直报), one row per enterprise and period::

    统一社会信用代码 | 企业名称 | 年度 | 月份 | 工业总产值本月 | 工业总产值累计 | 营业收入本月 | 营业收入累计 |
    税收本月 | 税收累计 | 用电量本月 | 用电量累计 | 期末从业人数

Sheet 2 (固定资产投资, optional), one row per project::

    统一社会信用代码 | 年度 | 月份 | 项目名称 | 计划总投资 | 本月完成投资 | 累计完成投资 | 其中工业投资本月 | 其中工业投资累计

Amounts in 万元 (electricity in 万千瓦时); 月份 2 is January–February. Every row is checked with the
same hard checks as the form; one error anywhere and nothing is stored, and the answer lists
every error by sheet, row and column. Soft-check warnings are accepted and kept with the
revision, explained as an import by the statistics office.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from yimatong.accounts.models import User
from yimatong.directory.models import Organization
from yimatong.investment.ledger import cell_text
from yimatong.lib.errors import ActionError
from yimatong.stats import actions
from yimatong.stats.actions import LINE_FIELDS

REPORT_COLUMNS = [
    ("uscc", "统一社会信用代码"),
    ("name", "企业名称"),
    ("year", "年度"),
    ("month", "月份"),
    ("output_month", "工业总产值本月"),
    ("output_cum", "工业总产值累计"),
    ("revenue_month", "营业收入本月"),
    ("revenue_cum", "营业收入累计"),
    ("tax_month", "税收本月"),
    ("tax_cum", "税收累计"),
    ("electricity_month", "用电量本月"),
    ("electricity_cum", "用电量累计"),
    ("employees", "期末从业人数"),
]
LINE_COLUMNS = [
    ("uscc", "统一社会信用代码"),
    ("year", "年度"),
    ("month", "月份"),
    ("name", "项目名称"),
    ("planned_total", "计划总投资"),
    ("month_amount", "本月完成投资"),
    ("cumulative", "累计完成投资"),
    ("industrial_month", "其中工业投资本月"),
    ("industrial_cumulative", "其中工业投资累计"),
]


@dataclass
class ImportResult:
    stored: int = 0
    warnings: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def template() -> bytes:
    """The empty workbook to fill in, with both sheets' headers."""
    book = Workbook()
    sheet = book.active
    sheet.title = "企业直报"
    sheet.append([title for _key, title in REPORT_COLUMNS])
    lines = book.create_sheet("固定资产投资")
    lines.append([title for _key, title in LINE_COLUMNS])
    for ws in (sheet, lines):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for column in ws.columns:
            ws.column_dimensions[column[0].column_letter].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheets(content: bytes) -> list[list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return [book.get_sheet_by_index(i).to_python(skip_empty_area=False) for i in range(len(book.sheet_names))]


def _number(value: Any) -> Decimal | None:
    text = cell_text(value).replace(",", "")
    if text == "":
        return None
    try:
        return (
            Decimal(text).quantize(Decimal("0.01")) if "." in text or "e" in text.lower() else Decimal(text)
        )
    except InvalidOperation:
        raise ValueError(text) from None


def _rows(
    rows: list[list[Any]], columns: list[tuple[str, str]], sheet: str, errors: list
) -> list[tuple[int, dict]]:
    if not rows:
        return []
    header = [cell_text(c) for c in rows[0]]
    index = {}
    for key, title in columns:
        if title not in header:
            errors.append(
                {
                    "sheet": sheet,
                    "row": 1,
                    "column": title,
                    "message": _("缺少“%(title)s”列。") % {"title": title},
                }
            )
        else:
            index[key] = header.index(title)
    if len(index) != len(columns):
        return []
    out = []
    for number, row in enumerate(rows[1:], 2):
        if not any(cell_text(c) for c in row):
            continue
        values: dict[str, Any] = {}
        for key, title in columns:
            cell = row[index[key]] if index[key] < len(row) else None
            if key in ("uscc", "name"):
                values[key] = cell_text(cell)
                continue
            try:
                values[key] = _number(cell)
            except ValueError as exc:
                errors.append(
                    {
                        "sheet": sheet,
                        "row": number,
                        "column": title,
                        "message": _("“%(value)s”不是数字。") % {"value": exc},
                    }
                )
        out.append((number, values))
    return out


def import_reports(*, actor: User, content: bytes) -> ImportResult:
    """Check every row, then store all of them in one transaction, or none."""
    result = ImportResult()
    try:
        sheets = _sheets(content)
    except Exception:  # an unreadable file is the user's to fix
        raise ActionError(
            _("无法读取该文件：请上传 .xlsx 或 .xls 格式的 Excel 文件。"),
            fields={"file": [_("文件无法读取。")]},
        ) from None
    report_rows = _rows(sheets[0], REPORT_COLUMNS, _("企业直报"), result.errors)
    line_rows = _rows(sheets[1], LINE_COLUMNS, _("固定资产投资"), result.errors) if len(sheets) > 1 else []
    if not report_rows and not result.errors:
        result.errors.append({"sheet": _("企业直报"), "row": 2, "column": "", "message": _("没有数据行。")})
    codes = {values.get("uscc", "").upper() for _n, values in report_rows}
    orgs = {
        o.uscc: o for o in Organization.objects.filter(uscc__in=codes, org_type=Organization.Type.RESIDENT)
    }
    lines: dict[tuple[str, int, int], list[dict]] = {}
    for number, values in line_rows:
        key = (values.get("uscc", "").upper(), int(values.get("year") or 0), int(values.get("month") or 0))
        lines.setdefault(key, []).append({"row": number, **values})
    if any(e["row"] == 1 for e in result.errors):  # a column is missing: no row can be read
        return result
    # A row with an unreadable cell is listed already and not checked further; every other row
    # still is, so that the answer lists every error in the file.
    unreadable = {(e["sheet"], e["row"]) for e in result.errors}
    with transaction.atomic():
        savepoint = transaction.savepoint()
        for number, values in report_rows:
            code = values["uscc"].upper()
            org = orgs.get(code)
            if org is None:
                result.errors.append(
                    {
                        "sheet": _("企业直报"),
                        "row": number,
                        "column": "统一社会信用代码",
                        "message": _("没有统一社会信用代码为“%(code)s”的入驻企业。")
                        % {"code": values["uscc"] or "—"},
                    }
                )
                continue
            year, month = int(values.get("year") or 0), int(values.get("month") or 0)
            data = {k: values.get(k) for k, _title in REPORT_COLUMNS[4:]}
            data["employees"] = int(data["employees"]) if data.get("employees") is not None else None
            own_lines = lines.pop((code, year, month), [])
            if (_("企业直报"), number) in unreadable or any(
                (_("固定资产投资"), line["row"]) in unreadable for line in own_lines
            ):
                continue
            data["lines"] = [
                {"name": line["name"], **{k: line.get(k) for k in LINE_FIELDS}} for line in own_lines
            ]
            try:
                report = actions.submit_report(
                    actor=actor,
                    organization=org,
                    year=year,
                    month=month,
                    data=data,
                    source="import",
                    auto_explanation=_("统计部门批量导入"),
                )
            except ActionError as exc:
                for field_name, messages in (exc.fields or {"": [exc.message]}).items():
                    for message in messages:
                        result.errors.append(
                            {
                                "sheet": _("企业直报"),
                                "row": number,
                                "column": _column(field_name),
                                "message": message,
                            }
                        )
                continue
            result.stored += 1
            result.warnings += len(report.explanations)
        for (code, year, month), orphans in lines.items():
            for line in orphans:
                if (_("固定资产投资"), line["row"]) in unreadable:
                    continue
                result.errors.append(
                    {
                        "sheet": _("固定资产投资"),
                        "row": line["row"],
                        "column": "统一社会信用代码",
                        "message": _("企业直报表中没有 %(code)s 在 %(year)s 年 %(month)s 月的报表行。")
                        % {"code": code, "year": year, "month": month},
                    }
                )
        if result.errors:
            transaction.savepoint_rollback(savepoint)
            result.stored = result.warnings = 0
        else:
            transaction.savepoint_commit(savepoint)
    return result


def _column(field_name: str) -> str:
    titles = dict(REPORT_COLUMNS)
    if field_name == "lines":
        return _("固定资产投资")
    return titles.get(field_name, field_name)
