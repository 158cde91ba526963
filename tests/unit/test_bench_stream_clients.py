"""The streaming bench's load client (bench/stream_clients.py): what it counts as a run that
went well, read from the bytes a run's answer arrives in."""

import asyncio

from bench.stream_clients import _Exchange

STREAMED = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    b"f\r\nevent: delta\n\n\r\n"
)


def _answer(*pieces: bytes) -> bool:
    async def run() -> bool:
        exchange = _Exchange()

        class Sink(asyncio.Transport):
            def write(self, data: bytes | bytearray | memoryview) -> None:
                pass

        exchange.connection_made(Sink())
        answered = asyncio.ensure_future(exchange.run(b"POST / HTTP/1.1\r\n\r\n"))
        await asyncio.sleep(0)
        for piece in pieces:
            exchange.data_received(piece)
        return await asyncio.wait_for(answered, 1)

    return asyncio.run(run())


def test_a_streamed_run_is_ok_when_it_ends_with_done() -> None:
    assert _answer(STREAMED, b"e\r\nevent: done\n\n\r\n", b"0\r\n\r\n")


def test_a_streamed_run_that_ends_with_an_error_event_is_not_ok() -> None:
    assert not _answer(STREAMED, b"f\r\nevent: error\n\n\r\n0\r\n\r\n")


def test_an_unstreamed_run_is_ok_when_answered_200_with_its_whole_body() -> None:
    body = b'{"status":"succeeded"}'
    head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body)
    assert _answer(head, body[:5], body[5:])


def test_an_unstreamed_refusal_is_not_ok() -> None:
    body = b'{"detail":"Agent not found"}'
    assert not _answer(b"HTTP/1.1 404 Not Found\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
