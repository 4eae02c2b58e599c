"""Warming the app up before it takes requests, and the ready check that says when it has.

A process that starts cold pays on its first request for importing every URLconf and view (the
API's schemas alone take seconds on a small server), for the models' relation graph, the
translation catalogues, the templates and the crypto library: a burst of WeChat pushes right
after a restart would pass WeChat's five seconds and be delivered again. So:

- ``warm_up()`` does all of that once per process, without touching the database. The WSGI
  module calls it when the app is loaded; under gunicorn with ``preload_app`` (gunicorn.conf.py)
  that is once, in the master, and every worker it forks (also each one that replaces a worker
  after ``max_requests``) starts warm.
- ``connect()`` is the per-process half: the database connection opened and answering, the
  callback's accounts read. gunicorn.conf.py calls it in each worker before it accepts requests.
- ``/readyz`` answers 200 once both have run in the process that answers, 503 before (it tries
  ``connect()`` itself, so a worker that started while the database was down becomes ready
  when it is back). ``/healthz`` stays the liveness check.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

_lock = threading.Lock()
_warm = False  # imports, catalogues, templates, crypto (inherited by forked workers)
_ready = False  # and this process's database connection answered


def warm_up() -> float:
    """Load everything a request needs except the database. Idempotent; returns the seconds
    it took (0 when already warm)."""
    global _warm
    with _lock:
        if _warm:
            return 0.0
        started = time.perf_counter()
        import django

        django.setup()
        _urls()
        _models()
        _translations()
        _templates()
        _libraries()
        _warm = True
        took = time.perf_counter() - started
    log.info("warmed up in %.2f s", took)
    return took


def connect() -> None:
    """This process's database connection, opened and answering, and the accounts the WeChat
    callback reads on every push; then the process is ready. Raises the database's error when it
    does not answer (the process stays not ready)."""
    global _ready
    warm_up()
    from django.db import connection

    from yimatong.wechat import callback_accounts
    from yimatong.wechat.models import OfficialAccount

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    for slug in OfficialAccount.objects.filter(is_active=True).values_list("slug", flat=True):
        callback_accounts.get(slug)
    _ready = True


def is_ready() -> bool:
    return _ready


def not_ready() -> None:
    """Back to cold: for tests, and for a process about to fork (a child must open its own
    connection)."""
    global _ready
    _ready = False


# The parts ---------------------------------------------------------------------------------


def _urls() -> None:
    """Every URLconf imported (and with them every view, form and API schema), the resolver's
    reverse map built."""
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.reverse_dict  # noqa: B018 - populates the resolver, importing each included URLconf
    for language in _languages():
        from django.utils import translation

        with translation.override(language):
            resolver.reverse_dict  # noqa: B018 - one map per active language


def _models() -> None:
    """Each model's fields and reverse relations: computed on first use otherwise, walking the
    relation graph of every model."""
    from django.apps import apps

    for model in apps.get_models():
        model._meta.get_fields()


def _languages() -> list[str]:
    from django.conf import settings

    return [code for code, _name in settings.LANGUAGES]


def _translations() -> None:
    """Both catalogues merged from every app (read from disk on first activation otherwise)."""
    from django.utils import translation

    for language in _languages():
        with translation.override(language):
            translation.gettext("一码通")


def _templates() -> None:
    """Every template of the project and its apps compiled into the cached loader."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
    from django.template.utils import get_app_template_dirs

    from yimatong.settings import PACKAGE_DIR

    for engine in engines.all():
        for directory in map(Path, (*engine.template_dirs, *get_app_template_dirs("templates"))):
            if not directory.is_relative_to(PACKAGE_DIR):
                continue  # Django's and libraries' own: the admin loads on its first use
            for path in sorted(directory.rglob("*.html")):
                name = path.relative_to(directory).as_posix()
                try:
                    engine.get_template(name)
                except (TemplateDoesNotExist, TemplateSyntaxError) as exc:  # a fragment; not fatal
                    log.debug("template %s not warmed: %s", name, exc)


def _libraries() -> None:
    """What the WeChat callback calls on each push: the OpenSSL bindings behind AES, the XML
    parser, the task backend and the tasks."""
    from django_tasks import task_backends

    from yimatong.wechat import protocol, tasks  # noqa: F401 - imported for their side of the work

    key = "A" * 43  # the encryption doc's test key
    envelope = protocol.encrypt(token="warm", key=key, appid="wxwarm", xml="<xml><A>1</A></xml>")
    fields = protocol.parse_xml(envelope)
    protocol.decrypt(
        token="warm",
        keys=[key],
        appid="wxwarm",
        envelope=fields,
        msg_signature=fields["MsgSignature"],
        timestamp=str(fields["TimeStamp"]),
        nonce=fields["Nonce"],
    )
    task_backends.all()
