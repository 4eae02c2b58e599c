from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.investment import imports, ledger
from yimatong.investment.models import LedgerImport
from yimatong.lib.http import is_htmx

MAX_LEDGER_MB = 20


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("台账文件（Excel）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".xlsx", ".xls")):
            raise forms.ValidationError(_("请上传 Excel 文件（.xlsx 或 .xls）。"))
        if upload.size > MAX_LEDGER_MB * 1024 * 1024:
            raise forms.ValidationError(_("文件太大，上限为 %(limit)d MB。") % {"limit": MAX_LEDGER_MB})
        head = upload.read(8)
        upload.seek(0)
        if not (head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0")):
            raise forms.ValidationError(_("文件内容不是 Excel 格式，请确认文件未损坏。"))
        return upload


@access.staff_view
def ledger_template(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_create_project(request.user))
    response = HttpResponse(
        ledger.template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E6%8B%9B%E5%95%86%E9%A1%B9%E7%9B%AE%E5%8F%B0%E8%B4%A6%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response


@access.staff_view
@require_http_methods(["GET", "POST"])
def ledger_import(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_create_project(request.user))
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        job = imports.start(user=request.user, upload=form.cleaned_data["file"])
        return redirect("investment:ledger_import_detail", code=job.code)
    recent = LedgerImport.objects.filter(uploaded_by=request.user)[:10]
    status = 400 if request.method == "POST" else 200
    return render(request, "investment/ledger_upload.html", {"form": form, "recent": recent}, status=status)


def _job(request: HttpRequest, code: str) -> LedgerImport:
    from django.http import Http404

    job = LedgerImport.objects.filter(code=code, uploaded_by=request.user).first()
    if job is None:
        raise Http404
    return job


@access.staff_view
def ledger_import_detail(request: HttpRequest, code: str) -> HttpResponse:
    access.deny_unless(access.can_create_project(request.user))
    job = _job(request, code)
    errors = Paginator(job.errors, 100).get_page(request.GET.get("page"))
    context = {"job": job, "errors": errors, "invalid_rows": job.total_rows - job.valid_rows}
    template = "investment/ledger_import.html"
    if is_htmx(request):
        template += "#status"
    return render(request, template, context)


@access.staff_view
@require_POST
def ledger_import_confirm(request: HttpRequest, code: str) -> HttpResponse:
    access.deny_unless(access.can_create_project(request.user))
    job = _job(request, code)
    mode = request.POST.get("mode", "")
    if mode not in LedgerImport.Mode.values or (mode == LedgerImport.Mode.ALL_OR_NOTHING and job.errors):
        messages.error(request, _("还有未通过检查的行：请修改后重新上传，或选择只导入通过检查的行。"))
    elif not imports.confirm(job=job, user=request.user, mode=mode):
        messages.error(request, _("该台账已在导入或已导入。"))
    return redirect("investment:ledger_import_detail", code=job.code)
