"""The cockpit's panels computed once per change of what they read.

Each panel names the tables its figures come from. Before a page is drawn, one query reads a
marker of each table (its latest ``updated_at``, or its row count and largest id when it has
none; an index serves the large tables, the small ones are read in a millisecond or two); a
panel is recomputed when a marker of its tables moved, and otherwise read from the cache.
Entries also expire after ``TTL`` seconds, which bounds what no marker sees (a deletion, a light
turning yellow as days pass). The page shows when its figures were computed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation

TTL = 120
VERSION = "v1"

# What each panel reads (app_label.Model), as written by the actions of those apps.
STATISTICS = (
    "stats.MonthlyReport",
    "stats.Period",
    "stats.AboveScaleMember",
    "stats.AboveScaleEvent",  # a member taken out of the set by a re-fix leaves no row to date
    "stats.InvestmentLine",
    "stats.ReportingRules",
)
TABLES: dict[str, tuple[str, ...]] = {
    "statistics": STATISTICS,
    "investment": (
        "investment.ProjectRollup",
        "investment.Project",
        "investment.Milestone",
        "investment.InvestmentSettings",
        "investment.LeadSource",
        "investment.SiteVisit",
        "wechat.QrCode",
        "wechat.InboundMessage",
    ),
    "chain": (*STATISTICS, "directory.Organization", "directory.ChainNode"),
    # The supervision page's lights per stage (yimatong/investment/views/overview.py).
    "lights": (
        "investment.Project",
        "investment.Project_collaborators",
        "investment.Milestone",  # a department sees the projects of its milestones and problems
        "investment.Problem",
        "investment.InvestmentSettings",
        "accounts.User",
    ),
    # The home page's organization counts (yimatong/views.py): who sees which organization
    # follows the organizations, their shares and the users' teams.
    "organizations": (
        "directory.Organization",
        "directory.Organization_collaborators",
        "directory.ChainNode",
        "accounts.User",
    ),
    "services": (
        "services.Demand",
        "services.Policy",
        "services.EnterpriseProfile",
        "services.Application",
        "accounts.Department",
    ),
}


# Rows only ever added: the largest id says it all (a count would read a large table).
APPEND_ONLY = {"investment.LeadSource", "wechat.InboundMessage", "stats.AboveScaleEvent"}


def _marker_sql(label: str) -> str:
    model = apps.get_model(label)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    if label in APPEND_ONLY:
        return f"(SELECT MAX({pk}) FROM {table})"
    if "updated_at" in {f.name for f in model._meta.concrete_fields}:
        return f"(SELECT MAX(updated_at) FROM {table})"
    # A small table without a change time: its size and largest id.
    return f"(SELECT COUNT(*) || ':' || COALESCE(MAX({pk}), 0) FROM {table})"


def markers(panels: list[str]) -> dict[str, str]:
    """Per panel, a digest of its tables' markers (one query for all of them)."""
    labels = sorted({label for panel in panels for label in TABLES[panel]})
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(_marker_sql(label) for label in labels))
        values = dict(zip(labels, cursor.fetchone(), strict=True))
    return {
        panel: hashlib.sha256(
            "|".join(f"{label}={values[label]}" for label in TABLES[panel]).encode()
        ).hexdigest()[:24]
        for panel in panels
    }


def scope_key(user: Any) -> str:
    """Whose figures: every leader sees the same park; anyone else their own scope."""
    from yimatong.accounts import access

    role = access.role_of(user) or "none"
    if role in (access.Role.ADMIN, access.Role.LEADER):
        return "all"
    return f"{role}-{user.pk}-{getattr(user, 'team_id', '')}-{getattr(user, 'department_id', '')}"


def cached(
    panel: str, marker: str, parts: tuple[Any, ...], user: Any, build: Callable[[], Any]
) -> tuple[Any, dt.datetime]:
    """``build()`` for this panel, filter ``parts`` and user scope, or its cached result while
    the panel's ``marker`` stands; with the time it was computed."""
    key = ":".join(
        [
            "cockpit",
            VERSION,
            panel,
            marker,
            scope_key(user),
            translation.get_language() or "",
            *map(str, parts),
        ]
    )
    found = cache.get(key)
    if found is None:
        found = (build(), timezone.now())
        cache.set(key, found, TTL)
    return found


def remember(panel: str, user: Any, build: Callable[[], Any], parts: tuple[Any, ...] = ()) -> Any:
    """``build()`` for one panel outside the cockpit (its marker read on the spot), from the
    cache while the panel's tables have not changed."""
    return cached(panel, markers([panel])[panel], parts, user, build)[0]
