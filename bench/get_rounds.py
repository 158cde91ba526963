"""The streaming bench's GET rounds (bench/streaming.py): GET /api/agents/{id} under wrk
-c32, alone and with a background load of runs going (streamed, or unstreamed at a fixed
rate: the yardstick), the order swapped every round, and what the runs cost the service
that serves them."""

import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from bench.common import parse_result_line, which
from bench.cpu import machine, ticks, tree
from bench.exec_setup import INPUT, GatewayServer
from bench.report_stream import StreamCost, render_get, render_yardstick
from bench.stream_clients import Background

GET_LUA = Path(__file__).resolve().parent / "get.lua"
T = TypeVar("T")


def run_body(agent_id: str, *, stream: bool = True) -> bytes:
    return json.dumps({"agent_id": agent_id, "input": INPUT, "stream": stream}).encode()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _wrk_get(server: GatewayServer, pairs: Path, duration: int, logfile: Path) -> dict[str, str]:
    """wrk's RESULT fields, plus `svc_cpu`: the service's CPU, % of one core, and `busy`:
    the whole machine's, % of all cores."""
    base = server.base
    wrk = which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found")
    env = {**os.environ, "PAIRS_FILE": str(pairs)}
    cmd = [wrk, "-t1", "-c32", "--timeout", "10s", "-s", str(GET_LUA), base]
    subprocess.run([*cmd, "-d2s"], env=env, capture_output=True, check=False)
    c0, t0, m0 = ticks(tree(server.pid)), time.monotonic(), machine()
    proc = subprocess.run(
        [*cmd, f"-d{duration}s"], env=env, capture_output=True, text=True, check=False
    )
    hz = os.sysconf("SC_CLK_TCK")
    cpu = 100 * (ticks(tree(server.pid)) - c0) / hz / (time.monotonic() - t0)
    m1 = machine()
    busy = 100 * (m1[0] - m0[0]) / max(m1[1] - m0[1], 1)
    with logfile.open("a") as out:
        out.write(proc.stdout + proc.stderr + "\n")
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), "")
    fields = parse_result_line(line) if line else {}
    return {**fields, "svc_cpu": f"{cpu:.0f}", "busy": f"{busy:.0f}"}


@dataclass(frozen=True, slots=True)
class GetRounds:
    """GET alone and with the slow streamed runs going, `rounds` times each way."""

    pairs: Path  # wrk's (tenant key, agent id) lines
    slow: list[tuple[str, str]]  # (tenant key, agent id) of the slow-streaming agents
    conc: int
    duration: int
    rounds: int
    spread_s: float  # one slow run's length
    profile: str
    log: Path
    yardstick_rounds: int  # the same rounds with unstreamed runs at the streams' rate

    def measure(
        self, server: GatewayServer, where: str, runs_on: GatewayServer | None = None
    ) -> list[str]:
        """GET on `server`; the runs on `runs_on`, a process of their own, or on `server`
        too, and then the yardstick."""
        runs_to = runs_on or server
        wrk = partial(_wrk_get, server, self.pairs, self.duration, self.log)
        streams = partial(
            Background,
            runs_to.base,
            [(run_body(a), auth(t)) for t, a in self.slow],
            conns=self.conc,
            spread_s=self.spread_s,
        )
        cost = _stream_cost(runs_to.pid, streams(), self.duration)
        rows = _paired(wrk, streams, self.rounds)
        lines = render_get(rows, self.conc, self.profile, cost, where, shared=runs_on is None)
        if runs_on is not None:
            return lines
        # The streams start this many runs per second; the same rate of unstreamed runs,
        # answered at once, on a few connections:
        rate = self.conc / self.spread_s
        unstreamed = partial(
            Background,
            server.base,
            [(run_body(a, stream=False), auth(t)) for t, a in self.slow],
            conns=4,
            spread_s=0.2,
            rate=rate,
        )
        return lines + render_yardstick(_paired(wrk, unstreamed, self.yardstick_rounds), rate)


def _paired(
    wrk: Callable[[], dict[str, str]], background: Callable[[], Background], rounds: int
) -> list[tuple[int, dict[str, str], dict[str, str], int, int]]:
    """GET alone and with `background()` going, `rounds` times, the order swapped every
    round (a drift of the machine's speed falls on both sides)."""
    rows = []
    for rnd in range(1, rounds + 1):
        load = background()
        if rnd % 2:  # odd rounds: alone first
            alone, loaded = wrk(), _with_streams(load, wrk)
        else:
            loaded, alone = _with_streams(load, wrk), wrk()
        rows.append((rnd, alone, loaded, load.done, load.failed))
    return rows


def _stream_cost(pid: int, background: Background, seconds: float) -> StreamCost:
    """The service's CPU per streamed run, the streams alone, all of them open."""

    def sample() -> StreamCost:
        done, c0, t0 = background.done, ticks(tree(pid)), time.monotonic()
        time.sleep(seconds)
        runs, c1, t1 = background.done - done, ticks(tree(pid)), time.monotonic()
        return StreamCost(t1 - t0, runs, (c1 - c0) / os.sysconf("SC_CLK_TCK"))

    return _with_streams(background, sample)


def _with_streams(background: Background, measure: Callable[[], T]) -> T:
    """`measure()` with all the background streams open."""
    background.start()
    time.sleep(background.spread_s)
    measured = measure()
    background.stop()
    if background.error is not None:
        raise SystemExit(f"the streaming client stopped: {background.error}")
    return measured
