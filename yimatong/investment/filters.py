"""Project and lead list filters, shared by the console lists, the board, exports and the API."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, OuterRef, Q

from yimatong.directory.models import ChainNode
from yimatong.investment import rollups
from yimatong.investment.models import Channel, InvestmentSettings, Lead, Light, Project, Stage
from yimatong.investment.models.pipeline import ProjectQuerySet

PROJECT_FILTER_KEYS = (
    "q",
    "stage",
    "chain",
    "owner",
    "team",
    "min",
    "max",
    "source",
    "light",
    "major",
    "supervised",
    "mine",
)


def _decimal(value: Any) -> Decimal | None:
    """A bound typed in the filter box; anything that is not a finite number means no bound."""
    try:
        number = Decimal(str(value).strip()) if str(value).strip() else None
    except InvalidOperation:
        return None
    return number if number is not None and number.is_finite() else None


def _subtree(value: str) -> set[int]:
    """The chain node given by id or code and the nodes below it, in one query (none if unknown)."""
    found = ChainNode.subtree_ids(pk=int(value)) if value.isdigit() else ChainNode.subtree_ids(code=value)
    return found or set()


def projects_for(
    user: Any, params: Mapping[str, Any], config: InvestmentSettings | None = None
) -> tuple[ProjectQuerySet, dict[str, Any]]:
    """The projects ``user`` may see, narrowed by ``params``; malformed values are ignored (a
    list page never fails on a bad link), unknown chain codes match nothing."""
    get = (
        (lambda key: params.getlist(key))
        if hasattr(params, "getlist")
        else (
            lambda key: (
                params.get(key)
                if isinstance(params.get(key), list)
                else ([params[key]] if params.get(key) not in (None, "") else [])
            )
        )
    )
    stages = [s for value in get("stage") for s in str(value).split(",") if s in Stage.values]
    filters: dict[str, Any] = {
        "q": str(params.get("q") or "").strip(),
        "stage": stages,
        "chain": str(params.get("chain") or ""),
        "owner": str(params.get("owner") or ""),
        "team": str(params.get("team") or ""),
        "min": _decimal(params.get("min") or ""),
        "max": _decimal(params.get("max") or ""),
        "source": str(params.get("source") or ""),
        "light": str(params.get("light") or ""),
        "major": str(params.get("major") or "") in ("1", "true", "on"),
        "supervised": str(params.get("supervised") or "") in ("1", "true", "on"),
        "mine": str(params.get("mine") or "") in ("1", "true", "on"),
    }
    qs = Project.objects.visible_to(user).with_light(config)
    if filters["q"]:
        qs = qs.search(filters["q"])
    if stages:
        qs = qs.filter(stage__in=stages)
    if filters["chain"]:
        ids = _subtree(filters["chain"])
        qs = qs.filter(chain_node__in=ids) if ids else qs.none()
    if filters["owner"]:
        owner = filters["owner"]
        qs = qs.filter(owner_id=int(owner)) if owner.isdigit() else qs.filter(owner__username=owner)
    if filters["team"]:
        team = filters["team"]
        qs = qs.filter(team_id=int(team)) if team.isdigit() else qs.filter(team__code=team)
    if filters["min"] is not None:
        qs = qs.filter(planned_investment__gte=filters["min"])
    if filters["max"] is not None:
        qs = qs.filter(planned_investment__lte=filters["max"])
    if filters["source"] in Channel.values:
        qs = qs.filter(source_channel=filters["source"])
    if filters["light"] in Light.values:
        qs = qs.with_light_of(filters["light"], config)
    if filters["major"]:
        qs = qs.filter(is_major=True)
    if filters["supervised"]:
        qs = qs.filter(supervised_at__isnull=False)
    if filters["mine"]:
        through = Project.collaborators.through
        qs = qs.filter(
            Q(owner=user) | Q(Exists(through.objects.filter(project_id=OuterRef("pk"), user_id=user.pk)))
        )
    return qs, filters


# The filters the read aggregates are kept by; a board filtered by these alone reads its totals
# from them (``tally_scope``).
TALLY_FILTERS = ("chain", "owner", "team", "source", "stage")


def tally_scope(user: Any, filters: dict[str, Any]) -> rollups.Scope | None:
    """The aggregates' scope of ``projects_for(user, …)`` when its filters are only chain,
    owner, team, source and stage (None otherwise: the figures must then be counted). The
    aggregates are kept by stage: a stage filter is applied to what they give by stage."""
    from yimatong.accounts.models import Team, User

    narrowed = [key for key, value in filters.items() if value is not None and value not in ("", [], False)]
    if (
        any(key not in TALLY_FILTERS for key in narrowed)
        or filters["min"] is not None
        or filters["max"] is not None
    ):
        return None
    chain_ids = None
    if filters["chain"]:
        chain_ids = _subtree(filters["chain"])
    scope = rollups.Scope.for_user(user, chain_ids)
    narrow: dict[str, Any] = {}
    if filters["owner"]:
        owner = filters["owner"]
        found = User.objects.filter(pk=int(owner)) if owner.isdigit() else User.objects.filter(username=owner)
        narrow["owner_id"] = found.values_list("pk", flat=True).first() or 0
    if filters["team"]:
        team = filters["team"]
        found = Team.objects.filter(pk=int(team)) if team.isdigit() else Team.objects.filter(code=team)
        narrow["team_id"] = found.values_list("pk", flat=True).first() or -1
    if filters["source"]:
        if filters["source"] not in Channel.values:
            return scope  # ignored by projects_for as well
        narrow["source"] = filters["source"]
    if narrow:
        if scope.rows is not None:
            scope.rows &= Q(**narrow)
        if scope.extra is not None:
            scope.extra = scope.extra.filter(
                **{{"source": "source_channel"}.get(key, key): value for key, value in narrow.items()}
            )
    return scope


def leads_for(user: Any, params: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    filters = {
        "q": str(params.get("q") or "").strip(),
        "tab": str(params.get("tab") or "mine"),
        "status": str(params.get("status") or ""),
        "channel": str(params.get("channel") or ""),
        "chain": str(params.get("chain") or ""),
    }
    qs = Lead.objects.visible_to(user)
    tab = filters["tab"]
    if tab == "pool":
        qs = qs.filter(status=Lead.Status.POOL)
    elif tab == "team" and getattr(user, "team_id", None):
        qs = qs.filter(Q(team_id=user.team_id) | Q(owner__team_id=user.team_id))
    elif tab == "mine":
        qs = qs.filter(owner=user)
    if filters["q"]:
        qs = qs.search(filters["q"])
    if filters["status"] in Lead.Status.values:
        qs = qs.filter(status=filters["status"])
    elif tab != "all":
        qs = qs.filter(status__in=[Lead.Status.POOL, Lead.Status.ASSIGNED])
    if filters["channel"] in Channel.values:
        qs = qs.filter(sources__channel=filters["channel"]).distinct()
    if filters["chain"]:
        ids = _subtree(filters["chain"])
        qs = qs.filter(chain_node__in=ids) if ids else qs.none()
    return qs, filters
