"""Errors of the OpenAI-compatible routes (/v1) in OpenAI's shape:
`{"error": {"message", "type", "param", "code"}}`, which the `openai` package reads.

The statuses are THE table's (entrypoints/http/errors.py): each of its handlers renders
the error as usual, and only the body is reshaped here.
"""

from collections.abc import Callable
from typing import Any

from litestar import Request, Response

from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.schemas.openai import ErrorBody, ErrorOut

Handler = Callable[[Request[Any, Any, Any], Any], Response[Any]]

_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}


def _kind(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    return "invalid_request_error" if status < 500 else "server_error"


def _message_and_param(content: Any) -> tuple[str, str | None]:
    detail = content.get("detail") if isinstance(content, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = [str(part) for part in first.get("loc", [])]
        where = ".".join(loc[1:]) or (loc[0] if loc else "body")
        return f"{where}: {first.get('msg', 'invalid')}", loc[-1] if len(loc) > 1 else None
    message = str(detail or "Error")
    if isinstance(content, dict) and content.get("request_id"):
        message += f" (request id {content['request_id']})"
    return message, None


def error_body(status: int, content: Any) -> ErrorOut:
    message, param = _message_and_param(content)
    return ErrorOut(ErrorBody(message, _kind(status), param, _CODES.get(status)))


def _reshaped(handler: Handler) -> Handler:
    def render(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
        plain = handler(request, exc)
        status = plain.status_code or 500
        body = error_body(status, plain.content)
        return Response(body, status_code=status, headers=dict(plain.headers))

    return render


OPENAI_EXCEPTION_HANDLERS: dict[Any, Any] = {
    cls: _reshaped(handler) for cls, handler in EXCEPTION_HANDLERS.items()
}
