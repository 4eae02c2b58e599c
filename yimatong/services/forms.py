"""Forms of the demand lifecycle: one small form per step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yimatong.accounts.models import Department
from yimatong.directory.models import Organization
from yimatong.services.models import Demand, DemandCategory


class DemandForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("企业"),
        queryset=Organization.objects.filter(org_type=Organization.Type.RESIDENT),
        required=False,
    )
    category = forms.ModelChoiceField(label=_("类别"), queryset=DemandCategory.objects.filter(is_active=True))
    title = forms.CharField(label=_("标题"), max_length=100)
    description = forms.CharField(
        label=_("诉求内容"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("遇到的问题、希望园区协调的事项、时间要求。"),
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=Demand.Urgency.choices, initial=Demand.Urgency.NORMAL
    )

    def __init__(self, *args: Any, on_behalf: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if on_behalf:
            self.fields["organization"].required = True
        else:
            del self.fields["organization"]


class AcceptForm(forms.Form):
    category = forms.ModelChoiceField(label=_("类别"), queryset=DemandCategory.objects.filter(is_active=True))
    promised_days = forms.IntegerField(
        label=_("承诺时限（工作日）"), min_value=0, max_value=60, required=False
    )


class DispatchForm(forms.Form):
    lead = forms.ModelChoiceField(label=_("承办部门"), queryset=Department.objects.all())
    co = forms.ModelMultipleChoiceField(
        label=_("协办部门"), queryset=Department.objects.all(), required=False
    )
    note = forms.CharField(label=_("分派意见"), max_length=300, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class InfoForm(forms.Form):
    what = forms.CharField(label=_("需补充的材料"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class SupplyForm(forms.Form):
    text = forms.CharField(label=_("补充说明"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ExtensionForm(forms.Form):
    days = forms.IntegerField(label=_("延期（工作日）"), min_value=1, max_value=30)
    reason = forms.CharField(label=_("延期理由"), max_length=200)


class DecideExtensionForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("审批"), choices=[("1", _("批准")), ("0", _("不批准"))], coerce=lambda v: v == "1"
    )
    note = forms.CharField(label=_("意见"), max_length=300, required=False)


class CompleteForm(forms.Form):
    resolution = forms.CharField(
        label=_("办理结果"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )


class ReviewForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("审核"), choices=[("1", _("通过")), ("0", _("不通过，重办"))], coerce=lambda v: v == "1"
    )
    note = forms.CharField(label=_("审核意见"), max_length=500, required=False)


class RateForm(forms.Form):
    rating = forms.ChoiceField(label=_("评价"), choices=Demand.Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("意见"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("不满意时必填。"),
    )


class SuperviseForm(forms.Form):
    note = forms.CharField(label=_("督办事项"), max_length=300)
