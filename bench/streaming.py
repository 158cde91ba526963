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
import contextlib
import json
import os
import secrets
import sys
import time
from functools import partial
from pathlib import Path

import httpx
import psycopg

from bench import prereq, service
from bench.common import OUT, env_str, git_commit, loadavg, log
from bench.cpu import host_speed
from bench.exec_setup import GatewayServer, Mock, upstream_body
from bench.get_rounds import GetRounds, auth, run_body
from bench.report_stream import render_c1, render_host_speed
from bench.seed import PROMPT, api_post
from bench.stream_clients import Timed, timed_stream

STREAM_DB = env_str("BENCH_STREAM_DB", "agentkeel_bench_stream")
SLOW_MODEL = "bench-slow-stream"


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


async def _c1(mock: str, base: str, master: str, fast: list, runs: int) -> dict:  # type: ignore[type-arg]
    up_body = json.dumps(
        {**json.loads(upstream_body()), "stream": True}, separators=(",", ":")
    ).encode()
    results: dict[str, list[Timed]] = {"upstream-alone": [], "execute-stream": []}
    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(runs + 10):  # the first 10 of each: warm-up
            token, agent = fast[n % len(fast)]
            up = await timed_stream(client, mock + "/chat/completions", up_body, auth(master))
            ak = await timed_stream(
                client, base + "/api/agents/execute", run_body(agent), auth(token)
            )
            if n >= 10:
                results["upstream-alone"].append(up)
                results["execute-stream"].append(ak)
    return results


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
    with contextlib.ExitStack() as started:  # stopped however the other one fares
        api = GatewayServer(url, out_dir / "stream_server_api.log", env)
        started.callback(api.stop)
        runs = GatewayServer(url, out_dir / "stream_server_runs.log", env)
        started.callback(runs.stop)
        api.wait_ready()
        runs.wait_ready()
        where = "`serve --workers 1`, the runs on a second `serve` process"
        return get_rounds.measure(api, where, runs_on=runs)


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
