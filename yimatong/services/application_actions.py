"""Applications under a policy, from the materials checklist to the money: 提交 → 受理 → 初审 →
部门审核 → 公示 → 兑付, or 退回 (the enterprise fixes and resubmits) / 不予支持, every step timed
and shown to the enterprise. Payment is debited from the policy's budget, never beyond it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import User
from yimatong.investment.actions.codes import next_code
from yimatong.lib.errors import ActionError, Conflict, StaleObject
from yimatong.notifications.actions import notify
from yimatong.notifications.models import Notification
from yimatong.services.models import Application, ApplicationEvent, ApplicationMaterial, Policy, PolicyMatch

A = Application.Status
# The review path: each status and the next one.
FORWARD = {
    A.SUBMITTED: A.ACCEPTED,
    A.ACCEPTED: A.FIRST_REVIEW,
    A.FIRST_REVIEW: A.DEPT_REVIEW,
    A.DEPT_REVIEW: A.PUBLICIZED,
}
RETURNABLE = {A.SUBMITTED, A.ACCEPTED, A.FIRST_REVIEW, A.DEPT_REVIEW}
REJECTABLE = {A.SUBMITTED, A.ACCEPTED, A.FIRST_REVIEW, A.DEPT_REVIEW, A.PUBLICIZED}


def _move(
    app: Application, *, actor: User | None, expected: set[str], to: str, text: str = "", **changes: Any
) -> Application:
    updated = Application.objects.filter(pk=app.pk, status__in=expected).update(
        status=to, version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if updated != 1:
        current = Application.objects.filter(pk=app.pk).values_list("status", flat=True).first()
        if current in expected:
            raise StaleObject(app.code)
        raise ActionError(
            _("申报 %(code)s 当前为“%(status)s”，不能执行此操作。")
            % {"code": app.code, "status": A(current).label},
            code="illegal_transition",
        )
    before = app.status
    app.refresh_from_db()
    ApplicationEvent.objects.create(application=app, actor=actor, from_status=before, to_status=to, text=text)
    users = User.objects.filter(
        is_active=True, role=User.Role.ENTERPRISE, organization_id=app.organization_id
    )
    notify(
        users,
        kind=Notification.Kind.POLICY,
        key=f"application-{app.pk}-{app.version}",
        title=_("政策申报“%(title)s”：%(status)s")
        % {"title": app.policy.title, "status": app.get_status_display()},
        body=text[:200],
        url=app.get_absolute_url(),
    )
    return app


def start(*, actor: User, policy: Policy, note: str = "") -> Application:
    """An enterprise starts an application from a policy it matches (or may match)."""
    org = actor.organization
    if org is None:
        raise ActionError(_("只有企业用户可以申报。"), code="forbidden")
    if not policy.is_published or policy.mode == Policy.Mode.AUTO:
        raise ActionError(_("该政策无需申报（免申即享）或未发布。"), code="not_applicable")
    if not PolicyMatch.objects.filter(
        policy=policy, organization=org, status__in=["met", "unknown"]
    ).exists():
        raise ActionError(
            _("根据贵企业现有信息，暂不符合该政策条件；请先完善企业信息。"), code="not_eligible"
        )
    try:
        with transaction.atomic():
            app = Application.objects.create(
                code=next_code("SB", timezone.localdate().year, width=5),
                policy=policy,
                organization=org,
                created_by=actor,
                note=note,
                amount_requested=policy.amount,
            )
            ApplicationEvent.objects.create(
                application=app, actor=actor, to_status=A.DRAFT, text=_("开始申报")
            )
            audit.log_create(app, actor=actor)
    except IntegrityError as exc:
        raise Conflict(_("贵企业已有一份该政策的申报在办理中。")) from exc
    return app


def upload(*, actor: User, app: Application, name: str, upload: Any) -> ApplicationMaterial:
    from yimatong.investment.forms import check_upload

    if app.status not in (A.DRAFT, A.RETURNED):
        raise ActionError(_("已提交的申报不能再改材料；如需修改，请等待退回。"), code="locked")
    if name not in app.checklist():
        raise ActionError(
            _("材料清单中没有“%(name)s”。") % {"name": name}, fields={"name": [_("请选择清单中的材料。")]}
        )
    check_upload(upload)
    material = ApplicationMaterial.objects.create(
        application=app, name=name, file=upload, original_name=upload.name[:200], uploaded_by=actor
    )
    audit.log_create(material, actor=actor)
    return material


def missing_materials(app: Application) -> list[str]:
    have = set(app.materials.values_list("name", flat=True))
    return [name for name in app.checklist() if name not in have]


def submit(*, actor: User, app: Application) -> Application:
    missing = missing_materials(app)
    if missing:
        raise ActionError(
            _("还缺少材料：%(names)s。") % {"names": _("、").join(missing)},
            code="materials_missing",
            fields={"materials": missing},
        )
    with transaction.atomic():
        return _move(
            app, actor=actor, expected={A.DRAFT, A.RETURNED}, to=A.SUBMITTED, submitted_at=timezone.now()
        )


def advance(*, actor: User, app: Application, note: str = "") -> Application:
    """The next review step (受理, 初审, 部门审核, 公示)."""
    to = FORWARD.get(app.status)
    if to is None:
        raise ActionError(
            _("申报 %(code)s 当前为“%(status)s”，没有下一步审核。")
            % {"code": app.code, "status": app.get_status_display()},
            code="illegal_transition",
        )
    with transaction.atomic():
        return _move(app, actor=actor, expected={app.status}, to=to, text=note)


def send_back(*, actor: User, app: Application, reason: str) -> Application:
    if not reason.strip():
        raise ActionError(_("请说明退回原因。"), fields={"reason": [_("必填。")]})
    with transaction.atomic():
        return _move(app, actor=actor, expected=RETURNABLE, to=A.RETURNED, text=reason.strip())


def reject(*, actor: User, app: Application, reason: str) -> Application:
    if not reason.strip():
        raise ActionError(_("请说明不予支持的原因。"), fields={"reason": [_("必填。")]})
    with transaction.atomic():
        return _move(app, actor=actor, expected=REJECTABLE, to=A.REJECTED, text=reason.strip())


def pay(*, actor: User, app: Application, amount: Decimal, paid_on: dt.date | None = None) -> Application:
    if amount <= 0:
        raise ActionError(_("兑付金额须大于 0。"), fields={"amount": [_("须大于 0。")]})
    paid_on = paid_on or timezone.localdate()
    with transaction.atomic():
        debited = (
            Policy.objects.filter(pk=app.policy_id)
            .filter(Q(budget__isnull=True) | Q(budget__gte=F("disbursed") + amount))
            .update(disbursed=F("disbursed") + amount)
        )
        if not debited:
            raise ActionError(
                _("资金预算不足：本次 %(amount)s 万元将超出预算。") % {"amount": amount},
                code="budget_exceeded",
                fields={"amount": [_("超出剩余预算。")]},
            )
        return _move(
            app,
            actor=actor,
            expected={A.PUBLICIZED},
            to=A.PAID,
            text=_("兑付 %(amount)s 万元") % {"amount": amount},
            amount_paid=amount,
            paid_on=paid_on,
        )
