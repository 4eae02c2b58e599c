from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Team(models.Model):
    """A group of promoters; teams follow the industry chain (e.g. the biologics team)."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("团队名称"), max_length=60, unique=True)
    chain_nodes = models.ManyToManyField(
        "directory.ChainNode",
        verbose_name=_("负责的产业链环节"),
        related_name="teams",
        blank=True,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("招商团队")
        verbose_name_plural = pgettext_lazy("plural", "招商团队")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A service department that enterprise demands are dispatched to."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("部门名称"), max_length=80, unique=True)
    phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    is_dispatch_center = models.BooleanField(
        _("受理分派中心"),
        default=False,
        help_text=_("受理、分派、审核诉求工单的部门（如企业服务中心）。"),
    )
    is_statistics_office = models.BooleanField(
        _("统计部门"),
        default=False,
        help_text=_("审核、导入、发布企业月度直报的部门（如经济运行局统计科）。"),
    )
    head = models.ForeignKey(
        "accounts.User",
        verbose_name=_("部门负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("逾期工单的催办通知书发给此人。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("服务部门")
        verbose_name_plural = pgettext_lazy("plural", "服务部门")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class YimatongUserManager(UserManager):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("role", User.Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in: park staff, a service department, or a resident enterprise."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("系统管理员")
        LEADER = "leader", _("局领导/区领导")
        TEAM_LEAD = "team_lead", _("团队负责人")
        PROMOTER = "promoter", _("招商专员")
        SERVICE = "service", _("服务部门人员")
        ENTERPRISE = "enterprise", _("企业用户")
        INVESTOR = "investor", _("投资方")

    # Least privilege by default: an investor account sees nothing in the console.
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.INVESTOR)
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, null=True, blank=True, unique=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("招商团队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("服务部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("所属企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    muted_notifications = models.JSONField(
        _("不接收的通知类型"), default=list, blank=True, help_text=_("在“通知设置”中选择；督办通知不能关闭。")
    )
    failed_login_count = models.PositiveIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = YimatongUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message=_("已有同名用户（用户名不区分大小写）。"),
            ),
            models.CheckConstraint(
                name="accounts_user_team_roles_have_team",
                violation_error_message=_("团队负责人和招商专员必须属于一个招商团队。"),
                condition=~Q(role__in=["team_lead", "promoter"]) | Q(team__isnull=False),
            ),
            models.CheckConstraint(
                name="accounts_user_service_has_department",
                violation_error_message=_("服务部门人员必须属于一个服务部门。"),
                condition=~Q(role="service") | Q(department__isnull=False),
            ),
            models.CheckConstraint(
                name="accounts_user_enterprise_has_organization",
                violation_error_message=_("企业用户必须关联所属企业。"),
                condition=~Q(role="enterprise") | Q(organization__isnull=False),
            ),
            models.CheckConstraint(
                # Only system administrators reach Django's admin site.
                name="accounts_user_staff_flag_only_for_admins",
                violation_error_message=_(
                    "只有系统管理员可以进入系统管理后台（“工作人员状态”“超级用户状态”仅限系统管理员角色）。"
                ),
                condition=Q(is_staff=False, is_superuser=False) | Q(role="admin"),
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.username

    def is_locked(self, now: Any = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a digest is stored; the token is shown once."""

    PREFIX = "ymt_"

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("用途"), max_length=60)
    prefix = models.CharField(_("前缀"), max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = pgettext_lazy("plural", "API 令牌")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="accounts_apitoken_user_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def new_raw_token(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("The audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only")

    def for_object(self, obj: models.Model) -> AuditQuerySet:
        ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        return self.filter(content_type=ct, object_id=str(obj.pk))


class AuditEntry(models.Model):
    """One create, change or delete of a business record, or a sign-in event.

    Written only through ``yimatong.accounts.audit``; rows are never updated or deleted
    (the model refuses, and so do triggers from migration 0003).
    """

    class Action(models.TextChoices):
        CREATE = "create", _("创建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKED = "locked", _("账户锁定")
        UNLOCKED = "unlocked", _("账户解锁")
        LOGOUT = "logout", _("退出")
        PASSWORD_CHANGED = "password_changed", _("修改密码")
        TOKEN_CREATED = "token_created", _("创建 API 令牌")
        TOKEN_REVOKED = "token_revoked", _("撤销 API 令牌")
        EXPORT_REQUESTED = "export_requested", _("申请导出")
        EXPORT_DOWNLOADED = "export_downloaded", _("下载导出文件")

    class Channel(models.TextChoices):
        WEB = "web", _("网页")
        API = "api", _("接口")
        CLI = "cli", _("命令行")
        SYSTEM = "system", _("系统")

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("记录类型"))
    object_id = models.CharField(_("记录编号"), max_length=64)
    object_repr = models.CharField(_("记录名称"), max_length=200)
    changes = models.JSONField(_("变更内容"), default=list, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.SYSTEM)
    user_agent = models.CharField(_("客户端"), max_length=200, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="accounts_audit_object_idx"),
            models.Index(fields=["actor", "-at"], name="accounts_audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("The audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("The audit log is append-only")
