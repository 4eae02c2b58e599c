"""Monthly direct reporting in the console: an enterprise's reports and the form (hard checks
name the field, soft checks ask for a word of explanation), a report with its revisions, the
statistics office's completeness view, publication and the Excel import."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.directory.models import Organization
from yimatong.lib.errors import ActionError
from yimatong.stats import actions, checks, forms, imports
from yimatong.stats.models import MonthlyReport, Period, ReportingRules, period_label


def _period(request: HttpRequest) -> tuple[int, int]:
    initial = forms.initial_period()
    try:
        year = int(request.GET.get("year") or initial["year"])
        month = int(request.GET.get("month") or initial["month"])
    except ValueError:
        return initial["year"], initial["month"]
    if not (2000 <= year <= 2100 and 2 <= month <= 12):
        return initial["year"], initial["month"]
    return year, month


@access.console_view
def report_list(request: HttpRequest) -> HttpResponse:
    """The statistics office: who has reported for a period; an enterprise: its own reports."""
    user = request.user
    if access.role_of(user) == User.Role.ENTERPRISE:
        reports = MonthlyReport.objects.visible_to(user).order_by("-year", "-month")[:60]
        return render(
            request, "stats/my_reports.html", {"reports": reports, "period": forms.initial_period()}
        )
    access.deny_unless(access.can_read_statistics(user))
    year, month = _period(request)
    rows = actions.completeness(year, month)
    rules = ReportingRules.for_year(year)
    period = Period.objects.filter(year=year, month=month).first()
    return render(
        request,
        "stats/completeness.html",
        {
            "rows": rows,
            "year": year,
            "month": month,
            "label": period_label(year, month),
            "deadline": checks.deadline(year, month, rules),
            "reported": sum(1 for r in rows if r["report"] is not None),
            "period": period,
            "months": forms.period_choices(),
            "can_publish": access.is_statistics_officer(user),
            "to_publish": sum(
                1
                for r in rows
                if r["report"] is not None and r["report"].status != MonthlyReport.Status.PUBLISHED
            ),
        },
    )


def _report_form_page(
    request: HttpRequest, form: Any, warnings: list[Any], status: int = 200
) -> HttpResponse:
    return render(
        request,
        "stats/report_form.html",
        {"form": form, "warnings": [(w, request.POST.get(f"explain_{w.code}", "")) for w in warnings]},
        status=status,
    )


def explanations_from(post: Any) -> dict[str, str]:
    return {key[len("explain_") :]: value for key, value in post.items() if key.startswith("explain_")}


def submit_form(
    user: User, form: Any, organization: Organization, explanations: dict[str, str]
) -> tuple[MonthlyReport | None, list]:
    """Submit a valid report form (console or H5): hard errors go onto the form beside the
    fields they name; soft warnings come back to be explained."""
    try:
        report = actions.submit_report(
            actor=user,
            organization=organization,
            year=form.cleaned_data["year"],
            month=form.cleaned_data["month"],
            data=form.report_data(),
            explanations=explanations,
        )
    except actions.NeedsExplanation as exc:
        return None, exc.warnings
    except ActionError as exc:
        exc.add_to(form)
        return None, []
    return report, []


@access.console_view
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_file_report(request.user))
    on_behalf = access.role_of(request.user) != User.Role.ENTERPRISE
    initial = {
        **forms.initial_period(),
        **{k: request.GET[k] for k in ("year", "month") if request.GET.get(k)},
    }
    industrial = None if on_behalf else actions.is_industrial(request.user.organization)
    form = forms.ReportForm(request.POST or None, initial=initial, on_behalf=on_behalf, industrial=industrial)
    warnings: list[Any] = []
    if request.method == "POST" and form.is_valid():
        organization = form.cleaned_data.get("organization") or request.user.organization
        report, warnings = submit_form(request.user, form, organization, explanations_from(request.POST))
        if report is not None:
            messages.success(
                request,
                _("%(period)s报表已报送（第 %(n)s 版）。")
                % {"period": report.period_label, "n": report.revision},
            )
            return redirect(report.get_absolute_url())
    return _report_form_page(request, form, warnings, status=400 if request.method == "POST" else 200)


@access.console_view
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(
        MonthlyReport.objects.visible_to(request.user).select_related(
            "organization", "published_by", "submitted_by"
        ),
        pk=pk,
    )
    return render(
        request,
        "stats/report_detail.html",
        {
            "report": report,
            "lines": report.lines.all(),
            "revisions": report.revisions.select_related("submitted_by"),
            "labels": checks.labels(),
            "figures": [(checks.labels()[name], getattr(report, name)) for name in actions.VALUE_FIELDS],
            "can_edit": access.can_file_report(request.user),
        },
    )


@access.console_view
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.is_statistics_officer(request.user))
    try:
        year, month = int(request.POST.get("year", "")), int(request.POST.get("month", ""))
    except ValueError:
        messages.error(request, _("报告期无效。"))
        return redirect("stats:report_list")
    try:
        count = actions.publish_period(actor=request.user, year=year, month=month)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已发布%(period)s数据：%(n)s 份报表。") % {"period": period_label(year, month), "n": count},
        )
    return redirect(f"{request.path.rsplit('/publish/', 1)[0]}/?year={year}&month={month}")


@access.console_view
@require_http_methods(["GET", "POST"])
def report_import(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.is_statistics_officer(request.user))
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            result = imports.import_reports(actor=request.user, content=form.cleaned_data["file"].read())
        except ActionError as exc:
            form.add_error("file", exc.message)
            status = 400
        else:
            if result.errors:
                status = 400
            else:
                messages.success(
                    request,
                    _("已导入 %(n)s 份报表（%(w)s 项提示已记为批量导入）。")
                    % {"n": result.stored, "w": result.warnings},
                )
                return redirect("stats:report_list")
    elif request.method == "POST":
        status = 400
    return render(request, "stats/import.html", {"form": form, "result": result}, status=status)


@access.console_view
def import_template(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.is_statistics_officer(request.user))
    response = HttpResponse(
        imports.template(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E4%BC%81%E4%B8%9A%E7%9B%B4%E6%8A%A5%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response


# The year's 规上工业 set ---------------------------------------------------------------------------


def _above_scale_page(
    request: HttpRequest, year: int, month: int, status: int = 200, **bound: Any
) -> HttpResponse:
    overview = actions.above_scale_overview(year)
    members = overview["members"]
    officer = access.is_statistics_officer(request.user)
    counted = [m for m in members if m.in_force(month)]
    return render(
        request,
        "stats/above_scale.html",
        {
            "year": year,
            "month": month,
            "label": period_label(year, month),
            "months": forms.period_choices(),
            "overview": overview,
            "rows": [(m, m.in_force(month)) for m in members],
            "counted": len(counted),
            "entrants": sum(1 for m in counted if m.basis != m.Basis.ANNUAL),
            "exits": sum(1 for m in members if m.left_month is not None and m.left_month <= month),
            "officer": officer,
            "entrant_form": bound.get("entrant_form")
            or (forms.EntrantForm(year=year, month=month) if officer else None),
            "exit_form": bound.get("exit_form")
            or (forms.ExitForm(year=year, month=month) if officer else None),
            "refix_form": bound.get("refix_form")
            or (forms.RefixForm(year=year, month=month) if officer else None),
        },
        status=status,
    )


@access.console_view
def above_scale(request: HttpRequest) -> HttpResponse:
    """The year's 规上工业 set: who counts for a period, entrants and exits by month, the history;
    the statistics office changes it here."""
    access.deny_unless(access.can_read_statistics(request.user))
    year, month = _period(request)
    return _above_scale_page(request, year, month)


def _set_change(request: HttpRequest, form_class: Any, name: str, change: Any) -> HttpResponse:
    """A POST of one of the set's forms: the form, then the action; back to the page with the
    period the officer was looking at, or the page again with the form's errors (400)."""
    access.deny_unless(access.is_statistics_officer(request.user))
    try:
        year = int(request.POST.get("year", ""))
        month = int(request.POST.get("view_month", "") or forms.initial_period()["month"])
    except ValueError:
        year, month = forms.initial_period()["year"], forms.initial_period()["month"]
    if not (2000 <= year <= 2100 and 2 <= month <= 12):
        year, month = forms.initial_period()["year"], forms.initial_period()["month"]
    form = form_class(request.POST, year=year)
    if form.is_valid():
        try:
            message = change(form.cleaned_data)
        except ActionError as exc:
            exc.add_to(form)
        else:
            messages.success(request, message)
            return redirect(f"{reverse('stats:above_scale')}?year={year}&month={month}")
    return _above_scale_page(request, year, month, status=400, **{name: form})


@access.console_view
@require_POST
def above_scale_join(request: HttpRequest) -> HttpResponse:
    def join(data: dict[str, Any]) -> str:
        member = actions.join_above_scale(
            actor=request.user,
            year=data["year"],
            organization=data["organization"],
            month=data["month"],
            basis=data["basis"],
            note=data["note"],
        )
        return _("%(name)s 已新增入库，自%(period)s起计入。") % {
            "name": data["organization"].name,
            "period": period_label(member.year, member.from_month),
        }

    return _set_change(request, forms.EntrantForm, "entrant_form", join)


@access.console_view
@require_POST
def above_scale_leave(request: HttpRequest) -> HttpResponse:
    def leave(data: dict[str, Any]) -> str:
        member = actions.leave_above_scale(
            actor=request.user,
            year=data["year"],
            organization=data["organization"],
            month=data["month"],
            reason=data["reason"],
            note=data["note"],
        )
        return _("%(name)s 已退库，自%(period)s起不再计入。") % {
            "name": data["organization"].name,
            "period": period_label(member.year, member.left_month),
        }

    return _set_change(request, forms.ExitForm, "exit_form", leave)


@access.console_view
@require_POST
def above_scale_refix(request: HttpRequest) -> HttpResponse:
    def refix(data: dict[str, Any]) -> str:
        count = actions.refix_above_scale(actor=request.user, year=data["year"], reason=data["reason"])
        return _("%(year)s年规上工业名录已重新确定：%(n)s 家。") % {"year": data["year"], "n": count}

    return _set_change(request, forms.RefixForm, "refix_form", refix)
