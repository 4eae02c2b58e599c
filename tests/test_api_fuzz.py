"""Property-based requests over every operation of the OpenAPI schema (schemathesis).

Each operation gets a few generated requests, valid and invalid, sent with a bearer token of an
administrator (who may change anything) and of the bureau leader (who may only read). No answer
may be a server error, and every answer must be one the schema documents: its status code, its
content type and its body. The generation is derandomized, so a run on CI sees the same cases as
one on a laptop.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.test_api import bearer
from yimatong.api import api

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1/"))
schema.app = get_wsgi_application()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

fuzz = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def wsgi_requests(park):
    """Requests through the WSGI handler inside the test's transaction: the handler's start and
    end of a request would otherwise close the connection the test is using (Django's test client
    does the same)."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@fuzz
def test_no_operation_answers_an_administrator_with_a_server_error_or_off_its_schema(
    case, park, wsgi_requests
):
    case.call_and_validate(headers=_authorization(park, "admin"), checks=CHECKS)


@schema.parametrize()
@fuzz
def test_no_operation_answers_the_read_only_leader_with_a_server_error_or_off_its_schema(
    case, park, wsgi_requests
):
    case.call_and_validate(headers=_authorization(park, "leader"), checks=CHECKS)


def _authorization(park, persona: str) -> dict[str, str]:
    """One token per persona and test (examples share the test's database)."""
    user = park.users[persona]
    if not hasattr(user, "_fuzz_token"):
        user._fuzz_token = bearer(park, persona)["HTTP_AUTHORIZATION"]
    return {"Authorization": user._fuzz_token}
