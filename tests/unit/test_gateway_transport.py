"""The gateway's transport (`default_transport`: the hand-written keep-alive pool) against a
small real HTTP server on 127.0.0.1: connection reuse, body framings, closes, timeouts, pool
limits, cancellation and errors, all as httpx exceptions; on httpcore's pool too
(tests/support/raw_http.py). Streamed bodies: test_gateway_transport_streams.py."""

import asyncio
import socket
import time

import httpx
import pytest

from tests.support.raw_http import client, make_transport, ok, serve, transport_kind

__all__ = ["transport_kind"]  # the autouse fixture: every test on both transports


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
    async with httpx.AsyncClient(transport=make_transport()) as http:
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
