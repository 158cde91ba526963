"""A minimal HTTP/1.1 keep-alive transport for httpx: asyncio protocols + httptools.

httpx's default transport (httpcore) costs about a millisecond of CPU per call, much of it
pool housekeeping: every request polls every pooled socket (`select()`) to see whether it
died. Here a connection learns that it was closed from `connection_lost`, for free, and
httptools' C parser fills in the response from the protocol's callbacks.

Scope: one request per connection at a time (no pipelining, no HTTP/2), whole bodies (no
streaming). Request bodies are small, so writes go to the event loop's buffer and the write
timeout is not enforced separately; a peer that stops reading trips the read timeout.
Nothing here logs: headers and bodies carry API keys.
"""

import asyncio
import ssl
from collections import deque
from collections.abc import Callable
from typing import Literal, TypeVar, cast

import httptools
import httpx

Origin = tuple[bytes, bytes, int]  # scheme, host, port
T = TypeVar("T")


def _resolve(future: "asyncio.Future[T]", value: T) -> None:
    if not future.done():
        future.set_result(value)


class _Connection(asyncio.Protocol):
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
            _resolve(self._waiter, None)

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
            _resolve(self._waiter, None)

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
Grant = _Connection | Literal["slot", "timeout"]


def _serialise(request: httpx.Request, body: bytes) -> bytes:
    # httpx has already set Host, Content-Length or Transfer-Encoding, and its defaults.
    parts = [request.method.encode(), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    if "transfer-encoding" in request.headers:  # a length-less stream: send it as one chunk
        parts += (b"%x\r\n" % len(body), body, b"\r\n0\r\n\r\n") if body else (b"0\r\n\r\n",)
    else:
        parts.append(body)
    return b"".join(parts)


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """Pools keep-alive connections per origin: idle ones are reused newest first, at most
    `max_connections` are open, and callers beyond that wait in arrival order."""

    def __init__(
        self,
        max_connections: int = 100,
        keepalive_expiry: float = 4.0,  # below uvicorn's (LiteLLM's) 5 s idle close
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._max, self._expiry, self._ssl = max_connections, keepalive_expiry, ssl_context
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._waiters: deque[tuple[Origin, asyncio.Future[Grant]]] = deque()
        self._open = 0  # connections open or being opened
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts, url = request.extensions.get("timeout", {}), request.url
        origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80))
        data = _serialise(request, await request.aread())
        conn = await self._acquire(origin, request, timeouts.get("pool"), timeouts.get("connect"))
        try:
            head = request.method == "HEAD"
            await conn.exchange(data, head=head, read_timeout=timeouts.get("read"))
        except BaseException:  # e.g. cancelled: a late answer must not reach the next caller
            conn.close()
            raise
        if conn.error is not None or not conn.complete:
            conn.close()
            if conn.error is not None:
                raise httpx.RemoteProtocolError(conn.error, request=request)
            raise httpx.ReadTimeout("no response in time", request=request)
        # `stream=`, not `content=`: that would add a Content-Length the server did not send.
        response = httpx.Response(
            conn.status,
            headers=conn.headers,
            stream=httpx.ByteStream(b"".join(conn.body)),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )
        if conn.keep_alive and conn.open:
            self._release(origin, conn)
        else:
            conn.close()
        return response

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                idle.pop().close()

    def _usable(self, conn: _Connection, now: float) -> bool:
        return conn.open and now - conn.idle_since < self._expiry

    async def _acquire(
        self, origin: Origin, request: httpx.Request, pool: float | None, connect: float | None
    ) -> _Connection:
        loop = asyncio.get_running_loop()
        idle, now = self._idle.get(origin), loop.time()
        while idle:
            conn = idle.pop()
            if self._usable(conn, now):
                return conn
            conn.close()
        if self._open >= self._max:  # an idle connection to another origin makes room
            self._evict_one()  # (its slot goes to earlier waiters first, if any)
        if self._open < self._max:
            self._open += 1
            return await self._connect(origin, request, connect)
        waiter: asyncio.Future[Grant] = loop.create_future()
        self._waiters.append((origin, waiter))
        timer = loop.call_later(pool, _resolve, waiter, "timeout") if pool is not None else None
        try:
            grant = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # granted just as we were cancelled
                grant = waiter.result()
                if isinstance(grant, _Connection):
                    self._release(origin, grant)
                elif grant == "slot":
                    self._slot_freed()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if grant == "timeout":
            raise httpx.PoolTimeout("no connection available in time", request=request)
        if isinstance(grant, _Connection):
            return grant
        return await self._connect(origin, request, connect)  # in the slot handed to us

    async def _connect(
        self, origin: Origin, request: httpx.Request, connect_timeout: float | None
    ) -> _Connection:
        loop, host = asyncio.get_running_loop(), request.url.host
        conn = _Connection(loop, self._slot_freed)
        if origin[0] == b"https" and self._ssl is None:
            self._ssl = ssl.create_default_context()  # slow to build: once per transport
        tls = self._ssl if origin[0] == b"https" else None
        try:
            async with asyncio.timeout(connect_timeout):
                await loop.create_connection(
                    lambda: conn, host, origin[2], ssl=tls, server_hostname=host if tls else None
                )
        except BaseException as exc:
            conn.close()  # frees the slot, whether or not the socket got connected
            if isinstance(exc, TimeoutError):  # before OSError: TimeoutError is one
                raise httpx.ConnectTimeout("connect timed out", request=request) from exc
            if isinstance(exc, OSError):
                raise httpx.ConnectError(f"connect failed: {exc}", request=request) from exc
            raise
        return conn

    def _evict_one(self) -> None:
        for other in self._idle.values():
            while other:
                conn = other.popleft()
                if conn.open:
                    return conn.close()

    def _release(self, origin: Origin, conn: _Connection) -> None:
        if self._closed:
            return conn.close()
        conn.idle_since = now = asyncio.get_running_loop().time()
        while self._waiters:  # hand over directly, first come first served
            want, waiter = self._waiters[0]
            if waiter.done():  # timed out or cancelled
                self._waiters.popleft()
            elif want != origin:  # the longest waiter wants another origin: give it the slot
                return conn.close()
            else:
                self._waiters.popleft()
                return waiter.set_result(conn)
        idle = self._idle.setdefault(origin, deque())
        while idle and not self._usable(idle[0], now):  # drop the dead and stale, oldest first
            idle.popleft().close()
        idle.append(conn)

    def _slot_freed(self) -> None:
        while self._waiters:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                return waiter.set_result("slot")  # the slot passes on: the count stays
        self._open -= 1
