"""Sending notifications: once per (recipient, key), whoever calls and however often."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from yimatong.accounts.models import User
from yimatong.notifications.models import Notification

# Everything but supervision orders (督办), which must always reach their addressee.
MUTABLE_KINDS = {kind for kind in Notification.Kind.values if kind != Notification.Kind.SUPERVISION}


def _addressees(recipients: Iterable[User | None], kind: str) -> list[User]:
    """Each active recipient once, except those who muted this kind (notification settings)."""
    found: dict[int, User] = {}
    for user in recipients:
        if user is None or not user.is_active or user.pk in found:
            continue
        if kind in MUTABLE_KINDS and kind in (user.muted_notifications or []):
            continue
        found[user.pk] = user
    return list(found.values())


def notify(
    recipients: Iterable[User | None], *, kind: str, key: str, title: str, body: str = "", url: str = ""
) -> int:
    """Create one notification per recipient unless that recipient already has ``key``.

    Returns how many were created. Safe to call from several workers at once: the database's
    unique constraint decides, not a prior read.
    """
    created = 0
    for user in _addressees(recipients, kind):
        try:
            with transaction.atomic():
                Notification.objects.create(
                    recipient=user, kind=kind, key=key[:150], title=title[:200], body=body, url=url[:300]
                )
        except IntegrityError:
            continue
        created += 1
    return created


def notify_many(messages: Iterable[tuple[Iterable[User], dict[str, str]]], *, kind: str) -> None:
    """``notify`` for a batch: (recipients, {key, title, body, url}) pairs written with one
    INSERT per 1,000 rows. A recipient who already has a key keeps the one they have (the
    unique constraint decides, as in ``notify``); muted kinds are skipped the same way."""
    rows = []
    for recipients, fields in messages:
        for user in _addressees(recipients, kind):
            rows.append(
                Notification(
                    recipient=user,
                    kind=kind,
                    key=fields["key"][:150],
                    title=fields["title"][:200],
                    body=fields.get("body", ""),
                    url=fields.get("url", "")[:300],
                )
            )
    Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def mark_read(user: User, notification_id: int | None = None) -> int:
    qs = Notification.objects.visible_to(user).unread()
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now(), updated_at=timezone.now())


def set_preferences(user: User, *, muted: Iterable[str]) -> User:
    chosen = sorted(set(muted) & MUTABLE_KINDS)
    User.objects.filter(pk=user.pk).update(muted_notifications=chosen)
    user.muted_notifications = chosen
    return user
