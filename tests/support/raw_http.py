"""A small real HTTP/1.1 server on 127.0.0.1 that answers with raw bytes, and the choice of
gateway transport under test (`transport_kind`: every test runs on the hand-written
transport and on httpx's own, httpcore's pool; the two must behave the same)."""

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from adapters.litellm.gateway import default_transport


def _httpcore(
    max_connections: int = 100, keepalive_expiry: float = 4.0
) -> httpx.AsyncBaseTransport:
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=keepalive_expiry,
    )
    return httpx.AsyncHTTPTransport(limits=limits, retries=0)


_chosen: Callable[..., httpx.AsyncBaseTransport] = default_transport


@pytest.fixture(autouse=True, params=["hand-written", "httpcore"])
def transport_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    global _chosen
    _chosen = default_transport if request.param == "hand-written" else _httpcore
    yield request.param
    _chosen = default_transport


def make_transport(**kw: Any) -> httpx.AsyncBaseTransport:
    """The transport of the running test's `transport_kind`."""
    return _chosen(**kw)


Handler = Callable[[bytes, bytes], Awaitable[bytes]]  # (request head, body) -> raw answer


@dataclass
class Server:
    url: str = ""
    connections: int = 0  # accepted so far
    open_now: int = 0
    max_open: int = 0
    tasks: set["asyncio.Task[Any]"] = field(default_factory=set)


def ok(body: bytes = b"ok", *headers: bytes) -> bytes:
    extra = b"".join(header + b"\r\n" for header in headers)
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    return head, await reader.readexactly(int(length.group(1)) if length else 0)


@asynccontextmanager
async def serve(handle: Handler, *, close_after: float | None = None) -> AsyncIterator[Server]:
    """Answers each request with `handle`'s bytes; `close_after` seconds after an answer the
    server closes the connection (None: keeps it until the client closes it)."""
    stats = Server()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if (task := asyncio.current_task()) is not None:
            stats.tasks.add(task)
        stats.connections += 1
        stats.open_now += 1
        stats.max_open = max(stats.max_open, stats.open_now)
        try:
            while (request := await read_request(reader)) is not None:
                writer.write(await handle(*request))
                await writer.drain()
                if close_after is not None:
                    await asyncio.sleep(close_after)
                    break
        except (ConnectionError, asyncio.CancelledError):  # cancelled: the test is over
            pass
        finally:
            stats.open_now -= 1
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    stats.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield stats
    finally:
        server.close()
        for task in stats.tasks:
            task.cancel()
        await asyncio.gather(*stats.tasks, return_exceptions=True)


def client(server: Server, timeout: httpx.Timeout | None = None, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=make_transport(**kw), base_url=server.url, timeout=timeout or 2.0
    )
