"""The JSON API under /api/v1/: authentication, the one error shape, pagination, routers.

Errors always look like ``{"error": {"code": "...", "message": "...", "fields": {...}}}``.
"""

import json
import logging
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from yimatong.accounts import access
from yimatong.accounts.actions import user_for_token
from yimatong.lib.errors import ActionError
from yimatong.lib.pagination import ErrorOut

logger = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is None or not access.can_use_console(user):
            return None
        request.user = user
        return user


class ConsoleSessionAuth(SessionAuth):
    """The console's session (with its CSRF check on writes) for users of a console role."""

    def __call__(self, request: HttpRequest) -> Any:
        # Without a console session there is nothing for CSRF to protect: the answer is 401
        # (sign in or send a token), not a CSRF refusal.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not access.can_use_console(user):
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and access.can_use_console(user) else None


# What each status means in the OpenAPI schema; every operation documents those it can answer.
ERROR_STATUSES = {
    400: "Invalid input: `error.fields` names each field at fault and the rule it breaks.",
    401: "Not signed in: no valid bearer token and no console session.",
    403: "Not for your role, or a record you may see but not change (or the CSRF header is missing).",
    404: "No such record, or one you may not see (also a page beyond the last one).",
    409: "Conflict: the record changed meanwhile, is still used by other records, or already exists.",
}


def _nul_at(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where a NUL character sits in parsed input (PostgreSQL refuses it in any text column)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_at(str(key), (*path, str(key))) or _nul_at(item, (*path, str(key)))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, (*path, str(index)))
            if found is not None:
                return found
    return None


def _refuse(source: str, path: tuple[str, ...], kind: str) -> ValidationError:
    return ValidationError([{"type": kind, "loc": (source, *path), "msg": kind}])


class InputParser(Parser):
    """Every request's input passes here (query strings, form fields, JSON bodies): a body must
    be a JSON object, as every body of this API is, and no text may hold a NUL character. The
    errors name the field, in the API's one error shape."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            data = json.loads(request.body)
        except ValueError:
            raise _refuse("body", (), "json_invalid") from None
        if not isinstance(data, dict):
            raise _refuse("body", (), "dict_type")
        found = _nul_at(data)
        if found is not None:
            raise _refuse("body", found, "string_nul")
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        for key, values in data.lists():
            found = _nul_at({key: values})
            if found is not None:
                raise _refuse("query", found[:1], "string_nul")
        return super().parse_querydict(data, list_fields, request)


def _refusing_nul_in_path(view: Any) -> Any:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        for name, value in kwargs.items():
            if isinstance(value, str) and "\x00" in value:
                return _validation_error(request, _refuse("path", (name,), "string_nul"))
        return view(request, *args, **kwargs)

    return wrapper


class YimatongAPI(NinjaAPI):
    def _get_urls(self) -> list[Any]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern) and pattern.pattern.converters:
                pattern.callback = _refusing_nul_in_path(pattern.callback)
        return urls

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        definition = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema["components"].setdefault("schemas", {})
        components.update(definition.pop("$defs", {}))
        components["ErrorOut"] = definition
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                for status in error_statuses(method, operation):
                    operation["responses"].setdefault(
                        status,
                        {
                            "description": ERROR_STATUSES[status],
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                            },
                        },
                    )
                operation["responses"] = dict(sorted(operation["responses"].items()))
        return schema


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer: 401 and 403 to anyone (no session or token; a
    role that may not do this), 400 to bad input, 404 to a record it cannot find or a page beyond
    the last, and 409 to a change that collides with another."""
    parameters = operation.get("parameters", [])
    statuses = {401, 403}
    if parameters or "requestBody" in operation:
        statuses.add(400)
    if any(p["in"] == "path" or p["name"] == "page" for p in parameters):
        statuses.add(404)
    if method.lower() != "get":
        statuses |= {404, 409}
    return sorted(statuses)


api = YimatongAPI(
    title="Yimatong API",
    version="1",
    description=(
        "一码通 JSON API. Authenticate with a bearer token (`Authorization: Bearer ymt_…`, created under "
        "设置 → API 令牌) or with the console's session cookie plus the CSRF header. The same access rules "
        "as the console apply: records you may not see answer 404, records you may only read answer 403 "
        "to changes."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), ConsoleSessionAuth()],
    parser=InputParser(),
)


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    return JsonResponse(
        error_body(code, message, fields), status=status, json_dumps_params={"ensure_ascii": False}
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "query", "path", "payload")]
        name = ".".join(loc) or "__all__"
        fields.setdefault(name, []).append(_pydantic_message(error))
    first = next(iter(fields.items()), ("", [""]))
    return error_response(
        400,
        "invalid",
        _("输入有误：%(field)s %(message)s") % {"field": first[0], "message": first[1][0]},
        fields,
    )


def _pydantic_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = {
        "missing": _("必填。"),
        "string_too_long": _("最多 %(max)s 个字符。") % {"max": ctx.get("max_length")},
        "string_type": _("应为文本。"),
        "int_parsing": _("应为整数。"),
        "int_type": _("应为整数。"),
        "bool_parsing": _("应为 true 或 false。"),
        "bool_type": _("应为 true 或 false。"),
        "decimal_parsing": _("应为数字。"),
        "decimal_type": _("应为数字。"),
        "date_from_datetime_parsing": _("应为日期（YYYY-MM-DD）。"),
        "date_parsing": _("应为日期（YYYY-MM-DD）。"),
        "date_type": _("应为日期（YYYY-MM-DD）。"),
        "list_type": _("应为列表。"),
        "greater_than_equal": _("不能小于 %(ge)s。") % {"ge": ctx.get("ge")},
        "less_than_equal": _("不能大于 %(le)s。") % {"le": ctx.get("le")},
        "literal_error": _("可选值：%(expected)s。") % {"expected": ctx.get("expected")},
        "extra_forbidden": _("不是可用的字段。"),
        "json_invalid": _("请求体不是有效的 JSON。"),
        "model_attributes_type": _("请求体应为 JSON 对象。"),
        "dict_type": _("请求体应为 JSON 对象。"),
        "uuid_parsing": _("应为 UUID 编号。"),
        "uuid_type": _("应为 UUID 编号。"),
        "decimal_max_digits": _("最多 %(max)s 位数字。") % {"max": ctx.get("max_digits")},
        "decimal_max_places": _("最多 %(max)s 位小数。") % {"max": ctx.get("decimal_places")},
        "decimal_whole_digits": _("整数部分最多 %(max)s 位。") % {"max": ctx.get("whole_digits")},
        "string_nul": _("不能包含空字符（\\x00）。"),
    }
    return messages.get(kind, error.get("msg", _("无效。")))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(401, "unauthenticated", _("请先登录，或在 Authorization 头中提供有效的 API 令牌。"))


@api.exception_handler(ActionError)
def _action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, exc.fields)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", _("未找到该记录，或您无权查看。"))


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, "forbidden", _("您可以查看该记录，但无权执行此操作。"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "invalid",
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        429: "throttled",
    }
    if isinstance(exc.__cause__, ValidationError):
        # A body the parser refused (see InputParser): ninja wraps its error in a bare 400.
        return _validation_error(request, exc.__cause__)
    message = str(exc)
    if exc.status_code == 403 and "CSRF" in message:
        message = _("CSRF 校验失败：使用会话访问接口时，写操作须带 X-CSRFToken 请求头。")
    return error_response(exc.status_code, codes.get(exc.status_code, "error"), message)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    if settings.DEBUG:
        raise exc
    return error_response(500, "server_error", _("服务器内部错误，已记录，请稍后重试。"))


def register_routers() -> None:
    from yimatong.accounts.api import router as accounts_router
    from yimatong.directory.api import router as directory_router
    from yimatong.investment.api import router as investment_router
    from yimatong.services.api import router as services_router
    from yimatong.stats.api import router as stats_router
    from yimatong.wechat.api import router as wechat_router

    api.add_router("", accounts_router)
    api.add_router("", directory_router)
    api.add_router("", investment_router)
    api.add_router("", wechat_router)
    api.add_router("", services_router)
    api.add_router("", stats_router)


register_routers()
