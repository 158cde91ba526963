"""Server-sent events out: encoding, the streaming response, and the OpenAPI entry.

Events are written as `event: <type>` + one `data:` line of compact JSON (msgspec writes
no newline into it), straight as bytes: Litestar's `ServerSentEvent` hops to a thread for
its first chunk, which would cost the first byte a few hundred microseconds.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.response import Stream

EVENT_STREAM = "text/event-stream"
_json = msgspec.json.Encoder()
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy buffering


def event(kind: str | None, data: Any, event_id: str | None = None) -> bytes:
    head = (b"id: " + event_id.encode() + b"\n") if event_id else b""
    if kind:
        head += b"event: " + kind.encode() + b"\n"
    return head + b"data: " + (data if isinstance(data, bytes) else _json.encode(data)) + b"\n\n"


def comment(text: str) -> bytes:
    return b": " + text.encode() + b"\n\n"


def wants_event_stream(accept: str | None) -> bool:
    return EVENT_STREAM in (accept or "").lower()


def sse_response(body: AsyncIterator[bytes], headers: dict[str, str] | None = None) -> Stream:
    # As a header too: Litestar lets the handler's media type (JSON) win over the Stream's.
    headers = {**HEADERS, "Content-Type": EVENT_STREAM, **(headers or {})}
    return Stream(body, media_type=EVENT_STREAM, headers=headers)


async def prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


def streamed_operation(description: str, *, only: bool = False) -> type[Operation]:
    """An `operation_class` whose 200 answer may also be `text/event-stream` (described
    by `description`), beside the JSON the handler's return type documents (`only`: the
    200 answer is never JSON)."""

    @dataclass
    class StreamedOperation(Operation):
        def __post_init__(self) -> None:
            ok = (self.responses or {}).get("200")
            if isinstance(ok, OpenAPIResponse):
                schema = Schema(type=OpenAPIType.STRING, description=description)
                others = {} if only else (ok.content or {})
                ok.content = {**others, EVENT_STREAM: OpenAPIMediaType(schema=schema)}

    return StreamedOperation
