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
The machine's own speed is probed first (bench/cpu.py `host_speed`): on this VM it moves
by up to 2x within seconds with nothing else running, so one round's ratio says little.

Alone: `.venv/bin/python -m bench.streaming` (or BENCH_ONLY=stream ... -m bench.run).
"""

import asyncio
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import psycopg

from bench import prereq, service
from bench.common import OUT, env_str, git_commit, loadavg, log, parse_result_line, which
from bench.cpu import host_speed, ticks, tree
from bench.exec_setup import INPUT, GatewayServer, Mock, upstream_body
from bench.seed import PROMPT, api_post
from bench.stream_clients import Background, Timed, timed_stream

STREAM_DB = env_str("BENCH_STREAM_DB", "agentkeel_bench_stream")
GET_LUA = Path(__file__).resolve().parent / "get.lua"
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


def _run_body(agent_id: str) -> bytes:
    return json.dumps({"agent_id": agent_id, "input": INPUT, "stream": True}).encode()


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


def _pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def _wrk_get(server: GatewayServer, pairs: Path, duration: int, logfile: Path) -> dict[str, str]:
    """wrk's RESULT fields, plus `svc_cpu`: the service's CPU, % of one core."""
    base = server.base
    wrk = which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found")
    env = {**os.environ, "PAIRS_FILE": str(pairs)}
    cmd = [wrk, "-t1", "-c32", "--timeout", "10s", "-s", str(GET_LUA), base]
    subprocess.run([*cmd, "-d2s"], env=env, capture_output=True, check=False)
    c0, t0 = ticks(tree(server.pid)), time.monotonic()
    proc = subprocess.run(
        [*cmd, f"-d{duration}s"], env=env, capture_output=True, text=True, check=False
    )
    hz = os.sysconf("SC_CLK_TCK")
    cpu = 100 * (ticks(tree(server.pid)) - c0) / hz / (time.monotonic() - t0)
    with logfile.open("a") as out:
        out.write(proc.stdout + proc.stderr + "\n")
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), "")
    return {**(parse_result_line(line) if line else {}), "svc_cpu": f"{cpu:.0f}"}


def measure(out_dir: Path) -> list[str]:
    runs = int(env_str("BENCH_STREAM_RUNS", "200"))
    conc = int(env_str("BENCH_STREAM_CONCURRENCY", "100"))
    duration = int(env_str("BENCH_STREAM_GET_DURATION", "8"))
    rounds = int(env_str("BENCH_STREAM_ROUNDS", "8"))
    master = "sk-bench-master-" + secrets.token_hex(12)
    url = service.recreate_database(STREAM_DB)
    operator = service.operator_key(url)
    slow_chunks = env_str("BENCH_STREAM_SLOW_CHUNKS", "20")
    slow_ms = env_str("BENCH_STREAM_SLOW_INTERVAL_MS", "250")
    args = ("--slow-chunks", slow_chunks, "--slow-interval-ms", slow_ms)
    mock = Mock(master, out_dir / "stream_mock.log", args)
    lines: list[str] = []
    try:
        server = GatewayServer(
            url,
            out_dir / "stream_server.log",
            {"AGENTKEEL_LITELLM_URL": mock.base, "AGENTKEEL_LITELLM_MASTER_KEY": master},
        )
        try:
            server.wait_ready()
            fast, slow = asyncio.run(_seed(server.base, operator))
            pairs = out_dir / "stream_get_pairs.txt"
            pairs.write_text("".join(f"{t} {a}\n" for t, a in fast + slow))
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            c1 = asyncio.run(_c1(mock.base, server.base, master, fast, runs))
            lines += _render_c1(c1, runs)
            lines += _render_host_speed(host_speed())
            get_rows = []
            wrk = partial(_wrk_get, server, pairs, duration, out_dir / "stream_load.log")
            for rnd in range(1, rounds + 1):
                background = Background(
                    server.base,
                    [(_run_body(a), _auth(t)) for t, a in slow],
                    conns=conc,
                    spread_s=int(slow_chunks) * float(slow_ms) / 1000,
                )
                if rnd % 2:  # odd rounds: alone first
                    alone, loaded = wrk(), _with_streams(background, wrk)
                else:
                    loaded, alone = _with_streams(background, wrk), wrk()
                get_rows.append((rnd, alone, loaded, background.done, background.failed))
            lines += _render_get(get_rows, conc, f"{slow_chunks} deltas {slow_ms} ms apart")
        finally:
            server.stop()
    finally:
        mock.stop()
    return lines


def _with_streams(background: Background, wrk: Callable[[], dict[str, str]]) -> dict[str, str]:
    background.start()
    time.sleep(background.spread_s)  # all streams open
    loaded = wrk()
    background.stop()
    if background.error is not None:
        raise SystemExit(f"the streaming client stopped: {background.error}")
    return loaded


def _render_host_speed(counts: list[int]) -> list[str]:
    low, mid, high = min(counts), statistics.median(counts), max(counts)
    return [
        "",
        f"host speed, idle machine, one core, {len(counts)} slices of 0.5 s (loops of fixed "
        f"work): min {low}, median {mid:.0f}, max {high} (max/min x{high / max(low, 1):.2f})",
    ]


def _render_c1(c1: dict[str, list[Timed]], runs: int) -> list[str]:
    out = [
        "== streaming, c=1: mock upstream streams 20 deltas 10 ms apart; lag = arrival - "
        f"upstream send time (CLOCK_MONOTONIC); {runs} runs each, alternating",
        f"{'measure':<16} {'ok':>4} {'ttfb_p50':>9} {'ttfb_p99':>9} {'first_p50':>10} "
        f"{'first_p99':>10} {'chunk_p50':>10} {'chunk_p99':>10}",
    ]
    stats = {}
    for name, timed in c1.items():
        ok = [t for t in timed if t.ok]
        ttfb, first = [t.ttfb_ms for t in ok], [t.first_ms for t in ok]
        chunks = [lag for t in ok for lag in t.chunk_ms]
        row = (
            _pct(ttfb, 50),
            _pct(ttfb, 99),
            _pct(first, 50),
            _pct(first, 99),
            _pct(chunks, 50),
            _pct(chunks, 99),
        )
        stats[name] = row
        out.append(f"{name:<16} {len(ok):>4} " + " ".join(f"{v:>9.3f} " for v in row))
    up, ak = stats["upstream-alone"], stats["execute-stream"]
    added = [a - u for a, u in zip(ak, up, strict=True)]
    out.append(f"{'added':<16} {'':>4} " + " ".join(f"{v:>9.3f} " for v in added))
    verdict = "met" if ak[2] < 3.0 else "MISSED"
    out.append(
        f"target: first byte within 3 ms of the upstream's first chunk at c=1: execute-stream "
        f"first_p50 = {ak[2]:.3f} ms ({verdict}); added per chunk p50 = {added[4]:.3f} ms, "
        f"p99 = {added[5]:.3f} ms; ttfb includes the run's database round trips"
    )
    return out


def _render_get(rows: list, conc: int, profile: str) -> list[str]:  # type: ignore[type-arg]
    out = [
        "",
        f"== GET /api/agents/{{id}} (wrk -t1 -c32), alone and with {conc} streamed runs "
        f"going ({profile} each)",
        f"{'round':<6} {'load':<14} {'rps':>9} {'p50_ms':>8} {'p99_ms':>8} {'errors':>6} "
        f"{'streams_ok':>10} {'failed':>6} {'svc_cpu':>7}",
    ]
    ratios = []
    for rnd, alone, loaded, done, failed in rows:
        for label, v, extra in (
            ("alone", alone, ("", "")),
            (f"+{conc} streams", loaded, (str(done), str(failed))),
        ):
            errors = int(v.get("non2xx", "0")) + int(v.get("sock_errors", "0"))
            out.append(
                f"{rnd:<6} {label:<14} {float(v.get('rps', 'nan')):>9.1f} "
                f"{float(v.get('p50_ms', 'nan')):>8.3f} {float(v.get('p99_ms', 'nan')):>8.3f} "
                f"{errors:>6} {extra[0]:>10} {extra[1]:>6} {v.get('svc_cpu', '?'):>6}%"
            )
        with contextlib.suppress(KeyError, ValueError, ZeroDivisionError):
            ratios.append(
                (
                    float(loaded["rps"]) / float(alone["rps"]),
                    float(loaded["p99_ms"]) / float(alone["p99_ms"]),
                )
            )
    for (rps, p99), (rnd, *_) in zip(ratios, rows, strict=False):
        order = "alone first" if rnd % 2 else "streams first"
        out.append(f"round {rnd} ({order}): with streams / alone: rps x{rps:.3f}, p99 x{p99:.3f}")
    if ratios:
        rps = statistics.median(r for r, _ in ratios)
        p99 = statistics.median(p for _, p in ratios)
        verdict = "met" if rps >= 0.9 and p99 <= 1.1 else "MISSED"
        low, high = min(r for r, _ in ratios), max(r for r, _ in ratios)
        out.append(
            f"median of {len(ratios)} rounds: rps x{rps:.3f} (rounds x{low:.3f} to "
            f"x{high:.3f}), p99 x{p99:.3f} (target: within 10%: {verdict})"
        )
    return out


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
