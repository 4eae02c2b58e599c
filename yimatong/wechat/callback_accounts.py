"""The official accounts as the callback reads them on every push, kept in each process.

A push needs its account (token, keys, mode, welcome and replies) before anything else; reading
the account and its keyword replies from the database on every push was a third of the
callback's work. Each process keeps them for ``WECHAT_ACCOUNT_CACHE_SECONDS``. The callback
checks a push it would refuse once more against a fresh read (``is_stale``), so a new token, key
or mode applies at once; other edits (replies, welcome text, deactivation) reach every process
within that time. Saving an account in the admin forgets this process's copy at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from yimatong.wechat.models import KeywordReply, OfficialAccount


@dataclass(frozen=True)
class CallbackAccount:
    account: OfficialAccount
    replies: tuple[KeywordReply, ...]  # the active keyword replies, in matching order
    read_at: float  # time.monotonic() of the read

    def secrets(self) -> tuple[str, ...]:
        """What decides whether a push is accepted."""
        a = self.account
        return (a.appid, a.token, a.encoding_aes_key, a.previous_aes_key, a.mode)


_kept: dict[str, CallbackAccount] = {}


def get(slug: str, *, fresh: bool = False) -> CallbackAccount | None:
    """The active account with this callback slug, or None. Unknown slugs are not kept."""
    kept = _kept.get(slug)
    if (
        kept is not None
        and not fresh
        and time.monotonic() - kept.read_at < settings.WECHAT_ACCOUNT_CACHE_SECONDS
    ):
        return kept
    account = OfficialAccount.objects.filter(slug=slug, is_active=True).first()
    if account is None:
        _kept.pop(slug, None)
        return None
    kept = CallbackAccount(account, tuple(account.keyword_replies.filter(is_active=True)), time.monotonic())
    _kept[slug] = kept
    return kept


def is_stale(kept: CallbackAccount) -> CallbackAccount | None:
    """A fresh read when it would judge a push differently from ``kept`` (another token, key,
    mode or appid, or the account switched off); None when ``kept`` was right."""
    fresh = get(kept.account.slug, fresh=True)
    if fresh is not None and fresh.secrets() == kept.secrets():
        return None
    return fresh


def forget(slug: str | None = None) -> None:
    """Drop this process's copy of one account (every account when ``slug`` is None)."""
    if slug is None:
        _kept.clear()
    else:
        _kept.pop(slug, None)
