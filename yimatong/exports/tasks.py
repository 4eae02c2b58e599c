from django_tasks import task

from yimatong.exports import actions


@task()
def build_export(export_id: int) -> None:
    actions.build(export_id)
