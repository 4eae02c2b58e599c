"""Forms of the console (codes, replies) and of the investor portal (consult, book a visit)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.directory.models import ChainNode
from yimatong.investment.models import Project
from yimatong.lib.identifiers import clean_mobile
from yimatong.services.models import is_park_workday
from yimatong.wechat.models import MAX_TEMPORARY_DAYS, OfficialAccount, QrCode


class CodeForm(forms.Form):
    account = forms.ModelChoiceField(
        label=_("公众号"), queryset=OfficialAccount.objects.filter(is_active=True)
    )
    name = forms.CharField(
        label=_("名称"), max_length=80, help_text=_("如：2026 生物医药大会展台、招商手册封底。")
    )
    purpose = forms.ChoiceField(label=_("用途"), choices=QrCode.Purpose.choices)
    event_name = forms.CharField(label=_("活动/展会"), max_length=120, required=False)
    promoter = forms.ModelChoiceField(label=_("招商专员"), queryset=User.objects.none(), required=False)
    chain_node = forms.ModelChoiceField(
        label=_("产业链环节"), queryset=ChainNode.objects.all(), required=False
    )
    project = forms.ModelChoiceField(label=_("项目"), queryset=Project.objects.none(), required=False)
    is_permanent = forms.BooleanField(
        label=_("永久二维码"),
        required=False,
        help_text=_("印在长期使用的宣传品上；每个公众号最多 10 万个。临时二维码最长 30 天。"),
    )
    days = forms.IntegerField(
        label=_("有效天数（临时）"),
        min_value=1,
        max_value=MAX_TEMPORARY_DAYS,
        initial=MAX_TEMPORARY_DAYS,
        required=False,
    )
    caption = forms.CharField(
        label=_("印刷说明文字"), max_length=60, required=False, help_text=_("印在二维码下方。")
    )
    welcome_text = forms.CharField(
        label=_("扫码欢迎语"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("留空则使用公众号的关注欢迎语。"),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["promoter"].queryset = User.objects.filter(
            is_active=True, role__in=[User.Role.PROMOTER, User.Role.TEAM_LEAD]
        ).order_by("username")
        self.fields["project"].queryset = Project.objects.visible_to(user).order_by("-pk")
        if access.role_of(user) == User.Role.PROMOTER:
            self.fields["promoter"].initial = user.pk


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("回复内容"), max_length=600, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 600})
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("负责人"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            is_active=True, role__in=[User.Role.PROMOTER, User.Role.TEAM_LEAD, User.Role.ADMIN]
        ).order_by("username")


# The investor portal ---------------------------------------------------------------------------


class ConsultForm(forms.Form):
    company_name = forms.CharField(label=_("企业/机构名称"), max_length=120)
    contact_name = forms.CharField(label=_("您的姓名"), max_length=60)
    contact_phone = forms.CharField(label=_("手机号"), max_length=20)
    chain_node = forms.ModelChoiceField(
        label=_("关注的产业方向"),
        queryset=ChainNode.objects.all(),
        required=False,
        empty_label=_("（不确定）"),
    )
    interest = forms.CharField(
        label=_("咨询内容"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("项目情况、投资规模、用地或厂房需求等。"),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["chain_node"].label_from_instance = lambda node: node.display_name()

    def clean_contact_phone(self) -> str:
        return clean_mobile(self.cleaned_data["contact_phone"])


class VisitBookingForm(forms.Form):
    date = forms.DateField(label=_("考察日期"), widget=forms.DateInput(attrs={"type": "date"}))
    slot = forms.ChoiceField(
        label=_("时间"), choices=[("09:30", _("上午 09:30")), ("14:30", _("下午 14:30"))]
    )
    visitor_count = forms.IntegerField(label=_("来访人数"), min_value=1, max_value=50, initial=2)
    visitors = forms.CharField(label=_("来访人员"), max_length=200, required=False, help_text=_("姓名、职务"))
    notes = forms.CharField(
        label=_("想了解的内容"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean_date(self) -> dt.date:
        value = self.cleaned_data["date"]
        today = self.today
        if value <= today:
            raise forms.ValidationError(_("考察日期须晚于今天。"))
        if value > today + dt.timedelta(days=90):
            raise forms.ValidationError(_("只能预约 90 天内的考察。"))
        if not is_park_workday(value):
            # The demands' calendar: State Council holidays and make-up days, and the park's own.
            if value.weekday() >= 5:
                raise forms.ValidationError(_("周末不安排考察，请选择工作日。"))
            raise forms.ValidationError(
                _("%(date)s 是节假日，不安排考察，请选择工作日。") % {"date": value.isoformat()}
            )
        return value

    def starts_at(self) -> dt.datetime:
        hour, minute = (int(x) for x in self.cleaned_data["slot"].split(":"))
        return timezone.make_aware(dt.datetime.combine(self.cleaned_data["date"], dt.time(hour, minute)))


class PortalMessageForm(forms.Form):
    text = forms.CharField(label=_("留言"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
