"""Validation of investment input, shared by the console and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimatong.accounts import access
from yimatong.accounts.models import Department, Team, User
from yimatong.directory.forms import (
    ChainNodeChoiceField,
    UserChoiceField,
    UserMultipleChoiceField,
    chain_choices,
)
from yimatong.directory.models import ChainNode, Contact, Organization
from yimatong.investment.models import (
    EXITS,
    Activity,
    AdmissionReview,
    Channel,
    Document,
    InvestmentSettings,
    Lead,
    Problem,
    Project,
    ScoreItem,
    SiteVisit,
    Stage,
)
from yimatong.lib.identifiers import clean_mobile, clean_uscc

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


def _chain_field(form: forms.Form, name: str = "chain_node") -> None:
    field = form.fields[name]
    field.queryset = ChainNode.objects.all()
    # A callable: the tree is read when the field is rendered, not when a posted form (the API's,
    # the console's on submit) is only validated, which needs no choices.
    field.choices = lambda: [("", "—")] + [(n.pk, field.label_from_instance(n)) for n in chain_choices()]


def staff_choices() -> Any:
    return User.objects.filter(
        is_active=True, role__in=[User.Role.PROMOTER, User.Role.TEAM_LEAD]
    ).select_related("team")


class LeadForm(forms.Form):
    company_name = forms.CharField(label=_("企业/投资方名称"), max_length=120)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=60, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    chain_node = ChainNodeChoiceField(
        label=_("产业链环节"), queryset=ChainNode.objects.none(), required=False
    )
    planned_investment = forms.DecimalField(label=_("意向投资额（万元）"), required=False, **MONEY)
    interest = forms.CharField(label=_("意向说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    channel = forms.ChoiceField(label=_("来源渠道"), choices=Channel.choices, initial=Channel.STAFF)
    event = forms.CharField(label=_("活动/展会"), max_length=120, required=False)
    referrer_name = forms.CharField(label=_("推荐人"), max_length=60, required=False)
    source_note = forms.CharField(label=_("来源说明"), max_length=200, required=False)
    confirm_duplicates = forms.BooleanField(label=_("已核对，不是撞单，仍然录入"), required=False)

    def __init__(self, *args: Any, user: User, instance: Lead | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.instance = instance
        self.duplicates: Any = None
        _chain_field(self)
        if instance is not None:
            for name in ("channel", "event", "referrer_name", "source_note", "confirm_duplicates"):
                del self.fields[name]

    def clean_company_name(self) -> str:
        return " ".join(self.cleaned_data["company_name"].split())

    def clean_uscc(self) -> str:
        raw = self.cleaned_data.get("uscc", "")
        return clean_uscc(raw) if raw.strip() else ""

    def clean_contact_phone(self) -> str:
        raw = self.cleaned_data.get("contact_phone", "")
        return clean_mobile(raw) if raw.strip() else ""

    def clean(self) -> dict[str, Any]:
        from yimatong.investment.actions.leads import find_duplicates

        data = super().clean()
        if self.instance is None and data.get("company_name") and not data.get("confirm_duplicates"):
            self.duplicates = find_duplicates(
                company_name=data["company_name"],
                uscc=data.get("uscc", ""),
                phone=data.get("contact_phone", ""),
            )
            if self.duplicates:
                raise forms.ValidationError(
                    _(
                        "发现可能重复的企业或线索（撞单），请核对后勾选“已核对，不是撞单，仍然录入”，或与现有线索合并。"
                    ),
                    code="duplicates",
                )
        return data

    def lead_data(self) -> dict[str, Any]:
        keys = (
            "company_name",
            "uscc",
            "contact_name",
            "contact_phone",
            "chain_node",
            "planned_investment",
            "interest",
        )
        return {k: self.cleaned_data.get(k) for k in keys}

    def source_data(self) -> dict[str, Any]:
        return {
            "channel": self.cleaned_data["channel"],
            "event": self.cleaned_data.get("event", ""),
            "referrer_name": self.cleaned_data.get("referrer_name", ""),
            "note": self.cleaned_data.get("source_note", ""),
            "referred_by": self.user if self.cleaned_data["channel"] == Channel.REFERRAL else None,
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)


class NoteForm(forms.Form):
    text = forms.CharField(label=_("跟进记录"), widget=forms.Textarea(attrs={"rows": 2}))


class AssignForm(forms.Form):
    owner = UserChoiceField(label=_("负责人"), queryset=User.objects.none(), empty_label=_("选择负责人"))

    def __init__(self, *args: Any, user: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        staff = staff_choices()
        self.fields["owner"].queryset = (
            staff if user.role == User.Role.ADMIN else staff.filter(team_id=user.team_id)
        )


class QualifyForm(forms.Form):
    name = forms.CharField(label=_("项目名称"), max_length=150)
    chain_node = ChainNodeChoiceField(
        label=_("产业链环节"), queryset=ChainNode.objects.none(), required=False
    )
    planned_investment = forms.DecimalField(label=_("计划投资（万元）"), required=False, **MONEY)
    stage = forms.ChoiceField(
        label=_("起始阶段"),
        choices=[
            (Stage.CONTACT, Stage.CONTACT.label),
            (Stage.VISIT, Stage.VISIT.label),
            (Stage.NEGOTIATION, Stage.NEGOTIATION.label),
        ],
    )
    description = forms.CharField(
        label=_("项目概况"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _chain_field(self)


class MergeForm(forms.Form):
    other = forms.CharField(
        label=_("合并进来的线索编号"),
        max_length=20,
        help_text=_("该线索的来源、跟进记录和考察都会并入当前线索。"),
    )

    def __init__(self, *args: Any, user: User, keep: Lead, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user, self.keep = user, keep

    def clean_other(self) -> Lead:
        code = self.cleaned_data["other"].strip().upper()
        other = Lead.objects.filter(access.lead_edit_scope(self.user), code=code).first()
        if other is None:
            raise forms.ValidationError(
                _("没有编号为 %(code)s 的线索，或您无权合并它。"), params={"code": code}
            )
        if other.pk == self.keep.pk:
            raise forms.ValidationError(_("不能把线索合并到它自己。"))
        if not other.is_open:
            raise forms.ValidationError(_("线索 %(code)s 已关闭，不能合并。"), params={"code": code})
        return other


class ProjectForm(forms.Form):
    name = forms.CharField(label=_("项目名称"), max_length=150)
    organization = forms.ModelChoiceField(
        label=_("投资方"), queryset=Organization.objects.none(), empty_label="—"
    )
    contact = forms.ModelChoiceField(
        label=_("投资方联系人"), queryset=Contact.objects.none(), required=False, empty_label="—"
    )
    chain_node = ChainNodeChoiceField(
        label=_("产业链环节"), queryset=ChainNode.objects.none(), required=False
    )
    stage = forms.ChoiceField(
        label=_("起始阶段"),
        choices=[
            (Stage.LEAD, Stage.LEAD.label),
            (Stage.CONTACT, Stage.CONTACT.label),
            (Stage.VISIT, Stage.VISIT.label),
            (Stage.NEGOTIATION, Stage.NEGOTIATION.label),
        ],
        initial=Stage.CONTACT,
    )
    source_channel = forms.ChoiceField(label=_("来源渠道"), choices=Channel.choices, initial=Channel.STAFF)
    planned_investment = forms.DecimalField(label=_("计划投资（万元）"), required=False, **MONEY)
    expected_output = forms.DecimalField(label=_("预计年产值（万元）"), required=False, **MONEY)
    expected_tax = forms.DecimalField(label=_("预计年税收（万元）"), required=False, **MONEY)
    land_mu = forms.DecimalField(
        label=_("用地（亩）"), required=False, max_digits=10, decimal_places=2, min_value=Decimal("0")
    )
    floor_area = forms.DecimalField(
        label=_("建筑面积（㎡）"), required=False, max_digits=12, decimal_places=2, min_value=Decimal("0")
    )
    jobs = forms.IntegerField(label=_("预计就业（人）"), required=False, min_value=0)
    priority = forms.ChoiceField(
        label=_("优先级"), choices=Project.Priority.choices, initial=Project.Priority.B
    )
    description = forms.CharField(
        label=_("项目概况"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner = UserChoiceField(label=_("负责人"), queryset=User.objects.none(), required=False, empty_label="—")
    team = forms.ModelChoiceField(
        label=_("负责团队"), queryset=Team.objects.all(), required=False, empty_label="—"
    )
    collaborators = UserMultipleChoiceField(label=_("协办人"), queryset=User.objects.none(), required=False)
    codename = forms.CharField(
        label=_("保密代号"),
        max_length=60,
        required=False,
        help_text=_("填写后，除负责人和知情人外只显示代号。"),
    )
    insiders = UserMultipleChoiceField(label=_("知情人"), queryset=User.objects.none(), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, instance: Project | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = project_initial(instance)
        super().__init__(*args, **kwargs)
        self.user, self.instance = user, instance
        _chain_field(self)
        orgs = Organization.objects.editable_by(user)
        contacts = Contact.objects.editable_by(user)
        if instance is not None:
            # The current investor stays a valid choice even when this user could not pick it.
            orgs = Organization.objects.filter(Q(pk__in=orgs.values("pk")) | Q(pk=instance.organization_id))
            contacts = Contact.objects.filter(
                Q(pk__in=contacts.values("pk")) | Q(pk=instance.contact_id or 0)
            )
            del self.fields["stage"]
        self.fields["organization"].queryset = orgs
        self.fields["contact"].queryset = contacts.select_related("organization")
        staff = staff_choices()
        current = Q(pk__in=instance.collaborators.values("pk")) if instance else Q(pk__in=[])
        self.fields["collaborators"].queryset = User.objects.filter(Q(pk__in=staff.values("pk")) | current)
        insiders = Q(pk__in=instance.insiders.values("pk")) if instance else Q(pk__in=[])
        self.fields["insiders"].queryset = User.objects.filter(
            Q(is_active=True, role__in=list(access.STAFF_ROLES)) | insiders
        )
        if access.can_reassign_organization(user):
            owners = staff if user.role == User.Role.ADMIN else staff.filter(team_id=user.team_id)
            keep = Q(pk=instance.owner_id) if instance else Q(pk__in=[])
            self.fields["owner"].queryset = User.objects.filter(Q(pk__in=owners.values("pk")) | keep)
            if user.role != User.Role.ADMIN:
                keep_team = Q(pk=instance.team_id) if instance and instance.team_id else Q(pk__in=[])
                self.fields["team"].queryset = Team.objects.filter(Q(pk=user.team_id) | keep_team)
        else:
            del self.fields["owner"]
            del self.fields["team"]
        if instance is not None and not instance.shows_investor_to(user):
            # Someone who sees only the codename cannot see or change the investor or the insiders.
            for name in ("organization", "contact", "insiders", "codename"):
                del self.fields[name]

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        contact, org = data.get("contact"), data.get("organization")
        if contact is not None and org is not None and contact.organization_id != org.pk:
            self.add_error("contact", _("联系人 %(name)s 不属于所选投资方。") % {"name": contact.name})
        if data.get("insiders") and not data.get("codename", getattr(self.instance, "codename", "")):
            self.add_error("insiders", _("只有设置了保密代号的项目才需要指定知情人。"))
        return data

    def action_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


def project_initial(project: Project) -> dict[str, Any]:
    from django.forms.models import model_to_dict

    names = [n for n in ProjectForm.base_fields if n not in ("version", "stage")]
    initial = model_to_dict(project, fields=names)
    initial["collaborators"] = [u.pk for u in initial.get("collaborators", [])]
    initial["insiders"] = [u.pk for u in initial.get("insiders", [])]
    initial["version"] = project.version
    return initial


class GateForm(forms.Form):
    """The facts a stage move needs, built for the target stage (only what is still missing,
    plus the reason when the move needs one)."""

    reason = forms.CharField(label=_("原因"), max_length=200, required=False)
    agreement_type = forms.ChoiceField(
        label=_("协议类型"), choices=[("", "—"), *Project.Agreement.choices], required=False
    )
    signed_on = forms.DateField(label=_("签约日期"), required=False, widget=DATE)
    contracted_investment = forms.DecimalField(label=_("合同投资（万元）"), required=False, **MONEY)
    registered_uscc = forms.CharField(label=_("注册企业统一社会信用代码"), max_length=30, required=False)
    registered_name = forms.CharField(
        label=_("注册企业名称"),
        max_length=120,
        required=False,
        help_text=_("系统中已有该代码的企业时可不填。"),
    )
    registered_on = forms.DateField(label=_("注册日期"), required=False, widget=DATE)
    construction_started_on = forms.DateField(label=_("开工日期"), required=False, widget=DATE)
    fixed_asset_investment = forms.DecimalField(label=_("累计固定资产投资（万元）"), required=False, **MONEY)
    production_started_on = forms.DateField(label=_("投产日期"), required=False, widget=DATE)
    full_capacity_on = forms.DateField(label=_("达产日期"), required=False, widget=DATE)
    expected_stage = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, project: Project, to: str, **kwargs: Any):
        from yimatong.investment.actions.projects import missing_facts, needs_reason

        kwargs.setdefault("initial", {})["expected_stage"] = project.stage
        super().__init__(*args, **kwargs)
        self.project, self.to = project, to
        missing = missing_facts(project, to, {})
        self.needs_reason = needs_reason(project.stage, to)
        if "registered_organization" in missing:
            missing.update({"registered_uscc": [], "registered_name": []})
        for name in list(self.fields):
            if name in ("expected_stage", "reason"):
                continue
            if name not in missing:
                del self.fields[name]
        if not self.needs_reason:
            del self.fields["reason"]
        else:
            self.fields["reason"].required = True
        for name in (
            "agreement_type",
            "signed_on",
            "contracted_investment",
            "registered_uscc",
            "registered_on",
            "construction_started_on",
            "fixed_asset_investment",
            "production_started_on",
            "full_capacity_on",
        ):
            if name in self.fields:
                self.fields[name].required = True

    @property
    def is_empty(self) -> bool:
        return set(self.fields) <= {"expected_stage"}

    def clean_registered_uscc(self) -> str:
        raw = self.cleaned_data.get("registered_uscc", "")
        return clean_uscc(raw) if raw.strip() else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        today = timezone.localdate()
        for name in (
            "signed_on",
            "registered_on",
            "construction_started_on",
            "production_started_on",
            "full_capacity_on",
        ):
            if data.get(name) and data[name] > today:
                self.add_error(name, _("日期不能晚于今天。"))
        code = data.get("registered_uscc")
        if code and not data.get("registered_name") and not Organization.objects.filter(uscc=code).exists():
            self.add_error("registered_name", _("系统中没有该代码的企业，请填写注册企业名称。"))
        return data

    def facts(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("reason", "expected_stage")}


class ContractForm(forms.Form):
    agreement_type = forms.ChoiceField(label=_("协议类型"), choices=Project.Agreement.choices)
    signed_on = forms.DateField(label=_("签约日期"), widget=DATE)
    contracted_investment = forms.DecimalField(label=_("合同投资（万元）"), **MONEY)
    note = forms.CharField(label=_("变更说明"), max_length=200, required=False)


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("方式"), choices=Activity.Kind.choices)
    occurred_on = forms.DateField(label=_("日期"), widget=DATE, initial=timezone.localdate)
    summary = forms.CharField(label=_("摘要"), max_length=200)
    notes = forms.CharField(label=_("详细记录"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    participants = UserMultipleChoiceField(label=_("参加人员"), queryset=User.objects.none(), required=False)
    external_participants = forms.CharField(label=_("对方参加人员"), max_length=200, required=False)
    leader = UserChoiceField(
        label=_("带队领导"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    leader_name = forms.CharField(
        label=_("带队领导（其他）"),
        max_length=60,
        required=False,
        help_text=_("不是系统用户的领导，如区委书记、区长。"),
    )
    next_follow_up_on = forms.DateField(label=_("下次跟进日期"), widget=DATE, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        active = User.objects.filter(is_active=True, role__in=list(access.STAFF_ROLES))
        self.fields["participants"].queryset = active
        self.fields["leader"].queryset = active.filter(
            role__in=[User.Role.LEADER, User.Role.ADMIN, User.Role.TEAM_LEAD]
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("kind") == Activity.Kind.LEADER_VISIT
            and not data.get("leader")
            and not data.get("leader_name")
        ):
            self.add_error("leader", _("领导带队的活动须记录带队领导。"))
        if data.get("occurred_on") and data["occurred_on"] > timezone.localdate():
            self.add_error(
                "occurred_on", _("活动日期不能晚于今天；计划中的安排请填在“下次跟进日期”或考察预约。")
            )
        follow_up = data.get("next_follow_up_on")
        if follow_up and data.get("occurred_on") and follow_up < data["occurred_on"]:
            self.add_error("next_follow_up_on", _("下次跟进日期不能早于本次活动日期。"))
        return data


class VisitForm(forms.Form):
    title = forms.CharField(label=_("事由"), max_length=150)
    purpose = forms.ChoiceField(
        label=_("类型"),
        choices=SiteVisit.Purpose.choices,
        initial=SiteVisit.Purpose.SITE_VISIT,
        required=False,
    )
    starts_at = forms.DateTimeField(
        label=_("开始时间"), widget=DATETIME, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    ends_at = forms.DateTimeField(
        label=_("结束时间"), widget=DATETIME, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    location = forms.CharField(label=_("地点"), max_length=150, required=False)
    visitors = forms.CharField(label=_("来访人员"), max_length=200, required=False)
    visitor_count = forms.IntegerField(label=_("来访人数"), min_value=1, max_value=500, initial=1)
    hosts = UserMultipleChoiceField(label=_("接待人员"), queryset=User.objects.none(), required=False)
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["hosts"].queryset = User.objects.filter(is_active=True, role__in=list(access.STAFF_ROLES))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("结束时间必须晚于开始时间。"))
        data["purpose"] = data.get("purpose") or SiteVisit.Purpose.SITE_VISIT
        return data


ALLOWED_UPLOADS = {
    # extension: (content types browsers send, the file's first bytes)
    "pdf": ({"application/pdf"}, (b"%PDF",)),
    "docx": ({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}, (b"PK\x03\x04",)),
    "xlsx": ({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, (b"PK\x03\x04",)),
    "pptx": ({"application/vnd.openxmlformats-officedocument.presentationml.presentation"}, (b"PK\x03\x04",)),
    "doc": ({"application/msword"}, (b"\xd0\xcf\x11\xe0",)),
    "xls": ({"application/vnd.ms-excel"}, (b"\xd0\xcf\x11\xe0",)),
    "jpg": ({"image/jpeg"}, (b"\xff\xd8\xff",)),
    "jpeg": ({"image/jpeg"}, (b"\xff\xd8\xff",)),
    "png": ({"image/png"}, (b"\x89PNG",)),
}


def check_upload(upload: Any) -> Any:
    """Type by extension *and* by content (a renamed .exe is refused), and the size limit."""
    limit = settings.DOCUMENT_MAX_MB * 1024 * 1024
    if upload.size > limit:
        raise forms.ValidationError(
            _("文件太大：%(size).1f MB，上限为 %(limit)d MB。"),
            params={"size": upload.size / 1024 / 1024, "limit": settings.DOCUMENT_MAX_MB},
            code="too_large",
        )
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if extension not in ALLOWED_UPLOADS:
        raise forms.ValidationError(
            _("不支持 .%(ext)s 文件，可上传：%(allowed)s。"),
            params={"ext": extension or "?", "allowed": "、".join(sorted(ALLOWED_UPLOADS))},
            code="file_type",
        )
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in ALLOWED_UPLOADS[extension][1]):
        raise forms.ValidationError(
            _("文件内容与扩展名 .%(ext)s 不符，请确认文件未损坏。"),
            params={"ext": extension},
            code="file_content",
        )
    return upload


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=Document.Kind.choices)
    title = forms.CharField(label=_("标题"), max_length=150)
    visibility = forms.ChoiceField(label=_("可见范围"), choices=Document.Visibility.choices)
    file = forms.FileField(label=_("文件"))
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def clean_file(self) -> Any:
        return check_upload(self.cleaned_data["file"])


class VersionForm(forms.Form):
    file = forms.FileField(label=_("新版本文件"))
    note = forms.CharField(label=_("修改说明"), max_length=200, required=False)

    def clean_file(self) -> Any:
        return check_upload(self.cleaned_data["file"])


class CapitalForm(forms.Form):
    arrived_on = forms.DateField(label=_("到位日期"), widget=DATE)
    amount = forms.DecimalField(
        label=_("到位金额（万元）"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def clean_arrived_on(self) -> dt.date:
        value = self.cleaned_data["arrived_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("到位日期不能晚于今天。"))
        return value


class DispatchedItemForm(forms.Form):
    """A milestone or a problem. The department it is dispatched to reports on it (dates, status,
    resolution) but does not rewrite what it was asked, move its deadline or pass it on: with
    ``reporting_only`` those fields keep their stored values whatever is posted."""

    ASSIGNED: tuple[str, ...] = ()

    def __init__(self, *args: Any, reporting_only: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if reporting_only:
            for name in self.ASSIGNED:
                self.fields[name].disabled = True

    @classmethod
    def initial_from(cls, item: Any) -> dict[str, Any]:
        initial = {name: getattr(item, name) for name in cls.base_fields if hasattr(item, name)}
        initial["department"] = item.department_id
        return initial


class MilestoneForm(DispatchedItemForm):
    ASSIGNED = ("name", "planned_on", "department")

    name = forms.CharField(label=_("节点"), max_length=120)
    planned_on = forms.DateField(label=_("计划完成"), widget=DATE)
    actual_on = forms.DateField(label=_("实际完成"), widget=DATE, required=False)
    department = forms.ModelChoiceField(
        label=_("责任单位"), queryset=Department.objects.all(), required=False, empty_label="—"
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class ProblemForm(DispatchedItemForm):
    ASSIGNED = ("description", "department", "deadline")

    description = forms.CharField(label=_("问题"), widget=forms.Textarea(attrs={"rows": 2}))
    department = forms.ModelChoiceField(
        label=_("责任单位"), queryset=Department.objects.all(), empty_label="—"
    )
    deadline = forms.DateField(label=_("办结时限"), widget=DATE)
    status = forms.ChoiceField(label=_("状态"), choices=Problem.Status.choices, initial=Problem.Status.OPEN)
    resolution = forms.CharField(
        label=_("解决情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("status") == Problem.Status.RESOLVED and not (data.get("resolution") or "").strip():
            self.add_error("resolution", _("标记已解决须填写解决情况。"))
        return data


class AdmissionForm(forms.Form):
    decision = forms.ChoiceField(label=_("结论"), choices=AdmissionReview.Decision.choices)
    opinion = forms.CharField(label=_("评审意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.items = list(ScoreItem.objects.filter(is_active=True))
        for item in self.items:
            if item.kind == ScoreItem.Kind.JUDGED:
                self.fields[f"judged_{item.pk}"] = forms.DecimalField(
                    label=item.name,
                    min_value=Decimal("0"),
                    max_value=item.max_points,
                    decimal_places=1,
                    help_text=_("0–%(max)s 分") % {"max": item.max_points},
                )
            elif item.kind == ScoreItem.Kind.VETO:
                self.fields[f"veto_{item.pk}"] = forms.BooleanField(label=item.name, required=False)

    def judged(self) -> dict[int, Decimal]:
        return {
            item.pk: self.cleaned_data.get(f"judged_{item.pk}") or Decimal("0")
            for item in self.items
            if item.kind == ScoreItem.Kind.JUDGED
        }

    def vetoes(self) -> dict[int, bool]:
        return {
            item.pk: bool(self.cleaned_data.get(f"veto_{item.pk}"))
            for item in self.items
            if item.kind == ScoreItem.Kind.VETO
        }


class SettingsForm(forms.ModelForm):
    class Meta:
        model = InvestmentSettings
        fields = [
            "lead_return_days",
            "auto_assign",
            "yellow_after_days",
            "red_after_days",
            "archive_after_days",
            "require_admission",
        ]


class ScoreItemForm(forms.ModelForm):
    class Meta:
        model = ScoreItem
        fields = ["name", "kind", "metric", "thresholds", "max_points", "position", "is_active"]

    def clean_thresholds(self) -> list[list[Any]]:
        value = self.cleaned_data.get("thresholds") or []
        if not isinstance(value, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, int | float) for x in pair)
            for pair in value
        ):
            raise forms.ValidationError(_("分档格式应为 [[下限, 分值], ...]，例如 [[100, 5], [300, 17]]。"))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == ScoreItem.Kind.MEASURED:
            if not data.get("metric"):
                self.add_error("metric", _("按指标计分的评审项必须选择指标。"))
            if not data.get("thresholds"):
                self.add_error("thresholds", _("按指标计分的评审项必须填写分档。"))
        return data


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=60)
    query = forms.CharField(widget=forms.HiddenInput, max_length=1000, required=False)


def exit_stages() -> list[str]:
    return [str(s) for s in EXITS]


class VisitStatusForm(forms.Form):
    status = forms.ChoiceField(choices=SiteVisit.Status.choices)
