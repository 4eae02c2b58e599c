"""The organization list as an Excel workbook, with the same filters and visibility as the page."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from yimatong.directory.filters import organizations_for
from yimatong.directory.models import ChainNode, Organization


def _header(sheet: Any, labels: list[str]) -> None:
    fill = PatternFill("solid", fgColor="0F766E")
    cells = []
    for label in labels:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")
        cells.append(cell)
    sheet.append(cells)


def organizations_workbook(user: Any, params: dict[str, Any]) -> tuple[bytes, int]:
    qs, filters = organizations_for(user, params)
    qs = qs.select_related("industry", "district", "chain_node", "owner", "team").order_by(
        "name_pinyin", "pk"
    )
    paths = {node.pk: node.path() for node in ChainNode.objects.select_related("parent__parent__parent")}
    yes, no = _("是"), _("否")

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("企业机构"))
    widths = [36, 22, 12, 28, 26, 14, 12, 10, 36, 8, 10, 10, 10, 16]
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "B2"
    _header(
        sheet,
        [
            _("名称"),
            _("统一社会信用代码"),
            _("类型"),
            _("产业链环节"),
            _("国民经济行业"),
            _("注册资本（万元）"),
            _("成立日期"),
            _("所在区县"),
            _("地址"),
            _("规上企业"),
            _("高新技术企业"),
            _("专精特新"),
            _("企业规模"),
            _("负责人"),
        ],
    )
    rows = 0
    for org in qs.iterator(chunk_size=500):
        sheet.append(
            [
                org.name,
                org.uscc or "",
                str(org.get_org_type_display()),
                paths.get(org.chain_node_id, ""),
                f"{org.industry.code} {org.industry.name}" if org.industry else "",
                org.registered_capital,
                org.registered_on,
                org.district.name if org.district else "",
                org.address,
                yes if org.is_above_scale else no,
                yes if org.is_high_tech else no,
                yes if org.is_specialized else no,
                str(org.get_size_class_display()) if org.size_class else "",
                org.owner.display_name if org.owner else "",
            ]
        )
        rows += 1

    notes = book.create_sheet(_("说明"))
    notes.append([_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    notes.append([_("导出人"), user.display_name])
    notes.append([_("行数"), rows])
    described = describe_filters(filters)
    notes.append([_("筛选条件"), described or _("无（您可见的全部企业/机构）")])
    notes.append([_("说明"), _("仅包含导出人有权查看的记录；意向投资方信息请勿外传。")])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), rows


def describe_filters(filters: dict[str, Any]) -> str:
    parts = []
    if filters.get("q"):
        parts.append(_("搜索“%(q)s”") % {"q": filters["q"]})
    if filters.get("type") in Organization.Type.values:
        parts.append(str(Organization.Type(filters["type"]).label))
    node = None
    if str(filters.get("chain", "")).isdigit():
        node = ChainNode.objects.filter(pk=int(filters["chain"])).first()
    if node is not None:
        parts.append(node.path())
    if filters.get("district"):
        parts.append(_("区划 %(code)s") % {"code": filters["district"]})
    labels = {
        "is_above_scale": _("规上企业"),
        "is_high_tech": _("高新技术企业"),
        "is_specialized": _("专精特新"),
    }
    if filters.get("flag") in labels:
        parts.append(labels[filters["flag"]])
    if filters.get("mine"):
        parts.append(_("只看我的"))
    return _("；").join(parts)
