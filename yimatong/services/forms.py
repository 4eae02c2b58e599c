"""Forms of the demand lifecycle: one small form per step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yimatong.accounts.models import Department, User
from yimatong.directory.models import Organization
from yimatong.services.models import Collateral, Demand, DemandCategory, PlanItem, Policy, Referral


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input (Django's documented pattern); each is checked by the action
    that stores it, which names the file it refuses."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(AttachmentsField, self).clean(f, initial) for f in files]


def attachments_field() -> AttachmentsField:
    return AttachmentsField(
        label=_("附件"),
        required=False,
        help_text=_("可选，最多 5 个：PDF、图片、Word、Excel。"),
    )


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
    attachments = attachments_field()

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
    attachments = attachments_field()


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


class ConditionsField(forms.JSONField):
    """JSON that says where it breaks (line and column), as the editor's preview does."""

    def to_python(self, value: Any) -> Any:
        import json

        if isinstance(value, str) and value.strip():
            try:
                json.loads(value)
            except json.JSONDecodeError as exc:
                raise forms.ValidationError(
                    _("不是有效的 JSON：第 %(line)s 行第 %(col)s 列。"),
                    params={"line": exc.lineno, "col": exc.colno},
                ) from None
        return super().to_python(value)


class PolicyForm(forms.Form):
    code = forms.SlugField(
        label=_("编号"), max_length=40, help_text=_("英文字母、数字和连字符，如 rd-reward-2026。")
    )
    title = forms.CharField(label=_("政策名称"), max_length=150)
    issuer = forms.CharField(label=_("发布机构"), max_length=120)
    document_number = forms.CharField(label=_("文号"), max_length=60, required=False)
    valid_from = forms.DateField(
        label=_("有效期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    benefit = forms.ChoiceField(label=_("支持方式"), choices=Policy.Benefit.choices)
    amount = forms.DecimalField(
        label=_("支持金额（万元）"), max_digits=12, decimal_places=2, required=False, min_value=0
    )
    amount_note = forms.CharField(label=_("金额说明"), max_length=200, required=False)
    mode = forms.ChoiceField(label=_("兑现方式"), choices=Policy.Mode.choices)
    budget = forms.DecimalField(
        label=_("资金预算（万元）"), max_digits=14, decimal_places=2, required=False, min_value=0
    )
    materials = forms.CharField(label=_("申报材料"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    summary = forms.CharField(label=_("政策要点"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    conditions = ConditionsField(
        label=_("适用条件"),
        widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}),
        help_text=_(
            '条件树：{"all": [...]}、{"any": [...]}、{"not": …}，叶子如 {"fact": "rd_ratio", "op": ">=", "value": 5}。'
        ),
    )
    is_published = forms.BooleanField(label=_("发布"), required=False)

    def __init__(self, *args: Any, policy: Policy | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.policy = policy

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        clash = Policy.objects.filter(code=code)
        if self.policy is not None:
            clash = clash.exclude(pk=self.policy.pk)
        if clash.exists():
            raise forms.ValidationError(_("编号“%(code)s”已被使用。") % {"code": code})
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("valid_from") and data.get("valid_to") and data["valid_from"] > data["valid_to"]:
            self.add_error("valid_to", _("有效期结束日期不能早于开始日期。"))
        return data


class ProfileForm(forms.Form):
    revenue = forms.DecimalField(
        label=_("上年营业收入（万元）"), max_digits=14, decimal_places=2, required=False, min_value=0
    )
    rd_ratio = forms.DecimalField(
        label=_("研发投入占比（%）"),
        max_digits=6,
        decimal_places=2,
        required=False,
        min_value=0,
        max_value=100,
    )
    employees = forms.IntegerField(label=_("从业人数"), required=False, min_value=0)
    patents_invention = forms.IntegerField(label=_("发明专利（件）"), required=False, min_value=0)
    patents_utility = forms.IntegerField(label=_("实用新型专利（件）"), required=False, min_value=0)
    patents_design = forms.IntegerField(label=_("外观设计专利（件）"), required=False, min_value=0)
    is_tech_sme = forms.NullBooleanField(label=_("科技型中小企业"), required=False)


class PayForm(forms.Form):
    amount = forms.DecimalField(
        label=_("兑付金额（万元）"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )


class PlanForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("企业"),
        queryset=Organization.objects.filter(org_type=Organization.Type.RESIDENT),
        error_messages={"invalid_choice": _("一企一策只能为入驻企业制定。")},
    )
    officer = forms.ModelChoiceField(
        label=_("首席服务官"),
        queryset=User.objects.filter(is_active=True, role=User.Role.SERVICE),
        error_messages={"invalid_choice": _("首席服务官须是在职的服务部门人员。")},
    )
    goals = forms.CharField(label=_("服务目标"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PlanItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=PlanItem.Kind.choices)
    title = forms.CharField(label=_("事项"), max_length=200)
    owner = forms.CharField(label=_("责任人/单位"), max_length=80)
    deadline = forms.DateField(label=_("完成时限"), widget=forms.DateInput(attrs={"type": "date"}))


class PlanItemStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=PlanItem.Status.choices)
    resolution = forms.CharField(label=_("办理情况"), max_length=300, required=False)


class ProgressForm(forms.Form):
    month = forms.DateField(
        label=_("月份"), widget=forms.DateInput(attrs={"type": "month"}), input_formats=["%Y-%m", "%Y-%m-%d"]
    )
    summary = forms.CharField(label=_("本月进展"), widget=forms.Textarea(attrs={"rows": 3}))


class FinancingNeedForm(forms.Form):
    amount = forms.DecimalField(
        label=_("融资金额（万元）"), max_digits=12, decimal_places=2, min_value=Decimal("1")
    )
    term_months = forms.IntegerField(label=_("期限（月）"), min_value=1, max_value=360)
    purpose = forms.CharField(label=_("用途"), max_length=200)
    collateral = forms.ChoiceField(label=_("可提供的担保方式"), choices=Collateral.choices)


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("结果"), choices=Referral.Outcome.choices)
    approved_amount = forms.DecimalField(
        label=_("批准金额（万元）"), max_digits=12, decimal_places=2, required=False, min_value=0
    )
    disbursed_on = forms.DateField(
        label=_("放款日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
