"""The steps of a demand's lifecycle as the console and the API offer them: which step a user
may take now (with its form), and what each step calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.services import actions, forms
from yimatong.services.models import Demand

S = Demand.Status


def available_steps(user: User, demand: Demand) -> dict[str, Any]:
    """The forms of the steps this user may take on this demand now."""
    steps: dict[str, Any] = {}
    dispatcher = access.is_dispatcher(user)
    handler = access.can_handle_demand(user, demand)
    status = demand.status
    if dispatcher and status == S.SUBMITTED:
        steps["accept"] = forms.AcceptForm(
            initial={"category": demand.category_id, "promised_days": demand.category.promised_days}
        )
    if dispatcher and status in (S.ACCEPTED, S.RETURNED):
        steps["dispatch"] = forms.DispatchForm(initial={"lead": demand.category.default_department_id})
    if handler and status == S.DISPATCHED:
        steps["sign"] = None
        steps["return"] = forms.ReasonForm()
    if handler and status == S.HANDLING:
        steps["complete"] = forms.CompleteForm()
        steps["request_info"] = forms.InfoForm()
    if handler and status in (S.HANDLING, S.AWAITING_INFO) and not demand.extension_requested_days:
        steps["extend"] = forms.ExtensionForm()
    if dispatcher and demand.extension_requested_days and status in (S.HANDLING, S.AWAITING_INFO):
        steps["decide_extension"] = forms.DecideExtensionForm()
    if (
        status == S.AWAITING_INFO
        and access.can_rate_demand(user, demand)
        and access.role_of(user) == User.Role.ENTERPRISE
    ):
        steps["supply_info"] = forms.SupplyForm()
    if dispatcher and status == S.COMPLETED:
        steps["review"] = forms.ReviewForm()
    if status == S.FOLLOW_UP and access.can_rate_demand(user, demand):
        steps["rate"] = forms.RateForm()
    if access.can_supervise_demand(user) and status not in (S.ARCHIVED, S.WITHDRAWN):
        steps["supervise"] = forms.SuperviseForm()
    if status in (S.SUBMITTED, S.ACCEPTED) and access.role_of(user) == User.Role.ENTERPRISE:
        steps["withdraw"] = forms.ReasonForm()
    return steps


STEPS: dict[str, tuple[Any, Callable[..., Demand], Callable[[Any], dict[str, Any]], str]] = {
    "accept": (
        forms.AcceptForm,
        actions.accept,
        lambda d: {"category": d["category"], "promised_days": d.get("promised_days")},
        _("已受理。"),
    ),
    "dispatch": (
        forms.DispatchForm,
        actions.dispatch,
        lambda d: {"lead": d["lead"], "co": list(d.get("co") or []), "note": d.get("note", "")},
        _("已分派。"),
    ),
    "sign": (None, actions.sign, lambda d: {}, _("已签收，开始计时。")),
    "return": (
        forms.ReasonForm,
        actions.return_demand,
        lambda d: {"reason": d["reason"]},
        _("已退回受理中心。"),
    ),
    "request_info": (
        forms.InfoForm,
        actions.request_info,
        lambda d: {"what": d["what"]},
        _("已要求企业补充材料，计时暂停。"),
    ),
    "supply_info": (
        forms.SupplyForm,
        actions.supply_info,
        lambda d: {"text": d["text"], "attachments": d.get("attachments") or []},
        _("已补充材料，计时恢复。"),
    ),
    "extend": (
        forms.ExtensionForm,
        actions.request_extension,
        lambda d: {"days": d["days"], "reason": d["reason"]},
        _("延期申请已提交。"),
    ),
    "decide_extension": (
        forms.DecideExtensionForm,
        actions.decide_extension,
        lambda d: {"approve": d["approve"], "note": d.get("note", "")},
        _("延期申请已审批。"),
    ),
    "complete": (
        forms.CompleteForm,
        actions.complete,
        lambda d: {"resolution": d["resolution"]},
        _("已办结，待审核。"),
    ),
    "review": (
        forms.ReviewForm,
        actions.review,
        lambda d: {"passed": d["passed"], "note": d.get("note", "")},
        _("已审核。"),
    ),
    "rate": (
        forms.RateForm,
        actions.rate,
        lambda d: {"rating": d["rating"], "comment": d.get("comment", "")},
        _("感谢您的评价。"),
    ),
    "supervise": (forms.SuperviseForm, actions.supervise, lambda d: {"note": d["note"]}, _("已督办。")),
    "withdraw": (forms.ReasonForm, actions.withdraw, lambda d: {"reason": d["reason"]}, _("诉求已撤回。")),
}


def steps_in_any_status(user: User, demand: Demand) -> set[str]:
    """The steps this user could take on this demand in some status (a stale page asks for one)."""
    names: set[str] = set()
    for status in S.values:
        probe = Demand(
            pk=demand.pk,
            status=status,
            category=demand.category,
            lead_department_id=demand.lead_department_id,
            organization_id=demand.organization_id,
            extension_requested_days=1,
        )
        names |= set(available_steps(user, probe))
    return names
