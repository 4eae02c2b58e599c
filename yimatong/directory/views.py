from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access, audit
from yimatong.directory import actions
from yimatong.directory.filters import organizations_for
from yimatong.directory.forms import (
    ChainNodeForm,
    ContactForm,
    OrganizationForm,
    chain_choices,
    chain_node_code,
)
from yimatong.directory.models import ChainNode, Contact, District, Organization
from yimatong.lib.errors import ActionError
from yimatong.lib.http import htmx_target, is_htmx, query_without_page, redirect_after_post

PAGE_SIZE = 20


def _apply_action_error(form: Any, exc: ActionError) -> None:
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


# Organizations -------------------------------------------------------------------------------


@access.console_view
def organization_list(request: HttpRequest) -> HttpResponse:
    qs, filters = organizations_for(request.user, request.GET)
    qs = qs.select_related("chain_node", "district", "owner", "industry")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "query": query_without_page(request),
        "types": Organization.Type.choices,
        "chain_nodes": chain_choices(),
        "districts": District.objects.filter(
            pk__in=Organization.objects.visible_to(request.user).values("district_id")
        ),
        "can_create": access.can_create_organization(request.user),
        "title": Organization.Type.plural_label(filters["type"]),
        "can_export": access.is_staff_member(request.user),
    }
    template = "directory/organization_list.html"
    if htmx_target(request) == "results":
        template += "#results"
    return render(request, template, context)


@access.console_view
def organization_detail(request: HttpRequest, code: str) -> HttpResponse:
    org = access.get_visible_or_404(
        Organization.objects.select_related("chain_node", "district", "industry", "owner", "team"),
        request.user,
        code=code,
    )
    contacts = org.contacts.with_editable_flag(request.user).order_by("-is_primary", "name")
    return render(
        request,
        "directory/organization_detail.html",
        {
            "org": org,
            "contacts": contacts,
            "collaborators": org.collaborators.all(),
            "can_change": access.can_change_organization(request.user, org),
            "timeline": audit.timeline(org),
            "show_ip": access.is_staff_member(request.user),
        },
    )


def _organization_form_response(
    request: HttpRequest, form: OrganizationForm, org: Organization | None, status: int = 200
) -> HttpResponse:
    template = "directory/organization_form.html"
    if is_htmx(request):
        template += "#form"
    return render(request, template, {"form": form, "org": org}, status=status)


@access.console_view
@require_http_methods(["GET", "POST"])
def organization_create(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_create_organization(request.user))
    initial = {"org_type": request.GET.get("type", Organization.Type.PROSPECT)}
    form = OrganizationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                org = actions.create_organization(actor=request.user, data=form.action_data())
            except ActionError as exc:
                _apply_action_error(form, exc)
            else:
                messages.success(request, _("已创建「%(name)s」。") % {"name": org.name})
                return redirect_after_post(request, org.get_absolute_url())
        return _organization_form_response(request, form, None, status=400)
    return _organization_form_response(request, form, None)


@access.console_view
@require_http_methods(["GET", "POST"])
def organization_edit(request: HttpRequest, code: str) -> HttpResponse:
    org = access.get_visible_or_404(Organization.objects.all(), request.user, code=code)
    access.deny_unless(access.can_change_organization(request.user, org))
    form = OrganizationForm(request.POST or None, user=request.user, instance=org)
    if request.method == "POST":
        if form.is_valid():
            try:
                org = actions.update_organization(
                    actor=request.user,
                    org=org,
                    data=form.action_data(),
                    version=form.cleaned_data.get("version"),
                )
            except ActionError as exc:
                _apply_action_error(form, exc)
            else:
                messages.success(request, _("已保存「%(name)s」。") % {"name": org.name})
                return redirect_after_post(request, org.get_absolute_url())
        return _organization_form_response(request, form, org, status=400)
    return _organization_form_response(request, form, org)


@access.console_view
@require_POST
def organization_validate(request: HttpRequest) -> HttpResponse:
    """Inline validation while typing: the form re-rendered with its errors (htmx picks a field)."""
    org = None
    code = request.GET.get("code")
    if code:
        org = access.get_visible_or_404(Organization.objects.all(), request.user, code=code)
        access.deny_unless(access.can_change_organization(request.user, org))
    else:
        access.deny_unless(access.can_create_organization(request.user))
    form = OrganizationForm(request.POST, user=request.user, instance=org)
    form.is_valid()
    return render(request, "directory/organization_form.html#form", {"form": form, "org": org})


def _refused_delete(request: HttpRequest, obj: Any, delete: Callable[[], None]) -> HttpResponse | None:
    """Run ``delete``; when it is refused (the record is still in use), the confirmation page
    again with the reason, answered with the refusal's status (409)."""
    try:
        delete()
    except ActionError as exc:
        return render(
            request,
            "directory/confirm_delete.html",
            {"object": obj, "error": exc.message, "cancel_url": obj.get_absolute_url()},
            status=exc.status,
        )
    return None


@access.console_view
@require_http_methods(["GET", "POST"])
def organization_delete(request: HttpRequest, code: str) -> HttpResponse:
    org = access.get_visible_or_404(Organization.objects.all(), request.user, code=code)
    access.deny_unless(access.can_change_organization(request.user, org))
    if request.method == "POST":
        refused = _refused_delete(
            request, org, lambda: actions.delete_organization(actor=request.user, org=org)
        )
        if refused:
            return refused
        messages.success(request, _("已删除「%(name)s」。") % {"name": org.name})
        return redirect_after_post(request, reverse("directory:organization_list"))
    return render(
        request, "directory/confirm_delete.html", {"object": org, "cancel_url": org.get_absolute_url()}
    )


# Contacts ------------------------------------------------------------------------------------


@access.console_view
def contact_list(request: HttpRequest) -> HttpResponse:
    qs = (
        Contact.objects.visible_to(request.user)
        .with_editable_flag(request.user)
        .select_related("organization")
    )
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.search(q, request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "directory/contact_list.html"
    if htmx_target(request) == "results":
        template += "#results"
    return render(
        request,
        template,
        {
            "page": page,
            "q": q,
            "query": query_without_page(request),
            "can_create": access.can_create_organization(request.user),
        },
    )


@access.console_view
def contact_detail(request: HttpRequest, code: str) -> HttpResponse:
    contact = access.get_visible_or_404(
        Contact.objects.select_related("organization", "owner"), request.user, code=code
    )
    can_change = access.can_change_contact(request.user, contact)
    return render(
        request,
        "directory/contact_detail.html",
        {
            "contact": contact,
            "can_change": can_change,
            "mobile": contact.mobile_for(can_change),
            "timeline": audit.timeline(contact, reveal=can_change),
            "show_ip": access.is_staff_member(request.user),
        },
    )


def _contact_form_response(
    request: HttpRequest, form: ContactForm, contact: Contact | None, status: int = 200
) -> HttpResponse:
    template = "directory/contact_form.html"
    if is_htmx(request):
        template += "#form"
    return render(request, template, {"form": form, "contact": contact}, status=status)


@access.console_view
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_create_organization(request.user))
    initial: dict[str, Any] = {}
    org_code = request.GET.get("org")
    if org_code:
        org = Organization.objects.editable_by(request.user).filter(code=org_code).first()
        if org is not None:
            initial["organization"] = org.pk
    form = ContactForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                contact = actions.create_contact(actor=request.user, data=form.action_data())
            except ActionError as exc:
                _apply_action_error(form, exc)
                return _contact_form_response(request, form, None, status=exc.status)
            messages.success(request, _("已添加联系人「%(name)s」。") % {"name": contact.name})
            target = (
                contact.organization.get_absolute_url()
                if contact.organization
                else contact.get_absolute_url()
            )
            return redirect_after_post(request, target)
        return _contact_form_response(request, form, None, status=400)
    return _contact_form_response(request, form, None)


@access.console_view
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, code: str) -> HttpResponse:
    contact = access.get_visible_or_404(Contact.objects.all(), request.user, code=code)
    access.deny_unless(access.can_change_contact(request.user, contact))
    form = ContactForm(request.POST or None, user=request.user, instance=contact)
    if request.method == "POST":
        if form.is_valid():
            try:
                contact = actions.update_contact(
                    actor=request.user,
                    contact=contact,
                    data=form.action_data(),
                    version=form.cleaned_data.get("version"),
                )
            except ActionError as exc:
                _apply_action_error(form, exc)
            else:
                messages.success(request, _("已保存联系人「%(name)s」。") % {"name": contact.name})
                return redirect_after_post(request, contact.get_absolute_url())
        return _contact_form_response(request, form, contact, status=400)
    return _contact_form_response(request, form, contact)


@access.console_view
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, code: str) -> HttpResponse:
    contact = access.get_visible_or_404(
        Contact.objects.select_related("organization"), request.user, code=code
    )
    access.deny_unless(access.can_change_contact(request.user, contact))
    back = (
        contact.organization.get_absolute_url() if contact.organization else reverse("directory:contact_list")
    )
    if request.method == "POST":
        refused = _refused_delete(
            request, contact, lambda: actions.delete_contact(actor=request.user, contact=contact)
        )
        if refused:
            return refused
        messages.success(request, _("已删除联系人「%(name)s」。") % {"name": contact.name})
        return redirect_after_post(request, back)
    return render(
        request,
        "directory/confirm_delete.html",
        {"object": contact, "cancel_url": contact.get_absolute_url()},
    )


# Industry chain ------------------------------------------------------------------------------


@access.staff_view
def chain(request: HttpRequest) -> HttpResponse:
    counts = dict(ChainNode.objects.with_counts(request.user).values_list("pk", "org_count"))
    nodes = chain_choices()
    for node in nodes:
        node.org_count = counts.get(node.pk, 0)  # type: ignore[attr-defined]
    # Each node's total includes the organizations on the nodes below it.
    by_parent: dict[int | None, list[ChainNode]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)

    def total(node: ChainNode) -> int:
        node.total_count = node.org_count + sum(total(c) for c in by_parent.get(node.pk, []))  # type: ignore[attr-defined]
        return node.total_count  # type: ignore[attr-defined]

    for root in by_parent.get(None, []):
        total(root)
    teams = ChainNode.teams.through.objects.select_related("team")
    team_names: dict[int, list[str]] = {}
    for link in teams:
        team_names.setdefault(link.chainnode_id, []).append(link.team.name)
    for node in nodes:
        node.team_names = team_names.get(node.pk, [])  # type: ignore[attr-defined]
    unassigned = Organization.objects.visible_to(request.user).filter(chain_node__isnull=True).count()
    return render(
        request,
        "directory/chain.html",
        {"nodes": nodes, "can_edit": access.can_edit_chain(request.user), "unassigned": unassigned},
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def chain_node_create(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_edit_chain(request.user))
    initial = {}
    if request.GET.get("parent", "").isdigit():
        parent = ChainNode.objects.filter(pk=int(request.GET["parent"])).first()
        if parent is not None:
            initial = {"parent": parent.pk, "kind": parent.kind}
    form = ChainNodeForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            node = actions.save_chain_node(
                actor=request.user, data=form.cleaned_data, code=chain_node_code(form.cleaned_data["name"])
            )
            messages.success(request, _("已添加产业链环节「%(name)s」。") % {"name": node.name})
            return redirect_after_post(request, reverse("directory:chain"))
        return render(request, "directory/chain_node_form.html", {"form": form, "node": None}, status=400)
    return render(request, "directory/chain_node_form.html", {"form": form, "node": None})


@access.staff_view
@require_http_methods(["GET", "POST"])
def chain_node_edit(request: HttpRequest, pk: int) -> HttpResponse:
    access.deny_unless(access.can_edit_chain(request.user))
    node = get_object_or_404(ChainNode, pk=pk)
    form = ChainNodeForm(request.POST or None, instance=node)
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.save_chain_node(actor=request.user, data=form.cleaned_data, node=node)
            except ActionError as exc:
                _apply_action_error(form, exc)
            else:
                messages.success(request, _("已保存产业链环节「%(name)s」。") % {"name": node.name})
                return redirect_after_post(request, reverse("directory:chain"))
        return render(request, "directory/chain_node_form.html", {"form": form, "node": node}, status=400)
    return render(
        request,
        "directory/chain_node_form.html",
        {"form": form, "node": node, "timeline": audit.timeline(node), "show_ip": True},
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def chain_node_delete(request: HttpRequest, pk: int) -> HttpResponse:
    access.deny_unless(access.can_edit_chain(request.user))
    node = get_object_or_404(ChainNode, pk=pk)
    cancel = reverse("directory:chain_node_edit", args=[node.pk])
    if request.method == "POST":
        try:
            actions.delete_chain_node(actor=request.user, node=node)
        except ActionError as exc:
            return render(
                request,
                "directory/confirm_delete.html",
                {"object": node, "error": exc.message, "cancel_url": cancel},
                status=exc.status,
            )
        messages.success(request, _("已删除产业链环节「%(name)s」。") % {"name": node.name})
        return redirect_after_post(request, reverse("directory:chain"))
    return render(request, "directory/confirm_delete.html", {"object": node, "cancel_url": cancel})
