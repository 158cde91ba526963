"""THE table from errors to HTTP statuses, and the handlers that render `{"detail": ...}`.

No response ever carries a stack trace, SQL or a secret; unexpected errors are logged with
the request id, which the response carries too.
"""

import logging
import math
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    SerializationException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from adapters.sqlalchemy.errors import is_database_unavailable
from application.gateway_errors import (
    BudgetExceeded,
    GatewayError,
    GatewayTimeout,
    InvalidProviderKey,
    RateLimited,
    ToolStepsExhausted,
    UnknownVirtualKey,
)
from application.use_cases.providers import OldKeyNotRevoked
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidCredentials,
    InvalidSignature,
    InvalidValue,
    NotFound,
    Refused,
)
from entrypoints.http.body import MAX_BODY_BYTES
from entrypoints.http.request_id import request_id_of

log = logging.getLogger("agentkeel.http")

STATUS_OF: dict[type[DomainError], int] = {
    Refused: 400,
    InvalidCredentials: 401,
    InvalidSignature: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidValue: 422,
}
_BEARER = {"WWW-Authenticate": "Bearer"}


class NotAuthenticated(NotAuthorizedException):
    """No usable Authorization header at all."""


def _detail(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response({"detail": detail}, status_code=status, headers=headers)


def on_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = next(s for cls, s in STATUS_OF.items() if isinstance(exc, cls))
    if isinstance(exc, InvalidValue):
        return _detail(
            422, [{"loc": [exc.source, exc.field], "msg": exc.message, "type": "value_error"}]
        )
    if isinstance(exc, InvalidCredentials):
        return _detail(401, "Invalid credentials", _BEARER)
    if isinstance(exc, InvalidSignature):  # one answer for every reason
        return _detail(401, "Invalid signature")
    if isinstance(exc, NotFound):
        return _detail(404, f"{exc.entity} not found")
    return _detail(status, str(exc) or "Refused")


def on_not_authenticated(_: Request[Any, Any, Any], __: NotAuthenticated) -> Response[Any]:
    return _detail(401, "Not authenticated", _BEARER)


_FIELD_IN_MESSAGE = re.compile(r"field `([^`]+)`")


def _error_type(message: str) -> str:
    if message.startswith("Expected `") and "got" in message:
        return "type_error"
    if "missing required field" in message:
        return "missing"
    if "unknown field" in message:
        return "extra_forbidden"
    if message.startswith("Invalid enum value"):
        return "enum"
    return "value_error"


def _source(source: object) -> str:
    # Litestar gives a ParamType enum for path/query/header, a plain "body" otherwise.
    return str(getattr(source, "value", source) or "body")


def _loc(source: str, key: str, message: str) -> list[str]:
    loc = [source or "body"]
    named = _FIELD_IN_MESSAGE.search(message)
    if key and key != "data":
        loc.extend(part for part in re.split(r"\.|\[\d+\]|\[\.\.\.\]", key) if part)
    if named:
        loc.append(named.group(1))
    return loc


def on_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and all(e.get("message") == "'data'" for e in extra if isinstance(e, dict)):
        # Litestar's wording for a request that has no body at all.
        return _detail(
            422, [{"loc": ["body"], "msg": "A JSON body is required", "type": "missing"}]
        )
    errors = [
        {
            "loc": _loc(_source(e.get("source")), str(e.get("key", "")), str(e["message"])),
            "msg": str(e["message"]),
            "type": _error_type(str(e["message"])),
        }
        for e in extra
        if isinstance(e, dict) and "message" in e
    ]
    if not errors:  # Litestar uses this for undecodable bodies too
        errors = [{"loc": ["body"], "msg": "Invalid request body", "type": "json_invalid"}]
    return _detail(422, errors)


def on_serialization_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return _detail(
        422, [{"loc": ["body"], "msg": f"Malformed JSON: {exc}", "type": "json_invalid"}]
    )


def on_http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 400:  # Litestar's "client error" for unparseable input
        return _detail(422, [{"loc": ["body"], "msg": str(exc.detail), "type": "json_invalid"}])
    if exc.status_code == 413:
        return _detail(413, f"Request body larger than {MAX_BODY_BYTES} bytes")
    return _detail(exc.status_code, exc.detail, exc.headers)


def on_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request_id = request_id_of(request.scope)
    if is_database_unavailable(exc):
        log.warning("database unavailable (request %s): %s", request_id, type(exc).__name__)
        return _detail(503, "Service unavailable: the database cannot be reached")
    log.error("unhandled error (request %s)", request_id, exc_info=exc)
    return Response(
        {"detail": "Internal server error", "request_id": request_id},
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


GATEWAY_ERRORS: dict[type[GatewayError], tuple[int, str]] = {
    BudgetExceeded: (429, "The provider's budget is spent"),
    RateLimited: (429, "The LLM gateway is rate limiting; retry later"),
    GatewayTimeout: (504, "The LLM gateway did not answer in time"),
    InvalidProviderKey: (502, "The LLM provider rejected the API key"),
    UnknownVirtualKey: (502, "The gateway no longer knows this virtual key; rotate the provider"),
    OldKeyNotRevoked: (502, "Rotated, but the old virtual key is not revoked yet; it is retried"),
    ToolStepsExhausted: (502, "The model kept asking for tools past the run's step limit"),
    GatewayError: (502, "The LLM gateway failed"),
}


def gateway_status(exc: GatewayError) -> tuple[int, str]:
    """The status and detail of a gateway failure (also sent in a stream's error event)."""
    return next(v for cls, v in GATEWAY_ERRORS.items() if isinstance(exc, cls))


def on_gateway_error(_: Request[Any, Any, Any], exc: GatewayError) -> Response[Any]:
    status, detail = gateway_status(exc)
    headers = None
    if status == 429:
        wait = exc.retry_after if isinstance(exc, RateLimited) and exc.retry_after else 60
        headers = {"Retry-After": str(max(1, math.ceil(wait)))}
    return _detail(status, detail, headers)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: on_domain_error,
    GatewayError: on_gateway_error,
    NotAuthenticated: on_not_authenticated,
    ValidationException: on_validation_error,
    SerializationException: on_serialization_error,
    UnicodeDecodeError: on_serialization_error,
    HTTPException: on_http_error,
    Exception: on_unexpected_error,
}
