"""`ExecutionEventLog` on a Redis stream per execution (`XADD` / `XREAD BLOCK`): followers
anywhere get new events as they are published (pub/sub), and replay from any entry id
(the SSE `Last-Event-ID`), so a client that connects late or reconnects misses nothing.

Each stream keeps its last `max_len` entries (about) and expires `ttl_s` after its last
event. One client per event loop: the embedded mode runs worker threads, each with its
own loop, beside the HTTP server's, and a redis.asyncio connection belongs to one loop.
"""

import asyncio
import logging
import re
import uuid
import weakref
from collections.abc import AsyncIterator, Mapping
from typing import Any

import msgspec
import redis
import redis.asyncio

from application.ports.execution_events import EventKind, ExecutionEvent

log = logging.getLogger("agentkeel.events")
KEY_PREFIX = "agentkeel:execution-events:"
PUBLISH_TIMEOUT_S = 2.0
_ID = re.compile(r"\d+-\d+")
_KINDS: frozenset[str] = frozenset({"status", "delta", "done"})
_encode = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()


def _key(execution_id: uuid.UUID) -> str:
    return f"{KEY_PREFIX}{execution_id}"


class RedisExecutionEvents:
    def __init__(self, url: str, *, ttl_s: int = 3600, max_len: int = 10_000) -> None:
        """`url`: redis://, rediss:// or unix:// (the embedded server)."""
        self._url, self._ttl, self._max_len = url, ttl_s, max_len
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[redis.asyncio.Redis, redis.asyncio.Redis]
        ] = weakref.WeakKeyDictionary()

    def _pair(self) -> tuple[redis.asyncio.Redis, redis.asyncio.Redis]:
        """(publisher: short timeouts; follower: blocking reads, no socket timeout)."""
        loop = asyncio.get_running_loop()
        pair = self._clients.get(loop)
        if pair is None:
            publisher = redis.asyncio.Redis.from_url(
                self._url, socket_timeout=PUBLISH_TIMEOUT_S, socket_connect_timeout=2
            )
            follower = redis.asyncio.Redis.from_url(self._url, socket_connect_timeout=2)
            pair = self._clients[loop] = (publisher, follower)
        return pair

    async def publish(
        self, execution_id: uuid.UUID, kind: EventKind, data: Mapping[str, object]
    ) -> None:
        publisher, _ = self._pair()
        payload = _encode.encode({"kind": kind, "data": data})
        try:
            async with publisher.pipeline(transaction=False) as pipe:
                pipe.xadd(_key(execution_id), {"e": payload}, maxlen=self._max_len)
                pipe.expire(_key(execution_id), self._ttl)
                await pipe.execute()
        except (redis.RedisError, OSError) as exc:  # best effort: followers re-read the row
            log.warning("execution %s: event not published (%s)", execution_id, type(exc).__name__)

    async def follow(
        self, execution_id: uuid.UUID, after: str | None, wait_s: float
    ) -> AsyncIterator[ExecutionEvent | None]:
        _, follower = self._pair()
        last = after if after and _ID.fullmatch(after) else "0-0"
        block = int(wait_s * 1000) if wait_s > 0 else None
        while True:
            reply: Any = None
            try:
                reply = await follower.xread({_key(execution_id): last}, count=100, block=block)
            except (redis.RedisError, OSError) as exc:
                log.warning(
                    "execution %s: events unreadable (%s)", execution_id, type(exc).__name__
                )
                await asyncio.sleep(wait_s)
            if not reply:
                yield None
                continue
            for entry_id, fields in reply[0][1]:
                last = entry_id.decode()
                event = _event(last, fields)
                if event is not None:
                    yield event

    async def aclose(self) -> None:
        """Closes the clients of the running loop (the others go with their loops)."""
        pair = self._clients.pop(asyncio.get_running_loop(), None)
        for client in pair or ():
            await client.aclose()


def _event(entry_id: str, fields: Mapping[bytes, bytes]) -> ExecutionEvent | None:
    try:
        body = _decode.decode(fields[b"e"])
        kind, data = body["kind"], body["data"]
    except (KeyError, TypeError, msgspec.DecodeError):
        return None  # not ours: skipped
    if kind not in _KINDS or not isinstance(data, dict):
        return None
    return ExecutionEvent(kind, data, entry_id)
