"""Server-sent events out: encoding, the streaming response, and the OpenAPI entry.

Events are written as `event: <type>` + one `data:` line of compact JSON (msgspec writes
no newline into it), straight as bytes: Litestar's `ServerSentEvent` hops to a thread for
its first chunk, which would cost the first byte a few hundred microseconds.

The response is Litestar's `Stream`, written under our hang-up watch
(entrypoints/http/hang_up.py) instead of Litestar's task group: the watch that guarded
the first event guards the rest, one task for the answer's whole life.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.background_tasks import BackgroundTask, BackgroundTasks
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import HTTPResponseBodyEvent, Receive, Send, TypeEncodersMap

from entrypoints.http.hang_up import ClientGone, HangUp

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


class _WatchedEvents(ASGIStreamingResponse):
    __slots__ = ("hang_up",)

    def __init__(self, hang_up: HangUp | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hang_up = hang_up

    async def send_body(self, send: Send, receive: Receive) -> None:
        hang_up = self.hang_up or HangUp(receive)
        events = self.iterator
        try:
            with hang_up.guard():
                async for chunk in events:  # ours: bytes, never str
                    body: HTTPResponseBodyEvent = {
                        "type": "http.response.body",
                        "body": chunk,  # type: ignore[typeddict-item]
                        "more_body": True,
                    }
                    await send(body)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except ClientGone:
            pass  # nobody reads on; the events' source was cancelled where it waited
        finally:
            hang_up.stop()
            close = getattr(events, "aclose", None)
            if close is not None:  # a source stopped between two events ends here
                await close()


class EventStream(Stream):
    """Litestar's `Stream`, answered by `_WatchedEvents` (whose arguments are the ones
    `Stream.to_asgi_response` passes its own response)."""

    __slots__ = ("hang_up",)

    def __init__(
        self, body: AsyncIterator[bytes], headers: dict[str, str], hang_up: HangUp | None
    ) -> None:
        super().__init__(body, media_type=EVENT_STREAM, headers=headers)
        self.hang_up = hang_up

    def to_asgi_response(
        self,
        app: Litestar | None,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        return _WatchedEvents(
            self.hang_up,
            background=self.background or background,
            content_length=0,
            cookies=itertools.chain(self.cookies, cookies or ()),
            encoded_headers=encoded_headers,
            encoding=self.encoding,
            headers={**(headers or {}), **self.headers},
            is_head_response=is_head_response,
            iterator=self.iterator,
            media_type=EVENT_STREAM,
            status_code=self.status_code or status_code,
        )


def sse_response(
    body: AsyncIterator[bytes],
    headers: dict[str, str] | None = None,
    hang_up: HangUp | None = None,
) -> EventStream:
    """`hang_up`: the watch that guarded the first event, if one did; otherwise the
    response starts its own."""
    # As a header too: Litestar lets the handler's media type (JSON) win over the Stream's.
    headers = {**HEADERS, "Content-Type": EVENT_STREAM, **(headers or {})}
    return EventStream(body, headers, hang_up)


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
