"""What a promoter, a team lead or a leader sees first on the home page."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from yimatong.accounts.models import User
from yimatong.investment.models import InvestmentSettings, Lead, Light, Project


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
    mine = mine.with_light(config)
    return {
        "supervised": mine.filter(supervised_at__isnull=False).select_related("supervised_by")[:10],
        "stale": mine.filter(light__in=[Light.YELLOW, Light.RED]).order_by("last_progress_at")[:10],
        "follow_ups": overdue_follow_ups(user)[:10],
    }
