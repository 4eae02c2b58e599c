"""Matching after a policy changes runs in the background (it reads every resident)."""

from django_tasks import task

from yimatong.services import policy_actions
from yimatong.services.models import Policy


@task()
def match_policy_task(policy_id: int) -> None:
    policy = Policy.objects.filter(pk=policy_id).first()
    if policy is not None:
        policy_actions.match_policy(policy)
