"""The mock upstream's streamed chat answer (bench/mock_upstream.py), as LiteLLM streams
it: chunked `text/event-stream`, one `chat.completion.chunk` per delta, the usage chunk
(with `cost`), `[DONE]`. Each delta's content is `t<time.monotonic_ns() when sent> `."""

import asyncio
import json
import time

_CHUNK_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"x-litellm-version: 1.108.7\r\ntransfer-encoding: chunked\r\n\r\n"
)


def _sse_chunk(data: bytes) -> bytes:
    event = b"data: " + data + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(event), event)


def _delta(content: str) -> bytes:
    chunk = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1767607200,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": content}}],
    }
    return _sse_chunk(json.dumps(chunk, separators=(",", ":")).encode())


def _stream_tail(chunks: int) -> bytes:
    usage = {"prompt_tokens": 31, "completion_tokens": chunks, "total_tokens": 31 + chunks,
             "cost": 0.0000046}  # fmt: skip
    last = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1767607200,
            "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {}}],
            "usage": usage}  # fmt: skip
    return (
        _sse_chunk(json.dumps(last, separators=(",", ":")).encode())
        + _sse_chunk(b"[DONE]")
        + b"0\r\n\r\n"
    )


def stream_to(transport: asyncio.Transport, chunks: int, interval: float) -> None:
    """Writes the head and the first delta now, the others `interval` s apart."""
    loop = asyncio.get_running_loop()
    transport.write(_CHUNK_HEAD + _delta(f"t{time.monotonic_ns()} "))

    def more(left: int) -> None:
        if transport.is_closing():
            return
        if left == 0:
            transport.write(_stream_tail(chunks))
            return
        transport.write(_delta(f"t{time.monotonic_ns()} "))
        loop.call_later(interval, more, left - 1)

    loop.call_later(interval, more, chunks - 1)
