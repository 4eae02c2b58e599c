"""The organization list's filters, shared by the console list, its Excel export and the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Exists, OuterRef, Q

from yimatong.directory.models import ChainNode, Organization, OrganizationQuerySet

FLAGS = ("is_above_scale", "is_high_tech", "is_specialized")


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


def organizations_for(user: Any, params: Mapping[str, Any]) -> tuple[OrganizationQuerySet, dict[str, Any]]:
    """The organizations ``user`` may see, narrowed by ``params`` (a query string or API filters).

    Understood: ``q`` (search), ``type``, ``chain`` (node id) or ``chain_node`` (node code) with the
    nodes below it, ``district`` (division code), ``flag`` (one of FLAGS) and ``mine``.
    Unknown or malformed values are ignored, as a list page should never fail on a bad link.
    """
    filters: dict[str, Any] = {
        "q": str(params.get("q") or "").strip(),
        "type": str(params.get("type") or ""),
        "chain": str(params.get("chain") or ""),
        "chain_node": str(params.get("chain_node") or ""),
        "district": str(params.get("district") or ""),
        "flag": str(params.get("flag") or ""),
        "mine": _truthy(params.get("mine", "")),
    }
    qs = Organization.objects.visible_to(user)
    if filters["q"]:
        qs = qs.search(filters["q"], user)
    if filters["type"] in Organization.Type.values:
        qs = qs.filter(org_type=filters["type"])
    # The node and the nodes below it in one query; an unknown id is ignored, an unknown code
    # matches nothing.
    if filters["chain"].isdigit():
        ids = ChainNode.subtree_ids(pk=int(filters["chain"]))
        if ids is not None:
            qs = qs.filter(chain_node__in=ids)
    elif filters["chain_node"]:
        ids = ChainNode.subtree_ids(code=filters["chain_node"])
        qs = qs.filter(chain_node__in=ids) if ids is not None else qs.none()
    if filters["district"].isdigit():
        qs = qs.filter(district__code=filters["district"])
    if filters["flag"] in FLAGS:
        qs = qs.filter(**{filters["flag"]: True})
    if filters["mine"]:
        shared = Organization.collaborators.through.objects.filter(
            organization_id=OuterRef("pk"), user_id=user.pk
        )
        qs = qs.filter(Q(owner=user) | Q(Exists(shared)))
    return qs, filters
