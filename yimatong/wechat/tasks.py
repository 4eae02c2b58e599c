"""The slow half of WeChat work, run after commit by the task worker. Every task is idempotent:
the rows they work on are claimed with a conditional update first."""

from django_tasks import task

from yimatong.wechat import actions


@task()
def process_inbound_task(message_id: int) -> None:
    actions.process_inbound(message_id)


@task()
def deliver_task(message_id: int) -> None:
    actions.deliver(message_id)
