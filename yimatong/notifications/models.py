from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> NotificationQuerySet:
        if not (user and user.is_authenticated):
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a person should look at, shown under the bell in the console."""

    class Kind(models.TextChoices):
        LEAD_ASSIGNED = "lead_assigned", _("线索分配")
        LEAD_RETURNED = "lead_returned", _("线索退回公海")
        FOLLOW_UP_DUE = "follow_up_due", _("跟进到期")
        SUPERVISION = "supervision", _("督办")
        PROBLEM_OVERDUE = "problem_overdue", _("问题逾期")
        MILESTONE_OVERDUE = "milestone_overdue", _("节点逾期")
        PROJECT_ARCHIVED = "project_archived", _("项目自动搁置")
        VISIT_BOOKED = "visit_booked", _("考察预约")
        WECHAT_MESSAGE = "wechat_message", _("微信咨询")
        DEMAND = "demand", _("诉求工单")
        POLICY = "policy", _("政策直达")
        STATISTICS = "statistics", _("统计报表")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    # The same event notifies a person once, however many workers run the sweep that finds it.
    key = models.CharField(_("去重键"), max_length=150)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = pgettext_lazy("plural", "通知")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"],
                name="notifications_notification_once_per_key",
                violation_error_message=_("该通知已发送过。"),
            ),
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notifications_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title
