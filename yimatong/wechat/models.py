"""The WeChat side of the one-code entrance: official accounts, their followers and
conversations, inbound pushes (stored once), outbound messages with their delivery record, QR
channel codes, keyword replies, the shared access token and the H5 portal's articles."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The longest a temporary code may live (WeChat: 2,592,000 s) and the permanent-code cap.
MAX_TEMPORARY_DAYS = 30
PERMANENT_CODE_CAP = 100_000
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class OfficialAccount(models.Model):
    """One WeChat official account (a park may run a Chinese and an English one)."""

    class Mode(models.TextChoices):
        PLAIN = "plain", _("明文模式")
        COMPATIBLE = "compatible", _("兼容模式")
        SAFE = "safe", _("安全模式")

    class Language(models.TextChoices):
        ZH = "zh-hans", _("中文")
        EN = "en", _("英文")

    slug = models.SlugField(_("回调标识"), max_length=40, unique=True)
    name = models.CharField(_("公众号名称"), max_length=60)
    appid = models.CharField(_("AppID"), max_length=32, unique=True)
    secret = models.CharField(_("AppSecret"), max_length=64)
    token = models.CharField(_("令牌（Token）"), max_length=32)
    encoding_aes_key = models.CharField(_("消息加解密密钥"), max_length=43, blank=True)
    previous_aes_key = models.CharField(
        _("上一个加解密密钥"),
        max_length=43,
        blank=True,
        help_text=_("更换密钥期间仍接受用旧密钥加密的消息。"),
    )
    mode = models.CharField(_("消息加解密方式"), max_length=10, choices=Mode.choices, default=Mode.SAFE)
    language = models.CharField(_("语言"), max_length=8, choices=Language.choices, default=Language.ZH)
    welcome_text = models.TextField(
        _("关注欢迎语"),
        blank=True,
        help_text=_("关注或扫码时回复；渠道二维码可设置自己的欢迎语。末尾自动附上 H5 门户链接。"),
    )
    default_reply = models.CharField(
        _("默认回复"),
        max_length=300,
        blank=True,
        help_text=_("消息未命中关键词时的自动回复；留空则不回复（工作人员稍后在后台答复）。"),
    )
    templates = models.JSONField(
        _("模板消息编号"),
        default=dict,
        blank=True,
        help_text=_(
            "按用途填写模板 ID：visit_confirmed、meeting_scheduled、registered、reply、policy_match、report_due。"
        ),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("公众号")
        verbose_name_plural = pgettext_lazy("plural", "公众号")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                name="wechat_officialaccount_key_for_encrypted_modes",
                condition=Q(mode="plain") | Q(encoding_aes_key__regex=r"^[A-Za-z0-9]{43}$"),
                violation_error_message=_("安全模式和兼容模式需要 43 位的消息加解密密钥（EncodingAESKey）。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def callback_path(self) -> str:
        return reverse("wechat:callback", args=[self.slug])

    def portal_path(self) -> str:
        return reverse("wechat:portal_home", args=[self.slug])

    def template_id(self, purpose: str) -> str:
        return str((self.templates or {}).get(purpose, "")).strip()


class FollowerQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> FollowerQuerySet:
        """Conversations: investment staff and leaders; a promoter sees the conversations
        assigned to them, unassigned ones and those of the leads they own."""
        from yimatong.accounts import access

        role = access.role_of(user)
        if role in (access.Role.ADMIN, access.Role.LEADER):
            return self.all()
        if role == access.Role.TEAM_LEAD:
            return self.filter(
                Q(assigned_to__isnull=True) | Q(assigned_to__team=user.team_id) | Q(assigned_to=user)
            )
        if role == access.Role.PROMOTER:
            return self.filter(Q(assigned_to__isnull=True) | Q(assigned_to=user) | Q(lead__owner=user))
        return self.none()

    def with_unread(self) -> FollowerQuerySet:
        unread = (
            InboundMessage.objects.filter(
                follower=OuterRef("pk"),
                is_user_message=True,
                received_at__gt=Coalesce(OuterRef("staff_read_at"), Value(EPOCH)),
            )
            .order_by()
            .values("follower")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(unread=Coalesce(Subquery(unread), 0))


class Follower(models.Model):
    """A WeChat user of one account (an openid) and the conversation the park holds with them."""

    code = models.UUIDField(_("公开编号"), default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("公众号"), on_delete=models.PROTECT, related_name="followers"
    )
    openid = models.CharField(_("OpenID"), max_length=64)
    unionid = models.CharField(_("UnionID"), max_length=64, blank=True, db_index=True)
    display_name = models.CharField(_("称呼"), max_length=60, blank=True)
    subscribed = models.BooleanField(_("已关注"), default=False)
    subscribed_at = models.DateTimeField(_("关注时间"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("取消关注时间"), null=True, blank=True)
    first_code = models.ForeignKey(
        "QrCode",
        verbose_name=_("首次扫码渠道"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="first_followers",
    )
    contact = models.ForeignKey(
        "directory.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wechat_followers",
    )
    lead = models.ForeignKey(
        "investment.Lead",
        verbose_name=_("线索"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wechat_followers",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("绑定的企业账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wechat_followers",
        help_text=_("企业用户在公众号里绑定账号后，可在手机上提交诉求、查看政策和申报。"),
    )
    bound_at = models.DateTimeField(_("绑定时间"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wechat_conversations",
    )
    last_message_at = models.DateTimeField(_("最近消息"), null=True, blank=True, db_index=True)
    staff_read_at = models.DateTimeField(_("工作人员已读至"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = FollowerQuerySet.as_manager()

    class Meta:
        verbose_name = _("微信用户")
        verbose_name_plural = pgettext_lazy("plural", "微信用户")
        ordering = [F("last_message_at").desc(nulls_last=True), "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "openid"],
                name="wechat_follower_one_per_openid",
                violation_error_message=_("该公众号下已有此 OpenID 的用户。"),
            ),
            models.CheckConstraint(
                name="wechat_follower_openid_not_blank",
                condition=~Q(openid=""),
                violation_error_message=_("OpenID 不能为空。"),
            ),
        ]
        indexes = [models.Index(fields=["assigned_to", "-last_message_at"], name="wechat_follower_inbox_idx")]

    def __str__(self) -> str:
        return self.label()

    def get_absolute_url(self) -> str:
        return reverse("wechat:conversation", args=[self.code])

    def label(self) -> str:
        if self.contact_id and self.contact:
            return self.contact.name
        return self.display_name or _("微信用户 %(tail)s") % {"tail": self.openid[-6:]}


class QrCodeQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> QrCodeQuerySet:
        from yimatong.accounts import access

        role = access.role_of(user)
        if role in (access.Role.ADMIN, access.Role.LEADER, access.Role.TEAM_LEAD):
            return self.all()
        if role == access.Role.PROMOTER:
            return self.filter(Q(promoter=user) | Q(created_by=user) | Q(purpose__in=QrCode.SHARED_PURPOSES))
        return self.none()

    def permanent(self) -> QrCodeQuerySet:
        return self.filter(is_permanent=True)

    def with_funnel(self) -> QrCodeQuerySet:
        """Each code's funnel, attributed through lead sources (``qr_scene``) and the lead →
        project link: scans, new followers, leads, site visits, signed projects, signed
        investment (万元, counted as the pipeline counts it: first signing plus increments)."""
        from yimatong.investment.models import LeadSource, Project, ProjectEvent, SiteVisit

        def count(qs: models.QuerySet, field: str = "pk") -> Subquery:
            return Coalesce(
                Subquery(
                    qs.order_by()
                    .annotate(g=Value(1))
                    .values("g")
                    .annotate(n=Count(field, distinct=True))
                    .values("n")
                ),
                0,
            )

        leads = LeadSource.objects.filter(qr_scene=OuterRef(OuterRef("scene"))).values("lead")
        scans = InboundMessage.objects.filter(code=OuterRef("pk"), event__in=["subscribe", "scan"])
        follows = InboundMessage.objects.filter(code=OuterRef("pk"), event="subscribe")
        sources = LeadSource.objects.filter(qr_scene=OuterRef("scene"))  # every source has its lead
        # Visits of the code's leads, plus visits of their projects not already counted by their
        # lead: two counts an index serves each (an OR of the two reads every visit).
        visits_of_leads = SiteVisit.objects.filter(lead__in=leads).exclude(status="cancelled")
        # Counted from the code's projects (a few) into their visits, so that the visits' project
        # index serves it; from the visits' side the planner scanned every visit once per code.
        not_cancelled = ~Q(site_visits__status="cancelled")
        not_counted_by_lead = Q(site_visits__lead__isnull=True) | ~Q(site_visits__lead__in=leads)
        visits_of_projects = Coalesce(
            Subquery(
                Project.objects.filter(lead__in=leads)
                .order_by()
                .annotate(g=Value(1))
                .values("g")
                .annotate(n=Count("site_visits", filter=not_cancelled & not_counted_by_lead))
                .values("n")
            ),
            0,
        )
        signed = Project.objects.filter(lead__in=leads, signed_on__isnull=False)
        amount = (
            ProjectEvent.objects.filter(project__lead__in=leads)
            .order_by()
            .annotate(g=Value(1))
            .values("g")
            .annotate(total=models.Sum("signed_amount"))
            .values("total")
        )
        return self.annotate(
            scans=Coalesce(Subquery(scans.order_by().values("code").annotate(n=Count("*")).values("n")), 0),
            new_followers=Coalesce(
                Subquery(
                    follows.order_by().values("code").annotate(n=Count("follower", distinct=True)).values("n")
                ),
                0,
            ),
            leads=count(sources, "lead"),
            visits=count(visits_of_leads) + visits_of_projects,
            signed_projects=count(signed),
            signed_investment=Coalesce(
                Subquery(amount), Value(0), output_field=models.DecimalField(max_digits=16, decimal_places=2)
            ),
        )


class QrCode(models.Model):
    """A parametric QR code of an official account: a channel the park attributes followers,
    leads, visits and signed investment to."""

    class Purpose(models.TextChoices):
        CHANNEL = "channel", _("宣传渠道")
        EVENT = "event", _("活动/展会")
        PROMOTER = "promoter", _("招商专员")
        BROCHURE = "brochure", _("宣传册")
        CHAIN = "chain", _("产业链环节")
        PROJECT = "project", _("项目")

    SHARED_PURPOSES = ("channel", "event", "brochure", "chain")

    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("公众号"), on_delete=models.PROTECT, related_name="codes"
    )
    name = models.CharField(_("名称"), max_length=80)
    purpose = models.CharField(_("用途"), max_length=10, choices=Purpose.choices, default=Purpose.CHANNEL)
    scene = models.CharField(_("场景值"), max_length=64, unique=True)
    event_name = models.CharField(_("活动/展会"), max_length=120, blank=True)
    promoter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("招商专员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wechat_codes",
    )
    chain_node = models.ForeignKey(
        "directory.ChainNode",
        verbose_name=_("产业链环节"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wechat_codes",
    )
    project = models.ForeignKey(
        "investment.Project",
        verbose_name=_("项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wechat_codes",
    )
    is_permanent = models.BooleanField(_("永久二维码"), default=False)
    expires_at = models.DateTimeField(_("失效时间"), null=True, blank=True)
    ticket = models.CharField(_("Ticket"), max_length=300, blank=True)
    url = models.CharField(_("二维码内容"), max_length=300)
    caption = models.CharField(_("印刷说明文字"), max_length=60, blank=True)
    welcome_text = models.TextField(_("扫码欢迎语"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = QrCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("渠道二维码")
        verbose_name_plural = pgettext_lazy("plural", "渠道二维码")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="wechat_qrcode_temporary_expires",
                condition=Q(is_permanent=True, expires_at__isnull=True)
                | Q(is_permanent=False, expires_at__isnull=False),
                violation_error_message=_("临时二维码必须有失效时间，永久二维码没有。"),
            ),
            models.CheckConstraint(
                name="wechat_qrcode_scene_length",
                condition=Q(scene__regex=r"^[A-Za-z0-9_\-.:]{1,64}$"),
                violation_error_message=_("场景值为 1–64 位字母、数字或 _-.:"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("wechat:code_detail", args=[self.pk])

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return (
            not self.is_permanent
            and self.expires_at is not None
            and self.expires_at <= (now or timezone.now())
        )

    def welcome(self) -> str:
        return self.welcome_text or self.account.welcome_text


class InboundMessage(models.Model):
    """A push from WeChat, stored once: the de-duplication key is claimed by the unique
    constraint in the same transaction that stores it."""

    class Type(models.TextChoices):
        TEXT = "text", _("文字")
        IMAGE = "image", _("图片")
        VOICE = "voice", _("语音")
        VIDEO = "video", _("视频")
        LOCATION = "location", _("位置")
        LINK = "link", _("链接")
        EVENT = "event", _("事件")
        H5 = "h5", _("H5 留言")
        OTHER = "other", _("其他")

    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("公众号"), on_delete=models.PROTECT, related_name="inbound"
    )
    follower = models.ForeignKey(
        Follower, verbose_name=_("微信用户"), on_delete=models.CASCADE, related_name="inbound"
    )
    dedup_key = models.CharField(_("去重键"), max_length=200)
    msg_type = models.CharField(_("消息类型"), max_length=10, choices=Type.choices)
    event = models.CharField(_("事件"), max_length=30, blank=True)
    event_key = models.CharField(_("事件 Key"), max_length=200, blank=True)
    content = models.TextField(_("内容"), blank=True)
    data = models.JSONField(_("字段"), default=dict, blank=True)
    code = models.ForeignKey(
        QrCode,
        verbose_name=_("渠道二维码"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound",
    )
    is_user_message = models.BooleanField(_("用户消息"), default=False)
    sent_at = models.DateTimeField(_("发送时间"))
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("收到的消息")
        verbose_name_plural = pgettext_lazy("plural", "收到的消息")
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "dedup_key"],
                name="wechat_inboundmessage_once",
                violation_error_message=_("该消息已收到过。"),
            ),
        ]
        indexes = [
            models.Index(fields=["follower", "received_at"], name="wechat_inbound_thread_idx"),
            models.Index(fields=["code", "event"], name="wechat_inbound_code_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.msg_type}:{self.dedup_key}"


class OutboundMessage(models.Model):
    """A message the park sent (or tried to send) to a follower, with its delivery record."""

    class Kind(models.TextChoices):
        PASSIVE = "passive", _("被动回复")
        CUSTOM = "custom", _("客服消息")
        TEMPLATE = "template", _("模板消息")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        UNKNOWN = "unknown", _("结果不明")

    follower = models.ForeignKey(
        Follower, verbose_name=_("微信用户"), on_delete=models.CASCADE, related_name="outbound"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    purpose = models.CharField(_("用途"), max_length=30, blank=True)
    text = models.TextField(_("内容"))
    template_id = models.CharField(_("模板 ID"), max_length=64, blank=True)
    data = models.JSONField(_("模板数据"), default=dict, blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    client_msg_id = models.CharField(_("防重编号"), max_length=64, blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发送人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    error_code = models.IntegerField(_("错误码"), null=True, blank=True)
    error_message = models.CharField(_("错误说明"), max_length=200, blank=True)
    attempts = models.JSONField(_("投递记录"), default=list, blank=True)
    msgid = models.CharField(_("微信消息 ID"), max_length=40, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("发出的消息")
        verbose_name_plural = pgettext_lazy("plural", "发出的消息")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["follower", "client_msg_id"],
                condition=~Q(client_msg_id=""),
                name="wechat_outboundmessage_once_per_client_msg_id",
                violation_error_message=_("该通知已发送过。"),
            ),
        ]
        indexes = [models.Index(fields=["follower", "created_at"], name="wechat_outbound_thread_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.pk}"


class KeywordReply(models.Model):
    """An automatic reply to a keyword in a message, or to a menu button (CLICK key)."""

    class Trigger(models.TextChoices):
        KEYWORD = "keyword", _("关键词（包含）")
        EXACT = "exact", _("关键词（完全一致）")
        CLICK = "click", _("菜单按钮 Key")

    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("公众号"), on_delete=models.CASCADE, related_name="keyword_replies"
    )
    trigger = models.CharField(_("触发方式"), max_length=10, choices=Trigger.choices, default=Trigger.KEYWORD)
    keyword = models.CharField(_("关键词/Key"), max_length=60)
    reply = models.TextField(_("回复内容"))
    portal_page = models.CharField(
        _("附带 H5 页面"),
        max_length=20,
        blank=True,
        choices=[
            ("home", _("园区介绍")),
            ("policies", _("政策")),
            ("consult", _("咨询")),
            ("visit", _("预约考察")),
        ],
    )
    priority = models.PositiveSmallIntegerField(_("优先级"), default=100, help_text=_("数字小的先匹配。"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("自动回复")
        verbose_name_plural = pgettext_lazy("plural", "自动回复")
        ordering = ["account", "priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "trigger", "keyword"],
                name="wechat_keywordreply_unique",
                violation_error_message=_("该关键词已设置过回复。"),
            ),
            models.CheckConstraint(
                name="wechat_keywordreply_not_blank",
                condition=~Q(keyword="") & ~Q(reply=""),
                violation_error_message=_("关键词和回复内容都不能为空。"),
            ),
        ]

    def __str__(self) -> str:
        return self.keyword


class AccessToken(models.Model):
    """The account's access token when no Redis is configured: one row shared by every process."""

    account = models.OneToOneField(
        OfficialAccount, verbose_name=_("公众号"), on_delete=models.CASCADE, related_name="access_token"
    )
    token = models.CharField(_("令牌"), max_length=600, blank=True)
    expires_at = models.DateTimeField(_("失效时间"), null=True, blank=True)
    fetched_count = models.PositiveIntegerField(_("获取次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("访问令牌")
        verbose_name_plural = pgettext_lazy("plural", "访问令牌")
        ordering = ["pk"]

    def __str__(self) -> str:
        return str(self.account)


class PortalArticle(models.Model):
    """A page of the investor portal: the park's introduction, or a policy investors ask about."""

    class Kind(models.TextChoices):
        PARK = "park", _("园区介绍")
        POLICY = "policy", _("政策")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    slug = models.SlugField(_("标识"), max_length=60, unique=True)
    title = models.CharField(_("标题"), max_length=120)
    title_en = models.CharField(_("标题（英文）"), max_length=200, blank=True)
    summary = models.CharField(_("摘要"), max_length=300, blank=True)
    summary_en = models.CharField(_("摘要（英文）"), max_length=500, blank=True)
    body = models.TextField(_("正文"))
    body_en = models.TextField(_("正文（英文）"), blank=True)
    issuer = models.CharField(_("发布机构"), max_length=120, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_published = models.BooleanField(_("发布"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("门户文章")
        verbose_name_plural = pgettext_lazy("plural", "门户文章")
        ordering = ["kind", "position", "pk"]

    def __str__(self) -> str:
        return self.title

    def localized(self, language: str) -> dict[str, str]:
        english = language.startswith("en")
        return {
            "title": (self.title_en if english and self.title_en else self.title),
            "summary": (self.summary_en if english and self.summary_en else self.summary),
            "body": (self.body_en if english and self.body_en else self.body),
        }
