"""The monthly report form (console and H5) and the Excel import form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimatong.directory.models import Organization
from yimatong.stats.checks import labels, required_fields
from yimatong.stats.models import FLOWS, AboveScaleMember

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


# The year's 规上工业 set (统计部门) --------------------------------------------------------------------

# GB/T 4754 门类 B–D (codes 06–46): the industries a 规上工业 enterprise belongs to.
INDUSTRIAL_CODE = r"^(0[6-9]|[1-3][0-9]|4[0-6])"


class _SetChangeForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, year: int, month: int | None = None, **kwargs: Any):
        super().__init__(*args, initial={"year": year, "month": month}, **kwargs)
        self.year = year


class EntrantForm(_SetChangeForm):
    """新增入库: an industrial resident not yet in the year's set, from a month on."""

    organization = forms.ModelChoiceField(label=_("企业"), queryset=Organization.objects.none())
    month = forms.TypedChoiceField(
        label=_("自报告期起计入"),
        coerce=int,
        choices=period_choices,
        help_text=_("该期及以后的 1–n 月累计数计入。"),
    )
    basis = forms.ChoiceField(
        label=_("入库方式"),
        choices=[
            (AboveScaleMember.Basis.NEW.value, AboveScaleMember.Basis.NEW.label),
            (AboveScaleMember.Basis.GROWN.value, AboveScaleMember.Basis.GROWN.label),
        ],
        widget=forms.RadioSelect,
        help_text=_("同口径基数取企业本身上年同期数；上年不存在的月份计 0。"),
    )
    note = forms.CharField(
        label=_("入库说明"),
        max_length=200,
        help_text=_("例如：2024 年 3 月投产，主营业务收入已达 2000 万元。"),
    )

    def __init__(self, *args: Any, year: int, **kwargs: Any):
        super().__init__(*args, year=year, **kwargs)
        self.fields["organization"].queryset = (
            Organization.objects.filter(
                org_type=Organization.Type.RESIDENT, industry__code__regex=INDUSTRIAL_CODE
            )
            .exclude(pk__in=AboveScaleMember.objects.filter(year=year).values("organization_id"))
            .order_by("name")
        )


class ExitForm(_SetChangeForm):
    """退库: a member of the year's set that has not left, from a month on."""

    organization = forms.ModelChoiceField(label=_("企业"), queryset=Organization.objects.none())
    month = forms.TypedChoiceField(
        label=_("自报告期起不再计入"),
        coerce=int,
        choices=period_choices,
        help_text=_("该期及以后既不计入本年数，也不计入基数。"),
    )
    reason = forms.ChoiceField(label=_("退库原因"), choices=AboveScaleMember.Exit.choices)
    note = forms.CharField(
        label=_("退库说明"), max_length=200, required=False, help_text=_("原因为“其他”时必填。")
    )

    def __init__(self, *args: Any, year: int, **kwargs: Any):
        super().__init__(*args, year=year, **kwargs)
        self.fields["organization"].queryset = Organization.objects.filter(
            pk__in=AboveScaleMember.objects.filter(year=year, left_month__isnull=True).values(
                "organization_id"
            )
        ).order_by("name")


class RefixForm(_SetChangeForm):
    reason = forms.CharField(
        label=_("重新确定的原因"),
        max_length=200,
        help_text=_("例如：某企业上年 12 月报表逾期补报。"),
    )
