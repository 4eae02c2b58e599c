"""Who may see and change what: the one place that decides.

Rules are expressed as ``Q`` objects so that lists, detail pages, the API and exports all
filter in the database with the same rule (``Organization.objects.visible_to(user)`` calls
``organization_scope`` here). Default deny: a role not named below sees nothing.

Outsiders get 404 (they are not told a record exists); users who may see a record but not
change it get 403.

| role        | organizations and their contacts                                   | may change          |
|-------------|--------------------------------------------------------------------|---------------------|
| admin       | all                                                                | all                 |
| leader      | all                                                                | nothing (read-only) |
| team_lead   | the park directory + prospects owned by / shared with the team     | the team's records  |
| promoter    | the park directory + prospects they own or that are shared with them | their own records |
| service     | the park directory (residents, banks, institutes, departments)     | nothing             |
| enterprise  | their own enterprise only                                          | nothing             |
| investor    | nothing in the console                                             | nothing             |

"The park directory" is every organization that is not an investor prospect: prospects are
confidential to whoever courts them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from yimatong.accounts.models import User
from yimatong.lib.lookups import first_or_none

if TYPE_CHECKING:
    from yimatong.directory.models import Contact, Organization

Role = User.Role
NOTHING = Q(pk__in=[])

CONSOLE_ROLES = {Role.ADMIN, Role.LEADER, Role.TEAM_LEAD, Role.PROMOTER, Role.SERVICE, Role.ENTERPRISE}
STAFF_ROLES = {Role.ADMIN, Role.LEADER, Role.TEAM_LEAD, Role.PROMOTER, Role.SERVICE}
DIRECTORY_EDITORS = {Role.ADMIN, Role.TEAM_LEAD, Role.PROMOTER}


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def role_of(user: Any) -> str | None:
    return user.role if _active(user) else None


def can_use_console(user: Any) -> bool:
    return role_of(user) in CONSOLE_ROLES


def is_staff_member(user: Any) -> bool:
    return role_of(user) in STAFF_ROLES


def is_admin(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


# Organizations -------------------------------------------------------------------------------


def _shared_with(user_filter: Q) -> Exists:
    from yimatong.directory.models import Organization

    through = Organization.collaborators.through
    return Exists(through.objects.filter(user_filter, organization_id=OuterRef("pk")))


def _directory() -> Q:
    return ~Q(org_type="prospect")


def organization_scope(user: Any) -> Q:
    role = role_of(user)
    if role in (Role.ADMIN, Role.LEADER):
        return Q()
    if role in (Role.TEAM_LEAD, Role.PROMOTER):
        return _directory() | organization_edit_scope(user)
    if role == Role.SERVICE:
        return _directory()
    if role == Role.ENTERPRISE and user.organization_id:
        return Q(pk=user.organization_id)
    return NOTHING


def organization_edit_scope(user: Any) -> Q:
    role = role_of(user)
    if role == Role.ADMIN:
        return Q()
    if role == Role.TEAM_LEAD and user.team_id:
        return (
            Q(team_id=user.team_id)
            | Q(owner__team_id=user.team_id)
            | Q(_shared_with(Q(user__team_id=user.team_id)))
        )
    if role == Role.PROMOTER:
        return Q(owner_id=user.pk) | Q(_shared_with(Q(user_id=user.pk)))
    return NOTHING


def can_create_organization(user: Any) -> bool:
    return role_of(user) in DIRECTORY_EDITORS


def can_change_organization(user: Any, org: Organization) -> bool:
    from yimatong.directory.models import Organization

    if not can_create_organization(user):
        return False
    return Organization.objects.filter(organization_edit_scope(user), pk=org.pk).exists()


def can_reassign_organization(user: Any) -> bool:
    """Choosing another owner or team is a lead's decision, not the promoter's."""
    return role_of(user) in (Role.ADMIN, Role.TEAM_LEAD)


# Contacts follow their organization; a contact without one follows its owner.


def contact_scope(user: Any) -> Q:
    from yimatong.directory.models import Organization

    role = role_of(user)
    if role is None or role not in CONSOLE_ROLES:
        return NOTHING
    if role in (Role.ADMIN, Role.LEADER):
        return Q()
    visible_orgs = Organization.objects.filter(organization_scope(user)).values("pk")
    return Q(organization__in=visible_orgs) | (Q(organization__isnull=True) & _own_contact(user))


def contact_edit_scope(user: Any) -> Q:
    from yimatong.directory.models import Organization

    role = role_of(user)
    if role == Role.ADMIN:
        return Q()
    if role not in DIRECTORY_EDITORS:
        return NOTHING
    editable_orgs = Organization.objects.filter(organization_edit_scope(user)).values("pk")
    return Q(organization__in=editable_orgs) | (Q(organization__isnull=True) & _own_contact(user))


def _own_contact(user: Any) -> Q:
    if user.role == Role.TEAM_LEAD and user.team_id:
        return Q(owner__team_id=user.team_id)
    if user.role == Role.PROMOTER:
        return Q(owner_id=user.pk)
    return NOTHING


def can_change_contact(user: Any, contact: Contact) -> bool:
    from yimatong.directory.models import Contact

    return Contact.objects.filter(contact_edit_scope(user), pk=contact.pk).exists()


# The industry chain is park-wide reference data: every staff member reads it, admins edit it.


def can_edit_chain(user: Any) -> bool:
    return is_admin(user)


def can_view_audit_log(user: Any) -> bool:
    """The park-wide audit log; each record's own timeline follows the record's visibility."""
    return role_of(user) in (Role.ADMIN, Role.LEADER)


# Investment: leads and projects ----------------------------------------------------------------
#
# | role       | leads                                   | projects                                        |
# |------------|-----------------------------------------|-------------------------------------------------|
# | admin      | all, changes all                        | all, changes all                                |
# | leader     | all, read-only                          | all, read-only; raises 督办 and marks major      |
# | team_lead  | the pool + the team's, changes them     | the team's (owner, team or collaborator in it)  |
# | promoter   | the pool (to claim) + their own         | their own and those they assist                 |
# | service    | none                                    | those with a milestone or problem of their      |
# |            |                                         | department, read-only; they update those items  |
# | enterprise | none                                    | none in the console (their progress page only)  |

INVESTMENT_STAFF = {Role.ADMIN, Role.TEAM_LEAD, Role.PROMOTER}


def lead_scope(user: Any) -> Q:
    role = role_of(user)
    if role in (Role.ADMIN, Role.LEADER):
        return Q()
    if role in (Role.TEAM_LEAD, Role.PROMOTER):
        return Q(status="pool") | lead_edit_scope(user)
    return NOTHING


def lead_edit_scope(user: Any) -> Q:
    role = role_of(user)
    if role == Role.ADMIN:
        return Q()
    if role == Role.TEAM_LEAD and user.team_id:
        return Q(status="pool") | Q(team_id=user.team_id) | Q(owner__team_id=user.team_id)
    if role == Role.PROMOTER:
        return Q(owner_id=user.pk)
    return NOTHING


def can_create_lead(user: Any) -> bool:
    return role_of(user) in INVESTMENT_STAFF


def can_claim_lead(user: Any) -> bool:
    return role_of(user) in (Role.TEAM_LEAD, Role.PROMOTER)


def can_assign_lead(user: Any) -> bool:
    return role_of(user) in (Role.ADMIN, Role.TEAM_LEAD)


def _project_shared_with(user_filter: Q) -> Exists:
    from yimatong.investment.models import Project

    through = Project.collaborators.through
    return Exists(through.objects.filter(user_filter, project_id=OuterRef("pk")))


def project_scope(user: Any) -> Q:
    role = role_of(user)
    if role in (Role.ADMIN, Role.LEADER):
        return Q()
    if role in (Role.TEAM_LEAD, Role.PROMOTER):
        return project_edit_scope(user)
    if role == Role.SERVICE and user.department_id:
        from yimatong.investment.models import Milestone, Problem

        department = user.department_id
        return Q(Exists(Milestone.objects.filter(project_id=OuterRef("pk"), department_id=department))) | Q(
            Exists(Problem.objects.filter(project_id=OuterRef("pk"), department_id=department))
        )
    return NOTHING


def project_edit_scope(user: Any) -> Q:
    role = role_of(user)
    if role == Role.ADMIN:
        return Q()
    if role == Role.TEAM_LEAD and user.team_id:
        return (
            Q(team_id=user.team_id)
            | Q(owner__team_id=user.team_id)
            | Q(_project_shared_with(Q(user__team_id=user.team_id)))
        )
    if role == Role.PROMOTER:
        return Q(owner_id=user.pk) | Q(_project_shared_with(Q(user_id=user.pk)))
    return NOTHING


def can_create_project(user: Any) -> bool:
    return role_of(user) in INVESTMENT_STAFF


def can_change_project(user: Any, project: Any) -> bool:
    from yimatong.investment.models import Project

    return Project.objects.filter(project_edit_scope(user), pk=project.pk).exists()


def can_supervise(user: Any) -> bool:
    """Raising or lifting 督办, and marking a project as major, is for leaders."""
    return role_of(user) in (Role.ADMIN, Role.LEADER)


def can_mark_major(user: Any) -> bool:
    return role_of(user) in (Role.ADMIN, Role.LEADER, Role.TEAM_LEAD)


def can_update_dispatched_item(user: Any, item: Any, project: Any) -> bool:
    """Milestones and problems: the project's editors, or the department they are dispatched to."""
    if can_change_project(user, project):
        return True
    return (
        role_of(user) == Role.SERVICE
        and item.department_id is not None
        and item.department_id == user.department_id
    )


def can_open_document(user: Any, document: Any) -> bool:
    project = document.project
    if document.visibility != "restricted":
        return True  # the caller has already checked that the project is visible
    role = role_of(user)
    if role in (Role.ADMIN, Role.LEADER) or user.pk == project.owner_id:
        return True
    if role == Role.TEAM_LEAD and user.team_id and user.team_id == project.team_id:
        return True
    return project.insiders.filter(pk=user.pk).exists()


def can_view_progress(request: HttpRequest, project: Any) -> bool:
    """A project's progress page (not its record): the enterprise's own users, and the investor's
    contact once identified (the WeChat portal puts ``investor_contact_id`` in the session)."""
    user = request.user
    if role_of(user) == Role.ENTERPRISE and user.organization_id in (
        project.organization_id,
        project.registered_organization_id,
    ):
        return True
    contact_id = request.session.get("investor_contact_id") if hasattr(request, "session") else None
    return contact_id is not None and contact_id == project.contact_id


def can_configure_investment(user: Any) -> bool:
    """The park's rules (pool days, lights, the admission scorecard)."""
    return is_admin(user)


# WeChat: the consultation inbox and channel codes ------------------------------------------------
#
# | role       | conversations                                        | channel codes                     |
# |------------|------------------------------------------------------|-----------------------------------|
# | admin      | all; replies, assigns                                | all; creates                      |
# | leader     | all, read-only                                       | all and the channel comparison    |
# | team_lead  | unassigned + the team's; replies, assigns            | all; creates                      |
# | promoter   | unassigned + assigned to them + their leads'; replies | shared channels + their own; creates |
# | others     | none                                                 | none                              |
# The rows themselves are filtered by ``Follower.objects.visible_to`` / ``QrCode.objects.visible_to``.

WECHAT_READERS = {Role.ADMIN, Role.LEADER, Role.TEAM_LEAD, Role.PROMOTER}


def can_use_inbox(user: Any) -> bool:
    return role_of(user) in WECHAT_READERS


def can_reply(user: Any) -> bool:
    return role_of(user) in INVESTMENT_STAFF


def can_assign_conversation(user: Any) -> bool:
    return role_of(user) in (Role.ADMIN, Role.TEAM_LEAD)


def can_create_code(user: Any) -> bool:
    return role_of(user) in INVESTMENT_STAFF


def can_compare_channels(user: Any) -> bool:
    return role_of(user) in (Role.ADMIN, Role.LEADER, Role.TEAM_LEAD)


# Enterprise services: demands ----------------------------------------------------------------------
#
# | role        | demands                                                   | may                            |
# |-------------|-----------------------------------------------------------|--------------------------------|
# | admin       | all                                                       | everything                     |
# | leader      | all                                                       | read; raise 督办               |
# | service     | dispatch centre: all; other departments: those they lead or co-handle | centre: accept, dispatch, review, approve extensions; lead department: sign, return, ask for documents, extend, complete |
# | enterprise  | their own enterprise's                                    | file, add documents, rate      |
# | others      | none                                                      |                                |


def is_dispatcher(user: Any) -> bool:
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    return role == Role.SERVICE and bool(user.department_id) and user.department.is_dispatch_center


def demand_scope(user: Any) -> Q:
    role = role_of(user)
    if role in (Role.ADMIN, Role.LEADER) or is_dispatcher(user):
        return Q()
    if role == Role.SERVICE and user.department_id:
        from yimatong.services.models import Demand

        co = Demand.co_departments.through.objects.filter(
            demand_id=OuterRef("pk"), department_id=user.department_id
        )
        return Q(lead_department_id=user.department_id) | Q(Exists(co))
    if role == Role.ENTERPRISE and user.organization_id:
        return Q(organization_id=user.organization_id)
    return NOTHING


def can_edit_calendar(user: Any) -> bool:
    """The park's working-day calendar (holidays, make-up days): administrators, as in the console."""
    return is_admin(user)


def can_use_services(user: Any) -> bool:
    return role_of(user) in (Role.ADMIN, Role.LEADER, Role.SERVICE, Role.ENTERPRISE)


def can_file_demand(user: Any) -> bool:
    return role_of(user) == Role.ENTERPRISE or is_dispatcher(user)


def can_handle_demand(user: Any, demand: Any) -> bool:
    """The lead department's staff work the order (an admin may too)."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    return (
        role == Role.SERVICE and bool(user.department_id) and user.department_id == demand.lead_department_id
    )


def can_rate_demand(user: Any, demand: Any) -> bool:
    """The enterprise itself, or the centre recording a follow-up call."""
    if role_of(user) == Role.ENTERPRISE:
        return user.organization_id == demand.organization_id
    return is_dispatcher(user)


def can_edit_policies(user: Any) -> bool:
    """The policy officers: the dispatch centre and admins."""
    return is_dispatcher(user)


def can_read_policies(user: Any) -> bool:
    return role_of(user) in (Role.ADMIN, Role.LEADER, Role.SERVICE)


def can_supervise_demand(user: Any) -> bool:
    return role_of(user) in (Role.ADMIN, Role.LEADER)


# Statistics (企业直报 and the cockpit) ---------------------------------------------------------
# | role        | reports                          | may                                              |
# |-------------|----------------------------------|--------------------------------------------------|
# | admin       | all                              | everything                                       |
# | leader      | all, read-only                   | the cockpit, exports                             |
# | service in the statistics office | all        | import, remind, publish periods, set the rules   |
# | enterprise  | its own enterprise's             | file and correct its reports                     |
# | others      | none                             |                                                  |


def is_statistics_officer(user: Any) -> bool:
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    return role == Role.SERVICE and bool(user.department_id) and user.department.is_statistics_office


def can_read_statistics(user: Any) -> bool:
    """Every enterprise's reports and the park's figures."""
    return role_of(user) == Role.LEADER or is_statistics_officer(user)


def can_use_cockpit(user: Any) -> bool:
    return role_of(user) in (Role.ADMIN, Role.LEADER) or is_statistics_officer(user)


def can_file_report(user: Any) -> bool:
    return (role_of(user) == Role.ENTERPRISE and bool(user.organization_id)) or is_statistics_officer(user)


# Helpers for views ---------------------------------------------------------------------------

M = TypeVar("M", bound=Model)


def get_visible_or_404(queryset: QuerySet[M], user: Any, **lookup: Any) -> M:
    """The record if ``user`` may see it; otherwise 404, whether or not it exists."""
    obj = first_or_none(queryset.visible_to(user), **lookup)  # type: ignore[attr-defined]
    if obj is None:
        raise Http404
    return obj


def deny_unless(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


View = Callable[..., HttpResponse]


def console_view(view: View) -> View:
    """Signed-in users of a console role only; others go to the login page or get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _active(request.user):
            return redirect_to_login(request.get_full_path())
        if not can_use_console(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def staff_view(view: View) -> View:
    """Park staff (not enterprise users)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _active(request.user):
            return redirect_to_login(request.get_full_path())
        if not is_staff_member(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
