"""One HTTP/1.1 keep-alive connection on an asyncio protocol, parsed by httptools' C parser.

The connection learns that the peer closed it from `connection_lost`, for free: nothing
polls idle sockets (see adapters/litellm/transport.py, the pool on top). Nothing here logs:
headers and bodies carry API keys.
"""

import asyncio
from collections.abc import Callable
from typing import TypeVar, cast

import httptools

T = TypeVar("T")


def resolve(future: "asyncio.Future[T]", value: T) -> None:
    if not future.done():
        future.set_result(value)


class Http11Connection(asyncio.Protocol):
    """One socket. The parser's callbacks fill in the response and wake the caller, who reads
    the outcome from `complete` and `error` (neither set: the read timed out)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_closed: Callable[[], None]) -> None:
        self._loop = loop
        self._on_closed = on_closed  # frees the connection's pool slot; called once
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.open = True
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._reset(head=False)

    def _reset(self, *, head: bool) -> None:
        self._head = head
        self._until_eof = False  # no Content-Length, not chunked: the body ends at EOF
        self.status, self.complete, self.keep_alive = 0, False, True
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.error: str | None = None

    async def exchange(self, data: bytes, *, head: bool, read_timeout: float | None) -> None:
        self._reset(head=head)
        if not self.open:  # lost since it was pooled: nothing would ever wake us
            return self._finish("server disconnected before the request was sent")
        self._waiter = waiter = self._loop.create_future()
        cast(asyncio.Transport, self.transport).write(data)
        self._last_read = self._loop.time()
        if read_timeout is not None:
            self._timer = self._loop.call_later(read_timeout, self._check_idle, read_timeout)
        try:
            await waiter
        finally:
            self._waiter = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _check_idle(self, timeout: float) -> None:
        # The read timeout bounds silence (as in httpcore), not the whole response; re-arming
        # here is cheaper than resetting a timer for every chunk received.
        left = self._last_read + timeout - self._loop.time()
        if left > 0:
            self._timer = self._loop.call_later(left, self._check_idle, timeout)
        elif self._waiter is not None:
            resolve(self._waiter, None)

    def close(self) -> None:
        if self.open:
            self.open = False
            if self.transport is not None:
                self.transport.close()
            self._on_closed()

    def _finish(self, error: str | None = None) -> None:
        if error is None:
            self.complete = True
        else:
            self.error, self.keep_alive = error, False
        if self._waiter is not None:
            resolve(self._waiter, None)

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # bytes nobody asked for: the connection cannot be trusted
            return self.close()
        self._last_read = self._loop.time()
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._finish("malformed HTTP response")

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()
        if self._waiter is not None and not self.complete:
            if self._until_eof:
                self._finish()
            else:
                self._finish("server disconnected before the response was complete")

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self.complete:  # a second response to one request: do not reuse the connection
            self.keep_alive = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        if self._head:  # no body follows, but httptools cannot be told so: no reuse
            self.keep_alive = False
            self._finish()
        elif not self.keep_alive:  # EOF-delimited bodies imply no keep-alive, so look here only
            names = {name.lower() for name, _ in self.headers}
            framed = names & {b"content-length", b"transfer-encoding"}
            self._until_eof = self.status >= 200 and self.status not in (204, 304) and not framed

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.status < 200:  # 1xx interim response: the real one follows
            self.headers, self.body = [], []
        elif not self.complete:
            self._finish()


# What a caller waiting for the pool gets: an idle connection, a slot to open one, or no luck.
