from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yimatong.accounts import access, audit
from yimatong.investment.forms import ScoreItemForm, SettingsForm
from yimatong.investment.models import InvestmentSettings, ScoreItem


@access.staff_view
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """The park's rules (pool days, lights, admission) and the admission scorecard."""
    access.deny_unless(access.can_configure_investment(request.user))
    config = InvestmentSettings.current()
    before = audit.snapshot(config)
    form = SettingsForm(request.POST or None, instance=config)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            audit.log_change(config, before, actor=request.user)
            messages.success(request, _("招商规则已保存。"))
            return redirect("investment:settings")
        status = 400
    else:
        status = 200
    return render(
        request,
        "investment/settings.html",
        {
            "form": form,
            "items": ScoreItem.objects.all(),
            "max_total": sum(
                i.max_points for i in ScoreItem.objects.filter(is_active=True).exclude(kind="veto")
            ),
        },
        status=status,
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def score_item_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    access.deny_unless(access.can_configure_investment(request.user))
    item = get_object_or_404(ScoreItem, pk=pk) if pk else None
    before = audit.snapshot(item) if item else None
    form = ScoreItemForm(request.POST or None, instance=item)
    if request.method == "POST":
        if form.is_valid():
            saved = form.save()
            if before is None:
                audit.log_create(saved, actor=request.user)
            else:
                audit.log_change(saved, before, actor=request.user)
            messages.success(request, _("评审项“%(name)s”已保存。") % {"name": saved.name})
            return redirect("investment:settings")
        return render(request, "investment/score_item_form.html", {"form": form, "item": item}, status=400)
    return render(request, "investment/score_item_form.html", {"form": form, "item": item})
