from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimatong.accounts import access
from yimatong.exports import actions
from yimatong.exports.models import Export
from yimatong.investment.filters import PROJECT_FILTER_KEYS

# The query-string keys each export keeps (its list page's filters).
FILTER_KEYS = {
    Export.Kind.ORGANIZATIONS: ("q", "type", "chain", "district", "flag", "mine"),
    Export.Kind.PROJECTS: PROJECT_FILTER_KEYS,
    Export.Kind.MAJOR_WEEKLY: (),
}


@access.staff_view
@require_POST
def export_create(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in Export.Kind.values:
        messages.error(request, _("不支持导出“%(kind)s”。") % {"kind": kind})
        return redirect("exports:list")
    params = {
        key: request.GET.getlist(key) if key == "stage" else request.GET[key]
        for key in FILTER_KEYS[kind]
        if request.GET.get(key)
    }
    export = actions.request_export(user=request.user, kind=kind, params=params)
    messages.success(
        request, _("已开始生成「%(name)s」，完成后可在此下载。") % {"name": export.get_kind_display()}
    )
    return redirect(f"{reverse('exports:list')}#export-{export.code}")


@access.staff_view
def export_list(request: HttpRequest) -> HttpResponse:
    exports = Export.objects.visible_to(request.user)[:50]
    polling = any(e.in_progress for e in exports)
    template = "exports/export_list.html"
    if request.headers.get("HX-Request") == "true":
        template += "#exports"
    return render(request, template, {"exports": exports, "polling": polling})


@access.staff_view
def export_download(request: HttpRequest, code: str) -> HttpResponse:
    export = access.get_visible_or_404(Export.objects.all(), request.user, code=code)
    if export.status != Export.Status.DONE:
        messages.error(request, _("该文件尚未生成完成。"))
        return redirect("exports:list")
    actions.record_download(export, user=request.user)
    with translation.override(export.language):
        filename = export.filename()
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=filename)
