"""The Excel ledger import in a real browser: a promoter uploads a ledger, sees the check's
result, confirms, watches the progress bar while the background worker imports (the page polls
every second with htmx, without a reload) and sees the result.

Fixtures (tests/browser/conftest.py): ``live_park`` is the suite's park committed for the live
server, ``page`` a chromium tab, ``sign_in(user)`` a session cookie. The tests run tasks inline;
here the import task is held back when it is enqueued and run by the test, as the worker would,
while the page is open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import Park
from tests.test_ledger import ledger_row, workbook_of
from yimatong.investment import imports
from yimatong.investment.models import LedgerImport, Project

pytestmark = pytest.mark.browser


def test_a_promoter_uploads_a_ledger_and_watches_the_import_progress_to_its_result(
    live_park: Park,
    live_server: Any,
    page: Any,
    sign_in: Any,
    tmp_path: Path,
    settings: Any,
    monkeypatch: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    rows = [ledger_row(i, resident_uscc=live_park.resident.uscc) for i in range(12)]
    ledger = tmp_path / "招商项目台账.xlsx"
    ledger.write_bytes(workbook_of(rows))
    held: list[tuple[Any, dict[str, Any]]] = []
    original = imports.enqueue_on_commit

    def hold_the_import(task: Any, **kwargs: Any) -> None:
        if task.name == "import_ledger":
            held.append((task, kwargs))  # the worker is busy: the job waits in the queue
        else:
            original(task, **kwargs)

    monkeypatch.setattr(imports, "enqueue_on_commit", hold_the_import)
    sign_in(live_park.users["owner"])

    page.goto(live_server.url + "/investment/ledger/import/")
    page.set_input_files('input[type="file"]', str(ledger))
    page.get_by_role("button", name="上传并检查").click()

    status = page.locator("#status")
    expect(status.locator(".badge")).to_have_text("已检查")
    expect(status.locator(".stat-card").first).to_contain_text("12")
    page.get_by_role("button", name="导入全部 12 行").click()

    # Waiting for the worker: the bar is shown and the page polls.
    expect(status.locator(".badge")).to_have_text("导入中")
    expect(status).to_contain_text("正在导入：已检查 0 / 12 行，已写入 0 / 12 行")
    expect(page.locator("progress#ledger-progress")).to_be_visible()
    assert Project.objects.count() == 0
    job = LedgerImport.objects.get()
    assert len(held) == 1 and held[0][1] == {"import_id": job.pk}

    # The worker reports how far it got; the page follows without a reload.
    LedgerImport.objects.filter(pk=job.pk).update(processed_rows=12, imported_rows=6)
    expect(status).to_contain_text("正在导入：已检查 12 / 12 行，已写入 6 / 12 行")
    expect(page.locator("progress#ledger-progress")).to_have_attribute("value", "75")

    LedgerImport.objects.filter(pk=job.pk).update(processed_rows=0, imported_rows=0)
    imports.run_import(job.pk)

    expect(status.locator(".badge")).to_have_text("已导入")
    expect(status.locator(".stat-accent")).to_contain_text("12")
    expect(page.locator("progress#ledger-progress")).to_have_count(0)
    expect(page.get_by_role("link", name="查看导入的项目")).to_be_visible()
    assert Project.objects.count() == 12
