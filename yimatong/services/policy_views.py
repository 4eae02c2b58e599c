"""Policy screens: the library, the editor with a live "who matches" preview, the matches of a
policy, an enterprise's own policies with the reasons, the enterprise profile, 免申即享."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.directory.models import Organization
from yimatong.lib.errors import ActionError
from yimatong.lib.http import redirect_after_post
from yimatong.services import forms, matching, policy_actions
from yimatong.services.models import EnterpriseProfile, Policy, PolicyMatch
from yimatong.services.views import services_view


def _staff(request: HttpRequest) -> None:
    access.deny_unless(access.can_read_policies(request.user))


@services_view
def policy_list(request: HttpRequest) -> HttpResponse:
    if access.role_of(request.user) == User.Role.ENTERPRISE:
        return my_policies(request)
    _staff(request)
    policies = Policy.objects.annotate(
        met=Count("matches", filter=Q(matches__status="met")),
        near=Count("matches", filter=Q(matches__status="unmet")),
        unknown=Count("matches", filter=Q(matches__status="unknown")),
    ).order_by("-is_published", "-updated_at")
    return render(
        request,
        "services/policy_list.html",
        {"policies": policies, "can_edit": access.can_edit_policies(request.user)},
    )


def my_policies(request: HttpRequest) -> HttpResponse:
    """An enterprise's policies: those it qualifies for, those it is one condition short of,
    those that need facts it has not given — and why."""
    org = request.user.organization
    matches = (
        PolicyMatch.objects.filter(organization=org, policy__is_published=True)
        .select_related("policy")
        .order_by("status", "-pass_rate")
    )
    groups = {status: [m for m in matches if m.status == status] for status in ("met", "unmet", "unknown")}
    return render(request, "services/my_policies.html", {"groups": groups, "organization": org})


@services_view
def policy_detail(request: HttpRequest, code: str) -> HttpResponse:
    policy = get_object_or_404(Policy, code=code)
    if access.role_of(request.user) == User.Role.ENTERPRISE:
        if not policy.is_published:
            raise Http404
        match = PolicyMatch.objects.filter(policy=policy, organization=request.user.organization_id).first()
        return render(
            request, "services/policy_detail.html", {"policy": policy, "match": match, "enterprise": True}
        )
    _staff(request)
    matches = policy.matches.select_related("organization").order_by(
        "status", "-pass_rate", "organization__name"
    )
    status = request.GET.get("status", "met")
    return render(
        request,
        "services/policy_detail.html",
        {
            "policy": policy,
            "matches": matches.filter(status=status)[:200],
            "status": status,
            "counts": dict(
                policy.matches.order_by()
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            ),
            "can_edit": access.can_edit_policies(request.user),
            "pay_form": forms.PayForm(),
        },
    )


@services_view
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    access.deny_unless(access.can_edit_policies(request.user))
    policy = get_object_or_404(Policy, code=code) if code else None
    initial = None
    if policy is not None:
        initial = {name: getattr(policy, name) for name in policy_actions.POLICY_FIELDS}
        initial["conditions"] = policy.conditions
    form = forms.PolicyForm(
        request.POST or None, initial=initial or {"conditions": {"all": []}}, policy=policy
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = policy_actions.save_policy(actor=request.user, data=form.cleaned_data, policy=policy)
        except ActionError as exc:
            for error in exc.fields.get("conditions", [exc.message]):
                form.add_error("conditions", error)
        else:
            messages.success(request, _("政策已保存，正在重新匹配企业。"))
            return redirect(saved.get_absolute_url())
    return render(
        request,
        "services/policy_form.html",
        {
            "form": form,
            "policy": policy,
            "facts": [
                (code, label, unit, " ".join(sorted(matching.OPERATORS[kind])))
                for code, (label, kind, unit) in matching.FACTS.items()
            ],
        },
        status=400 if request.method == "POST" else 200,
    )


@services_view
@require_POST
def policy_preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview: who qualifies and who is one condition short, as you type."""
    access.deny_unless(access.can_edit_policies(request.user))
    try:
        tree = json.loads(request.POST.get("conditions") or "{}")
    except json.JSONDecodeError as exc:
        result: dict[str, Any] = {
            "errors": [
                _("不是有效的 JSON：第 %(line)s 行第 %(col)s 列。") % {"line": exc.lineno, "col": exc.colno}
            ]
        }
    else:
        result = policy_actions.preview(tree)
    return render(request, "services/policy_form.html#preview", {"preview": result})


@services_view
@require_POST
def match_not_interested(request: HttpRequest, pk: int) -> HttpResponse:
    match = get_object_or_404(PolicyMatch, pk=pk, organization=request.user.organization_id or -1)
    policy_actions.not_interested(actor=request.user, match=match)
    messages.success(request, _("已标记为不感兴趣，不再提醒。"))
    return redirect_after_post(request, match.policy.get_absolute_url())


@services_view
@require_POST
def policy_auto(request: HttpRequest, code: str, step: str) -> HttpResponse:
    """免申即享: push to qualifying enterprises, confirm (enterprise), pay, publish."""
    policy = get_object_or_404(Policy, code=code, mode=Policy.Mode.AUTO)
    try:
        if step == "confirm":
            match = get_object_or_404(
                PolicyMatch, policy=policy, organization=request.user.organization_id or -1
            )
            policy_actions.confirm_auto(actor=request.user, match=match)
            messages.success(request, _("已确认领取，等待兑付。"))
        else:
            access.deny_unless(access.can_edit_policies(request.user))
            if step == "push":
                n = policy_actions.push_auto(actor=request.user, policy=policy)
                messages.success(request, _("已推送 %(n)s 家企业。") % {"n": n})
            elif step == "pay":
                match = get_object_or_404(PolicyMatch, policy=policy, pk=request.POST.get("match"))
                form = forms.PayForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _("兑付金额：%(error)s") % {"error": form.errors["amount"][0]})
                    return redirect_after_post(request, policy.get_absolute_url())
                policy_actions.pay_auto(actor=request.user, match=match, amount=form.cleaned_data["amount"])
                messages.success(request, _("已兑付。"))
            elif step == "publish":
                n = policy_actions.publish_auto(actor=request.user, policy=policy)
                messages.success(request, _("已公示 %(n)s 笔兑付。") % {"n": n})
            else:
                raise Http404
    except ActionError as exc:
        messages.error(request, exc.message)
    return redirect_after_post(request, policy.get_absolute_url())


@services_view
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest, org_id: int | None = None) -> HttpResponse:
    """The facts policies ask about. An enterprise edits its own; the centre any resident's."""
    if access.role_of(request.user) == User.Role.ENTERPRISE:
        org = request.user.organization
        if org_id is not None and org_id != org.pk:
            raise Http404
    else:
        access.deny_unless(access.can_edit_policies(request.user))
        org = get_object_or_404(Organization, pk=org_id, org_type=Organization.Type.RESIDENT)
    profile = EnterpriseProfile.objects.filter(organization=org).first()
    initial = {name: getattr(profile, name) for name in policy_actions.PROFILE_FIELDS} if profile else {}
    form = forms.ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        policy_actions.save_profile(actor=request.user, organization=org, data=form.cleaned_data)
        messages.success(request, _("企业信息已更新，政策匹配已重新计算。"))
        if access.role_of(request.user) == User.Role.ENTERPRISE:
            return redirect("services:policy_list")
        return redirect(org.get_absolute_url())
    return render(
        request,
        "services/profile_form.html",
        {"form": form, "organization": org},
        status=400 if request.method == "POST" else 200,
    )
