"""Django settings for Yimatong.

Everything that differs between a laptop and a park's servers comes from the environment
(see ``.env.example``). The defaults run a fresh checkout on SQLite with tasks in the database.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

from yimatong.lib.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    sqlite_database,
)

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
_in_checkout = (REPO_DIR / "pyproject.toml").exists()
VAR_DIR = Path(env_str("YIMATONG_VAR_DIR") or (REPO_DIR / "var" if _in_checkout else Path.cwd() / "var"))

ENV = env_str("YIMATONG_ENV", "development")
if ENV not in ("development", "production", "test"):
    raise ImproperlyConfigured(f"YIMATONG_ENV must be development, production or test; got {ENV!r}")
PRODUCTION = ENV == "production"
TESTING = ENV == "test"

# Off unless asked for: a deployment that forgets YIMATONG_ENV must not show tracebacks.
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when YIMATONG_ENV=production")


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required when YIMATONG_ENV=production")
    # A laptop keeps one generated key so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when YIMATONG_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "template_partials",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "yimatong.accounts",
    "yimatong.directory",
    "yimatong.exports",
    "yimatong.notifications",
    "yimatong.investment",
    "yimatong.wechat",
    "yimatong.services",
    "yimatong.stats",
    "yimatong.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yimatong.accounts.middleware.interface_language",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yimatong.accounts.middleware.request_origin",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "yimatong.urls"
WSGI_APPLICATION = "yimatong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "yimatong.accounts.context_processors.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# Databases ---------------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL")
DATABASES = {
    "default": database_from_url(_database_url, base_dir=REPO_DIR if _in_checkout else Path.cwd())
    if _database_url
    else sqlite_database(VAR_DIR / "yimatong.db")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when configured (shared by every app server), otherwise in-process.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "ymt"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background tasks through the django.tasks API. The embedded deployment keeps the queue in
# the database (run ``yimatong db_worker``); tests run tasks inline.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if TESTING
        else env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Accounts and sessions -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["yimatong.accounts.backends.UsernameOrPhoneBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "yimatong.accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins before an account is locked, and for how long.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy on every page (django-csp): scripts, styles, images and requests only
# from the app itself (htmx and ECharts are served by it), no inline script or style attribute
# (behaviour lives in static/js; a page that must inline a script or a style, such as the error
# page, gives it the request's nonce), nothing framed. No form-action: a form's redirect may go
# on to WeChat's sign-in.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:", "blob:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "frame-ancestors": [csp.NONE],
    }
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", True):
        # The reverse proxy terminates TLS and says so in X-Forwarded-Proto.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Language and time -----------------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "ymt_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
FORMAT_MODULE_PATH = ["yimatong.formats"]
USE_TZ = True

# Static and uploaded files: the app serves every asset itself (no CDN on an intranet).
STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# collectstatic's target (production); elsewhere WhiteNoise serves straight from the app.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "static") if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Project documents: the largest upload accepted, in MB.
DOCUMENT_MAX_MB = env_int("DOCUMENT_MAX_MB", 20)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# API -----------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 20
NINJA_PAGINATION_MAX_PER_PAGE_SIZE = 200
# A list counts its rows up to this many and then says "more than" (a full COUNT(*) over 100k rows
# on every page costs more than the page); page numbers above API_MAX_PAGE answer 400.
API_COUNT_LIMIT = env_int("API_COUNT_LIMIT", 1000)
API_MAX_PAGE = 1_000_000

# WeChat official accounts ---------------------------------------------------------------------
# Where the API lives (the fake server in tests and the demo), where web OAuth's authorize page
# lives, and the address investors' phones reach this app at (links in replies and templates).
WECHAT_API_BASE_URL = env_str("WECHAT_API_BASE_URL", "https://api.weixin.qq.com")
WECHAT_OPEN_BASE_URL = env_str("WECHAT_OPEN_BASE_URL", "https://open.weixin.qq.com")
WECHAT_PUBLIC_URL = env_str("WECHAT_PUBLIC_URL", "http://127.0.0.1:8000")
# Seconds before an outbound call gives up (WeChat answers in well under a second).
WECHAT_TIMEOUT = float(env_str("WECHAT_TIMEOUT", "5"))
# The largest callback body accepted, in bytes (a push is a few KB).
WECHAT_CALLBACK_MAX_BYTES = env_int("WECHAT_CALLBACK_MAX_BYTES", 64 * 1024)
# Seconds each process keeps an account and its keyword replies for the callback: an edit to the
# replies, the welcome text or a deactivation reaches every process within this time (a new
# token, key or mode applies at once: a push the kept copy would refuse is checked again).
WECHAT_ACCOUNT_CACHE_SECONDS = env_int("WECHAT_ACCOUNT_CACHE_SECONDS", 10)
# Seconds between delivery attempts after a retryable error (-1 busy, network): one per retry.
WECHAT_RETRY_DELAYS = [float(x) for x in env_list("WECHAT_RETRY_DELAYS", ["2", "10", "60"])]
# The investor simulator of the fake WeChat server (the demo), linked from the console.
WECHAT_SIMULATOR_URL = env_str("WECHAT_SIMULATOR_URL", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own default handler would print every django.* record a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}
