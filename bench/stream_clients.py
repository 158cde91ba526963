"""The streaming bench's clients: one streamed call timed chunk by chunk, and a pool of
concurrent streamed runs kept going in a thread of its own (bench/streaming.py).

The mock upstream writes `t<monotonic ns when sent>` into each delta; CLOCK_MONOTONIC is
shared by the machine's processes, so `now - t` is how long that chunk took to arrive,
whichever way it came (straight from the mock, or through agentkeel's SSE).
"""

import asyncio
import re
import threading
import time
from dataclasses import dataclass, field

import httpx
import uvloop

_STAMP = re.compile(rb"t(\d{6,}) ")
_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


@dataclass(slots=True)
class Timed:
    ttfb_ms: float  # request sent -> first delta received
    first_ms: float  # upstream sent its first chunk -> it arrived here
    chunk_ms: list[float]  # the same for every later chunk
    ok: bool


async def timed_stream(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> Timed:
    started = time.monotonic_ns()
    lags: list[float] = []
    seen: set[bytes] = set()  # agentkeel's `done` event repeats every stamp in its output
    first_at = 0
    async with client.stream("POST", url, content=body, headers=headers) as response:
        ok = response.status_code == 200
        async for chunk in response.aiter_raw():
            now = time.monotonic_ns()
            for stamp in _STAMP.findall(chunk):
                if stamp in seen:
                    continue
                seen.add(stamp)
                first_at = first_at or now
                lags.append((now - int(stamp)) / 1e6)
    ok = ok and bool(lags)
    return Timed((first_at - started) / 1e6, lags[0] if lags else 0.0, lags[1:], ok)


class _Exchange(asyncio.Protocol):
    """One keep-alive connection to agentkeel, one streamed run at a time, read as bytes:
    the load must cost the machine little beside what it loads (an httpx client at 100
    streams took about as much CPU as the service serving them)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._done: asyncio.Future[bool] | None = None
        self._body_at = 0  # where the body starts; 0: the head is not in yet
        self._length: int | None = None  # Content-Length; None: chunked

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._done is not None and not self._done.done() and self._ended():
            # ok: answered 200 and, streamed (chunked), ended as a run does (`done`, not
            # `error`); unstreamed, a 200 has the run's JSON with a Content-Length.
            ended_well = self._length is not None or b"event: done" in self._buf
            ok = self._buf.startswith(b"HTTP/1.1 200") and ended_well
            self._done.set_result(ok)

    def _ended(self) -> bool:
        """A streamed run is chunked and ends with the last chunk; an error is a JSON body
        with a Content-Length, read whole. The head is read once per response."""
        if not self._body_at:
            head_end = self._buf.find(b"\r\n\r\n")
            if head_end < 0:
                return False
            self._body_at = head_end + 4
            length = _CONTENT_LENGTH.search(self._buf, 0, head_end)
            self._length = None if length is None else int(length.group(1))
        if self._length is None:
            return self._buf.endswith(b"\r\n0\r\n\r\n")
        return len(self._buf) - self._body_at >= self._length

    def connection_lost(self, exc: Exception | None) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(False)
        self.transport = None

    async def run(self, request: bytes) -> bool:
        assert self.transport is not None
        self._buf.clear()
        self._body_at, self._length = 0, None
        self._done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self._done


def _request(host: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        "POST /api/agents/execute HTTP/1.1",
        f"Host: {host}",
        *(f"{k}: {v}" for k, v in headers.items()),
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Background:
    """`conns` runs at a time on keep-alive connections, each starting as the previous one
    ends, the first ones spread over `spread_s`; on uvloop, in a thread. With `rate`, no
    faster than `rate` runs per second in all (unstreamed runs, which end at once)."""

    base: str
    runs: list[tuple[bytes, dict[str, str]]]  # (body, headers) to cycle through
    conns: int = 100
    spread_s: float = 5.0  # about one run's length
    rate: float | None = None  # runs per second, all connections together; None: no pacing
    error: str | None = None  # what stopped the client, if anything did
    done: int = 0
    failed: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=uvloop.run, args=(self._main(),), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    async def _main(self) -> None:
        try:
            await asyncio.gather(*(self._loop(n) for n in range(self.conns)))
        except BaseException as exc:  # the thread would die unseen
            self.error = repr(exc)
            raise

    async def _loop(self, n: int) -> None:
        # Staggered over one run's length: started together, the runs would stay in step
        # and their database writes would come in bursts of `conns`.
        await asyncio.sleep(self.spread_s * n / self.conns)
        hostport = self.base.removeprefix("http://")
        host, port = hostport.rsplit(":", 1)
        requests = [_request(hostport, body, headers) for body, headers in self.runs]
        exchange: _Exchange | None = None
        loop = asyncio.get_running_loop()
        period = self.conns / self.rate if self.rate else 0.0  # per connection
        next_at = loop.time()
        while not self._stop.is_set():
            if exchange is None or exchange.transport is None:
                _, exchange = await loop.create_connection(_Exchange, host, int(port))
            ok = await exchange.run(requests[(n + self.done) % len(requests)])
            if ok:
                self.done += 1
            else:
                self.failed += 1
            if period:
                next_at += period
                await asyncio.sleep(max(0.0, next_at - loop.time()))
        if exchange is not None and exchange.transport is not None:
            exchange.transport.close()
