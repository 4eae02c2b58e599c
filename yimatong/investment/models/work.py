"""The work done on a project: activities, site visits, documents, major-project milestones and
problems, admission reviews, saved filters and ledger imports."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yimatong.investment.models.pipeline import Lead, Project


class Activity(models.Model):
    """A call, visit, meeting or conversation with the investor, and the next follow-up."""

    class Kind(models.TextChoices):
        CALL = "call", _("电话")
        VISIT = "visit", _("拜访")
        MEETING = "meeting", _("会谈")
        WECHAT = "wechat", _("微信沟通")
        SITE_VISIT = "site_visit", _("来园考察")
        LEADER_VISIT = "leader_visit", _("领导带队")

    project = models.ForeignKey(
        Project,
        verbose_name=_("项目"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("线索"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    kind = models.CharField(_("方式"), max_length=15, choices=Kind.choices)
    occurred_on = models.DateField(_("日期"), default=timezone.localdate)
    summary = models.CharField(_("摘要"), max_length=200)
    notes = models.TextField(_("详细记录"), blank=True)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("参加人员"), blank=True, related_name="activities"
    )
    external_participants = models.CharField(_("对方参加人员"), max_length=200, blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("带队领导"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_activities",
    )
    leader_name = models.CharField(_("带队领导（其他）"), max_length=60, blank=True)
    next_follow_up_on = models.DateField(_("下次跟进日期"), null=True, blank=True, db_index=True)
    follow_up_done = models.BooleanField(_("跟进已完成"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("跟进活动")
        verbose_name_plural = pgettext_lazy("plural", "跟进活动")
        ordering = ["-occurred_on", "-pk"]
        indexes = [
            models.Index(
                fields=["created_by", "next_follow_up_on"],
                condition=Q(follow_up_done=False),
                name="investment_activity_due_idx",
            ),
            # The weekly 招商活跃指数 feed counts activities by day and kind.
            models.Index(fields=["occurred_on", "kind"], name="investment_activity_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="investment_activity_on_project_or_lead",
                condition=Q(project__isnull=False) | Q(lead__isnull=False),
                violation_error_message=_("跟进活动必须属于一个项目或一条线索。"),
            ),
            models.CheckConstraint(
                name="investment_activity_leader_visit_names_leader",
                condition=~Q(kind="leader_visit") | Q(leader__isnull=False) | ~Q(leader_name=""),
                violation_error_message=_("领导带队的活动必须记录带队领导。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.get_kind_display()} {self.summary}"


class SiteVisit(models.Model):
    """A site visit (考察) on the investment calendar: asked for by the investor or set by staff."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    class Purpose(models.TextChoices):
        SITE_VISIT = "site_visit", _("来园考察")
        NEGOTIATION = "negotiation", _("项目洽谈会")
        SIGNING = "signing", _("签约仪式")

    class RequestedBy(models.TextChoices):
        INVESTOR = "investor", _("投资方预约")
        STAFF = "staff", _("工作人员安排")

    project = models.ForeignKey(
        Project,
        verbose_name=_("项目"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="site_visits",
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("线索"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="site_visits",
    )
    title = models.CharField(_("事由"), max_length=150)
    purpose = models.CharField(_("类型"), max_length=12, choices=Purpose.choices, default=Purpose.SITE_VISIT)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    location = models.CharField(_("地点"), max_length=150, blank=True)
    visitors = models.CharField(_("来访人员"), max_length=200, blank=True)
    visitor_count = models.PositiveSmallIntegerField(_("来访人数"), default=1)
    hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("接待人员"), blank=True, related_name="hosted_visits"
    )
    requested_by = models.CharField(
        _("发起方"), max_length=10, choices=RequestedBy.choices, default=RequestedBy.STAFF
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("安排人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("考察预约")
        verbose_name_plural = pgettext_lazy("plural", "考察预约")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="investment_visit_ends_after_start",
                condition=Q(ends_at__gt=models.F("starts_at")),
                violation_error_message=_("结束时间必须晚于开始时间。"),
            ),
            models.CheckConstraint(
                name="investment_visit_on_project_or_lead",
                condition=Q(project__isnull=False) | Q(lead__isnull=False),
                violation_error_message=_("考察必须属于一个项目或一条线索。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.starts_at):%Y-%m-%d %H:%M} {self.title}"

    def target_url(self) -> str:
        """The page of what the visit is about: its project, or its lead."""
        return (self.project or self.lead).get_absolute_url()


class Document(models.Model):
    """A document of a project, kept in versions; its visibility decides who may open it."""

    class Kind(models.TextChoices):
        BUSINESS_PLAN = "business_plan", _("商业计划书")
        FEASIBILITY = "feasibility", _("可行性研究报告")
        AGREEMENT = "agreement", _("协议/合同")
        LICENCE = "licence", _("证照")
        MINUTES = "minutes", _("会议纪要")
        OTHER = "other", _("其他")

    class Visibility(models.TextChoices):
        TEAM = "team", _("项目相关人员")
        RESTRICTED = "restricted", _("仅负责人、知情人和领导")
        INVESTOR = "investor", _("同时向投资方公开")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("类型"), max_length=15, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=150)
    visibility = models.CharField(
        _("可见范围"), max_length=10, choices=Visibility.choices, default=Visibility.TEAM
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("项目文件")
        verbose_name_plural = pgettext_lazy("plural", "项目文件")
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def latest(self) -> DocumentVersion | None:
        return self.versions.order_by("-number").first()


def _document_path(instance: DocumentVersion, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"projects/{instance.document.project.code}/{instance.document.code}/v{instance.number}.{suffix}"


class DocumentVersion(models.Model):
    document = models.ForeignKey(
        Document, verbose_name=_("文件"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveSmallIntegerField(_("版本"))
    file = models.FileField(_("文件"), upload_to=_document_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("文件类型"), max_length=100)
    sha256 = models.CharField(max_length=64)
    note = models.CharField(_("修改说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("文件版本")
        verbose_name_plural = pgettext_lazy("plural", "文件版本")
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"],
                name="investment_docversion_unique_number",
                violation_error_message=_("同一文件的版本号不能重复。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"


class Milestone(models.Model):
    """A planned step of a major project, with the department that owns it."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="milestones"
    )
    name = models.CharField(_("节点"), max_length=120)
    planned_on = models.DateField(_("计划完成"))
    actual_on = models.DateField(_("实际完成"), null=True, blank=True)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="milestones",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("计划节点")
        verbose_name_plural = pgettext_lazy("plural", "计划节点")
        ordering = ["project", "planned_on", "position", "pk"]

    def __str__(self) -> str:
        return self.name

    def is_overdue(self, today: Any = None) -> bool:
        return self.actual_on is None and self.planned_on < (today or timezone.localdate())

    def days_late(self, today: Any = None) -> int | None:
        if self.actual_on is not None:
            return max(0, (self.actual_on - self.planned_on).days)
        return max(0, ((today or timezone.localdate()) - self.planned_on).days)


class ProblemQuerySet(models.QuerySet):
    def open(self) -> ProblemQuerySet:
        return self.exclude(status=Problem.Status.RESOLVED)

    def overdue(self, today: Any = None) -> ProblemQuerySet:
        return self.open().filter(deadline__lt=today or timezone.localdate())


class Problem(models.Model):
    """An item of a major project's problem list (问题清单)."""

    class Status(models.TextChoices):
        OPEN = "open", _("待解决")
        IN_PROGRESS = "in_progress", _("解决中")
        RESOLVED = "resolved", _("已解决")

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="problems"
    )
    description = models.TextField(_("问题"))
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="problems"
    )
    deadline = models.DateField(_("办结时限"), db_index=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(_("解决情况"), blank=True)
    resolved_on = models.DateField(_("解决日期"), null=True, blank=True)
    # 0: none; 1: overdue, the department and the owner told; 2: a week overdue, the leaders told.
    escalation = models.PositiveSmallIntegerField(_("升级层级"), default=0)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        verbose_name = _("问题")
        verbose_name_plural = pgettext_lazy("plural", "问题清单")
        ordering = ["status", "deadline", "pk"]
        constraints = [
            models.CheckConstraint(
                name="investment_problem_resolved_has_resolution",
                condition=~Q(status="resolved") | (~Q(resolution="") & Q(resolved_on__isnull=False)),
                violation_error_message=_("已解决的问题必须填写解决情况和解决日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.description[:40]

    def is_overdue(self, today: Any = None) -> bool:
        return self.status != self.Status.RESOLVED and self.deadline < (today or timezone.localdate())


class ScoreItem(models.Model):
    """One line of the admission scorecard (准入评审).

    A measured item turns a project figure into points by thresholds (``[[min, points], ...]``,
    the highest threshold reached wins); a judged item is scored by the reviewer up to
    ``max_points``; a veto item rejects the project whatever its score when answered yes.
    """

    class Kind(models.TextChoices):
        MEASURED = "measured", _("按指标计分")
        JUDGED = "judged", _("评审打分")
        VETO = "veto", _("否决项")

    class Metric(models.TextChoices):
        INVESTMENT_INTENSITY = "investment_intensity", _("投资强度（万元/亩）")
        TAX_INTENSITY = "tax_intensity", _("亩均税收（万元/亩·年）")
        OUTPUT_INTENSITY = "output_intensity", _("亩均产值（万元/亩·年）")
        PLANNED_INVESTMENT = "planned_investment", _("计划投资（万元）")
        JOBS = "jobs", _("就业人数")
        CHAIN_FIT = "chain_fit", _("产业链契合（1 属于 1+3+N，0 不属于）")

    name = models.CharField(_("评审项"), max_length=80)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    metric = models.CharField(_("指标"), max_length=25, choices=Metric.choices, blank=True)
    thresholds = models.JSONField(
        _("分档"),
        default=list,
        blank=True,
        help_text=_("如 [[100, 5], [200, 10], [300, 17]]：达到 300 得 17 分。"),
    )
    max_points = models.DecimalField(_("满分"), max_digits=5, decimal_places=1, default=0)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("准入评审项")
        verbose_name_plural = pgettext_lazy("plural", "准入评审项")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                name="investment_scoreitem_measured_has_metric",
                condition=~Q(kind="measured") | ~Q(metric=""),
                violation_error_message=_("按指标计分的评审项必须选择指标。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AdmissionReview(models.Model):
    """A scored admission review of a project, stored with its decision (kept, never edited)."""

    class Decision(models.TextChoices):
        APPROVED = "approved", _("通过")
        CONDITIONAL = "conditional", _("有条件通过")
        REJECTED = "rejected", _("不通过")

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="admission_reviews"
    )
    total = models.DecimalField(_("总分"), max_digits=6, decimal_places=1)
    max_total = models.DecimalField(_("满分"), max_digits=6, decimal_places=1)
    vetoed = models.BooleanField(_("触发否决项"), default=False)
    breakdown = models.JSONField(_("评分明细"), default=list)
    decision = models.CharField(_("结论"), max_length=12, choices=Decision.choices)
    opinion = models.TextField(_("评审意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评审人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("评审时间"), default=timezone.now)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("准入评审")
        verbose_name_plural = pgettext_lazy("plural", "准入评审")
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="investment_review_veto_rejects",
                condition=Q(vetoed=False) | Q(decision="rejected"),
                violation_error_message=_("触发否决项的项目只能评为“不通过”。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.total}/{self.max_total} {self.decision}"

    @property
    def admits(self) -> bool:
        return self.decision in (self.Decision.APPROVED, self.Decision.CONDITIONAL)


class SavedFilter(models.Model):
    """A named project-list filter a person keeps for themselves."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("所有人"),
        on_delete=models.CASCADE,
        related_name="saved_filters",
    )
    name = models.CharField(_("名称"), max_length=60)
    query = models.CharField(_("筛选条件"), max_length=1000)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("常用筛选")
        verbose_name_plural = pgettext_lazy("plural", "常用筛选")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                name="investment_savedfilter_unique_name",
                violation_error_message=_("已有同名的常用筛选。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{reverse('investment:project_list')}?{self.query}"


class LedgerImport(models.Model):
    """An uploaded project ledger (招商项目台账): checked row by row, then imported."""

    class Status(models.TextChoices):
        CHECKING = "checking", _("检查中")
        CHECKED = "checked", _("已检查")
        IMPORTING = "importing", _("导入中")
        DONE = "done", _("已导入")
        FAILED = "failed", _("失败")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", _("全部通过才导入")
        VALID_ONLY = "valid", _("只导入通过检查的行")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.CHECKING)
    mode = models.CharField(_("导入方式"), max_length=5, choices=Mode.choices, blank=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    valid_rows = models.PositiveIntegerField(_("通过行数"), default=0)
    imported_rows = models.PositiveIntegerField(_("已导入行数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    preview = models.JSONField(_("预览"), default=list, blank=True)
    failure = models.TextField(_("失败原因"), blank=True)
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.CASCADE,
        related_name="ledger_imports",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("台账导入")
        verbose_name_plural = pgettext_lazy("plural", "台账导入")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress(self) -> int:
        """Percent done: rows checked; while importing, rows checked again, then rows written."""
        if self.status == self.Status.IMPORTING:
            work = self.total_rows + self.valid_rows
            return min(100, int(100 * (self.processed_rows + self.imported_rows) / work)) if work else 0
        return min(100, int(100 * self.processed_rows / self.total_rows)) if self.total_rows else 0

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.CHECKING, self.Status.IMPORTING)
