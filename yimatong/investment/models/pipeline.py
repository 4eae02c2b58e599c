"""Investment attraction: leads in a shared pool, projects through their stages, and the work
done on them. History lives in append-only event tables (``LeadEvent``, ``ProjectEvent``)
written only through ``investment.events``; statistics read from the events."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yimatong.accounts import access
from yimatong.lib.search import contains

# Configuration ---------------------------------------------------------------------------------


class InvestmentSettings(models.Model):
    """The park's rules for the investment loop, edited by an administrator (one row)."""

    lead_return_days = models.PositiveSmallIntegerField(
        _("线索无跟进退回公海天数"),
        default=15,
        help_text=_("认领后超过此天数没有任何跟进，线索自动退回公海。"),
    )
    auto_assign = models.BooleanField(
        _("按产业链自动分配新线索"),
        default=True,
        help_text=_("新线索按产业链环节分给负责该环节的团队，团队内轮流分配给招商专员。"),
    )
    yellow_after_days = models.PositiveSmallIntegerField(_("黄灯：无进展天数"), default=60)
    red_after_days = models.PositiveSmallIntegerField(_("红灯：无进展天数"), default=90)
    archive_after_days = models.PositiveSmallIntegerField(_("自动搁置：无进展天数"), default=180)
    require_admission = models.BooleanField(
        _("签约前必须通过准入评审"),
        default=True,
        help_text=_("启用后，项目进入签约阶段前须有一份“通过”或“有条件通过”的准入评审。"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("招商规则")
        verbose_name_plural = pgettext_lazy("plural", "招商规则")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                name="investment_settings_lights_in_order",
                condition=Q(yellow_after_days__lt=models.F("red_after_days"))
                & Q(red_after_days__lt=models.F("archive_after_days")),
                violation_error_message=_("天数须满足：黄灯 < 红灯 < 自动搁置。"),
            ),
        ]

    def __str__(self) -> str:
        return str(_("招商规则"))

    @classmethod
    def current(cls) -> InvestmentSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


# Leads -------------------------------------------------------------------------------------------


class Channel(models.TextChoices):
    """Where a lead came from; kept forever on the lead and on what it becomes."""

    WECHAT = "wechat", _("微信公众号")
    H5_FORM = "h5_form", _("H5 咨询表单")
    STAFF = "staff", _("工作人员录入")
    EXPO = "expo", _("展会")
    REFERRAL = "referral", _("推荐")
    LEADER_VISIT = "leader_visit", _("领导外出招商")
    IMPORT = "import", _("Excel 导入")


class LeadQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> LeadQuerySet:
        return self.filter(access.lead_scope(user))

    def in_pool(self) -> LeadQuerySet:
        return self.filter(status=Lead.Status.POOL)

    def search(self, text: str) -> LeadQuerySet:
        from yimatong.lib.identifiers import phone_search_digits
        from yimatong.lib.text import normalize_org_name

        text = (text or "").strip()
        if not text:
            return self
        # Every branch is indexed on PostgreSQL (yimatong/lib/search.py), so the OR is a bitmap OR.
        condition = (
            contains(self, "company_name", text)
            | contains(self, "contact_name", text)
            | contains(self, "normalized_name", normalize_org_name(text) or text, ignore_case=False)
            | contains(self, "name_initials", text.lower(), ignore_case=False)
            | Q(code__startswith=text.upper())
        )
        digits = phone_search_digits(text)
        if digits:
            condition |= contains(self, "contact_phone", digits, ignore_case=False)
        return self.filter(condition)


class Lead(models.Model):
    """A first signal of interest (线索)."""

    class Status(models.TextChoices):
        POOL = "pool", _("公海")
        ASSIGNED = "assigned", _("跟进中")
        QUALIFIED = "qualified", _("已转项目")
        MERGED = "merged", _("已合并")
        DISCARDED = "discarded", _("无效")

    code = models.CharField(_("线索编号"), max_length=20, unique=True, editable=False)
    company_name = models.CharField(_("企业/投资方名称"), max_length=120)
    normalized_name = models.CharField(max_length=120, db_index=True, editable=False)
    name_initials = models.CharField(max_length=120, db_index=True, editable=False)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=60, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True, db_index=True)
    interest = models.TextField(_("意向说明"), blank=True)
    chain_node = models.ForeignKey(
        "directory.ChainNode",
        verbose_name=_("产业链环节"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    planned_investment = models.DecimalField(
        _("意向投资额（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("投资方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    contact = models.ForeignKey(
        "directory.Contact",
        verbose_name=_("联系人档案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.POOL, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("负责团队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    # Last activity, claim or note: the pool sweep returns leads untouched for too long.
    touched_at = models.DateTimeField(_("最近跟进"), default=timezone.now)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并到"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_leads",
    )
    discard_reason = models.CharField(_("无效原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = pgettext_lazy("plural", "线索")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="investment_lead_status_idx"),
            models.Index(fields=["owner", "status"], name="investment_lead_owner_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="investment_lead_pool_has_no_owner",
                condition=~Q(status="pool") | Q(owner__isnull=True),
                violation_error_message=_("公海中的线索不能有负责人。"),
            ),
            models.CheckConstraint(
                name="investment_lead_assigned_has_owner",
                condition=~Q(status="assigned") | Q(owner__isnull=False),
                violation_error_message=_("跟进中的线索必须有负责人。"),
            ),
            models.CheckConstraint(
                name="investment_lead_merged_has_target",
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                violation_error_message=_("已合并的线索必须指明合并到哪条线索。"),
            ),
            models.CheckConstraint(
                name="investment_lead_name_not_blank",
                condition=~Q(company_name=""),
                violation_error_message=_("企业/投资方名称不能为空。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.company_name}"

    def get_absolute_url(self) -> str:
        return reverse("investment:lead_detail", args=[self.code])

    def refresh_search_fields(self) -> None:
        from yimatong.lib.text import normalize_org_name, pinyin_initials

        self.normalized_name = normalize_org_name(self.company_name)
        self.name_initials = pinyin_initials(self.company_name)[:120]

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.POOL, self.Status.ASSIGNED)


class LeadSource(models.Model):
    """One way a lead reached the park. A merged lead keeps the sources of both."""

    lead = models.ForeignKey(Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="sources")
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    event = models.CharField(_("活动/展会"), max_length=120, blank=True)
    qr_scene = models.CharField(_("二维码场景"), max_length=64, blank=True, db_index=True)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("推荐/带来人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    referrer_name = models.CharField(_("推荐人（外部）"), max_length=60, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("来源时间"), default=timezone.now)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("线索来源")
        verbose_name_plural = pgettext_lazy("plural", "线索来源")
        ordering = ["received_at", "pk"]
        indexes = [models.Index(fields=["channel", "received_at"], name="investment_leadsource_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.event or self.qr_scene}".strip()


class LeadEvent(models.Model):
    """Append-only history of a lead (created, assigned, claimed, returned, merged, qualified)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("录入")
        ASSIGNED = "assigned", _("分配")
        CLAIMED = "claimed", _("认领")
        REASSIGNED = "reassigned", _("改派")
        RELEASED = "released", _("退回公海")
        RETURNED = "returned", _("超期退回公海")
        NOTE = "note", _("跟进记录")
        MERGED = "merged", _("合并")
        QUALIFIED = "qualified", _("转为项目")
        DISCARDED = "discarded", _("标记无效")
        REOPENED = "reopened", _("重新启用")

    lead = models.ForeignKey(Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField(_("内容"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("线索记录")
        verbose_name_plural = pgettext_lazy("plural", "线索记录")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["lead", "-at"], name="investment_leadevent_lead_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Lead events are append-only")
        super().save(*args, **kwargs)


# Projects ------------------------------------------------------------------------------------------


class Stage(models.TextChoices):
    LEAD = "lead", _("线索")
    CONTACT = "contact", _("接洽")
    VISIT = "visit", _("考察")
    NEGOTIATION = "negotiation", _("洽谈")
    SIGNED = "signed", _("签约")
    REGISTERED = "registered", _("注册落地")
    CONSTRUCTION = "construction", _("开工建设")
    PRODUCTION = "production", _("投产")
    FULL_CAPACITY = "full_capacity", _("达产")
    ON_HOLD = "on_hold", _("搁置")
    LOST = "lost", _("流失")


# The pipeline in order; the two exits stand outside it.
PIPELINE = [
    Stage.LEAD,
    Stage.CONTACT,
    Stage.VISIT,
    Stage.NEGOTIATION,
    Stage.SIGNED,
    Stage.REGISTERED,
    Stage.CONSTRUCTION,
    Stage.PRODUCTION,
    Stage.FULL_CAPACITY,
]
EXITS = [Stage.ON_HOLD, Stage.LOST]
STAGE_INDEX = {stage.value: index for index, stage in enumerate(PIPELINE)}


class Light(models.TextChoices):
    GREEN = "green", _("绿灯")
    YELLOW = "yellow", _("黄灯")
    RED = "red", _("红灯")
    NONE = "none", _("不适用")


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ProjectQuerySet:
        return self.filter(access.project_scope(user))

    def editable_by(self, user: Any) -> ProjectQuerySet:
        return self.filter(access.project_edit_scope(user))

    def active(self) -> ProjectQuerySet:
        return self.exclude(stage__in=[*EXITS, Stage.FULL_CAPACITY])

    def with_light(
        self, config: InvestmentSettings | None = None, now: dt.datetime | None = None
    ) -> ProjectQuerySet:
        """Annotate ``light`` (green / yellow / red / none) from the days without progress."""
        config = config or InvestmentSettings.current()
        now = now or timezone.now()
        yellow = now - dt.timedelta(days=config.yellow_after_days)
        red = now - dt.timedelta(days=config.red_after_days)
        return self.annotate(
            light=models.Case(
                models.When(stage__in=[*EXITS, Stage.FULL_CAPACITY], then=models.Value(Light.NONE)),
                models.When(last_progress_at__lte=red, then=models.Value(Light.RED)),
                models.When(last_progress_at__lte=yellow, then=models.Value(Light.YELLOW)),
                default=models.Value(Light.GREEN),
                output_field=models.CharField(),
            )
        )

    def with_light_of(
        self, light: str, config: InvestmentSettings | None = None, now: dt.datetime | None = None
    ) -> ProjectQuerySet:
        """The projects whose light (``with_light``) is ``light``, as conditions an index on
        the stage and the last progress can serve."""
        config = config or InvestmentSettings.current()
        now = now or timezone.now()
        yellow = now - dt.timedelta(days=config.yellow_after_days)
        red = now - dt.timedelta(days=config.red_after_days)
        closed = [*EXITS, Stage.FULL_CAPACITY]
        if light == Light.NONE:
            return self.filter(stage__in=closed)
        open_ = self.exclude(stage__in=closed)
        if light == Light.RED:
            return open_.filter(last_progress_at__lte=red)
        if light == Light.YELLOW:
            return open_.filter(last_progress_at__gt=red, last_progress_at__lte=yellow)
        return open_.filter(last_progress_at__gt=yellow)

    def search(self, text: str) -> ProjectQuerySet:
        text = (text or "").strip()
        if not text:
            return self
        # Chinese, English, pinyin initials and a code prefix (YMT-2026-…), each through an index
        # on PostgreSQL (yimatong/lib/search.py).
        return self.filter(
            contains(self, "name", text)
            | Q(code__startswith=text.upper())
            | contains(self, "codename", text)
            | contains(self, "name_initials", text.lower(), ignore_case=False)
        )


class Project(models.Model):
    """An investment project (招商项目), from first contact to full production."""

    class Priority(models.TextChoices):
        A = "a", _("A 类（重点）")
        B = "b", _("B 类")
        C = "c", _("C 类")

    class Agreement(models.TextChoices):
        FRAMEWORK = "framework", _("框架协议")
        FORMAL = "formal", _("正式协议")

    code = models.CharField(_("项目编号"), max_length=20, unique=True, editable=False)
    qr_token = models.UUIDField(_("一码通编号"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("项目名称"), max_length=150)
    name_initials = models.CharField(max_length=150, db_index=True, editable=False)
    organization = models.ForeignKey(
        "directory.Organization", verbose_name=_("投资方"), on_delete=models.PROTECT, related_name="projects"
    )
    contact = models.ForeignKey(
        "directory.Contact",
        verbose_name=_("投资方联系人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    lead = models.OneToOneField(
        Lead,
        verbose_name=_("来源线索"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project",
    )
    source_channel = models.CharField(
        _("来源渠道"), max_length=20, choices=Channel.choices, default=Channel.STAFF
    )
    chain_node = models.ForeignKey(
        "directory.ChainNode",
        verbose_name=_("产业链环节"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    planned_investment = models.DecimalField(
        _("计划投资（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    expected_output = models.DecimalField(
        _("预计年产值（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    expected_tax = models.DecimalField(
        _("预计年税收（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    land_mu = models.DecimalField(_("用地（亩）"), max_digits=10, decimal_places=2, null=True, blank=True)
    floor_area = models.DecimalField(
        _("建筑面积（㎡）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    jobs = models.PositiveIntegerField(_("预计就业（人）"), null=True, blank=True)
    description = models.TextField(_("项目概况"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("负责人"), on_delete=models.PROTECT, related_name="projects"
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("负责团队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("协办人"), blank=True, related_name="shared_projects"
    )
    priority = models.CharField(_("优先级"), max_length=1, choices=Priority.choices, default=Priority.B)
    codename = models.CharField(
        _("保密代号"),
        max_length=60,
        blank=True,
        help_text=_("填写后，除负责人和指定知情人外，其他人只看到代号，看不到真实投资方。"),
    )
    insiders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("知情人"), blank=True, related_name="insider_projects"
    )
    stage = models.CharField(
        _("阶段"), max_length=15, choices=Stage.choices, default=Stage.CONTACT, db_index=True
    )
    stage_entered_at = models.DateTimeField(_("进入本阶段时间"), default=timezone.now)
    exit_reason = models.CharField(_("搁置/流失原因"), max_length=200, blank=True)
    # Facts required by the gates.
    agreement_type = models.CharField(_("协议类型"), max_length=10, choices=Agreement.choices, blank=True)
    signed_on = models.DateField(_("签约日期"), null=True, blank=True)
    contracted_investment = models.DecimalField(
        _("合同投资（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    registered_organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("注册企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="landed_projects",
    )
    registered_on = models.DateField(_("注册日期"), null=True, blank=True)
    construction_started_on = models.DateField(_("开工日期"), null=True, blank=True)
    fixed_asset_investment = models.DecimalField(
        _("累计固定资产投资（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    production_started_on = models.DateField(_("投产日期"), null=True, blank=True)
    full_capacity_on = models.DateField(_("达产日期"), null=True, blank=True)
    # Supervision
    is_major = models.BooleanField(_("重大项目"), default=False, db_index=True)
    last_progress_at = models.DateTimeField(_("最近进展"), default=timezone.now, db_index=True)
    supervised_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    supervised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("督办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    supervision_note = models.CharField(_("督办事项"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("招商项目")
        verbose_name_plural = pgettext_lazy("plural", "招商项目")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["stage", "-updated_at"], name="investment_project_stage_idx"),
            models.Index(fields=["owner", "stage"], name="investment_project_owner_idx"),
            models.Index(fields=["team", "stage"], name="investment_project_team_idx"),
            models.Index(fields=["chain_node"], name="investment_project_chain_idx"),
            # The lists' default order.
            models.Index(fields=["-updated_at", "-id"], name="investment_project_recent_idx"),
            # Lights: open projects by stage and time since progress (supervision, home, cockpit).
            models.Index(fields=["stage", "last_progress_at"], name="investment_project_light_idx"),
            models.Index(
                fields=["-supervised_at"],
                condition=Q(supervised_at__isnull=False),
                name="investment_project_supv_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="investment_project_amounts_not_negative",
                condition=(Q(planned_investment__isnull=True) | Q(planned_investment__gte=0))
                & (Q(contracted_investment__isnull=True) | Q(contracted_investment__gte=0))
                & (Q(fixed_asset_investment__isnull=True) | Q(fixed_asset_investment__gte=0))
                & (Q(land_mu__isnull=True) | Q(land_mu__gte=0)),
                violation_error_message=_("投资额和用地不能为负数。"),
            ),
            models.CheckConstraint(
                name="investment_project_signed_has_facts",
                condition=~Q(
                    stage__in=["signed", "registered", "construction", "production", "full_capacity"]
                )
                | (
                    Q(signed_on__isnull=False)
                    & Q(contracted_investment__isnull=False)
                    & ~Q(agreement_type="")
                ),
                violation_error_message=_("签约及以后阶段的项目必须有协议类型、签约日期和合同投资。"),
            ),
            models.CheckConstraint(
                name="investment_project_registered_has_company",
                condition=~Q(stage__in=["registered", "construction", "production", "full_capacity"])
                | Q(registered_organization__isnull=False),
                violation_error_message=_("注册落地及以后阶段的项目必须关联注册企业。"),
            ),
            models.CheckConstraint(
                name="investment_project_exit_has_reason",
                condition=~Q(stage__in=["on_hold", "lost"]) | ~Q(exit_reason=""),
                violation_error_message=_("搁置或流失的项目必须写明原因。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("investment:project_detail", args=[self.code])

    def refresh_search_fields(self) -> None:
        from yimatong.lib.text import pinyin_initials

        self.name_initials = pinyin_initials(self.name)[:150]

    def stage_index(self) -> int:
        return STAGE_INDEX.get(self.stage, -1)

    def shows_investor_to(self, user: Any) -> bool:
        """With a codename, only the owner, the named insiders and administrators see the investor."""
        if not self.codename:
            return True
        if access.role_of(user) == access.Role.ADMIN or user.pk == self.owner_id:
            return True
        # Through .all(), so a list that prefetched the insiders asks nothing per row.
        return any(insider.pk == user.pk for insider in self.insiders.all())

    def investor_label(self, user: Any) -> str:
        return self.organization.name if self.shows_investor_to(user) else self.codename

    def light_at(self, config: InvestmentSettings | None = None, now: dt.datetime | None = None) -> str:
        """This project's light by the one rule lists use (``with_light``); lists annotate
        ``light`` instead of calling this per row."""
        return Project.objects.with_light(config, now).values_list("light", flat=True).get(pk=self.pk)

    def capital_in_place(self) -> Decimal:
        return self.capital_arrivals.aggregate(total=models.Sum("amount"))["total"] or Decimal("0")


class CodeSequence(models.Model):
    """The last number handed out per prefix and year, for readable codes (YMT-2026-0001)."""

    prefix = models.CharField(_("前缀"), max_length=5)
    year = models.PositiveSmallIntegerField(_("年份"))
    last = models.PositiveIntegerField(_("已用到"), default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = pgettext_lazy("plural", "编号序列")
        ordering = ["prefix", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["prefix", "year"],
                name="investment_codesequence_unique",
                violation_error_message=_("编号序列重复。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class ProjectEvent(models.Model):
    """Append-only timeline of a project; the statistics read from here, never from counters."""

    class Kind(models.TextChoices):
        CREATED = "created", _("创建")
        STAGE = "stage", _("阶段变更")
        CHANGED = "changed", _("信息修改")
        ACTIVITY = "activity", _("跟进活动")
        VISIT = "visit", _("考察预约")
        DOCUMENT = "document", _("文件")
        MESSAGE = "message", _("消息")
        CAPITAL = "capital", _("资金到位")
        MILESTONE = "milestone", _("计划节点")
        PROBLEM = "problem", _("问题清单")
        SUPERVISION = "supervision", _("督办")
        ADMISSION = "admission", _("准入评审")
        ASSIGNED = "assigned", _("负责人变更")
        MAJOR = "major", _("重大项目")
        INVESTMENT = "investment", _("合同投资变更")

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    from_stage = models.CharField(_("原阶段"), max_length=15, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("新阶段"), max_length=15, choices=Stage.choices, blank=True)
    # Investment counted by this event (万元): the first signing counts the contract, a later
    # upgrade only its increment; the same for landing (first registration).
    signed_amount = models.DecimalField(_("计入签约额（万元）"), max_digits=14, decimal_places=2, default=0)
    landed_amount = models.DecimalField(_("计入落地额（万元）"), max_digits=14, decimal_places=2, default=0)
    data = models.JSONField(_("内容"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("项目记录")
        verbose_name_plural = pgettext_lazy("plural", "项目记录")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["project", "-at"], name="investment_pevent_project_idx"),
            models.Index(fields=["kind", "at"], name="investment_pevent_kind_idx"),
            # Signed and landed amounts by period (the numbers page, the cockpit, the weekly feed):
            # the few events that carry an amount, without reading every event of the period.
            models.Index(
                fields=["at"],
                condition=Q(signed_amount__gt=0) | Q(landed_amount__gt=0),
                name="investment_pevent_amount_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.kind} {self.at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Project events are append-only")
        super().save(*args, **kwargs)


class CapitalArrival(models.Model):
    """Capital actually in place (到位资金), recorded over time."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="capital_arrivals"
    )
    arrived_on = models.DateField(_("到位日期"))
    amount = models.DecimalField(_("到位金额（万元）"), max_digits=14, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("到位资金")
        verbose_name_plural = pgettext_lazy("plural", "到位资金")
        ordering = ["-arrived_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="investment_capital_positive",
                condition=Q(amount__gt=0),
                violation_error_message=_("到位金额必须大于 0。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.arrived_on} {self.amount}"
