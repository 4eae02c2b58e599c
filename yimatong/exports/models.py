from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ExportQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ExportQuerySet:
        """An export holds what its requester could see when it was built: only they get it."""
        if not (user and user.is_authenticated):
            return self.none()
        return self.filter(requested_by=user)


class Export(models.Model):
    class Kind(models.TextChoices):
        ORGANIZATIONS = "organizations", _("企业/机构名录")
        PROJECTS = "projects", _("招商项目台账")
        MAJOR_WEEKLY = "major_weekly", _("重大项目调度周报")

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    code = models.UUIDField(_("公开编号"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("内容"), max_length=30, choices=Kind.choices)
    params = models.JSONField(_("筛选条件"), default=dict, blank=True)
    # The requester's interface language: the worker builds headers and names in it.
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.CASCADE, related_name="exports"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(_("文件"), upload_to="exports/%Y/%m/", blank=True)
    row_count = models.PositiveIntegerField(_("行数"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = ExportQuerySet.as_manager()

    class Meta:
        verbose_name = _("导出文件")
        verbose_name_plural = pgettext_lazy("plural", "导出文件")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="exports_export_user_idx")]
        constraints = [
            models.CheckConstraint(
                name="exports_export_done_has_file",
                violation_error_message=_("已完成的导出必须有文件。"),
                condition=~Q(status="done") | ~Q(file=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    def filename(self) -> str:
        return f"{self.get_kind_display()}-{self.created_at.astimezone():%Y%m%d-%H%M}.xlsx"
