"""Enqueueing a task for the rows the current transaction writes."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, router, transaction
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend


def enqueue_on_commit(task: Task[..., Any], *args: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """Enqueue ``task`` so that it runs only once the transaction open on ``using`` commits.

    When the task backend keeps its queue in that same database (the default, django-tasks-db),
    the task row is written inside the transaction: it commits with the rows the task will read,
    or not at all, and costs no second commit. Any other backend (the immediate one of the
    tests, a broker) is called from ``transaction.on_commit``.
    """
    from django_tasks_db.models import DBTaskResult  # a model: not importable before the apps are ready

    if (
        isinstance(task.get_backend(), DatabaseBackend)
        and router.db_for_write(DBTaskResult) == using
        and transaction.get_connection(using).in_atomic_block
    ):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs), using=using)
