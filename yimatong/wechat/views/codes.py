"""Channel codes: create them through WeChat's QR API, print them, and read their funnel."""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import segno
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yimatong.accounts import access
from yimatong.lib.errors import ActionError
from yimatong.wechat import actions
from yimatong.wechat.forms import CodeForm
from yimatong.wechat.models import PERMANENT_CODE_CAP, OfficialAccount, QrCode

FUNNEL = ("scans", "new_followers", "leads", "visits", "signed_projects", "signed_investment")


def _codes(request: HttpRequest):
    access.deny_unless(access.can_use_inbox(request.user))
    return QrCode.objects.visible_to(request.user)


@access.staff_view
def code_list(request: HttpRequest) -> HttpResponse:
    codes = _codes(request).select_related("account", "promoter", "chain_node", "project").with_funnel()
    purpose = request.GET.get("purpose", "")
    if purpose in QrCode.Purpose.values:
        codes = codes.filter(purpose=purpose)
    rows = list(codes)
    return render(
        request,
        "wechat/code_list.html",
        {
            "rows": rows,
            "totals": _totals(rows),
            "purposes": QrCode.Purpose.choices,
            "purpose": purpose,
            "can_create": access.can_create_code(request.user),
            "can_compare": access.can_compare_channels(request.user),
            "permanent_used": {
                a: a.codes.filter(is_permanent=True).count() for a in OfficialAccount.objects.all()
            },
            "cap": PERMANENT_CODE_CAP,
        },
    )


def _totals(rows: list[QrCode]) -> dict[str, Any]:
    totals: dict[str, Any] = {key: 0 for key in FUNNEL}
    totals["signed_investment"] = Decimal("0")
    for row in rows:
        for key in FUNNEL:
            totals[key] += getattr(row, key) or 0
    return totals


@access.staff_view
def code_compare(request: HttpRequest) -> HttpResponse:
    """Leaders compare channels (by purpose) and promoters on the same funnel."""
    access.deny_unless(access.can_compare_channels(request.user))
    rows = list(QrCode.objects.select_related("promoter").with_funnel())
    by = request.GET.get("by", "purpose")
    groups: dict[str, list[QrCode]] = defaultdict(list)
    for row in rows:
        if by == "promoter":
            key = row.promoter.display_name if row.promoter_id else _("（未指定专员）")
        elif by == "event":
            key = row.event_name or _("（非活动）")
        else:
            key = row.get_purpose_display()
        groups[str(key)].append(row)
    table = []
    for key, members in groups.items():
        totals = _totals(members)
        totals["name"] = key
        totals["codes"] = len(members)
        totals["conversion"] = (
            round(totals["signed_projects"] * 100 / totals["leads"], 1) if totals["leads"] else None
        )
        table.append(totals)
    table.sort(key=lambda r: (-r["signed_investment"], -r["leads"], r["name"]))
    return render(
        request,
        "wechat/code_compare.html",
        {"table": table, "by": by, "totals": _totals(rows), "chart": _chart(table)},
    )


def _chart(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bar widths (percent of the largest) for the comparison's small inline chart."""
    top = max((r["leads"] for r in table), default=0) or 1
    return [{"name": r["name"], "leads": r["leads"], "width": round(r["leads"] * 100 / top)} for r in table]


@access.staff_view
@require_http_methods(["GET", "POST"])
def code_create(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_create_code(request.user))
    form = CodeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            code = actions.create_code(actor=request.user, data=form.cleaned_data)
        except ActionError as exc:
            for field, errors in exc.fields.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("二维码已生成。"))
            return redirect(code.get_absolute_url())
    return render(
        request, "wechat/code_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


@access.staff_view
def code_detail(request: HttpRequest, pk: int) -> HttpResponse:
    code = get_object_or_404(
        _codes(request).select_related("account", "promoter", "chain_node", "project").with_funnel(), pk=pk
    )
    from yimatong.investment.models import Lead

    leads = (
        Lead.objects.visible_to(request.user)
        .filter(sources__qr_scene=code.scene)
        .select_related("owner")
        .distinct()
        .order_by("-created_at")[:50]
    )
    return render(request, "wechat/code_detail.html", {"code": code, "leads": leads, "funnel": FUNNEL})


def _qr(code: QrCode) -> segno.QRCode:
    return segno.make(code.url, error="m")


@access.staff_view
def code_image(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The code for print: PNG at print resolution, or SVG with the park's caption under it."""
    code = get_object_or_404(_codes(request), pk=pk)
    if kind not in ("png", "svg"):
        raise Http404
    buffer = io.BytesIO()
    qr = _qr(code)
    if kind == "png":
        qr.save(buffer, kind="png", scale=12, border=4)
        response = HttpResponse(buffer.getvalue(), content_type="image/png")
    else:
        response = HttpResponse(_captioned_svg(qr, code.caption or code.name), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="qr-{code.scene}.{kind}"'
    return response


def _captioned_svg(qr: segno.QRCode, caption: str, *, scale: int = 10, border: int = 4) -> str:
    """segno's SVG with a caption line under the code, as one SVG for the print shop."""
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True, dark="#000")
    inner = buffer.getvalue().decode("utf-8")
    width, _height = qr.symbol_size(scale=scale, border=border)
    caption_height = 48
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{width + caption_height}" '
        f'viewBox="0 0 {width} {width + caption_height}">'
        f'<rect width="100%" height="100%" fill="#fff"/>{inner}'
        f'<text x="{width / 2}" y="{width + 30}" text-anchor="middle" font-size="22" '
        f'font-family="WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif">{escape(caption)}</text></svg>'
    )


@access.staff_view
def code_print(request: HttpRequest, pk: int) -> HttpResponse:
    code = get_object_or_404(_codes(request), pk=pk)
    svg = _captioned_svg(_qr(code), code.caption or code.name)
    return render(request, "wechat/code_print.html", {"code": code, "svg": svg})
