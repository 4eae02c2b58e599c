"""Enterprise services: demands (诉求工单) on a working-day clock, the park's calendar of
working days, demand categories with their time limits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WorkCalendarDay(models.Model):
    """A day the park sets itself: holidays and 调休 make-up days of years the calendar library
    does not know yet, or a correction. Wins over the library."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    note = models.CharField(_("说明"), max_length=60, blank=True, help_text=_("如：春节、国庆调休上班。"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = pgettext_lazy("plural", "工作日历")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'工作日' if self.is_workday else '休息日'}"


def calendar_overrides() -> dict[dt.date, bool]:
    return dict(WorkCalendarDay.objects.values_list("date", "is_workday"))


def is_park_workday(day: dt.date) -> bool:
    """Whether the park works on ``day``: its own calendar first, then the State Council's."""
    from yimatong.lib.workdays import is_workday

    entered = WorkCalendarDay.objects.filter(date=day).values_list("is_workday", flat=True).first()
    return entered if entered is not None else is_workday(day)[0]


class DemandCategory(models.Model):
    """What a demand is about, with its statutory and promised time limits in working days."""

    code = models.SlugField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    statutory_days = models.PositiveSmallIntegerField(_("法定时限（工作日）"), default=13)
    promised_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"), default=5)
    default_department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("默认承办部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = pgettext_lazy("plural", "诉求类别")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                name="services_demandcategory_promise_within_law",
                condition=Q(promised_days__lte=models.F("statutory_days")),
                violation_error_message=_("承诺时限不能长于法定时限。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def label(self, language: str = "zh-hans") -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name


class DemandQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> DemandQuerySet:
        from yimatong.accounts import access

        return self.filter(access.demand_scope(user))

    def open(self) -> DemandQuerySet:
        return self.exclude(status__in=[Demand.Status.ARCHIVED, Demand.Status.WITHDRAWN])

    def on_the_clock(self) -> DemandQuerySet:
        return self.filter(status=Demand.Status.HANDLING, deadline__isnull=False)


class Demand(models.Model):
    """An enterprise's request for help, worked by departments on a working-day clock."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待受理")
        ACCEPTED = "accepted", _("已受理")
        DISPATCHED = "dispatched", _("已分派")
        RETURNED = "returned", _("已退回")
        HANDLING = "handling", _("办理中")
        AWAITING_INFO = "awaiting_info", _("待补充材料")
        COMPLETED = "completed", _("已办结待审核")
        FOLLOW_UP = "follow_up", _("待回访")
        ARCHIVED = "archived", _("已归档")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")
        EMERGENCY = "emergency", _("特急（当日）")

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASIC = "basic", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    class Ladder(models.IntegerChoices):
        NONE = 0, _("正常")
        WARNED = 1, _("临期提醒")
        URGED = 2, _("催办")
        NOTICE = 3, _("催办通知书")
        REPORTED = 4, _("通报")

    code = models.CharField(_("工单编号"), max_length=20, unique=True, editable=False)
    organization = models.ForeignKey(
        "directory.Organization", verbose_name=_("企业"), on_delete=models.PROTECT, related_name="demands"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category = models.ForeignKey(
        DemandCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="demands"
    )
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("诉求内容"))
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(
        _("状态"), max_length=15, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    lead_department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("承办部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_demands",
    )
    co_departments = models.ManyToManyField(
        "accounts.Department", verbose_name=_("协办部门"), blank=True, related_name="co_demands"
    )
    statutory_days = models.PositiveSmallIntegerField(_("法定时限（工作日）"), null=True, blank=True)
    promised_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dispatched_at = models.DateTimeField(_("分派时间"), null=True, blank=True, db_index=True)
    deadline = models.DateField(_("办理期限"), null=True, blank=True, db_index=True)
    statutory_deadline = models.DateField(_("法定期限"), null=True, blank=True)
    # Each deadline is provisional while its own year has no holiday calendar (see
    # yimatong.lib.workdays); entering that year's days recomputes both (actions.calendar_changed).
    deadline_provisional = models.BooleanField(
        _("期限为暂定"), default=False, help_text=_("期限所在年份的节假日尚未录入，按周一至周五计算。")
    )
    statutory_provisional = models.BooleanField(
        _("法定期限为暂定"),
        default=False,
        help_text=_("法定期限所在年份的节假日尚未录入，按周一至周五计算。"),
    )
    paused_at = models.DateTimeField(_("暂停计时"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("已批准延期（工作日）"), default=0)
    extension_requested_days = models.PositiveSmallIntegerField(
        _("申请延期（工作日）"), null=True, blank=True
    )
    extension_reason = models.CharField(_("延期理由"), max_length=200, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    completed_on_time = models.BooleanField(_("按时办结"), null=True, blank=True)
    # Office hours on working days, kept by the actions whenever the moments they measure change
    # (and by a change of the park's calendar), so that the KPIs are sums in the database.
    response_hours = models.FloatField(_("响应用时（工作小时）"), null=True, blank=True, editable=False)
    handling_hours = models.FloatField(_("办理用时（工作小时）"), null=True, blank=True, editable=False)
    resolution = models.TextField(_("办理结果"), blank=True)
    redo_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    rating = models.CharField(_("评价"), max_length=12, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=300, blank=True)
    rated_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    ladder = models.PositiveSmallIntegerField(_("督促级别"), choices=Ladder.choices, default=Ladder.NONE)
    supervised_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    supervised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("督办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    supervision_note = models.CharField(_("督办事项"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = DemandQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求工单")
        verbose_name_plural = pgettext_lazy("plural", "诉求工单")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["updated_at"], name="services_demand_changed_idx"),
            models.Index(fields=["lead_department", "status", "deadline"], name="services_demand_queue_idx"),
            models.Index(
                fields=["deadline", "-created_at"],
                condition=Q(status__in=["dispatched", "handling", "awaiting_info"]),
                name="services_demand_open_idx",
            ),
            models.Index(fields=["organization", "-created_at"], name="services_demand_org_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="services_demand_handling_has_deadline",
                condition=~Q(status="handling") | Q(deadline__isnull=False, signed_at__isnull=False),
                violation_error_message=_("办理中的工单必须已签收并有办理期限。"),
            ),
            models.CheckConstraint(
                name="services_demand_dispatched_has_department",
                condition=Q(status__in=["submitted", "accepted", "withdrawn"])
                | Q(lead_department__isnull=False),
                violation_error_message=_("已分派的工单必须有承办部门。"),
            ),
            models.CheckConstraint(
                name="services_demand_rated_has_rating",
                condition=~Q(status="archived") | ~Q(rating=""),
                violation_error_message=_("归档前须完成回访评价。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("services:demand_detail", args=[self.code])

    def clock(self, today: dt.date | None = None, overrides: dict | None = None) -> dict[str, Any]:
        """Where the handling clock stands: working days left (negative: overdue) and a colour."""
        from yimatong.lib.workdays import working_days_between

        if self.deadline is None or self.status not in (self.Status.HANDLING, self.Status.AWAITING_INFO):
            return {"running": False}
        today = today or timezone.localdate()
        if today <= self.deadline:
            left = working_days_between(today, self.deadline, overrides)
        else:
            left = -working_days_between(self.deadline, today, overrides)
        colour = "red" if left < 0 else ("yellow" if left <= 1 else "green")
        return {
            "running": self.status == self.Status.HANDLING,
            "paused": self.status == self.Status.AWAITING_INFO,
            "left": left,
            "colour": colour,
        }


class DemandEvent(models.Model):
    """The demand's history, append-only: every transition with actor and reason."""

    class Kind(models.TextChoices):
        FILED = "filed", _("提交")
        ACCEPTED = "accepted", _("受理")
        DISPATCHED = "dispatched", _("分派")
        SIGNED = "signed", _("签收")
        RETURNED = "returned", _("退回")
        INFO_REQUESTED = "info_requested", _("要求补充材料")
        INFO_SUPPLIED = "info_supplied", _("补充材料")
        EXTENSION_REQUESTED = "ext_requested", _("申请延期")
        EXTENSION_DECIDED = "ext_decided", _("延期审批")
        COMPLETED = "completed", _("办结反馈")
        REVIEWED = "reviewed", _("审核")
        RATED = "rated", _("回访评价")
        REOPENED = "reopened", _("重办")
        ESCALATED = "escalated", _("督促")
        SUPERVISED = "supervised", _("督办")
        DEADLINE_MOVED = "deadline_moved", _("期限重算")
        WITHDRAWN = "withdrawn", _("撤回")
        NOTE = "note", _("备注")

    demand = models.ForeignKey(
        Demand, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("类型"), max_length=15, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField(_("原状态"), max_length=15, blank=True)
    to_status = models.CharField(_("新状态"), max_length=15, blank=True)
    text = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("内容"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("工单记录")
        verbose_name_plural = pgettext_lazy("plural", "工单记录")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["kind", "demand"], name="services_demandevent_kind_idx")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.kind}"


class EnterpriseProfile(models.Model):
    """Facts about a resident enterprise that policies ask about, beyond its directory record.
    An empty field is unknown (not zero): matching says so instead of guessing."""

    organization = models.OneToOneField(
        "directory.Organization", verbose_name=_("企业"), on_delete=models.CASCADE, related_name="profile"
    )
    revenue = models.DecimalField(
        _("上年营业收入（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    rd_ratio = models.DecimalField(
        _("研发投入占比（%）"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    employees = models.PositiveIntegerField(_("从业人数"), null=True, blank=True)
    patents_invention = models.PositiveIntegerField(_("发明专利（件）"), null=True, blank=True)
    patents_utility = models.PositiveIntegerField(_("实用新型专利（件）"), null=True, blank=True)
    patents_design = models.PositiveIntegerField(_("外观设计专利（件）"), null=True, blank=True)
    is_tech_sme = models.BooleanField(_("科技型中小企业"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业画像")
        verbose_name_plural = pgettext_lazy("plural", "企业画像")
        ordering = ["organization"]
        indexes = [models.Index(fields=["updated_at"], name="services_profile_changed_idx")]
        constraints = [
            models.CheckConstraint(
                name="services_profile_rd_ratio_range",
                condition=Q(rd_ratio__isnull=True) | Q(rd_ratio__gte=0, rd_ratio__lte=100),
                violation_error_message=_("研发投入占比应在 0–100% 之间。"),
            ),
        ]

    def __str__(self) -> str:
        return str(self.organization)


class PolicyQuerySet(models.QuerySet):
    def current(self, today: dt.date | None = None) -> PolicyQuerySet:
        today = today or timezone.localdate()
        return self.filter(is_published=True).filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=today),
            Q(valid_to__isnull=True) | Q(valid_to__gte=today),
        )


class Policy(models.Model):
    """A policy in the park's library, with its eligibility as a tree of conditions."""

    class Benefit(models.TextChoices):
        SUBSIDY = "subsidy", _("资金补助")
        TAX = "tax", _("税收优惠")
        INTEREST = "interest", _("贷款贴息")
        RENT = "rent", _("租金减免")
        TALENT = "talent", _("人才支持")

    class Mode(models.TextChoices):
        APPLY = "apply", _("申报制")
        FAST = "fast", _("快申快享")
        AUTO = "auto", _("免申即享")

    code = models.SlugField(_("编号"), max_length=40, unique=True)
    title = models.CharField(_("政策名称"), max_length=150)
    issuer = models.CharField(_("发布机构"), max_length=120)
    document_number = models.CharField(_("文号"), max_length=60, blank=True)
    valid_from = models.DateField(_("有效期自"), null=True, blank=True)
    valid_to = models.DateField(_("有效期至"), null=True, blank=True)
    benefit = models.CharField(_("支持方式"), max_length=10, choices=Benefit.choices)
    amount = models.DecimalField(
        _("支持金额（万元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    amount_note = models.CharField(
        _("金额说明"), max_length=200, blank=True, help_text=_("如：按研发投入的 10%，最高 200 万元。")
    )
    mode = models.CharField(_("兑现方式"), max_length=5, choices=Mode.choices, default=Mode.APPLY)
    materials = models.TextField(_("申报材料"), blank=True, help_text=_("每行一项。"))
    summary = models.TextField(_("政策要点"), blank=True)
    conditions = models.JSONField(_("适用条件"), default=dict)
    version = models.PositiveIntegerField(_("条件版本"), default=1)
    budget = models.DecimalField(
        _("资金预算（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    disbursed = models.DecimalField(_("已兑付（万元）"), max_digits=14, decimal_places=2, default=0)
    is_published = models.BooleanField(_("发布"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("政策")
        verbose_name_plural = pgettext_lazy("plural", "政策")
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="services_policy_budget_not_overdrawn",
                condition=Q(budget__isnull=True) | Q(disbursed__lte=models.F("budget")),
                violation_error_message=_("兑付总额不能超过资金预算。"),
            ),
            models.CheckConstraint(
                name="services_policy_validity_order",
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_from__lte=models.F("valid_to")),
                violation_error_message=_("有效期开始日期不能晚于结束日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("services:policy_detail", args=[self.code])


class PolicyMatch(models.Model):
    """Where an enterprise stands with a policy: met, one condition short, or unknown facts.
    Kept up to date when the enterprise's profile or the policy changes; plainly unmet pairs
    are not stored."""

    class Status(models.TextChoices):
        MET = "met", _("符合")
        UNMET = "unmet", _("差一项")
        UNKNOWN = "unknown", _("待补充信息")

    class Payout(models.TextChoices):
        NONE = "", _("—")
        PUSHED = "pushed", _("已推送待确认")
        CONFIRMED = "confirmed", _("企业已确认")
        PAID = "paid", _("已兑付")
        PUBLISHED = "published", _("已公示")

    policy = models.ForeignKey(
        Policy, verbose_name=_("政策"), on_delete=models.CASCADE, related_name="matches"
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("企业"),
        on_delete=models.CASCADE,
        related_name="policy_matches",
    )
    policy_version = models.PositiveIntegerField(_("条件版本"))
    # No index of its own: every query reads the matches of a policy or of an enterprise (the
    # unique pair and services_match_org_idx), and a recompute writes millions of rows.
    status = models.CharField(_("匹配结果"), max_length=8, choices=Status.choices)
    pass_rate = models.DecimalField(_("通过率（%）"), max_digits=5, decimal_places=1)
    missing = models.JSONField(_("不满足的条件"), default=list, blank=True)
    unknown = models.JSONField(_("未知的信息"), default=list, blank=True)
    estimated_amount = models.DecimalField(
        _("预计金额（万元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    notified_version = models.PositiveIntegerField(_("已通知版本"), null=True, blank=True)
    not_interested = models.BooleanField(_("不感兴趣"), default=False)
    payout = models.CharField(_("免申即享进度"), max_length=10, choices=Payout.choices, blank=True)
    paid_amount = models.DecimalField(
        _("兑付金额（万元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    paid_on = models.DateField(_("兑付日期"), null=True, blank=True)
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("政策匹配")
        verbose_name_plural = pgettext_lazy("plural", "政策匹配")
        ordering = ["policy", "-pass_rate"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "organization"], name="services_policymatch_one_per_pair"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="services_match_org_idx")]

    def __str__(self) -> str:
        return f"{self.policy_id}:{self.organization_id}:{self.status}"


class Application(models.Model):
    """An enterprise's application under a policy, followed to the money (政策申报全过程跟踪)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        ACCEPTED = "accepted", _("已受理")
        FIRST_REVIEW = "first_review", _("初审通过")
        DEPT_REVIEW = "dept_review", _("部门审核通过")
        PUBLICIZED = "publicized", _("公示中")
        PAID = "paid", _("已兑付")
        RETURNED = "returned", _("退回修改")
        REJECTED = "rejected", _("不予支持")

    code = models.CharField(_("申报编号"), max_length=20, unique=True, editable=False)
    policy = models.ForeignKey(
        Policy, verbose_name=_("政策"), on_delete=models.PROTECT, related_name="applications"
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    amount_requested = models.DecimalField(
        _("申请金额（万元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    amount_paid = models.DecimalField(
        _("兑付金额（万元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    paid_on = models.DateField(_("兑付日期"), null=True, blank=True)
    note = models.TextField(_("申报说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申报人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("政策申报")
        verbose_name_plural = pgettext_lazy("plural", "政策申报")
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["updated_at"], name="services_app_changed_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "organization"],
                condition=~Q(status__in=["rejected", "paid"]),
                name="services_application_one_open_per_policy",
                violation_error_message=_("贵企业已有一份该政策的申报在办理中。"),
            ),
            models.CheckConstraint(
                name="services_application_paid_has_amount",
                condition=~Q(status="paid") | Q(amount_paid__isnull=False, paid_on__isnull=False),
                violation_error_message=_("兑付须有金额和日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("services:application_detail", args=[self.code])

    def checklist(self) -> list[str]:
        return [line.strip() for line in self.policy.materials.splitlines() if line.strip()]


def _attachment_path(instance: DemandAttachment, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"demands/{instance.demand.code}/{uuid.uuid4().hex}.{suffix}"


class DemandAttachment(models.Model):
    """A file the enterprise sent with its demand, or with the information it was asked for."""

    demand = models.ForeignKey(
        Demand, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to=_attachment_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("诉求附件")
        verbose_name_plural = pgettext_lazy("plural", "诉求附件")
        ordering = ["demand", "created_at"]

    def __str__(self) -> str:
        return self.original_name


def _material_path(instance: ApplicationMaterial, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"applications/{instance.application.code}/{uuid.uuid4().hex}.{suffix}"


class ApplicationMaterial(models.Model):
    application = models.ForeignKey(
        Application, verbose_name=_("申报"), on_delete=models.CASCADE, related_name="materials"
    )
    name = models.CharField(_("材料"), max_length=120)
    file = models.FileField(_("文件"), upload_to=_material_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("申报材料")
        verbose_name_plural = pgettext_lazy("plural", "申报材料")
        ordering = ["application", "name", "-created_at"]

    def __str__(self) -> str:
        return self.name


class ApplicationEvent(models.Model):
    """The application's steps, timed and visible to the enterprise."""

    application = models.ForeignKey(
        Application, verbose_name=_("申报"), on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    text = models.TextField(_("意见"), blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("申报记录")
        verbose_name_plural = pgettext_lazy("plural", "申报记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.to_status}"


# One enterprise, one plan (一企一策) ----------------------------------------------------------------


class ServicePlan(models.Model):
    """A key enterprise's plan: its chief service officer (首席服务官), goals, action items and
    a problem ledger worked to zero (清零销号), with monthly progress."""

    organization = models.OneToOneField(
        "directory.Organization",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="service_plan",
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("首席服务官"),
        on_delete=models.PROTECT,
        related_name="service_plans",
    )
    goals = models.TextField(_("服务目标"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("一企一策")
        verbose_name_plural = pgettext_lazy("plural", "一企一策")
        ordering = ["organization__name"]

    def __str__(self) -> str:
        return str(self.organization)

    def get_absolute_url(self) -> str:
        return reverse("services:plan_detail", args=[self.pk])


class PlanItem(models.Model):
    class Kind(models.TextChoices):
        ACTION = "action", _("行动事项")
        PROBLEM = "problem", _("问题")

    class Status(models.TextChoices):
        OPEN = "open", _("未开始")
        IN_PROGRESS = "in_progress", _("推进中")
        DONE = "done", _("已完成/已销号")

    plan = models.ForeignKey(
        ServicePlan, verbose_name=_("一企一策"), on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    title = models.CharField(_("事项"), max_length=200)
    owner = models.CharField(_("责任人/单位"), max_length=80)
    deadline = models.DateField(_("完成时限"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(_("办理情况"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("一企一策事项")
        verbose_name_plural = pgettext_lazy("plural", "一企一策事项")
        ordering = ["status", "deadline", "pk"]
        constraints = [
            models.CheckConstraint(
                name="services_planitem_done_is_closed",
                condition=~Q(status="done") | Q(closed_at__isnull=False),
                violation_error_message=_("完成或销号须记录时间。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PlanProgress(models.Model):
    plan = models.ForeignKey(
        ServicePlan, verbose_name=_("一企一策"), on_delete=models.CASCADE, related_name="progress"
    )
    month = models.DateField(_("月份"), help_text=_("该月第一天。"))
    summary = models.TextField(_("本月进展"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("月度进展")
        verbose_name_plural = pgettext_lazy("plural", "月度进展")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "month"], name="services_planprogress_one_per_month"),
            models.CheckConstraint(name="services_planprogress_first_of_month", condition=Q(month__day=1)),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.month:%Y-%m}"


# Financing (金融服务) --------------------------------------------------------------------------------


class Collateral(models.TextChoices):
    CREDIT = "credit", _("信用")
    MORTGAGE = "mortgage", _("抵押")
    GUARANTEE = "guarantee", _("担保")
    IP_PLEDGE = "ip_pledge", _("知识产权质押")


class BankProduct(models.Model):
    bank = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("金融机构"),
        on_delete=models.PROTECT,
        related_name="bank_products",
    )
    name = models.CharField(_("产品名称"), max_length=80)
    amount_min = models.DecimalField(_("最低额度（万元）"), max_digits=12, decimal_places=2)
    amount_max = models.DecimalField(_("最高额度（万元）"), max_digits=12, decimal_places=2)
    max_term_months = models.PositiveSmallIntegerField(_("最长期限（月）"))
    rate = models.DecimalField(_("年利率（%）"), max_digits=5, decimal_places=2)
    collateral = models.CharField(_("担保方式"), max_length=10, choices=Collateral.choices)
    target_chain = models.ManyToManyField(
        "directory.ChainNode",
        verbose_name=_("支持的产业方向"),
        blank=True,
        related_name="bank_products",
        help_text=_("留空表示不限。"),
    )
    is_active = models.BooleanField(_("在售"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("金融产品")
        verbose_name_plural = pgettext_lazy("plural", "金融产品")
        ordering = ["rate", "pk"]
        constraints = [
            models.CheckConstraint(
                name="services_bankproduct_amount_range",
                condition=Q(amount_min__lte=models.F("amount_max")),
                violation_error_message=_("最低额度不能高于最高额度。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank} · {self.name}"


class FinancingNeed(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("待对接")
        REFERRED = "referred", _("已推荐")
        FUNDED = "funded", _("已放款")
        CLOSED = "closed", _("已关闭")

    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="financing_needs",
    )
    amount = models.DecimalField(_("融资金额（万元）"), max_digits=12, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("期限（月）"))
    purpose = models.CharField(_("用途"), max_length=200)
    collateral = models.CharField(_("可提供的担保方式"), max_length=10, choices=Collateral.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("融资需求")
        verbose_name_plural = pgettext_lazy("plural", "融资需求")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="services_financingneed_positive", condition=Q(amount__gt=0, term_months__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.amount}"

    def get_absolute_url(self) -> str:
        return reverse("services:financing_detail", args=[self.pk])


class Referral(models.Model):
    """A financing need referred to a bank product, tracked to its outcome."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("审批中")
        APPROVED = "approved", _("已批准")
        DECLINED = "declined", _("未获批")

    need = models.ForeignKey(
        FinancingNeed, verbose_name=_("融资需求"), on_delete=models.CASCADE, related_name="referrals"
    )
    product = models.ForeignKey(
        BankProduct, verbose_name=_("金融产品"), on_delete=models.PROTECT, related_name="referrals"
    )
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    approved_amount = models.DecimalField(
        _("批准金额（万元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    disbursed_on = models.DateField(_("放款日期"), null=True, blank=True)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("推荐人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("推荐时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("融资推荐")
        verbose_name_plural = pgettext_lazy("plural", "融资推荐")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["need", "product"], name="services_referral_once_per_product"),
            models.CheckConstraint(
                name="services_referral_approved_has_amount",
                condition=~Q(outcome="approved") | Q(approved_amount__isnull=False),
                violation_error_message=_("已批准须填写批准金额。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.need_id} → {self.product_id}"

    def days_to_disbursement(self) -> int | None:
        if self.disbursed_on is None:
            return None
        return (self.disbursed_on - timezone.localtime(self.created_at).date()).days
