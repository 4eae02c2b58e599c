"""Validation of directory input, shared by the console and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from yimatong.accounts import access
from yimatong.accounts.models import Team, User
from yimatong.directory.models import ChainNode, Contact, District, IndustryCode, Organization
from yimatong.lib.identifiers import clean_mobile, clean_uscc
from yimatong.lib.text import pinyin_full


class ChainNodeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ChainNode) -> str:
        return getattr(obj, "indent", "") + obj.display_name()


class IndustryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: IndustryCode) -> str:
        return f"{obj.code} {obj.name}"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return _("%(name)s（%(detail)s）") % {"name": obj.display_name, "detail": obj.get_role_display()}


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Users labelled with their team: the teams read with the users, not one query per user."""

    def _set_queryset(self, queryset: Any) -> None:
        super()._set_queryset(None if queryset is None else queryset.select_related("team"))

    queryset = property(forms.ModelMultipleChoiceField._get_queryset, _set_queryset)

    def label_from_instance(self, obj: User) -> str:
        return _("%(name)s（%(detail)s）") % {
            "name": obj.display_name,
            "detail": obj.team or obj.get_role_display(),
        }


def chain_choices() -> list[ChainNode]:
    """The tree flattened depth-first, each node carrying its ``depth`` for indentation."""
    nodes = list(ChainNode.objects.all())
    children: dict[int | None, list[ChainNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    ordered: list[ChainNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for node in children.get(parent_id, []):
            node.depth = depth  # type: ignore[attr-defined]
            node.indent = "　" * depth  # type: ignore[attr-defined]
            ordered.append(node)
            walk(node.pk, depth + 1)

    walk(None, 0)
    return ordered


def _assigned_staff() -> Any:
    return User.objects.filter(
        is_active=True, role__in=[User.Role.PROMOTER, User.Role.TEAM_LEAD]
    ).select_related("team")


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=120)
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=30,
        required=False,
        help_text=_("18 位，见营业执照；意向投资方尚未注册时可不填。"),
    )
    org_type = forms.ChoiceField(label=_("类型"), choices=Organization.Type.choices)
    industry = IndustryChoiceField(
        label=_("国民经济行业"),
        queryset=IndustryCode.objects.exclude(level=IndustryCode.Level.DIVISION),
        required=False,
        help_text=_("GB/T 4754-2017 行业代码"),
        empty_label="—",
    )
    registered_capital = forms.DecimalField(
        label=_("注册资本（万元）"),
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
    )
    registered_on = forms.DateField(
        label=_("成立日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    district = forms.ModelChoiceField(
        label=_("所在区县"), queryset=District.objects.all(), required=False, empty_label="—"
    )
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    size_class = forms.ChoiceField(
        label=_("企业规模"), choices=[("", "—"), *Organization.SizeClass.choices], required=False
    )
    is_above_scale = forms.BooleanField(label=_("规上企业"), required=False)
    is_high_tech = forms.BooleanField(label=_("高新技术企业"), required=False)
    is_specialized = forms.BooleanField(label=_("专精特新"), required=False)
    chain_node = ChainNodeChoiceField(
        label=_("产业链环节"), queryset=ChainNode.objects.none(), required=False
    )
    website = forms.URLField(label=_("网站"), required=False, assume_scheme="https")
    description = forms.CharField(label=_("简介"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    owner = UserChoiceField(label=_("负责人"), queryset=User.objects.none(), required=False, empty_label="—")
    team = forms.ModelChoiceField(
        label=_("负责团队"), queryset=Team.objects.all(), required=False, empty_label="—"
    )
    collaborators = UserMultipleChoiceField(
        label=_("共享给"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("被共享的同事可以查看并维护该记录。"),
    )
    confirm_similar = forms.BooleanField(label=_("确认不是同一家，仍然保存"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, instance: Organization | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_from(instance)
        super().__init__(*args, **kwargs)
        self.user = user
        self.instance = instance
        self.similar_visible: list[Organization] = []
        self.similar_hidden = 0
        validate_url = reverse("directory:organization_validate")
        if instance is not None:
            validate_url += f"?code={instance.code}"
        for name in ("name", "uscc"):
            # Checked on the server as soon as the field changes (htmx swaps just this field).
            self.fields[name].widget.attrs.update(
                {
                    "hx-post": validate_url,
                    "hx-trigger": "change",
                    "hx-include": "closest form",
                    "hx-select": f"#field-{name}",
                    "hx-target": f"#field-{name}",
                    "hx-swap": "outerHTML",
                }
            )
        nodes = chain_choices()
        self.fields["chain_node"].queryset = ChainNode.objects.all()
        self.fields["chain_node"].choices = [("", "—")] + [
            (n.pk, self.fields["chain_node"].label_from_instance(n)) for n in nodes
        ]
        staff = _assigned_staff()
        # Whoever is attached now stays a valid choice (another team's owner on a record shared
        # with this team, a colleague who has since left): saving other fields keeps them.
        current_collaborators = Q(pk__in=instance.collaborators.values("pk")) if instance else Q(pk__in=[])
        self.fields["collaborators"].queryset = User.objects.filter(
            Q(pk__in=staff.values("pk")) | current_collaborators
        )
        if access.can_reassign_organization(user):
            current_owner = Q(pk=instance.owner_id) if instance and instance.owner_id else Q(pk__in=[])
            owners = staff if user.role == User.Role.ADMIN else staff.filter(team_id=user.team_id)
            self.fields["owner"].queryset = User.objects.filter(
                Q(pk__in=owners.values("pk")) | current_owner
            ).select_related("team")
            if user.role != User.Role.ADMIN:
                current_team = Q(pk=instance.team_id) if instance and instance.team_id else Q(pk__in=[])
                self.fields["team"].queryset = Team.objects.filter(Q(pk=user.team_id) | current_team)
        else:
            del self.fields["owner"]
            del self.fields["team"]

    # Field rules ------------------------------------------------------------------------------

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("名称不能为空。"), code="required")
        return name

    def clean_uscc(self) -> str | None:
        raw = self.cleaned_data.get("uscc", "")
        if not raw.strip():
            return None
        value = clean_uscc(raw)
        clash = Organization.objects.filter(uscc=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        existing = clash.first()
        if existing is not None:
            if Organization.objects.visible_to(self.user).filter(pk=existing.pk).exists():
                raise forms.ValidationError(
                    _("统一社会信用代码 %(uscc)s 已登记为「%(name)s」，同一代码不能重复登记。"),
                    code="uscc_taken",
                    params={"uscc": value, "name": existing.name},
                )
            raise forms.ValidationError(
                _("统一社会信用代码 %(uscc)s 已由其他团队登记，请联系团队负责人协调（撞单）。"),
                code="uscc_taken",
                params={"uscc": value},
            )
        return value

    def clean_registered_on(self) -> dt.date | None:
        value = self.cleaned_data.get("registered_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("成立日期不能晚于今天。"), code="future_date")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        name = data.get("name")
        renamed = self.instance is None or (name and name != self.instance.name)
        if name and renamed and not data.get("confirm_similar"):
            similar = Organization.objects.similar_to(name)
            if self.instance is not None:
                similar = similar.exclude(pk=self.instance.pk)
            if data.get("uscc"):
                similar = similar.exclude(uscc=data["uscc"])
            visible = similar.visible_to(self.user)
            self.similar_visible = list(visible[:5])
            self.similar_hidden = similar.count() - visible.count()
            if self.similar_visible or self.similar_hidden:
                raise forms.ValidationError(
                    _("已有名称相近的机构，请确认不是同一家后勾选“确认不是同一家，仍然保存”。"),
                    code="similar_name",
                )
        return data

    @property
    def needs_similar_confirmation(self) -> bool:
        return any(e.code == "similar_name" for e in self.non_field_errors().as_data())

    def action_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("confirm_similar", None)
        data.pop("version", None)
        data["size_class"] = data.get("size_class") or ""
        return data


def initial_from(org: Organization) -> dict[str, Any]:
    """The form's starting values: the record's own (foreign keys as ids, as the form expects)."""
    fields = [name for name in OrganizationForm.base_fields if name != "confirm_similar"]
    initial = model_to_dict(org, fields=fields)
    initial["uscc"] = org.uscc or ""
    initial["version"] = org.version  # not editable, so model_to_dict leaves it out
    initial["collaborators"] = [user.pk for user in initial.get("collaborators", [])]
    return initial


class ContactForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("所属企业/机构"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label="—",
        help_text=_("个人投资者可暂不关联机构。"),
    )
    name = forms.CharField(label=_("姓名"), max_length=60)
    position = forms.CharField(label=_("职务"), max_length=60, required=False)
    mobile = forms.CharField(
        label=_("手机号"),
        max_length=30,
        required=False,
        help_text=_("11 位手机号；境外号码以 + 国家代码开头。"),
    )
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    is_primary = forms.BooleanField(label=_("主要联系人"), required=False)
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, instance: Contact | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "organization": instance.organization_id,
                "name": instance.name,
                "position": instance.position,
                "mobile": instance.mobile,
                "email": instance.email,
                "is_primary": instance.is_primary,
                "notes": instance.notes,
                "version": instance.version,
            }
        super().__init__(*args, **kwargs)
        self.user = user
        self.instance = instance
        self.fields["organization"].queryset = Organization.objects.editable_by(user)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("姓名不能为空。"), code="required")
        return name

    def clean_mobile(self) -> str:
        raw = self.cleaned_data.get("mobile", "")
        return clean_mobile(raw) if raw.strip() else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        has_openid = self.instance is not None and self.instance.wechat_openid
        if not data.get("mobile") and not data.get("email") and not has_openid and not self.errors:
            raise forms.ValidationError(
                _("请至少填写手机号或电子邮箱中的一项，以便联系。"), code="unreachable"
            )
        if data.get("is_primary") and not data.get("organization"):
            self.add_error("is_primary", _("只有关联了企业/机构的联系人才能设为主要联系人。"))
        return data

    def action_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class ChainNodeForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=60)
    name_en = forms.CharField(label=_("英文名称"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("类别"), choices=ChainNode.Kind.choices)
    parent = ChainNodeChoiceField(label=_("上级环节"), queryset=ChainNode.objects.none(), required=False)
    position = forms.IntegerField(label=_("排序"), min_value=0, max_value=32767, initial=0)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, instance: ChainNode | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "name_en": instance.name_en,
                "kind": instance.kind,
                "parent": instance.parent_id,
                "position": instance.position,
                "description": instance.description,
            }
        super().__init__(*args, **kwargs)
        self.instance = instance
        excluded = instance.descendant_ids() if instance is not None else set()
        nodes = [n for n in chain_choices() if n.pk not in excluded]
        self.fields["parent"].queryset = ChainNode.objects.exclude(pk__in=excluded)
        self.fields["parent"].choices = [("", _("（顶层）"))] + [
            (n.pk, self.fields["parent"].label_from_instance(n)) for n in nodes
        ]

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        name, parent = data.get("name"), data.get("parent")
        if name:
            siblings = ChainNode.objects.filter(
                Q(parent=parent) if parent else Q(parent__isnull=True), name=name
            )
            if self.instance is not None:
                siblings = siblings.exclude(pk=self.instance.pk)
            if siblings.exists():
                self.add_error("name", _("同一上级下已有名为「%(name)s」的环节。") % {"name": name})
        return data


def chain_node_code(name: str) -> str:
    """A readable unique code for a new node (pinyin of its name)."""
    base = slugify(pinyin_full(name))[:32] or "node"
    code, n = base, 2
    while ChainNode.objects.filter(code=code).exists():
        code, n = f"{base}-{n}", n + 1
    return code
