"""Applications: the enterprise's checklist and submission, the reviewers' board and steps."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.lib.errors import ActionError
from yimatong.lib.http import redirect_after_post
from yimatong.services import application_actions as actions
from yimatong.services import forms
from yimatong.services.models import Application, Policy
from yimatong.services.views import services_view

A = Application.Status
BOARD = [A.SUBMITTED, A.ACCEPTED, A.FIRST_REVIEW, A.DEPT_REVIEW, A.PUBLICIZED, A.RETURNED, A.PAID]


def _visible(user: User):
    qs = Application.objects.select_related("policy", "organization")
    if access.role_of(user) == User.Role.ENTERPRISE:
        return qs.filter(organization_id=user.organization_id)
    if access.can_read_policies(user):
        return qs
    return qs.none()


def _application(request: HttpRequest, code: str) -> Application:
    app = _visible(request.user).filter(code=code).first()
    if app is None:
        raise Http404
    return app


@services_view
def application_list(request: HttpRequest) -> HttpResponse:
    """Reviewers: a board by status; an enterprise: its own applications."""
    qs = _visible(request.user)
    mine = request.GET.get("mine") == "1"
    if mine:
        # A chief service officer's key enterprises (一企一策) only.
        qs = qs.filter(organization__service_plan__officer=request.user)
    rows = list(qs.order_by("-updated_at")[:500])
    if access.role_of(request.user) == User.Role.ENTERPRISE:
        return render(request, "services/application_list.html", {"rows": rows, "board": None})
    access.deny_unless(access.can_read_policies(request.user))
    board = [(A(status), [a for a in rows if a.status == status]) for status in BOARD]
    return render(request, "services/application_list.html", {"rows": rows, "board": board, "mine": mine})


@services_view
@require_POST
def application_start(request: HttpRequest, code: str) -> HttpResponse:
    access.deny_unless(access.role_of(request.user) == User.Role.ENTERPRISE)
    policy = get_object_or_404(Policy, code=code, is_published=True)
    try:
        app = actions.start(actor=request.user, policy=policy)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect_after_post(request, policy.get_absolute_url())
    messages.success(request, _("申报已创建，请按清单上传材料后提交。"))
    return redirect(app.get_absolute_url())


def _steps(user: User, app: Application) -> list[str]:
    enterprise = access.role_of(user) == User.Role.ENTERPRISE and user.organization_id == app.organization_id
    reviewer = access.can_edit_policies(user)
    steps = []
    if enterprise and app.status in (A.DRAFT, A.RETURNED):
        steps += ["upload", "submit"]
    if reviewer and app.status in actions.FORWARD:
        steps.append("advance")
    if reviewer and app.status in actions.RETURNABLE:
        steps.append("send_back")
    if reviewer and app.status in actions.REJECTABLE:
        steps.append("reject")
    if reviewer and app.status == A.PUBLICIZED:
        steps.append("pay")
    return steps


@services_view
def application_detail(request: HttpRequest, code: str) -> HttpResponse:
    app = _application(request, code)
    materials = {}
    for material in app.materials.all():
        materials.setdefault(material.name, material)
    return render(
        request,
        "services/application_detail.html",
        {
            "app": app,
            "checklist": [(name, materials.get(name)) for name in app.checklist()],
            "events": app.events.select_related("actor"),
            "steps": _steps(request.user, app),
            "next_status": actions.FORWARD.get(app.status),
            "pay_form": forms.PayForm(initial={"amount": app.amount_requested}),
        },
    )


@services_view
@require_POST
def application_step(request: HttpRequest, code: str, step: str) -> HttpResponse:
    app = _application(request, code)
    if step not in _steps(request.user, app):
        access.deny_unless(False)
    try:
        if step == "upload":
            upload = request.FILES.get("file")
            if upload is None:
                raise ActionError(_("请选择要上传的文件。"), fields={"file": [_("必填。")]})
            actions.upload(actor=request.user, app=app, name=request.POST.get("name", ""), upload=upload)
            messages.success(request, _("材料已上传。"))
        elif step == "submit":
            actions.submit(actor=request.user, app=app)
            messages.success(request, _("申报已提交。"))
        elif step == "advance":
            actions.advance(actor=request.user, app=app, note=request.POST.get("note", ""))
            messages.success(request, _("已进入下一步。"))
        elif step == "send_back":
            actions.send_back(actor=request.user, app=app, reason=request.POST.get("reason", ""))
            messages.success(request, _("已退回企业修改。"))
        elif step == "reject":
            actions.reject(actor=request.user, app=app, reason=request.POST.get("reason", ""))
            messages.success(request, _("已作出不予支持的决定。"))
        elif step == "pay":
            form = forms.PayForm(request.POST)
            if not form.is_valid():
                raise ActionError(
                    _("兑付金额：%(error)s") % {"error": form.errors["amount"][0]}, fields=form.errors
                )
            actions.pay(actor=request.user, app=app, amount=form.cleaned_data["amount"])
            messages.success(request, _("已兑付。"))
    except ActionError as exc:
        messages.error(request, exc.message)
    except Exception as exc:  # a ValidationError from the upload check
        if hasattr(exc, "messages"):
            messages.error(request, "；".join(exc.messages))
        else:
            raise
    return redirect_after_post(request, app.get_absolute_url())


@services_view
def application_material(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    app = _application(request, code)
    material = get_object_or_404(app.materials, pk=pk)
    return FileResponse(material.file.open("rb"), as_attachment=True, filename=material.original_name)
