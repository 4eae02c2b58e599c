"""Project-level pages: the workbench home, the health check and error pages."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.directory.filters import organizations_for
from yimatong.directory.forms import chain_choices
from yimatong.directory.models import ChainNode, Contact, Organization
from yimatong.stats import freshness


@access.console_view
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role == User.Role.ENTERPRISE:
        return redirect(user.organization.get_absolute_url())
    visible = Organization.objects.visible_to(user)
    by_type, counts, flags = _organization_counts(user, visible)
    type_cards = [
        (value, Organization.Type.plural_label(value), by_type.get(value, 0))
        for value in Organization.Type.values
    ]
    mine_count = organizations_for(user, {"mine": "1"})[0].count()
    recent = (
        visible.filter(org_type=Organization.Type.PROSPECT)
        .select_related("chain_node", "owner")
        .order_by("-updated_at")[:8]
    )
    # Organizations per top-level segment of the chain (1+3+N), nodes below included.
    root_of: dict[int, ChainNode] = {}
    for node in chain_choices():
        root_of[node.pk] = root_of[node.parent_id] if node.parent_id else node
    totals: dict[int, int] = {}
    for pk, root in root_of.items():
        totals[root.pk] = totals.get(root.pk, 0) + counts.get(pk, 0)
    roots = [node for pk, node in root_of.items() if node.pk == pk]
    largest = max(totals.values(), default=0) or 1
    chain_rows = [
        (root, totals.get(root.pk, 0), round(100 * totals.get(root.pk, 0) / largest)) for root in roots
    ]
    investment: dict[str, Any] = {}
    if access.role_of(user) in (*access.INVESTMENT_STAFF, access.Role.LEADER):
        from yimatong.investment.home import pool_counts_for, projects_needing_attention

        investment = {**projects_needing_attention(user), **pool_counts_for(user)}
    return render(
        request,
        "home.html",
        {
            "type_cards": type_cards,
            "mine_count": mine_count,
            "recent": recent,
            "flags": flags,
            "chain_rows": chain_rows,
            "can_create": access.can_create_organization(user),
            "investment": investment,
        },
    )


def _organization_counts(user: User, visible: Any) -> tuple[dict[str, int], dict[int, int], dict[str, int]]:
    """One pass over the organizations the user may see, by type and chain node, with the flags;
    computed again when an organization, a share, the chain or a user changed (or after two
    minutes), and read from the cache otherwise (a city has tens of thousands of organizations)."""

    def build() -> tuple[dict[str, int], dict[int, int], dict[str, int]]:
        by_type: dict[str, int] = {}
        counts: dict[int, int] = {}
        flags = {"above_scale": 0, "high_tech": 0, "specialized": 0}
        for org_type, node, n, above, high, specialized in (
            visible.order_by()
            .values_list("org_type", "chain_node")
            .annotate(
                n=Count("pk"),
                above=Count("pk", filter=Q(is_above_scale=True)),
                high=Count("pk", filter=Q(is_high_tech=True)),
                specialized=Count("pk", filter=Q(is_specialized=True)),
            )
        ):
            by_type[org_type] = by_type.get(org_type, 0) + n
            if node:
                counts[node] = counts.get(node, 0) + n
            flags["above_scale"] += above
            flags["high_tech"] += high
            flags["specialized"] += specialized
        return by_type, counts, flags

    return freshness.remember("organizations", user, build)


@access.console_view
def search(request: HttpRequest) -> HttpResponse:
    """The top bar's search: organizations and contacts by name, USCC, pinyin initials or phone."""
    q = request.GET.get("q", "").strip()
    orgs = contacts = None
    if q:
        orgs = (
            Organization.objects.visible_to(request.user)
            .search(q, request.user)
            .select_related("chain_node", "owner")
        )
        contacts = (
            Contact.objects.visible_to(request.user)
            .search(q, request.user)
            .with_editable_flag(request.user)
            .select_related("organization")
        )
    return render(
        request,
        "search.html",
        {
            "q": q,
            "orgs": orgs[:10] if orgs is not None else [],
            "org_count": orgs.count() if orgs is not None else 0,
            "contacts": contacts[:10] if contacts is not None else [],
            "contact_count": contacts.count() if contacts is not None else 0,
        },
    )


def healthz(request: HttpRequest) -> HttpResponse:
    """For the load balancer: the app answers and its database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    """For the process manager and the load balancer: 200 once this process is warm and its
    database answers (see ``yimatong.warmup``), 503 before — send traffic only then."""
    from yimatong import warmup

    if not warmup.is_ready():
        try:
            warmup.connect()
        except DatabaseError as exc:
            return JsonResponse({"status": "starting", "reason": f"database: {exc}"[:200]}, status=503)
    return JsonResponse({"status": "ready"})


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        from yimatong.api import error_response

        return error_response(404, "not_found", _("没有这个接口地址：%(path)s") % {"path": request.path})
    return render(request, "errors/404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)
