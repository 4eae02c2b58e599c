"""lib.tasks.enqueue_on_commit: a task enqueued in a transaction runs only if it commits."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from yimatong.lib.tasks import enqueue_on_commit
from yimatong.wechat.tasks import process_inbound_task

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class Rollback(Exception):
    pass


def test_with_the_database_queue_the_task_row_is_written_in_the_transaction(
    settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        enqueue_on_commit(process_inbound_task, 41)
        assert DBTaskResult.objects.filter(args_kwargs__args=[41]).count() == 1  # already there
    assert callbacks == []  # nothing left for after the commit


def test_with_the_database_queue_a_rolled_back_transaction_leaves_no_task(settings):
    settings.TASKS = DATABASE_QUEUE
    with pytest.raises(Rollback), transaction.atomic():
        enqueue_on_commit(process_inbound_task, 42)
        raise Rollback
    assert not DBTaskResult.objects.filter(args_kwargs__args=[42]).exists()


def test_any_other_backend_is_called_after_the_commit(django_capture_on_commit_callbacks):
    # The tests' immediate backend would run the task at once: it waits for the commit.
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        enqueue_on_commit(process_inbound_task, 43)
    assert len(callbacks) == 1
    assert not DBTaskResult.objects.exists()
