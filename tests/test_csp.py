"""The Content-Security-Policy header (django-csp), which its middleware puts on every page."""

from __future__ import annotations

import re

from django.test import Client, RequestFactory

from yimatong.views import error_500


def test_the_sign_in_page_allows_scripts_and_styles_from_the_app_only():
    policy = Client().get("/accounts/login/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_the_error_page_styles_itself_with_the_nonce_its_policy_names(db):
    from csp.middleware import CSPMiddleware

    request = RequestFactory().get("/boom/")
    middleware = CSPMiddleware(error_500)
    response = middleware(request)
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
