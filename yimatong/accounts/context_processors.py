"""The console's navigation, built for the signed-in user's role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    sections: list[NavSection] = []
    orgs = reverse("directory:organization_list")
    if access.is_staff_member(user):
        sections.append(
            NavSection(_("工作台"), [_item(request, _("首页"), reverse("home"), "home", exact=True)])
        )
        sections.append(
            NavSection(
                _("招商"),
                [
                    _item(
                        request, pgettext_lazy("plural", "意向投资方"), orgs, "target", query="type=prospect"
                    ),
                ],
            )
        )
        sections.append(
            NavSection(
                _("企业服务"),
                [
                    _item(
                        request, pgettext_lazy("plural", "入驻企业"), orgs, "building", query="type=resident"
                    ),
                ],
            )
        )
        sections.append(
            NavSection(
                _("统计"),
                [
                    _item(request, _("产业链分布"), reverse("directory:chain"), "tree"),
                ],
            )
        )
        sections.append(
            NavSection(
                _("企业与机构"),
                [
                    _item(request, _("全部企业/机构"), orgs, "list"),
                    _item(
                        request, pgettext_lazy("plural", "联系人"), reverse("directory:contact_list"), "user"
                    ),
                ],
            )
        )
        settings_items = [
            _item(request, pgettext_lazy("plural", "导出文件"), reverse("exports:list"), "download"),
            _item(request, _("人员与角色"), reverse("accounts:user_list"), "users"),
        ]
        if access.can_view_audit_log(user):
            settings_items.append(_item(request, _("审计日志"), reverse("accounts:audit_log"), "log"))
        settings_items.append(_item(request, _("API 令牌"), reverse("accounts:api_tokens"), "key"))
        settings_items.append(_item(request, _("修改密码"), reverse("accounts:password_change"), "lock"))
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
                    _item(
                        request, pgettext_lazy("plural", "联系人"), reverse("directory:contact_list"), "user"
                    ),
                ],
            )
        )
        sections.append(
            NavSection(
                _("设置"),
                [
                    _item(request, _("修改密码"), reverse("accounts:password_change"), "lock"),
                ],
            )
        )
    return {"nav_sections": sections}
