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

_STAMP = re.compile(rb"t(\d{6,}) ")


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


@dataclass
class Background:
    """`conns` streamed runs at a time, each starting as the previous one ends, the first
    ones spread over `spread_s`."""

    base: str
    runs: list[tuple[bytes, dict[str, str]]]  # (body, headers) to cycle through
    conns: int = 100
    spread_s: float = 5.0  # about one run's length
    done: int = 0
    failed: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    async def _main(self) -> None:
        limits = httpx.Limits(max_connections=self.conns, max_keepalive_connections=self.conns)
        async with httpx.AsyncClient(base_url=self.base, limits=limits, timeout=60) as client:
            await asyncio.gather(*(self._loop(client, n) for n in range(self.conns)))

    async def _loop(self, client: httpx.AsyncClient, n: int) -> None:
        # Staggered over one run's length: started together, the runs would stay in step
        # and their database writes would come in bursts of `conns`.
        await asyncio.sleep(self.spread_s * n / self.conns)
        while not self._stop.is_set():
            body, headers = self.runs[(n + self.done) % len(self.runs)]
            try:
                timed = await timed_stream(client, "/api/agents/execute", body, headers)
            except httpx.HTTPError:
                timed = None
            if timed is not None and timed.ok:
                self.done += 1
            else:
                self.failed += 1
