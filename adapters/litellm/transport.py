"""A minimal HTTP/1.1 keep-alive transport for httpx: asyncio protocols + httptools.

Hand-written where httpx's own transport exists, for a measured reason (issue 15; figures
and method in docs/benchmarks.md): one chat call against the bench's mock LiteLLM cost
httpcore 340 us of CPU sequentially and 930 us at 32 concurrent calls, this transport
80-110 us at both; a 20-chunk stream 680-970 us against 190-320 us. Most of httpcore's
cost is pool housekeeping: every request polls every pooled socket (`select()`) to see
whether it died. Here a connection learns that it was closed from `connection_lost`, for
free, and httptools' C parser fills in the response from the protocol's callbacks. Of
the hand-written parts issue 15 retired, this is the one kept: its gain was the largest
measured (the database's went to psycopg's pipeline, docs/database.md).

Scope: one request per connection at a time (no pipelining, no HTTP/2); response bodies
stream as they arrive (adapters/litellm/http11.py). Request bodies are small, so writes go
to the event loop's buffer and the write timeout is not enforced separately; a peer that
stops reading trips the read timeout. Nothing here logs: headers and bodies carry API keys.
"""

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator
from typing import Literal

import httpx

from adapters.litellm.http11 import BrokenResponse, Http11Connection, ReadTimedOut, resolve

Origin = tuple[bytes, bytes, int]  # scheme, host, port


Grant = Http11Connection | Literal["slot", "timeout"]


def _as_httpx(exc: BaseException, request: httpx.Request) -> BaseException:
    """The connection's failures as the httpx exceptions httpcore raises for them."""
    if isinstance(exc, ReadTimedOut):
        return httpx.ReadTimeout("no response in time", request=request)
    if isinstance(exc, BrokenResponse):
        return httpx.RemoteProtocolError(str(exc), request=request)
    return exc


class _Body(httpx.AsyncByteStream):
    """The response body as it arrives. Read to its end, the connection goes back to the
    pool (when the server keeps it alive); closed before that, it is closed: what is left
    of the answer must not reach the next caller."""

    def __init__(
        self,
        pool: "KeepAliveTransport",
        origin: Origin,
        conn: Http11Connection,
        request: httpx.Request,
    ) -> None:
        self._pool, self._origin, self._conn, self._request = pool, origin, conn, request
        self._settled = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while (piece := await self._conn.read_body()) is not None:
                yield piece
        except BaseException as exc:
            self._settle(reuse=False)
            raise _as_httpx(exc, self._request) from None
        self._settle(reuse=True)

    async def aclose(self) -> None:
        self._settle(reuse=False)

    def _settle(self, *, reuse: bool) -> None:
        if self._settled:
            return
        self._settled, conn = True, self._conn
        conn.done()
        if reuse and conn.complete and conn.keep_alive and conn.open:
            self._pool._release(self._origin, conn)
        else:
            conn.close()


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
        self._idle: dict[Origin, deque[Http11Connection]] = {}
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
        except BaseException as exc:  # e.g. cancelled: a late answer must not reach the next caller
            conn.close()
            raise _as_httpx(exc, request) from None
        # `stream=`, not `content=`: that would add a Content-Length the server did not send.
        return httpx.Response(
            conn.status,
            headers=conn.headers,
            stream=_Body(self, origin, conn, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                idle.pop().close()

    def _usable(self, conn: Http11Connection, now: float) -> bool:
        return conn.open and now - conn.idle_since < self._expiry

    async def _acquire(
        self, origin: Origin, request: httpx.Request, pool: float | None, connect: float | None
    ) -> Http11Connection:
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
        timer = loop.call_later(pool, resolve, waiter, "timeout") if pool is not None else None
        try:
            grant = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # granted just as we were cancelled
                grant = waiter.result()
                if isinstance(grant, Http11Connection):
                    self._release(origin, grant)
                elif grant == "slot":
                    self._slot_freed()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if grant == "timeout":
            raise httpx.PoolTimeout("no connection available in time", request=request)
        if isinstance(grant, Http11Connection):
            return grant
        return await self._connect(origin, request, connect)  # in the slot handed to us

    async def _connect(
        self, origin: Origin, request: httpx.Request, connect_timeout: float | None
    ) -> Http11Connection:
        loop, host = asyncio.get_running_loop(), request.url.host
        conn = Http11Connection(loop, self._slot_freed)
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

    def _release(self, origin: Origin, conn: Http11Connection) -> None:
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
