from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access, actions, audit
from yimatong.accounts.forms import ApiTokenForm, LoginForm, PasswordChangeForm
from yimatong.accounts.models import ApiToken, AuditEntry, User
from yimatong.lib.http import query_without_page


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if access.can_use_console(request.user):
        return redirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = actions.sign_in(
                request, identifier=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
            if result.user is not None:
                return redirect(_safe_next(request))
            error = result.error
        status = 400
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "error": error,
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "max_failures": settings.LOGIN_MAX_FAILURES,
            "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES,
        },
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    actions.sign_out(request)
    messages.info(request, _("您已安全退出。"))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@access.console_view
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            actions.change_password(request, request.user, form.cleaned_data["new_password1"])
            messages.success(request, _("密码已修改，其他设备上的登录已失效。"))
            return redirect("accounts:password_change")
        return render(request, "accounts/password_change.html", {"form": form}, status=400)
    return render(request, "accounts/password_change.html", {"form": form})


@access.staff_view
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_token = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _token, new_token = actions.create_api_token(request.user, name=form.cleaned_data["name"])
            form = ApiTokenForm()
        else:
            status = 400
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": tokens, "new_token": new_token},
        status=status,
    )


@access.staff_view
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Only one's own tokens: anyone else's is "not found".
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    actions.revoke_api_token(token, actor=request.user)
    messages.success(request, _("令牌「%(name)s」已撤销。") % {"name": token.name})
    return redirect("accounts:api_tokens")


@access.staff_view
def audit_log(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_view_audit_log(request.user))
    entries = AuditEntry.objects.select_related("content_type", "actor")
    action = request.GET.get("action", "")
    if action in AuditEntry.Action.values:
        entries = entries.filter(action=action)
    model = request.GET.get("model", "")
    types = {
        f"{ct.app_label}.{ct.model}": ct
        for ct in ContentType.objects.filter(pk__in=AuditEntry.objects.values("content_type").distinct())
    }
    if model in types:
        entries = entries.filter(content_type=types[model])
    actor = request.GET.get("actor", "").strip()
    if actor:
        entries = entries.filter(actor_name__icontains=actor)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    # Only administrators see phone numbers in full here; a leader reads them masked.
    reveal = access.is_admin(request.user)
    rows = [
        (entry, audit.record_type(entry), audit.change_rows(entry, reveal=reveal))
        for entry in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "actions": AuditEntry.Action.choices,
        "models": sorted(
            (
                (key, str(ct.model_class()._meta.verbose_name))
                for key, ct in types.items()
                if ct.model_class()
            ),
            key=lambda item: item[1],
        ),
        "filters": {"action": action, "model": model, "actor": actor},
        "query": query_without_page(request),
    }
    return render(request, "accounts/audit_log.html", context)


@access.staff_view
def user_list(request: HttpRequest) -> HttpResponse:
    """Who is who in the park: names, roles, teams and departments (no contact data)."""
    users = (
        User.objects.filter(is_active=True)
        .exclude(role=User.Role.INVESTOR)
        .select_related("team", "department", "organization")
    )
    role = request.GET.get("role", "")
    if role in User.Role.values:
        users = users.filter(role=role)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": page,
            "roles": User.Role.choices,
            "role": role,
            "can_manage": access.is_admin(request.user),
            "query": query_without_page(request),
        },
    )


@access.staff_view
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    access.deny_unless(access.is_admin(request.user))
    user = get_object_or_404(User, pk=pk)
    actions.unlock(user, actor=request.user)
    messages.success(request, _("账户「%(name)s」已解锁。") % {"name": user.display_name})
    return redirect("accounts:user_list")
