"""The gateway's transport (`default_transport`: the hand-written keep-alive pool) against a
small real HTTP server on 127.0.0.1: connection reuse, body framings, streamed bodies,
closes, timeouts, pool limits, cancellation and errors, all as httpx exceptions. Every test
runs on httpx's own transport (httpcore's pool) too: the two must behave the same."""

import asyncio
import re
import socket
import time
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


_make_transport: Callable[..., httpx.AsyncBaseTransport] = default_transport


@pytest.fixture(autouse=True, params=["hand-written", "httpcore"])
def transport_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    global _make_transport
    _make_transport = default_transport if request.param == "hand-written" else _httpcore
    yield request.param
    _make_transport = default_transport


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


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
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
            while (request := await _read_request(reader)) is not None:
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
        transport=_make_transport(**kw), base_url=server.url, timeout=timeout or 2.0
    )


async def answer_ok(head: bytes, body: bytes) -> bytes:
    return ok()


async def test_sequential_requests_reuse_one_connection() -> None:
    async with serve(answer_ok) as server, client(server) as http:
        for _ in range(3):
            response = await http.get("/")
            assert (response.status_code, response.content) == (200, b"ok")
    assert server.connections == 1


async def test_request_line_headers_and_body_arrive_intact() -> None:
    async def echo(head: bytes, body: bytes) -> bytes:
        return ok(head + body)

    sent = '{"k": "vé"}'.encode() * 1000
    async with serve(echo) as server, client(server) as http:
        response = await http.post("/v1/echo?q=a%20b", content=sent, headers={"X-Api-Key": "sk-1"})
    head, body = response.content.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/echo?q=a%20b HTTP/1.1"
    assert b"X-Api-Key: sk-1" in lines
    assert b"Content-Length: 12000" in lines
    assert body == sent


async def test_chunked_response_is_decoded() -> None:
    async def chunked(head: bytes, body: bytes) -> bytes:
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        return head + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

    async with serve(chunked) as server, client(server) as http:
        first, second = await http.get("/"), await http.get("/")
    assert first.text == second.text == "hello world"
    assert "content-length" not in first.headers  # nothing invented
    assert server.connections == 1


async def test_body_delimited_by_close_is_complete_at_eof() -> None:
    async def until_eof(head: bytes, body: bytes) -> bytes:
        return b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"

    async with serve(until_eof, close_after=0) as server, client(server) as http:
        assert (await http.get("/")).text == "all of it"
        assert (await http.get("/")).text == "all of it"
    assert server.connections == 2


async def test_connection_close_makes_the_next_request_open_a_new_connection() -> None:
    async def closing(head: bytes, body: bytes) -> bytes:
        return ok(b"bye", b"Connection: close")

    # The server keeps the socket open: only the client's honouring the header closes it.
    async with serve(closing) as server, client(server) as http:
        assert (await http.get("/")).text == "bye"
        assert (await http.get("/")).text == "bye"
    assert server.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async with serve(answer_ok, close_after=0.01) as server, client(server) as http:
        await http.get("/")
        await asyncio.sleep(0.1)  # the server closes its end meanwhile
        assert (await http.get("/")).status_code == 200
    assert server.connections == 2


async def test_connections_idle_past_the_expiry_are_not_reused() -> None:
    async with serve(answer_ok) as server, client(server, keepalive_expiry=0.05) as http:
        await http.get("/")
        await asyncio.sleep(0.1)
        await http.get("/")
    assert server.connections == 2


async def test_head_response_has_no_body() -> None:
    async def head_answer(head: bytes, body: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"

    async with serve(head_answer) as server, client(server) as http:
        response = await http.head("/")
    assert (response.status_code, response.content) == (200, b"")


async def test_connect_refused_is_connect_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with httpx.AsyncClient(transport=default_transport()) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_no_answer_is_read_timeout_within_the_timeout() -> None:
    async def silent(head: bytes, body: bytes) -> bytes:
        await asyncio.sleep(3600)
        raise AssertionError

    async with serve(silent) as server, client(server, httpx.Timeout(5.0, read=0.2)) as http:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/")
        assert 0.15 < time.monotonic() - started < 1.0


async def test_server_closing_mid_body_is_remote_protocol_error() -> None:
    async def truncated(head: bytes, body: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"

    async with serve(truncated, close_after=0) as server, client(server) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/")


async def test_garbage_is_remote_protocol_error() -> None:
    async def garbage(head: bytes, body: bytes) -> bytes:
        return b"SSH-2.0-OpenSSH_9.6\r\n\r\n"

    async with serve(garbage) as server, client(server) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/")
        with pytest.raises(httpx.RemoteProtocolError):  # the bad connection was not pooled
            await http.get("/")
    assert server.connections == 2


async def test_max_connections_bounds_concurrent_connections() -> None:
    async def slow(head: bytes, body: bytes) -> bytes:
        await asyncio.sleep(0.03)
        return ok()

    async with serve(slow) as server, client(server, max_connections=2) as http:
        responses = await asyncio.gather(*(http.get("/") for _ in range(6)))
    assert [response.status_code for response in responses] == [200] * 6
    assert (server.connections, server.max_open) == (2, 2)


async def test_waiting_longer_than_the_pool_timeout_is_pool_timeout() -> None:
    async def slow_first(head: bytes, body: bytes) -> bytes:
        if head.startswith(b"GET /slow "):
            await asyncio.sleep(0.25)
        return ok()

    timeout = httpx.Timeout(2.0, pool=0.1)
    async with serve(slow_first) as server, client(server, timeout, max_connections=1) as http:
        first = asyncio.create_task(http.get("/slow"))
        await asyncio.sleep(0.02)
        started = time.monotonic()
        with pytest.raises(httpx.PoolTimeout):
            await http.get("/")
        assert time.monotonic() - started < 0.2
        assert (await first).status_code == 200
        assert (await http.get("/")).status_code == 200  # the pool still works
    assert server.connections == 1


async def test_a_cancelled_request_never_leaks_its_answer_to_a_later_one() -> None:
    async def by_path(head: bytes, body: bytes) -> bytes:
        if head.startswith(b"GET /slow "):
            await asyncio.sleep(0.1)
            return ok(b"slow")
        return ok(b"fast")

    async with serve(by_path) as server, client(server, max_connections=1) as http:
        slow = asyncio.create_task(http.get("/slow"))
        await asyncio.sleep(0.02)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        assert (await http.get("/fast")).text == "fast"
        await asyncio.sleep(0.15)  # the slow answer would have arrived by now
        assert (await http.get("/fast")).text == "fast"
    assert server.connections == 2  # the cancelled request's connection was dropped


def _sse_chunked(*events: bytes) -> bytes:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    body = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events)
    return head + body + b"0\r\n\r\n"


_DELTA = b'data: {"model": "m", "choices": [{"index": 0, "delta": {"content": "hi"}}]}\n\n'
_USAGE = b'data: {"model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}\n\n'  # noqa: E501


async def test_a_streamed_chat_leaves_its_connection_for_the_next_call() -> None:
    from adapters.litellm.gateway import LiteLlmGateway
    from application.ports.llm_types import ChatMessage, ChatRequest

    async def stream(head: bytes, body: bytes) -> bytes:
        return _sse_chunked(_DELTA, _USAGE, b"data: [DONE]\n\n")

    async with serve(stream) as server:
        http = _make_transport()
        gateway = LiteLlmGateway(server.url, "sk-master", 2.0, transport=http)
        request = ChatRequest("m", (ChatMessage("user", "x"),))
        for _ in range(3):
            items = [item async for item in gateway.stream(request)]
            assert len(items) == 2
        await http.aclose()
    assert server.connections == 1


async def test_a_stream_that_goes_silent_times_out_within_the_read_timeout() -> None:
    from adapters.litellm.gateway import LiteLlmGateway
    from application.gateway_errors import GatewayTimeout
    from application.ports.llm_stream import ChatDelta
    from application.ports.llm_types import ChatMessage, ChatRequest

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        writer.write(head + b"Transfer-Encoding: chunked\r\n\r\n")
        writer.write(b"%x\r\n%s\r\n" % (len(_DELTA), _DELTA))
        await writer.drain()
        await asyncio.sleep(3600)  # then nothing

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    http = _make_transport()
    gateway = LiteLlmGateway(url, "sk-master", 0.3, transport=http)
    seen: list[object] = []

    async def read_all() -> None:
        async for item in gateway.stream(ChatRequest("m", (ChatMessage("user", "x"),))):
            seen.append(item)

    started = time.monotonic()
    try:
        with pytest.raises(GatewayTimeout):
            await read_all()
    finally:
        server.close()
        await http.aclose()
    assert seen == [ChatDelta("hi")]
    assert 0.25 < time.monotonic() - started < 2.0


async def test_a_body_is_handed_on_as_it_arrives() -> None:
    """The first chunk is readable while the server still holds back the rest."""
    release = asyncio.Event()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"4\r\nrest\r\n0\r\n\r\n")
        await writer.drain()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    pieces: list[bytes] = []
    try:
        http = httpx.AsyncClient(transport=_make_transport(), timeout=2.0)
        async with http, http.stream("GET", url) as response:
            chunks = response.aiter_raw()
            pieces.append(await anext(chunks))
            release.set()
            pieces += [piece async for piece in chunks]
    finally:
        server.close()
    assert pieces[0] == b"first"
    assert b"".join(pieces) == b"firstrest"


async def test_a_body_closed_before_its_end_takes_its_connection_with_it() -> None:
    async def two_parts(head: bytes, body: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nfour"  # the rest never comes

    async with serve(two_parts) as server, client(server) as http:
        async with http.stream("GET", "/") as response:
            assert await anext(response.aiter_raw()) == b"four"
        # closed early: that connection may still get the rest, so it is not reused
        async with http.stream("GET", "/") as response:
            assert await anext(response.aiter_raw()) == b"four"
    assert server.connections == 2
