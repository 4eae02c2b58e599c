"""What a promoter, a team lead or a leader sees first on the home page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

from yimatong.accounts.models import User
from yimatong.investment.models import EXITS, InvestmentSettings, Lead, Project, Stage


def pool_counts_for(user: Any) -> dict[str, int]:
    """New pool leads in the chain segments of the user's team (for the home page)."""
    from yimatong.directory.models import ChainNode

    pool = Lead.objects.visible_to(user).in_pool()
    team_nodes: set[int] = set()
    if getattr(user, "team_id", None):
        for node in ChainNode.objects.filter(teams__id=user.team_id):
            team_nodes |= node.descendant_ids()
    return {
        "pool": pool.count(),
        "pool_for_team": pool.filter(Q(chain_node__in=team_nodes) | Q(chain_node__isnull=True)).count()
        if team_nodes
        else 0,
    }


def projects_needing_attention(user: Any) -> dict[str, Any]:
    """For the home page: supervised projects, stale ones (yellow/red), due follow-ups."""
    from yimatong.investment.actions.work import overdue_follow_ups

    config = InvestmentSettings.current()
    if user.role in (User.Role.LEADER, User.Role.ADMIN):
        mine = Project.objects.visible_to(user)  # leaders watch the whole park
    else:
        mine = Project.objects.editable_by(user)  # the owner's, and the team's for a lead
    now = timezone.now()
    stale = mine.exclude(stage__in=[*EXITS, Stage.FULL_CAPACITY]).filter(
        last_progress_at__lte=now - dt.timedelta(days=config.yellow_after_days)
    )  # yellow or red: the lights' rule as conditions an index serves
    return {
        "supervised": mine.filter(supervised_at__isnull=False)
        .select_related("supervised_by")
        .order_by("-supervised_at", "-pk")[:10],
        "stale": stale.with_light(config, now).order_by("last_progress_at", "pk")[:10],
        "follow_ups": overdue_follow_ups(user)[:10],
    }
