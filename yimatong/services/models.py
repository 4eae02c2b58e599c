"""Enterprise services: demands (诉求工单) on a working-day clock, the park's calendar of
working days, demand categories with their time limits."""

from __future__ import annotations

import datetime as dt
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
    dispatched_at = models.DateTimeField(_("分派时间"), null=True, blank=True)
    deadline = models.DateField(_("办理期限"), null=True, blank=True, db_index=True)
    statutory_deadline = models.DateField(_("法定期限"), null=True, blank=True)
    deadline_provisional = models.BooleanField(
        _("期限为暂定"), default=False, help_text=_("期限所在年份的节假日尚未录入，按周一至周五计算。")
    )
    paused_at = models.DateTimeField(_("暂停计时"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("已批准延期（工作日）"), default=0)
    extension_requested_days = models.PositiveSmallIntegerField(
        _("申请延期（工作日）"), null=True, blank=True
    )
    extension_reason = models.CharField(_("延期理由"), max_length=200, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    completed_on_time = models.BooleanField(_("按时办结"), null=True, blank=True)
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
            models.Index(fields=["lead_department", "status", "deadline"], name="services_demand_queue_idx"),
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

    def __str__(self) -> str:
        return f"{self.demand_id} {self.kind}"
