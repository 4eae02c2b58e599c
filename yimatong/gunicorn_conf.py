"""Gunicorn's configuration for production:

    gunicorn -c python:yimatong.gunicorn_conf          # or -c yimatong/gunicorn_conf.py in a checkout

Every value below can be changed from the environment (the variable is named next to it) or on
the command line (``--workers 8`` wins over the file). What it does and why:

- ``preload_app``: the app is imported and warmed up once, in the master (``yimatong.warmup``:
  URLconfs and views, models, catalogues, templates, crypto), before any worker is forked. Each
  worker, the first ones and every one that replaces a recycled worker, starts warm and shares
  those pages with the master; it only opens its database connection (``post_worker_init``)
  before it accepts a request, so a burst of WeChat pushes after a restart is answered at once.
  ``/readyz`` answers 200 only then. Code changes need a restart (``kill -HUP`` reloads the
  config and re-forks from the already loaded code).
- ``gthread`` workers: a request waiting on the database or on WeChat holds a thread, not a
  process. Workers default to two per CPU, four threads each.
- ``max_requests`` with jitter: each worker is replaced after about that many requests, at
  different times, which bounds a slow growth of memory (the issue caps a worker at 200 MiB).
- ``timeout``: a worker that stops answering the master for that long is killed and replaced.
- ``GUNICORN_MAX_WORKER_RSS_MIB`` (200): a worker that ends a request above that resident size
  first hands its free heap back to the system (``malloc_trim``); still above, it finishes and is
  replaced by a fresh fork of the warm master, as after ``max_requests`` (uWSGI calls this
  ``reload-on-rss``). A page that once read a large result leaves the memory it used with the
  worker that served it; this keeps each worker within its share of the machine. 0 turns it off.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
from typing import Any

from yimatong.lib.env import env_int, env_str

wsgi_app = "yimatong.wsgi:application"
bind = env_str("GUNICORN_BIND", "127.0.0.1:8000").split(",")  # behind the TLS proxy
worker_class = "gthread"
workers = env_int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))
threads = env_int("GUNICORN_THREADS", 4)
preload_app = True
timeout = env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = env_int(
    "GUNICORN_KEEPALIVE", 5
)  # seconds an idle keep-alive connection from the proxy stays open
max_requests = env_int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = env_int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)
# The heartbeat file each worker touches: on tmpfs, so a slow disk never looks like a hung worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Only the proxy on this host may say which scheme and client address a request came with.
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1")
max_worker_rss_mib = env_int("GUNICORN_MAX_WORKER_RSS_MIB", 200)
accesslog = env_str("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
loglevel = env_str("GUNICORN_LOG_LEVEL", "info")


def when_ready(server: Any) -> None:  # gunicorn's Arbiter
    """In the master, the app loaded and warmed, before the first worker is forked."""
    from django.db import connections

    connections.close_all()  # a connection opened while loading must not be shared by the workers
    # What was loaded stays in the pages the workers share with the master: the collector in a
    # worker never walks (and so never copies) it.
    gc.collect()
    gc.freeze()


def post_worker_init(worker: Any) -> None:  # gunicorn's Worker
    """In each worker, before it accepts: its own database connection, then it is ready."""
    from yimatong import warmup

    try:
        warmup.connect()
    except Exception as exc:  # the database is down: /readyz says 503 until it is back
        worker.log.warning("worker %s not ready: %s", worker.pid, exc)


def rss_mib() -> float:
    """This process's resident size (what ``ps`` shows as RSS), in MiB; 0 where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            resident = int(f.read().split()[1])
    except OSError:
        return 0.0
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


def _trim_heap() -> None:
    with contextlib.suppress(OSError, AttributeError):  # glibc; elsewhere the size decides alone
        ctypes.CDLL(None).malloc_trim(0)


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """After each request: a worker above ``max_worker_rss_mib`` trims its heap, and if that is
    not enough it is replaced once this request is answered (the master forks a warm one)."""
    limit = max_worker_rss_mib
    if not limit or not worker.alive or rss_mib() <= limit:
        return
    _trim_heap()
    size = rss_mib()
    if size > limit:
        worker.log.warning(
            "worker %s at %.0f MiB after a request (limit %d MiB): replaced", worker.pid, size, limit
        )
        worker.alive = False
