"""State changes of accounts: sign-in with lock-out, sign-out, passwords, API tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import login, logout
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import access, audit
from yimatong.accounts.backends import find_user
from yimatong.accounts.models import ApiToken, AuditEntry, User


@dataclass
class LoginResult:
    user: User | None
    error: str = ""


def sign_in(request: HttpRequest, *, identifier: str, password: str) -> LoginResult:
    """Check a username or phone number and password (``check_credentials``) and start a
    console session."""
    result = check_credentials(identifier=identifier, password=password)
    user = result.user
    if user is None:
        return result
    with transaction.atomic():
        if not access.can_use_console(user):
            return LoginResult(None, _("该账号不能登录管理后台。投资方请通过园区微信公众号访问。"))
        login(request, user, backend="yimatong.accounts.backends.UsernameOrPhoneBackend")
        audit.log_event(AuditEntry.Action.LOGIN, user, actor=user)
    return LoginResult(user)


def check_credentials(*, identifier: str, password: str) -> LoginResult:
    """Check a username or phone number and password, without starting a session; lock the
    account for ``LOGIN_LOCKOUT_MINUTES`` after ``LOGIN_MAX_FAILURES`` failures in a row.

    Each attempt is counted *before* the (deliberately slow) password check, with a conditional
    UPDATE that a locked or exhausted account refuses: guesses sent in parallel can never check
    more than ``LOGIN_MAX_FAILURES`` passwords per lock period. An unknown user, a wrong password,
    an inactive and a locked account get the same message after the same work, so that neither
    the answer nor its timing tells a guesser which usernames or phone numbers exist.
    """
    refused = LoginResult(None, failure_message())
    user = find_user(identifier)
    if user is None:
        User().set_password(password)  # same cost as a real check: timing reveals no usernames
        return refused
    now = timezone.now()
    limit = settings.LOGIN_MAX_FAILURES
    claimed = (
        User.objects.filter(pk=user.pk, failed_login_count__lt=limit)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(failed_login_count=F("failed_login_count") + 1)
    )
    if not claimed:
        _lock_if_exhausted(user, now)
        User().set_password(password)  # a locked account costs what a password check costs
        return refused
    if not user.check_password(password) or not user.is_active:
        _record_failure(user, now)
        return refused
    User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
    user.failed_login_count, user.locked_until = 0, None
    return LoginResult(user)


def failure_message() -> str:
    """The one answer to a refused sign-in, whatever the reason."""
    return _(
        "用户名/手机号或密码不正确。连续输错 %(failures)d 次后账户将锁定 %(minutes)d 分钟，"
        "忘记密码或被锁定请联系系统管理员。"
    ) % {"failures": settings.LOGIN_MAX_FAILURES, "minutes": settings.LOGIN_LOCKOUT_MINUTES}


def _lock_if_exhausted(user: User, now: dt.datetime) -> None:
    """Lock an account whose attempts are used up (by guesses still in flight)."""
    until = now + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    with transaction.atomic():
        locked = (
            User.objects.filter(pk=user.pk, failed_login_count__gte=settings.LOGIN_MAX_FAILURES)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
            .update(failed_login_count=0, locked_until=until)
        )
        if locked:
            audit.log_event(AuditEntry.Action.LOCKED, user, actor=None)


def _record_failure(user: User, now: dt.datetime) -> None:
    """The attempt was counted when it was claimed; log it and lock when it was the last one."""
    with transaction.atomic():
        audit.log_event(AuditEntry.Action.LOGIN_FAILED, user, actor=None)
        failures = User.objects.values_list("failed_login_count", flat=True).get(pk=user.pk)
    if failures >= settings.LOGIN_MAX_FAILURES:
        _lock_if_exhausted(user, now)


def sign_out(request: HttpRequest) -> None:
    user = request.user
    if user.is_authenticated:
        audit.log_event(AuditEntry.Action.LOGOUT, user, actor=user)
    logout(request)


def unlock(user: User, *, actor: User) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
        audit.log_event(AuditEntry.Action.UNLOCKED, user, actor=actor)


def change_password(request: HttpRequest, user: User, new_password: str) -> None:
    from django.contrib.auth import update_session_auth_hash

    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        audit.log_event(AuditEntry.Action.PASSWORD_CHANGED, user, actor=user)
    # Keep this session; every other session of the user ends.
    update_session_auth_hash(request, user)


def create_api_token(user: User, *, name: str) -> tuple[ApiToken, str]:
    """Return the token and its raw value, which is shown once and never stored."""
    raw = ApiToken.new_raw_token()
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12], digest=ApiToken.digest_of(raw))
        audit.log_event(AuditEntry.Action.TOKEN_CREATED, token, actor=user)
    return token, raw


def revoke_api_token(token: ApiToken, *, actor: User) -> None:
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit.log_event(AuditEntry.Action.TOKEN_REVOKED, token, actor=actor)


def user_for_token(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute: a busy integration should not write on every call.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
