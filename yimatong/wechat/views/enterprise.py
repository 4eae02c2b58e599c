"""The resident enterprise's side of the H5 portal, opened in WeChat: file and follow demands
(with files), answer a request for information, rate the handling; see the policies the
enterprise qualifies for and why, apply, upload the checklist's materials, follow the money.

The follower (identified by OAuth) binds an enterprise account once with its username or phone
and password — the console's sign-in, with its lockout — and from then on acts as that
account here: every page checks that the bound account is an active enterprise user, and every
read goes through the same rules as the console (an enterprise sees its own records only).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms as django_forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.accounts import actions as account_actions
from yimatong.accounts.models import User
from yimatong.lib.errors import ActionError
from yimatong.services import actions as demand_actions
from yimatong.services import application_actions, forms, policy_actions
from yimatong.services.models import Application, Demand, Policy, PolicyMatch, calendar_overrides
from yimatong.services.steps import STEPS, available_steps
from yimatong.wechat import actions
from yimatong.wechat.models import Follower, OfficialAccount
from yimatong.wechat.views.portal import identified, portal_view

# The steps an enterprise takes on its demand from the phone.
H5_STEPS = ("supply_info", "rate", "withdraw")
OPEN_APPLICATIONS = {
    Application.Status.DRAFT,
    Application.Status.RETURNED,
    Application.Status.SUBMITTED,
    Application.Status.ACCEPTED,
    Application.Status.FIRST_REVIEW,
    Application.Status.DEPT_REVIEW,
    Application.Status.PUBLICIZED,
}

EnterpriseView = Callable[..., HttpResponse]


class BindForm(django_forms.Form):
    username = django_forms.CharField(label=gettext_lazy("用户名或手机号"), max_length=150)
    password = django_forms.CharField(label=gettext_lazy("密码"), widget=django_forms.PasswordInput)


def bound_user(follower: Follower | None) -> User | None:
    """The enterprise account this follower acts as, if it is bound to one still in use."""
    user = follower.user if follower is not None and follower.user_id else None
    if user is None or not user.is_active or access.role_of(user) != User.Role.ENTERPRISE:
        return None
    if not user.organization_id:
        return None
    return user


def enterprise(view: EnterpriseView) -> EnterpriseView:
    """Identified through OAuth, then bound to an enterprise account (else off to bind one)."""

    @portal_view
    @identified
    @wraps(view)
    def wrapper(
        request: HttpRequest, account: OfficialAccount, follower: Follower, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        user = bound_user(follower)
        if user is None:
            bind = reverse("wechat:ent_bind", args=[account.slug])
            return redirect(f"{bind}?{urlencode({'next': request.get_full_path()})}")
        return view(request, account, follower, user, *args, **kwargs)

    return wrapper


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render(request, template, {"enterprise_nav": True, **context}, status=status)


# Binding -----------------------------------------------------------------------------------------


@portal_view
@identified
@require_http_methods(["GET", "POST"])
def ent_bind(request: HttpRequest, account: OfficialAccount, follower: Follower) -> HttpResponse:
    home = reverse("wechat:ent_home", args=[account.slug])
    target = request.GET.get("next") or ""
    if not target.startswith(f"/h5/{account.slug}/ent/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        target = home
    if bound_user(follower) is not None:
        return redirect(target)
    form = BindForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        # The password is checked (with the console's lockout), but no console session starts:
        # the phone acts as the account only through its binding, on these pages.
        result = account_actions.check_credentials(
            identifier=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if result.user is None:
            error = result.error
        elif access.role_of(result.user) != User.Role.ENTERPRISE or not result.user.organization_id:
            error = _("只有入园企业的账号可以在这里绑定；园区工作人员请使用管理后台。")
        else:
            actions.bind_user(follower=follower, user=result.user)
            messages.success(request, _("已绑定 %(org)s 的账号。") % {"org": result.user.organization.name})
            return redirect(target)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "wechat/portal/ent_bind.html",
        {"account": account, "form": form, "error": error, "nav": "ent"},
        status=status,
    )


@portal_view
@identified
@require_POST
def ent_unbind(request: HttpRequest, account: OfficialAccount, follower: Follower) -> HttpResponse:
    actions.unbind_user(follower=follower)
    messages.info(request, _("已解除绑定。"))
    return redirect("wechat:portal_me", account.slug)


# Home ----------------------------------------------------------------------------------------------


@enterprise
def ent_home(request: HttpRequest, account: OfficialAccount, follower: Follower, user: User) -> HttpResponse:
    demands = Demand.objects.visible_to(user)
    waiting = demands.filter(status__in=[Demand.Status.AWAITING_INFO, Demand.Status.FOLLOW_UP])
    matches = PolicyMatch.objects.filter(
        organization_id=user.organization_id, policy__is_published=True, not_interested=False
    )
    return _page(
        request,
        "wechat/portal/ent_home.html",
        {
            "account": account,
            "user": user,
            "nav": "ent",
            "open_demands": demands.exclude(
                status__in=[Demand.Status.ARCHIVED, Demand.Status.WITHDRAWN]
            ).count(),
            "waiting": waiting.select_related("category")[:10],
            "met": matches.filter(status=PolicyMatch.Status.MET).count(),
            "near": matches.filter(status=PolicyMatch.Status.UNMET).count(),
            "unknown": matches.filter(status=PolicyMatch.Status.UNKNOWN).count(),
            "applications": Application.objects.filter(
                organization_id=user.organization_id, status__in=OPEN_APPLICATIONS
            ).count(),
            "report_due": _report_due(user),
        },
    )


def _report_due(user: User) -> bool:
    from yimatong.stats.forms import initial_period
    from yimatong.stats.models import MonthlyReport

    period = initial_period()
    return not MonthlyReport.objects.filter(organization_id=user.organization_id, **period).exists()


# Demands -------------------------------------------------------------------------------------------


@enterprise
def ent_demands(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User
) -> HttpResponse:
    rows = Demand.objects.visible_to(user).select_related("category").order_by("-created_at")[:100]
    overrides = calendar_overrides()
    return _page(
        request,
        "wechat/portal/ent_demands.html",
        {"account": account, "nav": "demands", "rows": [(d, d.clock(overrides=overrides)) for d in rows]},
    )


@enterprise
@require_http_methods(["GET", "POST"])
def ent_demand_new(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User
) -> HttpResponse:
    form = forms.DemandForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            demand = demand_actions.file_demand(actor=user, data=form.cleaned_data)
        except ActionError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("诉求已提交，编号 %(code)s。") % {"code": demand.code})
            return redirect("wechat:ent_demand", account.slug, demand.code)
    return _page(
        request,
        "wechat/portal/ent_demand_form.html",
        {"account": account, "nav": "demands", "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _demand(user: User, code: str) -> Demand:
    demand = (
        Demand.objects.visible_to(user)
        .select_related("category", "lead_department", "organization")
        .filter(code=code)
        .first()
    )
    if demand is None:
        raise Http404
    return demand


def _demand_page(
    request: HttpRequest,
    account: OfficialAccount,
    user: User,
    demand: Demand,
    *,
    bound: tuple[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    steps = {name: form for name, form in available_steps(user, demand).items() if name in H5_STEPS}
    if bound is not None and bound[0] in steps:
        steps[bound[0]] = bound[1]
    return _page(
        request,
        "wechat/portal/ent_demand.html",
        {
            "account": account,
            "nav": "demands",
            "demand": demand,
            "state": demand.clock(overrides=calendar_overrides()),
            "events": demand.events.select_related("actor"),
            "attachments": demand.attachments.all(),
            "steps": steps,
        },
        status=status,
    )


@enterprise
def ent_demand(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User, code: str
) -> HttpResponse:
    return _demand_page(request, account, user, _demand(user, code))


@enterprise
@require_POST
def ent_demand_step(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User, code: str, step: str
) -> HttpResponse:
    if step not in H5_STEPS:
        raise Http404
    demand = _demand(user, code)
    here = reverse("wechat:ent_demand", args=[account.slug, demand.code])
    if step not in available_steps(user, demand):
        messages.error(
            request,
            _("工单 %(code)s 当前为“%(status)s”，不能执行此操作。")
            % {"code": demand.code, "status": demand.get_status_display()},
        )
        return redirect(here)
    form_class, action, arguments, done = STEPS[step]
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        return _demand_page(request, account, user, demand, bound=(step, form), status=400)
    try:
        action(actor=user, demand=demand, **arguments(form.cleaned_data))
    except ActionError as exc:
        exc.add_to(form)
        demand.refresh_from_db()
        return _demand_page(request, account, user, demand, bound=(step, form), status=exc.status)
    messages.success(request, str(done))
    return redirect(here)


@enterprise
def ent_demand_attachment(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User, code: str, pk: int
) -> HttpResponse:
    attachment = get_object_or_404(_demand(user, code).attachments, pk=pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)


# Policies and applications -------------------------------------------------------------------------


@enterprise
def ent_policies(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User
) -> HttpResponse:
    matches = list(
        PolicyMatch.objects.filter(
            organization_id=user.organization_id, policy__is_published=True, not_interested=False
        )
        .select_related("policy")
        .order_by("-pass_rate", "policy__title")
    )
    applied = dict(
        Application.objects.filter(organization_id=user.organization_id).values_list("policy_id", "code")
    )
    groups = [
        (status, label, [(m, applied.get(m.policy_id)) for m in matches if m.status == status])
        for status, label in (
            (PolicyMatch.Status.MET, _("符合条件")),
            (PolicyMatch.Status.UNMET, _("差一项")),
            (PolicyMatch.Status.UNKNOWN, _("待补充信息")),
        )
    ]
    return _page(
        request, "wechat/portal/ent_policies.html", {"account": account, "nav": "policies", "groups": groups}
    )


@enterprise
@require_POST
def ent_not_interested(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User, pk: int
) -> HttpResponse:
    match = get_object_or_404(PolicyMatch, pk=pk, organization_id=user.organization_id)
    policy_actions.not_interested(actor=user, match=match)
    messages.info(request, _("已标记为不感兴趣：%(title)s") % {"title": match.policy.title})
    return redirect("wechat:ent_policies", account.slug)


@enterprise
@require_POST
def ent_apply(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User, code: str
) -> HttpResponse:
    policy = get_object_or_404(Policy, code=code, is_published=True)
    try:
        app = application_actions.start(actor=user, policy=policy)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("wechat:ent_policies", account.slug)
    messages.success(request, _("申报已创建，请按清单上传材料后提交。"))
    return redirect("wechat:ent_application", account.slug, app.code)


@enterprise
def ent_applications(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User
) -> HttpResponse:
    rows = (
        Application.objects.filter(organization_id=user.organization_id)
        .select_related("policy")
        .order_by("-updated_at")[:100]
    )
    return _page(
        request, "wechat/portal/ent_applications.html", {"account": account, "nav": "apply", "rows": rows}
    )


def _application(user: User, code: str) -> Application:
    app = (
        Application.objects.filter(organization_id=user.organization_id, code=code)
        .select_related("policy")
        .first()
    )
    if app is None:
        raise Http404
    return app


class MaterialForm(django_forms.Form):
    name = django_forms.CharField(label=gettext_lazy("材料"), max_length=120)
    file = django_forms.FileField(label=gettext_lazy("文件"))


def _application_page(
    request: HttpRequest, account: OfficialAccount, app: Application, *, error: str = "", status: int = 200
) -> HttpResponse:
    uploaded: dict[str, Any] = {}
    for material in app.materials.all():
        uploaded.setdefault(material.name, material)
    return _page(
        request,
        "wechat/portal/ent_application.html",
        {
            "account": account,
            "nav": "apply",
            "app": app,
            "editable": app.status in (Application.Status.DRAFT, Application.Status.RETURNED),
            "checklist": [(name, uploaded.get(name)) for name in app.checklist()],
            "events": app.events.all(),
            "error": error,
        },
        status=status,
    )


@enterprise
def ent_application(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User, code: str
) -> HttpResponse:
    return _application_page(request, account, _application(user, code))


@enterprise
@require_POST
def ent_application_step(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User, code: str, step: str
) -> HttpResponse:
    app = _application(user, code)
    try:
        if step == "upload":
            form = MaterialForm(request.POST, request.FILES)
            if not form.is_valid():
                problems = [
                    f"{form.fields[f].label}{_('：')}{e}" for f, errs in form.errors.items() for e in errs
                ]
                return _application_page(request, account, app, error=" ".join(problems), status=400)
            try:
                application_actions.upload(
                    actor=user, app=app, name=form.cleaned_data["name"], upload=form.cleaned_data["file"]
                )
            except django_forms.ValidationError as exc:
                return _application_page(request, account, app, error=" ".join(exc.messages), status=400)
            messages.success(request, _("材料已上传：%(name)s") % {"name": form.cleaned_data["name"]})
        elif step == "submit":
            application_actions.submit(actor=user, app=app)
            messages.success(request, _("申报已提交，请留意审核进度。"))
        else:
            raise Http404
    except ActionError as exc:
        app.refresh_from_db()
        return _application_page(request, account, app, error=exc.message, status=exc.status)
    return redirect("wechat:ent_application", account.slug, app.code)


@enterprise
def ent_application_material(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User, code: str, pk: int
) -> HttpResponse:
    material = get_object_or_404(_application(user, code).materials, pk=pk)
    return FileResponse(material.file.open("rb"), as_attachment=True, filename=material.original_name)


# Monthly statistics reports ------------------------------------------------------------------------


@enterprise
def ent_reports(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User
) -> HttpResponse:
    from yimatong.stats.forms import initial_period
    from yimatong.stats.models import MonthlyReport

    period = initial_period()
    reports = MonthlyReport.objects.visible_to(user).order_by("-year", "-month")[:24]
    due = _report_due(user)
    return _page(
        request,
        "wechat/portal/ent_reports.html",
        {"account": account, "nav": "ent", "reports": reports, "period": period, "due": due},
    )


@enterprise
@require_http_methods(["GET", "POST"])
def ent_report_new(
    request: HttpRequest, account: OfficialAccount, follower: Follower, user: User
) -> HttpResponse:
    """The month's report from the phone: the console's form and checks; soft checks come back
    with a box to explain each, the figures kept."""
    from yimatong.stats import forms as stats_forms
    from yimatong.stats.views import explanations_from, submit_form

    initial = {
        **stats_forms.initial_period(),
        **{k: request.GET[k] for k in ("year", "month") if request.GET.get(k, "").isdigit()},
    }
    from yimatong.stats.actions import is_industrial

    form = stats_forms.ReportForm(
        request.POST or None, initial=initial, industrial=is_industrial(user.organization)
    )
    warnings: list[Any] = []
    if request.method == "POST" and form.is_valid():
        report, warnings = submit_form(user, form, user.organization, explanations_from(request.POST))
        if report is not None:
            messages.success(
                request,
                _("%(period)s报表已报送（第 %(n)s 版）。")
                % {"period": report.period_label, "n": report.revision},
            )
            return redirect("wechat:ent_reports", account.slug)
    return _page(
        request,
        "wechat/portal/ent_report_form.html",
        {
            "account": account,
            "nav": "ent",
            "form": form,
            "warnings": [(w, request.POST.get(f"explain_{w.code}", "")) for w in warnings],
        },
        status=400 if request.method == "POST" else 200,
    )
