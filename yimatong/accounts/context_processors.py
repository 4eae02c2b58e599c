"""The console's navigation, built for the signed-in user's role."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yimatong.accounts import access


@dataclass
class NavItem:
    label: Any
    url: str
    icon: str
    active: bool = False
    badge_url: str = ""  # polled for a count shown beside the label (htmx)


@dataclass
class NavSection:
    label: Any
    items: list[NavItem] = field(default_factory=list)


def _item(
    request: HttpRequest, label: Any, url: str, icon: str, *, exact: bool = False, query: str = ""
) -> NavItem:
    path = request.path
    full = url + (f"?{query}" if query else "")
    if query:
        active = path == url and request.GET.urlencode() == query
    elif exact:
        active = path == url
    else:
        active = path.startswith(url) and not request.GET.get("type")
    return NavItem(label, full, icon, active)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not access.can_use_console(user):
        return {}
    from yimatong.notifications.models import Notification

    def item(label: Any, name: str, icon: str, **kwargs: Any) -> NavItem:
        return _item(request, label, reverse(name), icon, **kwargs)

    plural = partial(pgettext_lazy, "plural")
    sections: list[NavSection] = []
    orgs = "directory:organization_list"
    if access.is_staff_member(user):
        sections.append(NavSection(_("工作台"), [item(_("首页"), "home", "home", exact=True)]))
        investment = []
        if access.role_of(user) in (*access.INVESTMENT_STAFF, access.Role.LEADER):
            investment.append(item(plural("线索"), "investment:lead_list", "inbox"))
        investment += [
            item(plural("招商项目"), "investment:project_list", "briefcase"),
            item(_("项目看板"), "investment:project_board", "columns"),
            item(_("招商日历"), "investment:calendar", "calendar"),
            item(_("重大项目调度"), "investment:major", "flag"),
            item(_("红黄灯督办"), "investment:supervision", "alert"),
            item(plural("意向投资方"), orgs, "target", query="type=prospect"),
        ]
        if access.can_use_inbox(user):
            investment += [
                NavItem(
                    _("微信咨询"),
                    reverse("wechat:inbox"),
                    "message",
                    request.path.startswith(reverse("wechat:inbox")),
                    reverse("wechat:inbox_unread"),
                ),
                item(_("渠道二维码"), "wechat:code_list", "qr"),
            ]
            if settings.WECHAT_SIMULATOR_URL:
                investment.append(NavItem(_("微信模拟器（演示）"), settings.WECHAT_SIMULATOR_URL, "phone"))
        sections.append(NavSection(_("招商"), investment))
        services = []
        if access.can_use_services(user):
            services.append(item(plural("诉求工单"), "services:demand_list", "inbox"))
            services.append(item(_("诉求办理考核"), "services:demand_kpis", "chart"))
        if access.can_read_policies(user):
            services.append(item(_("政策库"), "services:policy_list", "list"))
            services.append(item(_("政策申报"), "services:application_list", "columns"))
            services.append(item(_("一企一策"), "services:plan_list", "target"))
            if access.is_dispatcher(user) or access.role_of(user) == access.Role.LEADER:
                services.append(item(_("金融服务"), "services:financing_list", "briefcase"))
        services.append(item(plural("入驻企业"), orgs, "building", query="type=resident"))
        sections.append(NavSection(_("企业服务"), services))
        stats_items = []
        if access.can_use_cockpit(user):
            stats_items.append(item(_("领导驾驶舱"), "stats:cockpit", "chart"))
        if access.can_read_statistics(user):
            stats_items.append(item(_("企业直报"), "stats:report_list", "list"))
            stats_items.append(item(_("规上名录"), "stats:above_scale", "building"))
        stats_items += [
            item(_("招商数据"), "investment:numbers", "chart"),
            item(_("产业链分布"), "directory:chain", "tree"),
        ]
        sections.append(NavSection(_("统计"), stats_items))
        sections.append(
            NavSection(
                _("企业与机构"),
                [
                    item(_("全部企业/机构"), orgs, "list"),
                    item(plural("联系人"), "directory:contact_list", "user"),
                ],
            )
        )
        settings_items = [
            item(plural("导出文件"), "exports:list", "download"),
            item(_("人员与角色"), "accounts:user_list", "users"),
        ]
        if access.can_view_audit_log(user):
            settings_items.append(item(_("审计日志"), "accounts:audit_log", "log"))
        if access.can_configure_investment(user):
            settings_items.append(item(_("招商规则"), "investment:settings", "sliders"))
        settings_items.append(item(_("API 令牌"), "accounts:api_tokens", "key"))
        settings_items.append(item(_("通知设置"), "notifications:preferences", "bell"))
        settings_items.append(item(_("修改密码"), "accounts:password_change", "lock"))
        if access.is_admin(user):
            settings_items.append(NavItem(_("系统管理"), reverse("admin:index"), "gear"))
        sections.append(NavSection(_("设置"), settings_items))
    else:
        org = user.organization
        sections.append(
            NavSection(
                _("我的企业"),
                [
                    _item(
                        request,
                        org.name if org else _("企业信息"),
                        org.get_absolute_url() if org else "#",
                        "building",
                    ),
                    item(plural("联系人"), "directory:contact_list", "user"),
                    item(_("我的诉求"), "services:demand_list", "inbox"),
                    item(_("我的政策"), "services:policy_list", "flag"),
                    item(_("我的申报"), "services:application_list", "columns"),
                    item(_("一企一策"), "services:plan_list", "target"),
                    item(_("金融服务"), "services:financing_list", "briefcase"),
                    item(_("统计报表"), "stats:report_list", "calendar"),
                ],
            )
        )
        sections.append(NavSection(_("设置"), [item(_("修改密码"), "accounts:password_change", "lock")]))
    # Only the most specific match is active (the board lives under the project list's path).
    active = [i for section in sections for i in section.items if i.active]
    if len(active) > 1:
        keep = max(active, key=lambda i: len(i.url))
        for nav_item in active:
            nav_item.active = nav_item is keep
    return {
        "nav_sections": sections,
        "unread_notifications": Notification.objects.visible_to(user).unread().count(),
    }
