"""The monthly report form (console and H5) and the Excel import form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimatong.directory.models import Organization
from yimatong.stats.checks import labels, required_fields
from yimatong.stats.models import FLOWS

LINES = 3  # investment projects offered on the form (more through the import)


def _amount(label: str, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        required=required,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


def period_choices() -> list[tuple[int, str]]:
    return [(2, _("1–2 月"))] + [(m, _("1–%(m)s 月") % {"m": m}) for m in range(3, 13)]


class ReportForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("企业"),
        queryset=Organization.objects.filter(org_type=Organization.Type.RESIDENT),
        required=False,
    )
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    month = forms.TypedChoiceField(
        label=_("报告期"), coerce=int, choices=period_choices, help_text=_("1 月免报：第一期为 1–2 月。")
    )

    def __init__(self, *args: Any, on_behalf: bool = False, industrial: bool | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not on_behalf:
            del self.fields["organization"]
        else:
            self.fields["organization"].required = True
        names = labels()
        for prefix, _code, _label, _unit in FLOWS:
            for kind in ("month", "cum"):
                self.fields[f"{prefix}_{kind}"] = _amount(names[f"{prefix}_{kind}"])
        self.fields["employees"] = forms.IntegerField(label=names["employees"], min_value=0, required=False)
        if industrial is not None:  # the enterprise is known: mark what it must report
            for name in required_fields(industrial):
                self.fields[name].required = True
        for n in range(1, LINES + 1):
            self.fields[f"line{n}_name"] = forms.CharField(
                label=_("投资项目 %(n)s 名称") % {"n": n}, max_length=150, required=False
            )
            self.fields[f"line{n}_planned_total"] = _amount(_("计划总投资（万元）"))
            self.fields[f"line{n}_month_amount"] = _amount(_("本月完成投资（万元）"))
            self.fields[f"line{n}_cumulative"] = _amount(_("累计完成投资（万元）"))
            self.fields[f"line{n}_industrial_month"] = _amount(_("其中工业投资 本月"))
            self.fields[f"line{n}_industrial_cumulative"] = _amount(_("其中工业投资 累计"))

    def figure_fields(self) -> list[Any]:
        return [
            self[name]
            for name in self.fields
            if name not in ("organization", "year", "month") and not name.startswith("line")
        ]

    def line_groups(self) -> list[list[Any]]:
        return [
            [self[name] for name in self.fields if name.startswith(f"line{n}_")] for n in range(1, LINES + 1)
        ]

    def report_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("line")}
        data["lines"] = [
            {
                "name": (self.cleaned_data.get(f"line{n}_name") or "").strip(),
                **{
                    k: self.cleaned_data.get(f"line{n}_{k}")
                    for k in (
                        "planned_total",
                        "month_amount",
                        "cumulative",
                        "industrial_month",
                        "industrial_cumulative",
                    )
                },
            }
            for n in range(1, LINES + 1)
        ]
        return data


def initial_period() -> dict[str, int]:
    """The period being reported now: last month (January's figures come with February's)."""
    today = timezone.localdate()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return {"year": year, "month": max(month, 2)}


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Excel 文件"), help_text=_("按“企业直报导入模板”填写的 .xlsx 文件。"))
