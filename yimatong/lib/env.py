"""Typed readers for settings that come from the environment.

Every reader raises ``ImproperlyConfigured`` naming the variable when a value cannot be
parsed, so a typo in a deployment fails at start-up instead of at the first request.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/systemd style)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points to {path!r}, which cannot be read: {exc}"
            ) from exc
    return os.environ.get(name, default)


def database_from_url(url: str, *, base_dir: Path) -> dict:
    """Translate ``DATABASE_URL`` into a Django ``DATABASES`` entry.

    Supported: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` and
    ``postgres://user:password@host:port/name?sslmode=require`` (``postgresql://`` too).
    Query parameters of a PostgreSQL URL become connection options.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        raw_path = unquote(parts.path)
        if raw_path in ("", "/"):
            raise ImproperlyConfigured(
                "DATABASE_URL sqlite:// needs a file path, e.g. sqlite:///var/yimatong.db"
            )
        # sqlite:///rel/path -> "/rel/path" (relative); sqlite:////abs/path -> "//abs/path".
        path = Path(raw_path[1:]) if raw_path.startswith("//") else base_dir / raw_path.lstrip("/")
        return sqlite_database(path)
    if scheme in ("postgres", "postgresql", "pgsql"):
        options = dict(parse_qsl(parts.query))
        conn_max_age = int(options.pop("conn_max_age", "60"))
        # PostgreSQL's JIT compiles the list queries for hundreds of milliseconds each time and
        # gains nothing on a web request; a URL that sets its own options keeps them.
        options.setdefault("options", "-c jit=off")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {scheme!r} is not supported; use sqlite:/// or postgres://"
    )


def sqlite_database(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Each thread keeps its connection between requests: opening the file and running the
        # PRAGMAs below cost more than a small request's queries.
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            # WAL lets the web process read while the task worker writes; IMMEDIATE takes the
            # write lock at BEGIN so two writers queue on busy_timeout instead of failing.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
