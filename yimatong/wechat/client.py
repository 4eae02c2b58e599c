"""Outbound calls to WeChat: one shared access token per account and the wechatpy client.

The token is shared by every process (Redis when ``REDIS_URL`` is set, the database otherwise),
fetched through ``stable_token`` and refreshed by one process at a time under a lock. A call
answered 40001/40014/42001 refreshes once and is retried once. Every call has a timeout and
the API base URL is a setting, so tests and the demo point the real client at the fake server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from yimatong.wechat.models import AccessToken, OfficialAccount

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}
# Refresh this long before WeChat's expiry, so a call never carries a token about to die.
EARLY_REFRESH = dt.timedelta(minutes=5)


class WeChatError(Exception):
    """WeChat answered with an error code (``code``), or the call failed (``code`` None)."""

    def __init__(self, code: int | None, message: str = "", *, ambiguous: bool = False):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        # True when the request may have reached WeChat (a timeout): do not blindly resend.
        self.ambiguous = ambiguous


def api_base(base_url: str | None = None) -> str:
    return (base_url or settings.WECHAT_API_BASE_URL).rstrip("/")


# Token stores ----------------------------------------------------------------------------------


class DatabaseTokenStore:
    """One row per account; the refresh holds the row's write lock (PostgreSQL row lock, SQLite
    database lock) so a second process waits and then reads the fresh token."""

    def read(self, account: OfficialAccount) -> tuple[str, dt.datetime] | None:
        row = AccessToken.objects.filter(account=account).values_list("token", "expires_at").first()
        return (row[0], row[1]) if row and row[0] and row[1] else None

    @contextlib.contextmanager
    def locked(self, account: OfficialAccount) -> Iterator[None]:
        AccessToken.objects.get_or_create(account=account)
        with transaction.atomic():
            # A write first: on SQLite it takes the database's write lock, on PostgreSQL the row's.
            AccessToken.objects.filter(account=account).update(updated_at=timezone.now())
            AccessToken.objects.select_for_update().get(account=account)
            yield

    def write(self, account: OfficialAccount, token: str, expires_at: dt.datetime) -> None:
        from django.db.models import F

        AccessToken.objects.filter(account=account).update(
            token=token,
            expires_at=expires_at,
            fetched_count=F("fetched_count") + 1,
            updated_at=timezone.now(),
        )

    def clear(self, account: OfficialAccount) -> None:
        AccessToken.objects.filter(account=account).update(token="", expires_at=None)


class RedisTokenStore:
    """The token under one Redis key shared by every app server and worker; a Redis lock makes
    one of them refresh."""

    def __init__(self, url: str, prefix: str = "ymt"):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix

    def _key(self, account: OfficialAccount) -> str:
        return f"{self.prefix}:wechat:token:{account.appid}"

    def read(self, account: OfficialAccount) -> tuple[str, dt.datetime] | None:
        raw = self.redis.get(self._key(account))
        if not raw:
            return None
        value = json.loads(raw)
        return value["token"], dt.datetime.fromisoformat(value["expires_at"])

    @contextlib.contextmanager
    def locked(self, account: OfficialAccount) -> Iterator[None]:
        lock = self.redis.lock(self._key(account) + ":lock", timeout=30, blocking_timeout=30)
        if not lock.acquire():
            raise WeChatError(None, "timed out waiting for the token lock")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                lock.release()

    def write(self, account: OfficialAccount, token: str, expires_at: dt.datetime) -> None:
        ttl = max(1, int((expires_at - timezone.now()).total_seconds()))
        self.redis.set(
            self._key(account), json.dumps({"token": token, "expires_at": expires_at.isoformat()}), ex=ttl
        )
        self.redis.incr(self._key(account) + ":fetches")

    def clear(self, account: OfficialAccount) -> None:
        self.redis.delete(self._key(account))


def token_store() -> DatabaseTokenStore | RedisTokenStore:
    if settings.REDIS_URL:
        return RedisTokenStore(settings.REDIS_URL, settings.CACHES["default"].get("KEY_PREFIX", "ymt"))
    return DatabaseTokenStore()


def access_token(
    account: OfficialAccount,
    *,
    stale: str | None = None,
    base_url: str | None = None,
    store: DatabaseTokenStore | RedisTokenStore | None = None,
) -> str:
    """The account's current token. ``stale``: a token WeChat just refused; get a new one unless
    another process already did."""
    store = store or token_store()
    now = timezone.now()

    def usable(cached: tuple[str, dt.datetime] | None) -> bool:
        return bool(cached and cached[1] - EARLY_REFRESH > now and cached[0] != stale)

    cached = store.read(account)
    if usable(cached):
        return cached[0]  # type: ignore[index]
    with store.locked(account):
        cached = store.read(account)
        if usable(cached):
            return cached[0]  # type: ignore[index]
        token, expires_in = fetch_stable_token(account, force_refresh=stale is not None, base_url=base_url)
        store.write(account, token, timezone.now() + dt.timedelta(seconds=expires_in))
        return token


def fetch_stable_token(
    account: OfficialAccount, *, force_refresh: bool = False, base_url: str | None = None
) -> tuple[str, int]:
    """``POST /cgi-bin/stable_token``: idempotent while the token is valid."""
    try:
        response = requests.post(
            f"{api_base(base_url)}/cgi-bin/stable_token",
            json={
                "grant_type": "client_credential",
                "appid": account.appid,
                "secret": account.secret,
                "force_refresh": force_refresh,
            },
            timeout=settings.WECHAT_TIMEOUT,
        )
        result = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise WeChatError(None, f"stable_token: {exc}") from exc
    if result.get("errcode"):
        raise WeChatError(int(result["errcode"]), str(result.get("errmsg", "")))
    return str(result["access_token"]), int(result.get("expires_in", 7200))


# The client ------------------------------------------------------------------------------------


class ParkClient(WeChatClient):
    """wechatpy's client with our token sharing, a timeout on every call, a configurable base
    URL and a single retry after a token error (wechatpy would retry without limit)."""

    def __init__(
        self, account: OfficialAccount, *, base_url: str | None = None, timeout: float | None = None
    ):
        super().__init__(account.appid, account.secret, timeout=timeout or settings.WECHAT_TIMEOUT)
        self.account = account
        self.base_url = api_base(base_url)
        self.API_BASE_URL = self.base_url + "/cgi-bin/"
        self._retried = False

    @property
    def access_token(self) -> str:  # type: ignore[override]
        return access_token(self.account, base_url=self.base_url)

    def fetch_access_token(self) -> dict[str, Any]:
        token = access_token(self.account, stale=self._stale, base_url=self.base_url)
        self.session.set(self.access_token_key, token)
        return {"access_token": token}

    _stale: str | None = None

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        try:
            return super()._request(method, url_or_endpoint, **kwargs)
        except requests.Timeout as exc:
            raise WeChatError(None, f"timeout: {exc}", ambiguous=True) from exc
        except requests.RequestException as exc:
            raise WeChatError(
                None, f"network: {exc}", ambiguous=isinstance(exc, requests.ReadTimeout)
            ) from exc

    def _handle_result(
        self, res: Any, method: Any = None, url: Any = None, result_processor: Any = None, **kwargs: Any
    ) -> Any:
        result = res if isinstance(res, dict) else self._decode_result(res)
        if isinstance(result, dict) and int(result.get("errcode", 0) or 0) in TOKEN_ERRORS:
            if self._retried:
                raise WeChatError(int(result["errcode"]), str(result.get("errmsg", "")))
            self._retried = True
            self._stale = kwargs["params"].get("access_token")
            try:
                kwargs["params"]["access_token"] = self.fetch_access_token()["access_token"]
                return self._request(
                    method=method, url_or_endpoint=url, result_processor=result_processor, **kwargs
                )
            finally:
                self._retried = False
                self._stale = None
        try:
            return super()._handle_result(res, method, url, result_processor, **kwargs)
        except WeChatClientException as exc:
            raise WeChatError(exc.errcode, str(exc.errmsg or "")) from exc

    # Calls the project makes -------------------------------------------------------------------

    def create_qr(self, *, scene: str, permanent: bool, expire_seconds: int = 0) -> dict[str, Any]:
        body: dict[str, Any] = {
            "action_name": "QR_LIMIT_STR_SCENE" if permanent else "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }
        if not permanent:
            body["expire_seconds"] = expire_seconds
        return self.post("qrcode/create", data=body)

    def send_text(self, openid: str, content: str) -> dict[str, Any]:
        return self.post(
            "message/custom/send", data={"touser": openid, "msgtype": "text", "text": {"content": content}}
        )

    def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], *, url: str = "", client_msg_id: str = ""
    ) -> dict[str, Any]:
        """wechatpy's send_template has no ``client_msg_id``: the body is posted here."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        if client_msg_id:
            body["client_msg_id"] = client_msg_id
        return self.post("message/template/send", data=body)

    def user_info(self, openid: str) -> dict[str, Any]:
        return self.get("user/info", params={"openid": openid, "lang": "zh_CN"})


def oauth_openid(account: OfficialAccount, code: str, *, base_url: str | None = None) -> dict[str, Any]:
    """Exchange a web OAuth code (single use, five minutes) for the openid."""
    try:
        response = requests.get(
            f"{api_base(base_url)}/sns/oauth2/access_token",
            params={
                "appid": account.appid,
                "secret": account.secret,
                "code": code,
                "grant_type": "authorization_code",
            },
            timeout=settings.WECHAT_TIMEOUT,
        )
        result = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise WeChatError(None, f"oauth: {exc}") from exc
    if result.get("errcode"):
        raise WeChatError(int(result["errcode"]), str(result.get("errmsg", "")))
    return result
