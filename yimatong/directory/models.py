from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Length, Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yimatong.accounts import access
from yimatong.lib.identifiers import mask_phone, phone_search_digits
from yimatong.lib.search import contains
from yimatong.lib.text import normalize_org_name, pinyin_full, pinyin_initials

models.CharField.register_lookup(Length)


class IndustryCode(models.Model):
    """A code of GB/T 4754-2017 国民经济行业分类 (with amendment No. 1 of 2019).

    The park's slice (医药制造业 C27, 医疗仪器设备及器械制造 358, 医学研究和试验发展 7340) is loaded
    by a data migration from ``directory/data/gbt4754-2017-pharma-devices.csv``.
    """

    class Level(models.TextChoices):
        SECTION = "section", _("门类")
        DIVISION = "division", _("大类")
        GROUP = "group", _("中类")
        CLASS = "class", _("小类")

    code = models.CharField(_("行业代码"), max_length=5, unique=True)
    name = models.CharField(_("行业名称"), max_length=80)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent_code = models.CharField(_("上级代码"), max_length=5, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("国民经济行业代码")
        verbose_name_plural = _("国民经济行业代码")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class District(models.Model):
    """An administrative division (区县) by its six-digit code, e.g. 500113 巴南区."""

    code = models.CharField(_("区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    full_name = models.CharField(_("全称"), max_length=80)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="directory_district_code_six_digits",
                violation_error_message=_("区划代码应为 6 位数字。"),
                condition=Q(code__length=6),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChainNodeQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ChainNodeQuerySet:
        return self if access.is_staff_member(user) else self.none()

    def with_counts(self, user: Any) -> ChainNodeQuerySet:
        """Each node with the number of organizations hanging on it that ``user`` may see."""
        visible = Organization.objects.visible_to(user)
        return self.annotate(
            org_count=Count("organizations", filter=Q(organizations__in=visible.values("pk")), distinct=True)
        )


class ChainNode(models.Model):
    """A node of the park's industry chain (产业链), a tree the park edits: 1+3+N."""

    class Kind(models.TextChoices):
        CORE = "core", _("核心产业")
        FEATURE = "feature", _("特色产业")
        PLATFORM = "platform", _("服务平台")

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级环节"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    description = models.TextField(_("说明"), blank=True)
    target_enterprises = models.PositiveSmallIntegerField(
        _("目标企业数"), null=True, blank=True, help_text=_("本环节计划集聚的企业数，空表示未设目标。")
    )
    target_output = models.DecimalField(
        _("年度产值目标（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ChainNodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("产业链环节")
        verbose_name_plural = pgettext_lazy("plural", "产业链环节")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="directory_chainnode_unique_sibling_name",
                violation_error_message=_("同一上级下已有同名的环节。"),
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(parent__isnull=True),
                name="directory_chainnode_unique_root_name",
                violation_error_message=_("已有同名的顶层环节。"),
            ),
            models.CheckConstraint(
                name="directory_chainnode_not_own_parent",
                violation_error_message=_("环节不能是它自己的上级。"),
                condition=~Q(parent=models.F("pk")),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def display_name(self) -> str:
        """The node's name in the current language (the English name when one is given)."""
        from django.utils.translation import get_language

        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    def ancestors(self) -> list[ChainNode]:
        chain, node, seen = [], self.parent, {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return list(reversed(chain))

    def descendant_ids(self) -> set[int]:
        """This node and everything below it, in one query (the tree is small: a few hundred
        nodes at most, read whole and walked here)."""
        return ChainNode.subtree_ids(pk=self.pk) or {self.pk}

    @staticmethod
    def subtree_ids(*, pk: int | None = None, code: str | None = None) -> set[int] | None:
        """The ids of the node with this pk or code and of every node below it, in one query;
        None when there is no such node."""
        children: dict[int | None, list[int]] = {}
        root = None
        for node_pk, node_code, parent_id in ChainNode.objects.order_by().values_list(
            "pk", "code", "parent_id"
        ):
            children.setdefault(parent_id, []).append(node_pk)
            if (pk is not None and node_pk == pk) or (code is not None and node_code == code):
                root = node_pk
        if root is None:
            return None
        ids, frontier = {root}, [root]
        while frontier:
            frontier = [child for pk_ in frontier for child in children.get(pk_, []) if child not in ids]
            ids.update(frontier)
        return ids

    def path(self) -> str:
        return " / ".join(n.display_name() for n in [*self.ancestors(), self])


class OrganizationQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> OrganizationQuerySet:
        return self.filter(access.organization_scope(user))

    def editable_by(self, user: Any) -> OrganizationQuerySet:
        return self.filter(access.organization_edit_scope(user))

    def search(self, text: str, user: Any) -> OrganizationQuerySet:
        """By name, USCC, pinyin (initials or full) and a contact's phone number.

        Phone digits match only contacts whose full number ``user`` may see: otherwise a
        search box would reveal a masked number digit by digit.
        """
        text = (text or "").strip()
        if not text:
            return self
        lowered = text.lower()
        condition = (
            contains(self, "name", text)
            | contains(self, "normalized_name", normalize_org_name(text) or text, ignore_case=False)
            | Q(uscc__startswith=text.upper())
            | contains(self, "name_initials", lowered, ignore_case=False)
            | contains(self, "name_pinyin", lowered, ignore_case=False)
        )
        # Each way of matching is its own indexed query and the keys are united: an OR with the
        # phone's EXISTS would make PostgreSQL read every row instead.
        found = Organization.objects.filter(condition).order_by().values("pk")
        digits = phone_search_digits(text)
        if digits:
            # A contact's number is visible in full exactly where its organization is editable.
            phones = Contact.objects.filter(
                contains(self, "mobile", digits, ignore_case=False), organization=OuterRef("pk")
            )
            found = found.union(
                Organization.objects.filter(Exists(phones), access.organization_edit_scope(user))
                .order_by()
                .values("pk")
            )
        return self.filter(pk__in=found)

    def similar_to(self, name: str) -> OrganizationQuerySet:
        key = normalize_org_name(name)
        return self.filter(normalized_name=key) if key else self.none()


class Organization(models.Model):
    """An enterprise or institution (企业/机构) the park deals with."""

    class Type(models.TextChoices):
        PROSPECT = "prospect", _("意向投资方")
        RESIDENT = "resident", _("入驻企业")
        BANK = "bank", _("金融机构")
        RESEARCH = "research", _("科研院所")
        GOVERNMENT = "government", _("政府部门")

        @classmethod
        def plural_label(cls, value: str) -> str:
            """The type as a list title (English needs the plural; Chinese is the same word)."""
            return {
                "prospect": pgettext_lazy("plural", "意向投资方"),
                "resident": pgettext_lazy("plural", "入驻企业"),
                "bank": pgettext_lazy("plural", "金融机构"),
                "research": pgettext_lazy("plural", "科研院所"),
                "government": pgettext_lazy("plural", "政府部门"),
            }.get(value, pgettext_lazy("plural", "企业/机构"))

    class SizeClass(models.TextChoices):
        # 统计上大中小微型企业划分办法 (2017)
        LARGE = "large", _("大型")
        MEDIUM = "medium", _("中型")
        SMALL = "small", _("小型")
        MICRO = "micro", _("微型")

    code = models.UUIDField(_("公开编号"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("名称"), max_length=120)
    normalized_name = models.CharField(max_length=120, db_index=True, editable=False)
    name_initials = models.CharField(max_length=120, db_index=True, editable=False)
    name_pinyin = models.CharField(max_length=400, db_index=True, editable=False)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, null=True, blank=True, unique=True)
    org_type = models.CharField(_("类型"), max_length=12, choices=Type.choices)
    industry = models.ForeignKey(
        IndustryCode,
        verbose_name=_("国民经济行业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    registered_capital = models.DecimalField(
        _("注册资本（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    registered_on = models.DateField(_("成立日期"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    district = models.ForeignKey(
        District,
        verbose_name=_("所在区县"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    size_class = models.CharField(_("企业规模"), max_length=10, choices=SizeClass.choices, blank=True)
    is_above_scale = models.BooleanField(_("规上企业"), default=False)
    is_high_tech = models.BooleanField(_("高新技术企业"), default=False)
    is_specialized = models.BooleanField(_("专精特新"), default=False)
    chain_node = models.ForeignKey(
        ChainNode,
        verbose_name=_("产业链环节"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    website = models.URLField(_("网站"), blank=True)
    description = models.TextField(_("简介"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_organizations",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("负责团队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("共享给"),
        blank=True,
        related_name="shared_organizations",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业/机构")
        verbose_name_plural = pgettext_lazy("plural", "企业/机构")
        # Pinyin order is the order Chinese readers expect of a name list.
        ordering = ["name_pinyin", "pk"]
        indexes = [
            models.Index(fields=["updated_at"], name="directory_org_changed_idx"),
            models.Index(fields=["org_type", "name"], name="directory_org_type_name_idx"),
            models.Index(fields=["chain_node"], name="directory_org_chain_idx"),
            models.Index(fields=["owner"], name="directory_org_owner_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="directory_organization_uscc_form",
                violation_error_message=_("统一社会信用代码应为 18 位大写字母或数字。"),
                condition=Q(uscc__isnull=True) | (Q(uscc__length=18) & Q(uscc=Upper("uscc"))),
            ),
            models.CheckConstraint(
                name="directory_organization_capital_not_negative",
                violation_error_message=_("注册资本不能为负数。"),
                condition=Q(registered_capital__isnull=True) | Q(registered_capital__gte=0),
            ),
            models.CheckConstraint(
                name="directory_organization_name_not_blank",
                violation_error_message=_("名称不能为空。"),
                condition=~Q(name=""),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("directory:organization_detail", args=[self.code])

    def refresh_search_fields(self) -> None:
        self.normalized_name = normalize_org_name(self.name)
        self.name_initials = pinyin_initials(self.name)[:120]
        self.name_pinyin = pinyin_full(self.name)[:400]

    def flags(self) -> list[str]:
        return [
            str(label)
            for flag, label in (
                (self.is_above_scale, _("规上")),
                (self.is_high_tech, _("高新技术企业")),
                (self.is_specialized, _("专精特新")),
            )
            if flag
        ]


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ContactQuerySet:
        return self.filter(access.contact_scope(user))

    def editable_by(self, user: Any) -> ContactQuerySet:
        return self.filter(access.contact_edit_scope(user))

    def search(self, text: str, user: Any) -> ContactQuerySet:
        """By name, pinyin, email, organization name, and phone digits of the contacts whose
        full number ``user`` may see (see ``OrganizationQuerySet.search``)."""
        text = (text or "").strip()
        if not text:
            return self
        lowered = text.lower()
        condition = (
            contains(self, "name", text)
            | contains(self, "name_initials", lowered, ignore_case=False)
            | contains(self, "name_pinyin", lowered, ignore_case=False)
            | contains(self, "email", text)
        )
        # Each way of matching is its own indexed query and the keys are united: an OR across the
        # join to the organization would make PostgreSQL read every row instead.
        found = (
            Contact.objects.filter(condition)
            .order_by()
            .values("pk")
            .union(Contact.objects.filter(contains(self, "organization__name", text)).order_by().values("pk"))
        )
        digits = phone_search_digits(text)
        if digits:
            found = found.union(
                Contact.objects.filter(contains(self, "mobile", digits, ignore_case=False))
                .filter(access.contact_edit_scope(user))
                .order_by()
                .values("pk")
            )
        return self.filter(pk__in=found)

    def with_editable_flag(self, user: Any) -> ContactQuerySet:
        """Annotate ``can_edit`` so a list can mask phone numbers without a query per row."""
        editable = Contact.objects.filter(access.contact_edit_scope(user), pk=OuterRef("pk"))
        return self.annotate(can_edit=Exists(editable))


class Contact(models.Model):
    """A person at an organization (or an individual investor before there is one)."""

    code = models.UUIDField(_("公开编号"), default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所属企业/机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    name = models.CharField(_("姓名"), max_length=60)
    name_initials = models.CharField(max_length=60, db_index=True, editable=False)
    name_pinyin = models.CharField(max_length=200, editable=False)
    position = models.CharField(_("职务"), max_length=60, blank=True)
    mobile = models.CharField(_("手机号"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    wechat_openid = models.CharField(_("微信 OpenID"), max_length=64, null=True, blank=True, unique=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    notes = models.TextField(_("备注"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_contacts",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = pgettext_lazy("plural", "联系人")
        ordering = ["name_pinyin", "pk"]
        indexes = [models.Index(fields=["organization", "name"], name="directory_contact_org_idx")]
        constraints = [
            models.CheckConstraint(
                name="directory_contact_name_not_blank",
                violation_error_message=_("姓名不能为空。"),
                condition=~Q(name=""),
            ),
            models.CheckConstraint(
                name="directory_contact_reachable",
                violation_error_message=_("请至少填写手机号或电子邮箱中的一项，以便联系。"),
                condition=~Q(mobile="", email="", wechat_openid__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_primary=True),
                name="directory_contact_one_primary_per_org",
                violation_error_message=_("每家企业/机构只能有一位主要联系人。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("directory:contact_detail", args=[self.code])

    def refresh_search_fields(self) -> None:
        self.name_initials = pinyin_initials(self.name)[:60]
        self.name_pinyin = pinyin_full(self.name)[:200]

    def mobile_for(self, can_edit: bool) -> str:
        return self.mobile if can_edit else mask_phone(self.mobile)
