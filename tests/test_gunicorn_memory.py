"""An app server's worker keeps within its memory: above the limit after a request, it trims
its heap and, still above, is replaced once the request is answered (gunicorn_conf.post_request)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from yimatong import gunicorn_conf


def worker() -> SimpleNamespace:
    return SimpleNamespace(alive=True, pid=4242, log=logging.getLogger("gunicorn.error"))


def test_a_worker_reads_its_own_resident_size():
    assert 10 < gunicorn_conf.rss_mib() < 10_000


def test_a_worker_under_the_limit_after_a_request_keeps_serving(monkeypatch):
    monkeypatch.setattr(gunicorn_conf, "max_worker_rss_mib", gunicorn_conf.rss_mib() + 500)
    w = worker()
    gunicorn_conf.post_request(w, None, {}, None)
    assert w.alive


def test_a_worker_still_over_the_limit_after_trimming_is_replaced_after_its_request(monkeypatch, caplog):
    monkeypatch.setattr(gunicorn_conf, "max_worker_rss_mib", 1)
    w = worker()
    with caplog.at_level(logging.WARNING, logger="gunicorn.error"):
        gunicorn_conf.post_request(w, None, {}, None)
    assert not w.alive
    assert "limit 1 MiB): replaced" in caplog.text


def test_the_limit_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(gunicorn_conf, "max_worker_rss_mib", 0)
    w = worker()
    gunicorn_conf.post_request(w, None, {}, None)
    assert w.alive
