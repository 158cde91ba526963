"""The execute bench: agentkeel's ADDED latency on POST /api/agents/execute.

A local mock LiteLLM proxy (bench/mock_upstream.py, its own process) answers instantly;
`agentkeel serve` (pool 10) is pointed at it with AGENTKEEL_LITELLM_URL and a master key.
A few tenants are seeded through the API, each with a BYOK provider (its deployment and
virtual key minted at the mock) and agents of both kinds. wrk (bench/execute.lua) then
measures, at c=32 (warm-up + measured, like load.sh) and at c=1:

  upstream-alone    POST /chat/completions on the mock directly, the body the service sends
  execute-platform  POST /api/agents/execute, non-BYOK agents (platform key)
  execute-byok      POST /api/agents/execute, BYOK agents (the tenant's virtual key)

added = service p50/p99 - upstream-alone p50/p99 at the same concurrency. The c=1 added p50
is the per-call figure (database round trips included); c=32 mixes in queueing.

Alone: `.venv/bin/python -m bench.execute` (or BENCH_ONLY=execute ... -m bench.run).
Knobs: see bench/README.md (BENCH_EXEC_*).
"""

import asyncio
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench import prereq, service
from bench.common import (
    OUT,
    POOL_SIZE,
    env_str,
    git_commit,
    loadavg,
    log,
    parse_result_line,
    which,
)
from bench.cpu import machine, ticks, tree
from bench.exec_setup import INPUT, GatewayServer, Mock, seed, smoke, upstream_body
from bench.report import ExecRow, render_execute

EXEC_DB = env_str("BENCH_EXEC_DB", "agentkeel_bench_exec")
LUA = Path(__file__).resolve().parent / "execute.lua"
# --------------------------------------------------------------------------- load


@dataclass(frozen=True, slots=True)
class Shot:
    label: str
    base: str
    env: dict[str, str]


def _counters(svc_pid: int, mock_pid: int) -> tuple[int, int, tuple[int, int], float]:
    """CPU ticks of the service and of the mock (bench/cpu.py), the machine's, the time."""
    return ticks(tree(svc_pid)), ticks(tree(mock_pid)), machine(), time.monotonic()


def run_wrk(shot: Shot, conns: int, warm: int, duration: int, svc_pid: int, mock_pid: int,
            logfile: Path) -> ExecRow | None:  # fmt: skip
    wrk = which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found")
    env = {**os.environ, **shot.env}
    cmd = [wrk, "-t1", f"-c{conns}", "--timeout", "10s", "-s", str(LUA), shot.base]
    if warm > 0:
        subprocess.run([*cmd, f"-d{warm}s"], env=env, capture_output=True, check=False)
    hz = os.sysconf("SC_CLK_TCK")
    s0, m0, (b0, a0), t0 = _counters(svc_pid, mock_pid)
    proc = subprocess.run([*cmd, f"-d{duration}s"], env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    s1, m1, (b1, a1), t1 = _counters(svc_pid, mock_pid)
    with logfile.open("a") as out:
        out.write(f"== {shot.label} c={conns} (exit {proc.returncode})\n")
        out.write(proc.stdout + proc.stderr + "\n")
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if proc.returncode != 0 or line is None:
        log(f"wrk {shot.label} c={conns} failed (exit {proc.returncode}), see {logfile}")
        return None
    v = parse_result_line(line)
    wall = t1 - t0
    requests = max(1, int(v.get("requests", "0")))
    svc_s, mock_s = (s1 - s0) / hz, (m1 - m0) / hz
    row = ExecRow(
        name=shot.label,
        conns=conns,
        rps=float(v.get("rps", "nan")),
        p50_ms=float(v.get("p50_ms", "nan")),
        p99_ms=float(v.get("p99_ms", "nan")),
        errors=int(v.get("non2xx", "0")) + int(v.get("sock_errors", "0")),
        svc_cpu=100 * svc_s / wall,
        up_cpu=100 * mock_s / wall,
        busy=100 * (b1 - b0) / (a1 - a0) if a1 > a0 else 0.0,
        svc_us_req=1e6 * svc_s / requests,
        up_us_req=1e6 * mock_s / requests,
    )
    log(f"{shot.label} c={conns}: {line}  svc_cpu={row.svc_cpu:.0f}% up_cpu={row.up_cpu:.0f}%")
    return row


# --------------------------------------------------------------------------- driver


def measure(out_dir: Path) -> tuple[list[ExecRow], list[str]]:
    """The whole section: processes up, seed, smoke, wrk; returns rows and notes."""
    tenants = int(env_str("BENCH_EXEC_TENANTS", "4"))
    per_kind = int(env_str("BENCH_EXEC_AGENTS", "2"))
    conns = int(env_str("BENCH_EXEC_CONNS", env_str("LOAD_CONNS", "32")))
    warm = int(env_str("LOAD_WARM", "5"))
    duration = int(env_str("LOAD_DURATION", "20"))
    c1_warm = int(env_str("BENCH_EXEC_C1_WARM", "2"))
    c1_duration = int(env_str("BENCH_EXEC_C1_DURATION", "10"))
    master_key = "sk-bench-master-" + secrets.token_hex(12)
    notes = [
        f"setup: mock LiteLLM proxy (bench/mock_upstream.py, 1 process, uvloop) + `agentkeel "
        f"serve` (1 process, pool {POOL_SIZE}, database {EXEC_DB}); {tenants} tenants x "
        f"({per_kind} platform + {per_kind} BYOK agents, 1 provider each)",
        f"wrk -t1 (bench/execute.lua): c={conns} {warm}s warm + {duration}s; "
        f"c=1 {c1_warm}s warm + {c1_duration}s; upstream body {len(upstream_body())} bytes",
    ]
    url = service.recreate_database(EXEC_DB)
    operator = service.operator_key(url)
    mock = Mock(master_key, out_dir / "exec_mock.log")
    rows: list[ExecRow] = []
    try:
        server = GatewayServer(
            url,
            out_dir / "exec_server.log",
            {"AGENTKEEL_LITELLM_URL": mock.base, "AGENTKEEL_LITELLM_MASTER_KEY": master_key},
        )
        try:
            server.wait_ready()
            seeded = asyncio.run(seed(server.base, operator, tenants, per_kind))
            for kind, pairs in (("platform", seeded.platform), ("byok", seeded.byok)):
                (out_dir / f"exec_pairs_{kind}.txt").write_text(
                    "".join(f"{t} {a}\n" for t, a in pairs)
                )
            log(f"seeded {tenants} tenants; pairs in {out_dir}/exec_pairs_*.txt")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            ok, smoke_text = smoke(server.base, mock, seeded)
            log(f"execute smoke: {smoke_text}")
            notes.append(f"smoke: {smoke_text}")
            if not ok:
                log("execute smoke test FAILED: not loading")
                return rows, notes
            input_literal = json.dumps(INPUT)
            shots = [
                Shot("upstream-alone", mock.base, {
                    "MODE": "upstream", "UPSTREAM_BODY": upstream_body(),
                    "UPSTREAM_KEY": master_key}),
                Shot("execute-platform", server.base, {
                    "MODE": "execute", "EXEC_INPUT": input_literal,
                    "PAIRS_FILE": str(out_dir / "exec_pairs_platform.txt")}),
                Shot("execute-byok", server.base, {
                    "MODE": "execute", "EXEC_INPUT": input_literal,
                    "PAIRS_FILE": str(out_dir / "exec_pairs_byok.txt")}),
            ]  # fmt: skip
            wrk_log = out_dir / "exec_load.log"
            for c, w, d in ((conns, warm, duration), (1, c1_warm, c1_duration)):
                for shot in shots:
                    before = mock.stats().get("connections", 0)
                    row = run_wrk(shot, c, w, d, server.pid, mock.pid, wrk_log)
                    if row is not None:
                        rows.append(row)
                    opened = mock.stats().get("connections", 0) - before
                    if shot.label != "upstream-alone" and opened > 2 * c:
                        notes.append(
                            f"{shot.label} c={c}: the service opened {opened} connections to "
                            "the upstream (warm-up + measured): keep-alive churn"
                        )
            notes.append(f"mock upstream counters: {mock.stats()}")
        finally:
            server.stop()
    finally:
        mock.stop()
    return rows, notes


def main() -> int:
    """Standalone: only this section, its own output dir and table."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = OUT / f"exec-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    load_start = loadavg()
    log(f"execute bench; output in {out_dir}")
    prereq.ensure(out_dir / "setup.log", need_anchors=False)
    rows, notes = measure(out_dir)
    header = [
        f"agentkeel execute bench  commit: {git_commit()}  {os.cpu_count()} cores  "
        f"{platform.python_implementation()} {platform.python_version()}",
        f"loadavg start: {load_start}  end: {loadavg()}",
    ]
    table = "\n".join([*header, "", *render_execute(rows, notes)])
    print("\n" + table, flush=True)
    (out_dir / "table.txt").write_text(table + "\n")
    (OUT / "latest-execute.txt").write_text(table + "\n")
    write_tsv(rows, out_dir / "execute.tsv")
    log(f"table saved to {out_dir / 'table.txt'} (and {OUT / 'latest-execute.txt'})")
    return 0


def write_tsv(rows: list[ExecRow], path: Path) -> None:
    with path.open("w") as f:
        for r in rows:
            f.write(f"{r.name}\tc={r.conns}\t{r.rps:.1f}\t{r.p50_ms:.3f}\t{r.p99_ms:.3f}\t"
                    f"{r.errors}\t{r.svc_cpu:.0f}\t{r.up_cpu:.0f}\t{r.busy:.0f}\n")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
