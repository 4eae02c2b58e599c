"""The ready check and the warm-up behind it: a process answers 200 on /readyz only once it is
warm and its database answers, 503 before; the process manager and the load balancer wait
for it after a restart."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from django.db import DatabaseError, connections

from yimatong import warmup

pytestmark = pytest.mark.django_db


@pytest.fixture
def cold():
    """This process as a worker that has not connected yet."""
    warmup.not_ready()
    yield
    warmup.not_ready()


def test_a_process_whose_database_does_not_answer_is_not_ready(client, cold, monkeypatch):
    def down(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(type(connections["default"]), "cursor", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "starting", "reason": "database: connection refused"}
    assert not warmup.is_ready()


def test_the_ready_check_connects_a_cold_process_and_then_answers_200(client, cold, wechat_accounts):
    from yimatong.wechat import callback_accounts

    assert not warmup.is_ready()
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ready"}
    assert warmup.is_ready()
    # The callback's accounts were read on the way: the first push does not wait for them.
    assert {a.slug for a in wechat_accounts} <= set(callback_accounts._kept)


def test_a_ready_process_answers_without_touching_the_database(client, cold, django_assert_num_queries):
    warmup.connect()
    with django_assert_num_queries(0):
        assert client.get("/readyz").status_code == 200


def test_loading_the_wsgi_application_warms_everything_a_push_needs():
    """In a fresh interpreter: after importing yimatong.wsgi, the URLconfs, the views, the API,
    both catalogues and the templates are loaded before any request."""
    script = textwrap.dedent(
        """
        import os, sys
        os.environ["YIMATONG_ENV"] = "test"
        os.environ["DJANGO_SETTINGS_MODULE"] = "yimatong.settings_test"
        from yimatong.wsgi import application
        from django.urls import get_resolver
        from django.utils.translation import trans_real
        from django.template import engines
        assert get_resolver()._populated
        for module in ("yimatong.api", "yimatong.wechat.views.callback", "yimatong.stats.api", "cryptography.hazmat.primitives.ciphers"):
            assert module in sys.modules, module
        assert {"zh-hans", "en"} <= set(trans_real._translations), trans_real._translations
        partials = engines["django"].engine.template_loaders[0]  # template_partials wraps the cached loader
        cached = partials.loaders[0]
        assert {"home.html", "wechat/inbox.html", "stats/cockpit.html"} <= set(cached.get_template_cache), sorted(cached.get_template_cache)[:20]
        print("warm")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("warm")
