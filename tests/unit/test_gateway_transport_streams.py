"""Streamed response bodies through the gateway's transport (hand-written and httpcore's,
tests/support/raw_http.py): chunks handed on as they arrive, a streamed chat leaving its
connection clean, silence timing out, a body closed early taking its connection with it."""

import asyncio
import time

import httpx
import pytest

from tests.support.raw_http import client, make_transport, read_request, serve, transport_kind

__all__ = ["transport_kind"]  # the autouse fixture: every test on both transports


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
        http = make_transport()
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
        await read_request(reader)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        writer.write(head + b"Transfer-Encoding: chunked\r\n\r\n")
        writer.write(b"%x\r\n%s\r\n" % (len(_DELTA), _DELTA))
        await writer.drain()
        await asyncio.sleep(3600)  # then nothing

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    http = make_transport()
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
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"4\r\nrest\r\n0\r\n\r\n")
        await writer.drain()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    pieces: list[bytes] = []
    try:
        http = httpx.AsyncClient(transport=make_transport(), timeout=2.0)
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
