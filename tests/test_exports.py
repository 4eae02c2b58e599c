import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from yimatong.accounts.models import AuditEntry
from yimatong.directory.exports import organizations_workbook
from yimatong.exports import actions
from yimatong.exports.models import Export


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def rows_of(content: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_an_export_of_the_filtered_list_is_built_in_the_background_and_downloaded(
    park, as_persona, django_capture_on_commit_callbacks
):
    client = as_persona("owner")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("exports:create") + "?type=prospect&q=", {"kind": "organizations"})
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is enqueued only once the request's transaction commits
    export = Export.objects.get()
    assert (export.status, export.row_count, export.params) == ("done", 2, {"type": "prospect"})
    download = client.get(reverse("exports:download", args=[export.code]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    rows = rows_of(b"".join(download.streaming_content))
    assert rows[0][:3] == ("名称", "统一社会信用代码", "类型")
    assert sorted(r[0] for r in rows[1:]) == sorted(["苏州启明抗体药物有限公司", "南京金陵体外诊断有限公司"])


def test_the_export_holds_only_what_the_requester_may_see(park):
    content, rows = organizations_workbook(park.users["service"], {})
    names = {r[0] for r in rows_of(content)[1:]}
    assert rows == 2
    assert names == {"重庆智翔金泰生物制药股份有限公司", "重庆宏冠医疗器械有限公司"}


def test_numbers_and_dates_stay_numbers_and_dates_in_excel(park):
    park.resident.registered_capital = Decimal("36667.50")
    park.resident.save()
    content, _rows = organizations_workbook(park.users["admin"], {"q": "zxjt"})
    (row,) = rows_of(content)[1:]
    assert row[3] == "生物药 / 抗体药物"
    assert row[5] == 36667.5
    assert row[9] == "是"


def test_someone_elses_export_is_not_found(park, as_persona, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = actions.request_export(user=park.users["owner"], kind="organizations", params={})
    assert as_persona("colleague").get(reverse("exports:download", args=[export.code])).status_code == 404
    assert as_persona("admin").get(reverse("exports:download", args=[export.code])).status_code == 404
    assert export not in as_persona("colleague").get(reverse("exports:list")).context["exports"]


def test_building_twice_has_one_effect(park):
    export = Export.objects.create(kind="organizations", params={}, requested_by=park.users["owner"])
    actions.build(export.pk)
    first = Export.objects.get(pk=export.pk)
    actions.build(export.pk)
    second = Export.objects.get(pk=export.pk)
    assert first.status == second.status == "done"
    assert first.file.name == second.file.name


def test_a_failing_build_is_marked_failed_with_its_reason(park, monkeypatch):
    monkeypatch.setitem(actions.BUILDERS, "organizations", "builtins.len")  # wrong signature: raises
    export = Export.objects.create(kind="organizations", params={}, requested_by=park.users["owner"])
    actions.build(export.pk)
    export.refresh_from_db()
    assert export.status == "failed"
    assert "len()" in export.error


def test_the_list_polls_while_an_export_is_in_progress(park, as_persona):
    Export.objects.create(kind="organizations", params={}, requested_by=park.users["owner"])
    page = as_persona("owner").get(reverse("exports:list"))
    assert page.context["polling"] is True
    assert 'hx-trigger="every 2s"' in page.content.decode()


def test_an_unknown_kind_is_refused_with_a_message(park, as_persona):
    response = as_persona("owner").post(reverse("exports:create"), {"kind": "salaries"}, follow=True)
    assert "不支持导出“salaries”。" in response.content.decode()
    assert Export.objects.count() == 0


def test_an_export_is_built_in_the_language_of_the_person_who_asked(
    park, as_persona, django_capture_on_commit_callbacks
):
    client = as_persona("owner")
    client.cookies["ymt_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exports:create"), {"kind": "organizations"})
    export = Export.objects.get()
    assert export.language == "en"
    assert rows_of(export.file.read())[0][:3] == ("Name", "Unified social credit code (USCC)", "Type")
    assert list(AuditEntry.objects.filter(object_id=str(export.pk)).values_list("action", flat=True)) == [
        "export_requested"
    ]
    client.get(reverse("exports:download", args=[export.code]))
    assert AuditEntry.objects.filter(action="export_downloaded", object_id=str(export.pk)).count() == 1
