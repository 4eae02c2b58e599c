"""Read aggregates of the investment pipeline, kept up to date by the actions that write project
events (``investment.rollups``), so that the board, the numbers and the cockpit read a few
hundred rows instead of every project and event of a city.

Each project contributes to the tallies through what it is now (its stage, amounts and the
dimensions people filter by: owner, team, chain node, source channel) and through its events
(when it first reached a stage, what each signing counted). ``ProjectRollup`` keeps the
contribution last applied, so a refresh adds the difference between the new contribution and
the old one. The tallies hold derived figures only: ``yimatong rebuild_rollups`` recomputes them
from the projects and their events, and ``--check`` says whether they agree.

Amounts are kept in hundredths of 万元 (integers, exact on every database); the dimensions are
plain integers (0 for none) so that they can take part in the unique keys.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yimatong.investment.models.pipeline import Project

DIMENSIONS = ("owner_id", "team_id", "chain_id", "source")


class RollupDimensions(models.Model):
    owner_id = models.PositiveIntegerField(_("负责人"))
    team_id = models.PositiveIntegerField(_("负责团队"), default=0)
    chain_id = models.PositiveIntegerField(_("产业链环节"), default=0)
    source = models.CharField(_("来源渠道"), max_length=20)

    class Meta:
        abstract = True


class ProjectTally(RollupDimensions):
    """How many projects stand at each stage now, with the furthest stage each ever reached."""

    stage = models.CharField(_("阶段"), max_length=15)
    furthest = models.SmallIntegerField(_("到达的最远阶段"))  # index in PIPELINE, -1 for none
    n = models.IntegerField(_("项目数"), default=0)
    planned_c = models.BigIntegerField(_("计划投资（0.01 万元）"), default=0)
    contracted_c = models.BigIntegerField(_("合同投资（0.01 万元）"), default=0)

    class Meta:
        verbose_name = _("项目阶段汇总")
        verbose_name_plural = pgettext_lazy("plural", "项目阶段汇总")
        ordering = ["stage", "furthest"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "furthest", "owner_id", "team_id", "chain_id", "source"],
                name="investment_tally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage}/{self.furthest}: {self.n}"


class ProjectFlow(RollupDimensions):
    """The investment counted by signings and registrations, per day (Asia/Shanghai)."""

    day = models.DateField(_("日期"))
    signed_c = models.BigIntegerField(_("签约额（0.01 万元）"), default=0)
    landed_c = models.BigIntegerField(_("落地额（0.01 万元）"), default=0)

    class Meta:
        verbose_name = _("签约落地额汇总")
        verbose_name_plural = pgettext_lazy("plural", "签约落地额汇总")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "owner_id", "team_id", "chain_id", "source"], name="investment_flow_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.signed_c}/{self.landed_c}"


class ProjectCohort(RollupDimensions):
    """Projects by the day they first reached a stage (``signed`` … ``production``), or first
    counted a signing (``first_signed``, the cohort of the performance rates), with how far
    they have got since, their amounts and their capital in place."""

    class Kind(models.TextChoices):
        FIRST_SIGNED = "first_signed", _("首次计入签约额")
        SIGNED = "signed", _("首次签约")
        REGISTERED = "registered", _("首次注册落地")
        CONSTRUCTION = "construction", _("首次开工")
        PRODUCTION = "production", _("首次投产")

    cohort = models.CharField(_("口径"), max_length=15, choices=Kind.choices)
    day = models.DateField(_("日期"))
    furthest = models.SmallIntegerField(_("到达的最远阶段"))
    n = models.IntegerField(_("项目数"), default=0)
    planned_c = models.BigIntegerField(_("计划投资（0.01 万元）"), default=0)
    contracted_c = models.BigIntegerField(_("合同投资（0.01 万元）"), default=0)
    capital_c = models.BigIntegerField(_("到位资金（0.01 万元）"), default=0)

    class Meta:
        verbose_name = _("项目批次汇总")
        verbose_name_plural = pgettext_lazy("plural", "项目批次汇总")
        ordering = ["cohort", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "day", "furthest", "owner_id", "team_id", "chain_id", "source"],
                name="investment_cohort_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cohort} {self.day}: {self.n}"


class ProjectStay(models.Model):
    """One completed stay of a project in a stage (entered, then left for another stage)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    owner_id = models.PositiveIntegerField(_("负责人"))
    team_id = models.PositiveIntegerField(_("负责团队"), default=0)
    stage = models.CharField(_("阶段"), max_length=15)
    days = models.FloatField(_("停留天数"))

    class Meta:
        verbose_name = _("阶段停留")
        verbose_name_plural = pgettext_lazy("plural", "阶段停留")
        ordering = ["stage", "days"]
        indexes = [models.Index(fields=["stage", "days"], name="investment_stay_stage_idx")]

    def __str__(self) -> str:
        return f"{self.stage}: {self.days:.1f}"


class ProjectRollup(models.Model):
    """The contribution of one project to the tallies, as last applied."""

    project = models.OneToOneField(Project, primary_key=True, on_delete=models.CASCADE, related_name="+")
    contribution = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("项目汇总贡献")
        verbose_name_plural = pgettext_lazy("plural", "项目汇总贡献")
        ordering = ["project"]
        indexes = [models.Index(fields=["updated_at"], name="investment_rollup_changed_idx")]

    def __str__(self) -> str:
        return str(self.project_id)
