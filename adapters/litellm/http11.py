"""One HTTP/1.1 keep-alive connection on an asyncio protocol, parsed by httptools' C parser.

The connection learns that the peer closed it from `connection_lost`, for free: nothing
polls idle sockets (see adapters/litellm/transport.py, the pool on top). The caller gets
the response once its head is in (`exchange`), then the body piece by piece as it arrives
(`read_body`), as httpcore streams it: a streamed chat's chunks are handed on one by one.
Nothing here logs: headers and bodies carry API keys.
"""

import asyncio
from collections.abc import Callable
from typing import TypeVar, cast

import httptools

T = TypeVar("T")


def resolve(future: "asyncio.Future[T]", value: T) -> None:
    if not future.done():
        future.set_result(value)


class ReadTimedOut(Exception):
    """Nothing arrived within the read timeout."""


class BrokenResponse(Exception):
    """The response cannot be read to its end (its text says why)."""


class Http11Connection(asyncio.Protocol):
    """One socket, one exchange at a time. The parser's callbacks fill in the response and
    wake the caller waiting in `exchange` (for the head) or `read_body` (for more body)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_closed: Callable[[], None]) -> None:
        self._loop = loop
        self._on_closed = on_closed  # frees the connection's pool slot; called once
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.open = True
        self.idle_since = 0.0
        self.busy = False  # an exchange is going on: bytes are expected
        self._waiter: asyncio.Future[bool] | None = None  # True: timed out
        self._timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._reset(head=False)

    def _reset(self, *, head: bool) -> None:
        self._head = head
        self._until_eof = False  # no Content-Length, not chunked: the body ends at EOF
        self.status, self.complete, self.keep_alive = 0, False, True
        self.head_done = False  # the final (non-1xx) response's head is in
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []  # received, not yet read
        self.error: str | None = None

    async def exchange(self, data: bytes, *, head: bool, read_timeout: float | None) -> None:
        """Sends `data` and waits for the response's head. Raises `BrokenResponse` or
        `ReadTimedOut`; the caller closes the connection then."""
        self._reset(head=head)
        if not self.open:  # lost since it was pooled: nothing would ever wake us
            raise BrokenResponse("server disconnected before the request was sent")
        self.busy = True
        cast(asyncio.Transport, self.transport).write(data)
        self._last_read = self._loop.time()
        if read_timeout is not None:
            self._timer = self._loop.call_later(read_timeout, self._check_idle, read_timeout)
        await self._wait_until(lambda: self.head_done)

    async def read_body(self) -> bytes | None:
        """What of the body arrived since the last call (waiting for some if nothing did),
        or None once the body is complete."""
        await self._wait_until(lambda: bool(self.body))
        if self.body:
            piece = self.body[0] if len(self.body) == 1 else b"".join(self.body)
            self.body = []
            return piece
        return None

    async def _wait_until(self, ready: Callable[[], bool]) -> None:
        while not (ready() or self.complete):
            if self.error is not None:
                raise BrokenResponse(self.error)
            self._waiter = waiter = self._loop.create_future()
            self._last_read = self._loop.time()  # silence counts from the wait's start
            try:
                timed_out = await waiter
            finally:
                self._waiter = None
            if timed_out:
                raise ReadTimedOut
        if self.error is not None and not self.body:
            raise BrokenResponse(self.error)

    def done(self) -> None:
        """The exchange is over (read to its end, or given up): no more bytes expected."""
        self.busy = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check_idle(self, timeout: float) -> None:
        # The read timeout bounds silence (as in httpcore), not the whole response; re-arming
        # here is cheaper than resetting a timer for every chunk received.
        left = self._last_read + timeout - self._loop.time()
        if left > 0 or self._waiter is None:  # no one waiting: silence is not ours to judge
            delay = left if left > 0 else timeout
            self._timer = self._loop.call_later(delay, self._check_idle, timeout)
        else:
            self._timer = None
            resolve(self._waiter, True)

    def close(self) -> None:
        self.done()
        if self.open:
            self.open = False
            if self.transport is not None:
                self.transport.close()
            self._on_closed()

    def _wake(self) -> None:
        if self._waiter is not None:
            resolve(self._waiter, False)

    def _finish(self, error: str | None = None) -> None:
        if error is None:
            self.complete = True
        else:
            self.error, self.keep_alive = error, False
        self._wake()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if not self.busy:  # bytes nobody asked for: the connection cannot be trusted
            return self.close()
        self._last_read = self._loop.time()
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._finish("malformed HTTP response")

    def connection_lost(self, exc: Exception | None) -> None:
        busy = self.busy
        self.close()
        if busy and not self.complete and self.error is None:
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
        if self.status < 200:  # 1xx interim response: the real one follows
            return
        self.head_done = True
        self.keep_alive = self.parser.should_keep_alive()
        if self._head:  # no body follows, but httptools cannot be told so: no reuse
            self.keep_alive = False
            self._finish()
        elif not self.keep_alive:  # EOF-delimited bodies imply no keep-alive, so look here only
            names = {name.lower() for name, _ in self.headers}
            framed = names & {b"content-length", b"transfer-encoding"}
            self._until_eof = self.status not in (204, 304) and not framed
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        self._wake()

    def on_message_complete(self) -> None:
        if self.status < 200:
            self.headers = []
        elif not self.complete:
            self._finish()
