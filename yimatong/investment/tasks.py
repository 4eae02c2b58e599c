from django_tasks import task

from yimatong.investment import imports


@task()
def check_ledger(import_id: int) -> None:
    imports.run_check(import_id)


@task()
def import_ledger(import_id: int) -> None:
    imports.run_import(import_id)
