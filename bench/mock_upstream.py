"""A minimal, fast stand-in for a LiteLLM proxy, for the execute bench (bench/execute.py).

Plain asyncio (uvloop when importable) HTTP/1.1 with keep-alive: one protocol object per
connection, no framework, constant work per request, no artificial delay. It answers the
endpoints adapters/litellm/gateway.py uses, with bodies shaped like a LiteLLM v1.7x proxy's
(tests/support/litellm_bodies.py):

  POST /chat/completions  a fixed `chat.completion` (usage included) + x-litellm-response-cost
  POST /model/new         {"model_id": <the pinned model_info.id>, ...}
  POST /model/delete      {"message": ...}
  POST /key/generate      a fresh "sk-..." key, its sha256 as token/token_id, the key record
  GET  /key/info          {"key": ..., "info": {...}}
  POST /key/delete        {"deleted_keys": [...]}
  GET  /_bench/stats      counters: chat with the master key vs another key, connections

A chat request with `"stream":true` is answered as LiteLLM streams (chunked
`text/event-stream`, one `chat.completion.chunk` per delta, the usage chunk, `[DONE]`):
STREAM_CHUNKS deltas STREAM_INTERVAL_MS apart (`--stream-chunks`, `--stream-interval-ms`),
or `--slow-chunks` deltas `--slow-interval-ms` apart for the model `bench-slow-stream`. Each
delta's content is `t<time.monotonic_ns() when sent> `: CLOCK_MONOTONIC is one clock for
every process of the machine, so a client can tell how long each chunk took to reach it.

It checks no key (a real proxy would look the virtual key up, usually from its cache).

    python -m bench.mock_upstream --port 0     # prints "READY <port>" once listening
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import secrets
import sys
import uuid
from typing import Any
from urllib.parse import unquote

from bench.mock_bodies import (
    CHAT_RESPONSE,
    CHAT_RESPONSE_CLOSING,
    STAMP,
    json_response,
    key_record,
)
from bench.mock_stream import stream_to

MASTER_KEY_DEFAULT = "sk-bench-master-key"
SLOW_MODEL = b"bench-slow-stream"


class State:
    def __init__(
        self,
        master_key: str,
        chunks: int = 20,
        interval_ms: float = 10.0,
        slow: tuple[int, float] = (20, 250.0),
    ) -> None:
        self.stream_profiles = {
            b"": (chunks, interval_ms / 1000),
            SLOW_MODEL: (slow[0], slow[1] / 1000),
        }
        self.master_key = master_key
        self.keys: dict[str, dict[str, Any]] = {}  # minted virtual keys -> their request
        self.counts: dict[str, int] = {}
        self.connections = 0  # TCP connections accepted

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def _parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def handle(
    state: State, method: bytes, target: bytes, auth: bytes, body: bytes, close: bool
) -> bytes:
    path, _, query = target.partition(b"?")
    if method == b"POST" and path == b"/chat/completions":
        # Counted by key kind only: a counter, no JSON parsing, on the hot path.
        state.count("chat_master" if auth == b"Bearer " + state.master_key.encode() else "chat_key")
        return CHAT_RESPONSE if not close else CHAT_RESPONSE_CLOSING
    state.count(path.decode("latin-1"))
    if method == b"POST" and path == b"/model/new":
        req = _parse(body)
        model_id = str((req.get("model_info") or {}).get("id") or uuid.uuid4())
        params = dict(req.get("litellm_params") or {})
        params["api_key"] = "gAAAAABn0W9Q-encrypted"
        return json_response(
            200,
            {
                "model_id": model_id,
                "model_name": req.get("model_name"),
                "litellm_params": params,
                "model_info": {"id": model_id, "db_model": True},
                "created_at": STAMP,
                "created_by": "default_user_id",
                "updated_at": STAMP,
                "updated_by": "default_user_id",
            },
            close,
        )
    if method == b"POST" and path == b"/model/delete":
        req = _parse(body)
        return json_response(
            200, {"message": f"Model: {req.get('id')} deleted successfully"}, close
        )
    if method == b"POST" and path == b"/key/generate":
        req = _parse(body)
        key = "sk-" + secrets.token_urlsafe(16)
        token = hashlib.sha256(key.encode()).hexdigest()
        record = key_record(key, req)
        state.keys[key] = record
        extra = {"duration": None, "guardrails": None, "created_by": "default_user_id"}
        return json_response(
            200, {**record, **extra, "key": key, "token_id": token, "token": token}, close
        )
    if method == b"GET" and path == b"/key/info":
        key = ""
        for part in query.split(b"&"):
            name, _, value = part.partition(b"=")
            if name == b"key":
                key = unquote(value.decode("latin-1"))
        record = state.keys.get(key)
        if record is None:
            return json_response(404, {"detail": {"error": "Key not found"}}, close)
        return json_response(200, {"key": key, "info": record}, close)
    if method == b"POST" and path == b"/key/delete":
        req = _parse(body)
        keys = [k for k in req.get("keys") or [] if isinstance(k, str)]
        for k in keys:
            state.keys.pop(k, None)
        return json_response(200, {"deleted_keys": keys}, close)
    if method == b"GET" and path == b"/_bench/stats":
        return json_response(
            200,
            {"counts": state.counts, "keys": len(state.keys), "connections": state.connections},
            close,
        )
    return json_response(404, {"detail": "Not Found"}, close)


class HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies (no chunked requests: httpx and
    wrk send Content-Length)."""

    __slots__ = ("_buf", "_state", "_transport")

    def __init__(self, state: State) -> None:
        self._state = state
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self._state.connections += 1  # keep-alive churn shows here (GET /_bench/stats)

    def data_received(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        transport = self._transport
        assert transport is not None
        out = []
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            if len(parts) != 3:
                transport.write(json_response(400, {"detail": "bad request line"}, True))
                transport.close()
                return
            method, target, version = parts
            length, auth = 0, b""
            close = version == b"HTTP/1.0"
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                lname = name.strip().lower()
                if lname == b"content-length":
                    length = int(value.strip())
                elif lname == b"authorization":
                    auth = value.strip()
                elif lname == b"connection":
                    v = value.strip().lower()
                    close = v == b"close" or (close and v != b"keep-alive")
            total = end + 4 + length
            if len(buf) < total:
                break
            body = buf[end + 4 : total]
            buf = buf[total:]
            if target == b"/chat/completions" and b'"stream":true' in body:
                self._state.count("chat_stream")
                slow = SLOW_MODEL if b'"model":"' + SLOW_MODEL in body else b""
                if out:
                    transport.write(b"".join(out))
                    out = []
                stream_to(transport, *self._state.stream_profiles[slow])
                continue
            out.append(handle(self._state, method, target, auth, body, close))
            if close:
                transport.write(b"".join(out))
                transport.close()
                self._buf = b""
                return
        self._buf = buf
        if out:
            transport.write(out[0] if len(out) == 1 else b"".join(out))


async def serve(
    host: str,
    port: int,
    master_key: str,
    chunks: int = 20,
    interval_ms: float = 10.0,
    slow: tuple[int, float] = (20, 250.0),
) -> None:
    state = State(master_key, chunks, interval_ms, slow)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(state), host, port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--master-key", default=MASTER_KEY_DEFAULT)
    parser.add_argument("--stream-chunks", type=int, default=20)
    parser.add_argument("--stream-interval-ms", type=float, default=10.0)
    parser.add_argument("--slow-chunks", type=int, default=20)
    parser.add_argument("--slow-interval-ms", type=float, default=250.0)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):
        slow = (args.slow_chunks, args.slow_interval_ms)
        streams = (args.stream_chunks, args.stream_interval_ms, slow)
        runner(serve(args.host, args.port, args.master_key, *streams))
    sys.exit(0)


if __name__ == "__main__":
    main()
