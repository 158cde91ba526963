"""X-Request-ID on every response: the caller's own id if it is sane, else a new one.

A `before_send` hook rather than a middleware, so that responses the router makes itself
(404, 405) carry the id too.
"""

import re
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

HEADER = "x-request-id"
_HEADER_BYTES = HEADER.encode()
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The request's id, chosen on first use and kept in the scope's state."""
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        sent = next((v for k, v in scope.get("headers", ()) if k == _HEADER_BYTES), b"")
        request_id = sent.decode() if _SANE.fullmatch(sent) else uuid.uuid4().hex
        state["request_id"] = request_id
    return str(request_id)


async def add_request_id(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[HEADER] = request_id_of(scope)
