"""Monthly direct reports (企业直报) and the rules they are checked and counted by.

A report is one enterprise's figures for one period of a year: ``month`` 2 is January–February
(January is exempt), 3 is March, … 12 is December. Every flow is reported as 本月 and 1–n月累计
in 万元 (electricity in 万千瓦时); fixed-asset investment by project, with its industrial part.
Each submission is kept as a revision; publishing a period freezes each report's figures with
who published them, and later edits wait for the next publication.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

FIRST_MONTH = 2
# (field prefix, indicator code, label, unit): the flows every report carries as 本月 and 累计.
FLOWS: list[tuple[str, str, Any, Any]] = [
    ("output", "industrial_output", _("工业总产值（现价）"), _("万元")),
    ("revenue", "revenue", _("营业收入"), _("万元")),
    ("tax", "tax", _("税收"), _("万元")),
    ("electricity", "electricity", _("用电量"), _("万千瓦时")),
]


def _money(label: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(label, max_digits=14, decimal_places=2, null=True, blank=True, **kwargs)


class ReportingRules(models.Model):
    """The rules of one year, as data: scopes (规上工业, investment projects), the soft checks'
    bounds, the deadline and the annual targets."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    above_scale_revenue = models.DecimalField(
        _("规上工业标准：上年主营业务收入（万元）"), max_digits=10, decimal_places=2, default=Decimal("2000")
    )
    investment_project_min = models.DecimalField(
        _("固定资产投资项目标准：计划总投资（万元）"), max_digits=10, decimal_places=2, default=Decimal("500")
    )
    yoy_bound = models.DecimalField(
        _("同比变动提示阈值（±%）"), max_digits=6, decimal_places=2, default=Decimal("30")
    )
    ratio_min = models.DecimalField(
        _("产值/营收比下限"), max_digits=6, decimal_places=2, default=Decimal("0.5")
    )
    ratio_max = models.DecimalField(
        _("产值/营收比上限"), max_digits=6, decimal_places=2, default=Decimal("2.0")
    )
    tolerance = models.DecimalField(
        _("累计核对容差（万元）"), max_digits=6, decimal_places=2, default=Decimal("0.5")
    )
    deadline_day = models.PositiveSmallIntegerField(
        _("报送截止日（次月几号）"), default=8, help_text=_("每期报表在次月的这一天之前报送。")
    )
    targets = models.JSONField(
        _("年度目标（万元）"),
        default=dict,
        blank=True,
        help_text=_('指标代码 → 年度目标，例如 {"industrial_output": 500000}。'),
    )
    above_scale_fixed_at = models.DateTimeField(_("规上名录确定时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("统计规则")
        verbose_name_plural = pgettext_lazy("plural", "统计规则")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ratio_min__lt=models.F("ratio_max")), name="stats_rules_ratio_band"
            ),
            models.CheckConstraint(
                condition=Q(deadline_day__gte=1) & Q(deadline_day__lte=28), name="stats_rules_deadline_day"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)

    @classmethod
    def for_year(cls, year: int) -> ReportingRules:
        return cls.for_years([year])[year]

    @classmethod
    def for_years(cls, years: Any) -> dict[int, ReportingRules]:
        """The rules of each year, read in one query; a year nobody set up keeps the rules of the
        last year before it that was (unsaved), or the defaults."""
        wanted = sorted(set(years))
        if not wanted:
            return {}
        known = {r.year: r for r in cls.objects.filter(year__lte=wanted[-1]).order_by("year")}
        found: dict[int, ReportingRules] = {}
        for year in wanted:
            if year in known:
                found[year] = known[year]
                continue
            rules = cls(year=year)
            earlier = max((y for y in known if y < year), default=None)
            if earlier is not None:
                for name in (
                    "above_scale_revenue",
                    "investment_project_min",
                    "yoy_bound",
                    "ratio_min",
                    "ratio_max",
                    "tolerance",
                    "deadline_day",
                ):
                    setattr(rules, name, getattr(known[earlier], name))
            found[year] = rules
        return found


class AboveScaleMemberQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> AboveScaleMemberQuerySet:
        """The set is the statistics office's and the leaders' to read."""
        from yimatong.accounts import access

        return self if access.can_read_statistics(user) else self.none()

    def editable_by(self, user: Any) -> AboveScaleMemberQuerySet:
        """Only the statistics office adds enterprises to the set or takes them out."""
        from yimatong.accounts import access

        return self if access.is_statistics_officer(user) else self.none()

    def in_force(self, month: int) -> AboveScaleMemberQuerySet:
        """The members counted for January–``month``: joined by then and not left yet."""
        return self.filter(from_month__lte=month).filter(Q(left_month__isnull=True) | Q(left_month__gt=month))

    def with_base_reports(self) -> AboveScaleMemberQuerySet:
        """``base_reports``: how many periods of last year the enterprise reported, the periods
        its comparable base is its own figures (0 where it filed none)."""
        filed = (
            MonthlyReport.objects.filter(organization=models.OuterRef("organization_id"))
            .filter(year=models.OuterRef("year") - 1)
            .order_by()
            .values("organization")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(base_reports=Coalesce(models.Subquery(filed), 0))


class AboveScaleMember(models.Model):
    """An enterprise in the 规上工业 set of a year. The set is fixed once last year's December
    reports are in (from their main business revenue); during the year an enterprise joins it
    from a month on (新增入库: newly built and producing, or newly above the threshold) and
    leaves it from a month on (退库), so that each period's growth is counted over the set of
    that period."""

    class Basis(models.TextChoices):
        ANNUAL = "annual", _("年初名录")
        NEW = "new", _("新建投产入库")
        GROWN = "grown", _("达到规模标准入库")

    class Exit(models.TextChoices):
        CLOSED = "closed", _("关停")
        MOVED = "moved", _("迁出")
        BELOW = "below", _("降为规模以下")
        OTHER = "other", _("其他")

    year = models.PositiveSmallIntegerField(_("年度"))
    organization = models.ForeignKey(
        "directory.Organization", verbose_name=_("企业"), on_delete=models.CASCADE, related_name="+"
    )
    revenue_last_year = _money(_("上年主营业务收入（万元）"))
    basis = models.CharField(_("入库方式"), max_length=10, choices=Basis.choices, default=Basis.ANNUAL)
    from_month = models.PositiveSmallIntegerField(
        _("入库月份"), default=FIRST_MONTH, help_text=_("自该月的 1–n 月累计数起计入。")
    )
    note = models.CharField(_("入库说明"), max_length=200, blank=True)
    left_month = models.PositiveSmallIntegerField(
        _("退库月份"), null=True, blank=True, help_text=_("自该月的 1–n 月累计数起不再计入。")
    )
    exit_reason = models.CharField(_("退库原因"), max_length=10, choices=Exit.choices, blank=True)
    exit_note = models.CharField(_("退库说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # The cockpit's freshness marker reads it: every change of the set moves it.
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = AboveScaleMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("规上工业名录")
        verbose_name_plural = pgettext_lazy("plural", "规上工业名录")
        ordering = ["year", "organization"]
        constraints = [
            models.UniqueConstraint(fields=["year", "organization"], name="stats_above_scale_once"),
            models.CheckConstraint(
                condition=Q(from_month__gte=FIRST_MONTH) & Q(from_month__lte=12),
                name="stats_above_scale_from_month",
            ),
            # The annual list counts from the year's first period; an entrant from its month.
            models.CheckConstraint(
                condition=~Q(basis="annual") | Q(from_month=FIRST_MONTH),
                name="stats_above_scale_annual_from_first",
            ),
            models.CheckConstraint(
                condition=(Q(left_month__isnull=True) & Q(exit_reason=""))
                | (Q(left_month__gt=models.F("from_month")) & Q(left_month__lte=12) & ~Q(exit_reason="")),
                name="stats_above_scale_left_after_joined",
            ),
        ]
        indexes = [models.Index(fields=["updated_at"], name="stats_above_scale_changed_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.organization_id}"

    def in_force(self, month: int) -> bool:
        return self.from_month <= month and (self.left_month is None or self.left_month > month)


class AboveScaleEvent(models.Model):
    """The history of a year's 规上工业 set, append-only: the set fixed, fixed again with a
    reason, an enterprise joining or leaving from a month. Written only by ``stats.actions``."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("确定年度名录")
        REFIXED = "refixed", _("重新确定年度名录")
        JOINED = "joined", _("新增入库")
        LEFT = "left", _("退库")

    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("企业"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    month = models.PositiveSmallIntegerField(_("月份"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    data = models.JSONField(_("内容"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("规上名录变动")
        verbose_name_plural = pgettext_lazy("plural", "规上名录变动")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["year", "created_at"], name="stats_above_scale_event_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["fixed", "refixed"])
                | (Q(organization__isnull=False) & Q(month__isnull=False)),
                name="stats_above_scale_event_names_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.kind}"

    @property
    def how(self) -> str:
        """How the enterprise joined or why it left, in the reader's language."""
        if self.kind == self.Kind.JOINED and self.data.get("basis") in AboveScaleMember.Basis.values:
            return str(AboveScaleMember.Basis(self.data["basis"]).label)
        if self.kind == self.Kind.LEFT and self.data.get("exit_reason") in AboveScaleMember.Exit.values:
            return str(AboveScaleMember.Exit(self.data["exit_reason"]).label)
        return ""


class Period(models.Model):
    """One reporting period of a year and its publication."""

    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("报告期")
        verbose_name_plural = pgettext_lazy("plural", "报告期")
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="stats_period_once"),
            models.CheckConstraint(
                condition=Q(month__gte=FIRST_MONTH) & Q(month__lte=12), name="stats_period_month"
            ),
        ]

    def __str__(self) -> str:
        return period_label(self.year, self.month)


def period_label(year: int, month: int) -> str:
    if month == FIRST_MONTH:
        return _("%(year)s年1–2月") % {"year": year}
    return _("%(year)s年1–%(month)s月") % {"year": year, "month": month}


class MonthlyReportQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> MonthlyReportQuerySet:
        """An enterprise sees its own reports; statistics staff, the service centre and leaders
        see all; nobody else any."""
        from yimatong.accounts import access

        if access.can_read_statistics(user):
            return self
        role = access.role_of(user)
        from yimatong.accounts.models import User

        if role == User.Role.ENTERPRISE and user.organization_id:
            return self.filter(organization_id=user.organization_id)
        return self.none()


class MonthlyReport(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已报送")
        PUBLISHED = "published", _("已发布")
        REVISED = "revised", _("发布后修改，待重新发布")

    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="monthly_reports",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"), help_text=_("2 表示 1–2 月（1 月免报）。"))
    segment = models.CharField(_("产业链板块"), max_length=40, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)

    output_month = _money(_("工业总产值 本月"))
    output_cum = _money(_("工业总产值 1–n月累计"))
    revenue_month = _money(_("营业收入 本月"))
    revenue_cum = _money(_("营业收入 1–n月累计"))
    tax_month = _money(_("税收 本月"))
    tax_cum = _money(_("税收 1–n月累计"))
    electricity_month = _money(_("用电量 本月"))
    electricity_cum = _money(_("用电量 1–n月累计"))
    employees = models.PositiveIntegerField(_("期末从业人数"), null=True, blank=True)

    explanations = models.JSONField(_("情况说明"), default=dict, blank=True)
    revision = models.PositiveIntegerField(_("修订次数"), default=1)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    # The figures as published for the period, frozen (a later edit waits for republication).
    published_values = models.JSONField(_("发布数"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MonthlyReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("月度直报")
        verbose_name_plural = pgettext_lazy("plural", "月度直报")
        ordering = ["-year", "-month", "organization"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "month"], name="stats_report_once"),
            models.CheckConstraint(
                condition=Q(month__gte=FIRST_MONTH) & Q(month__lte=12), name="stats_report_month"
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{prefix}_{kind}__isnull": True}) | Q(**{f"{prefix}_{kind}__gte": 0}),
                    name=f"stats_report_{prefix}_{kind}_not_negative",
                )
                for prefix, *_rest in FLOWS
                for kind in ("month", "cum")
            ],
        ]
        indexes = [
            models.Index(fields=["updated_at"], name="stats_report_changed_idx"),
            models.Index(fields=["year", "month"], name="stats_report_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {period_label(self.year, self.month)}"

    def get_absolute_url(self) -> str:
        return reverse("stats:report_detail", args=[self.pk])

    @property
    def period_label(self) -> str:
        return period_label(self.year, self.month)


class InvestmentLine(models.Model):
    """A fixed-asset investment project's figures in a report, with its industrial part."""

    report = models.ForeignKey(
        MonthlyReport, verbose_name=_("报表"), on_delete=models.CASCADE, related_name="lines"
    )
    project = models.ForeignKey(
        "investment.Project",
        verbose_name=_("招商项目"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("项目名称"), max_length=150)
    planned_total = models.DecimalField(_("计划总投资（万元）"), max_digits=14, decimal_places=2)
    month_amount = models.DecimalField(_("本月完成投资"), max_digits=14, decimal_places=2)
    cumulative = models.DecimalField(_("1–n月累计完成投资"), max_digits=14, decimal_places=2)
    industrial_month = models.DecimalField(_("其中工业投资 本月"), max_digits=14, decimal_places=2, default=0)
    industrial_cumulative = models.DecimalField(
        _("其中工业投资 累计"), max_digits=14, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("固定资产投资项目")
        verbose_name_plural = pgettext_lazy("plural", "固定资产投资项目")
        ordering = ["report", "name"]
        constraints = [
            models.UniqueConstraint(fields=["report", "name"], name="stats_line_once_per_report"),
            models.CheckConstraint(
                condition=Q(month_amount__gte=0)
                & Q(cumulative__gte=0)
                & Q(industrial_month__gte=0)
                & Q(industrial_cumulative__gte=0)
                & Q(planned_total__gt=0),
                name="stats_line_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(industrial_cumulative__lte=models.F("cumulative"))
                & Q(industrial_month__lte=models.F("month_amount")),
                name="stats_line_industrial_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ReportRevision(models.Model):
    """Every submission of a report as it was, with the checks it tripped and their explanations."""

    report = models.ForeignKey(
        MonthlyReport, verbose_name=_("报表"), on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("版本"))
    values = models.JSONField(_("数据"))
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    explanations = models.JSONField(_("情况说明"), default=dict, blank=True)
    after_deadline = models.BooleanField(_("截止后修改"), default=False)
    source = models.CharField(_("来源"), max_length=20, default="form")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("报送时间"), default=timezone.now)

    class Meta:
        verbose_name = _("报表修订记录")
        verbose_name_plural = pgettext_lazy("plural", "报表修订记录")
        ordering = ["report", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="stats_revision_once"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.number}"
