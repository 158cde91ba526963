"""The streaming bench: time to first byte and added latency per chunk of a streamed run
(`POST /api/agents/execute` with `"stream": true`), and what 100 concurrent streamed runs
do to the non-streamed GET figures.

The mock upstream (bench/mock_upstream.py) streams 20 deltas 10 ms apart, each stamped
with CLOCK_MONOTONIC when sent; the client (bench/stream_clients.py) takes, per chunk,
arrival - stamp. Measured alternately at c=1: `upstream-alone` (the mock's stream read
directly) and `execute-stream` (through agentkeel: database, gateway adapter, SSE).
`first` is the first chunk's lag: the target is agentkeel's first byte within 3 ms of the
upstream's first chunk. Then GET /api/agents/{id} under wrk -c32, alone and with 100
streamed runs going (slow ones: 20 deltas 250 ms apart), BENCH_STREAM_ROUNDS (8) rounds of
BENCH_STREAM_GET_DURATION (8) s each way, the order swapped every round (so a drift of the
machine's speed falls on both sides); the verdict is on the median of the rounds' ratios.
The GET rounds run on a fresh `serve --workers N` for each N of BENCH_STREAM_WORKERS ("1").
A yardstick follows them, not a target: as many rounds (BENCH_STREAM_YARDSTICK_ROUNDS) with
unstreamed runs of the same agents at the rate the streams start runs, instead of streams.
Then (BENCH_STREAM_SPLIT, "1") the rounds again with the runs on a `serve` process of their
own, GET on another: the deployment docs/api.md suggests for many streams.
The machine's own speed is probed first (bench/cpu.py `host_speed`): on this VM it moves
by up to 2x within seconds with nothing else running, so one round's ratio says little.

Alone: `.venv/bin/python -m bench.streaming` (or BENCH_ONLY=stream ... -m bench.run).
"""

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx
import psycopg

from bench import prereq, service
from bench.common import OUT, env_str, git_commit, loadavg, log, parse_result_line, which
from bench.cpu import host_speed, machine, ticks, tree
from bench.exec_setup import INPUT, GatewayServer, Mock, upstream_body
from bench.report_stream import (
    StreamCost,
    render_c1,
    render_get,
    render_host_speed,
    render_yardstick,
)
from bench.seed import PROMPT, api_post
from bench.stream_clients import Background, Timed, timed_stream

STREAM_DB = env_str("BENCH_STREAM_DB", "agentkeel_bench_stream")
GET_LUA = Path(__file__).resolve().parent / "get.lua"
SLOW_MODEL = "bench-slow-stream"
T = TypeVar("T")


async def _seed(base: str, operator: str, tenants: int = 2) -> tuple[list, list]:  # type: ignore[type-arg]
    fast, slow = [], []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        post = partial(api_post, client)
        for t in range(tenants):
            tenant = await post(
                "/api/tenants",
                operator,
                {"name": f"stream-{t}", "admin_email": f"s{t}@bench.example"},
            )
            token = tenant["api_key"]
            for n in range(2):
                body = {"system_prompt": PROMPT, "temperature": 0.5, "max_tokens": 256}
                made = await post("/api/agents", token, {"name": f"fast-{n}", **body})
                fast.append((token, made["id"]))
                made = await post(
                    "/api/agents", token, {"name": f"slow-{n}", "model": SLOW_MODEL, **body}
                )
                slow.append((token, made["id"]))
    return fast, slow


def _run_body(agent_id: str, *, stream: bool = True) -> bytes:
    return json.dumps({"agent_id": agent_id, "input": INPUT, "stream": stream}).encode()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def _c1(mock: str, base: str, master: str, fast: list, runs: int) -> dict:  # type: ignore[type-arg]
    up_body = json.dumps(
        {**json.loads(upstream_body()), "stream": True}, separators=(",", ":")
    ).encode()
    results: dict[str, list[Timed]] = {"upstream-alone": [], "execute-stream": []}
    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(runs + 10):  # the first 10 of each: warm-up
            token, agent = fast[n % len(fast)]
            up = await timed_stream(client, mock + "/chat/completions", up_body, _auth(master))
            ak = await timed_stream(
                client, base + "/api/agents/execute", _run_body(agent), _auth(token)
            )
            if n >= 10:
                results["upstream-alone"].append(up)
                results["execute-stream"].append(ak)
    return results


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
            [(_run_body(a), _auth(t)) for t, a in self.slow],
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
            [(_run_body(a, stream=False), _auth(t)) for t, a in self.slow],
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


def measure(out_dir: Path) -> list[str]:
    runs = int(env_str("BENCH_STREAM_RUNS", "200"))
    rounds = int(env_str("BENCH_STREAM_ROUNDS", "8"))
    workers = [int(n) for n in env_str("BENCH_STREAM_WORKERS", "1").split()]
    master = "sk-bench-master-" + secrets.token_hex(12)
    url = service.recreate_database(STREAM_DB)
    operator = service.operator_key(url)
    slow_chunks = env_str("BENCH_STREAM_SLOW_CHUNKS", "20")
    slow_ms = env_str("BENCH_STREAM_SLOW_INTERVAL_MS", "250")
    args = ("--slow-chunks", slow_chunks, "--slow-interval-ms", slow_ms)
    mock = Mock(master, out_dir / "stream_mock.log", args)
    gateway_env = {"AGENTKEEL_LITELLM_URL": mock.base, "AGENTKEEL_LITELLM_MASTER_KEY": master}
    lines: list[str] = []
    try:
        server = GatewayServer(url, out_dir / "stream_server.log", gateway_env)
        try:
            server.wait_ready()
            fast, slow = asyncio.run(_seed(server.base, operator))
            pairs = out_dir / "stream_get_pairs.txt"
            pairs.write_text("".join(f"{t} {a}\n" for t, a in fast + slow))
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            c1 = asyncio.run(_c1(mock.base, server.base, master, fast, runs))
            lines += render_c1(c1, runs)
            lines += render_host_speed(host_speed())
        finally:
            server.stop()
        get_rounds = GetRounds(
            pairs,
            slow,
            int(env_str("BENCH_STREAM_CONCURRENCY", "100")),
            int(env_str("BENCH_STREAM_GET_DURATION", "8")),
            rounds,
            int(slow_chunks) * float(slow_ms) / 1000,
            f"{slow_chunks} deltas {slow_ms} ms apart",
            out_dir / "stream_load.log",
            int(env_str("BENCH_STREAM_YARDSTICK_ROUNDS", str(rounds))),
        )
        for n in workers:  # a fresh service for each: the same database, seeded above
            log_name = f"stream_server_workers{n}.log"
            server = GatewayServer(url, out_dir / log_name, gateway_env, ("--workers", str(n)))
            try:
                server.wait_ready()
                lines += get_rounds.measure(server, f"`serve --workers {n}`")
            finally:
                server.stop()
        if env_str("BENCH_STREAM_SPLIT", "1") != "0":
            lines += _split(get_rounds, url, out_dir, gateway_env)
    finally:
        mock.stop()
    return lines


def _split(get_rounds: GetRounds, url: str, out_dir: Path, env: dict[str, str]) -> list[str]:
    """The same rounds with the runs served by a `serve` process of their own (what a
    proxy routing the run endpoints to their own processes gives): GET on one, runs on
    the other, one database."""
    api = GatewayServer(url, out_dir / "stream_server_api.log", env)
    runs = GatewayServer(url, out_dir / "stream_server_runs.log", env)
    try:
        api.wait_ready()
        runs.wait_ready()
        where = "`serve --workers 1`, the runs on a second `serve` process"
        return get_rounds.measure(api, where, runs_on=runs)
    finally:
        api.stop()
        runs.stop()


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


def main() -> int:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = OUT / f"stream-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    load_start = loadavg()
    log(f"streaming bench; output in {out_dir}")
    prereq.ensure(out_dir / "setup.log", need_anchors=False)
    lines = measure(out_dir)
    header = [
        f"agentkeel streaming bench  commit: {git_commit()}  {os.cpu_count()} cores",
        f"loadavg start: {load_start}  end: {loadavg()}",
    ]
    table = "\n".join([*header, "", *lines])
    print("\n" + table, flush=True)
    (out_dir / "table.txt").write_text(table + "\n")
    (OUT / "latest-stream.txt").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
