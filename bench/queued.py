"""The queue bench: queued executions accepted at the API, completed by ONE worker process.

`agentkeel serve` runs with AGENTKEEL_REDIS_URL (db 14 by default; FLUSHDB at the start) so
it runs NO workers, and without AGENTKEEL_LITELLM_URL so executions go to the offline
sandbox gateway. A few tenants with (non-BYOK) agents are seeded through the API; then:

1. accept: wrk -t1 -c32 (bench/submit.lua) POST /api/agents/{id}/executions for LOAD_WARM +
   LOAD_DURATION seconds, no worker running: acceptance only (-> 202, a row, a message).
2. drain: with that backlog waiting, `agentkeel worker --processes 1 --threads T` is started
   and the database polled (as the superuser) until every execution has ended; then again
   for the other thread counts, each over a fresh batch submitted with no worker running.
   completed/s = terminal executions per second between the first and the last completion
   seen by the poller (worker start-up excluded); queue latency = started_at - created_at.
3. steady: the best thread count's worker left running, executions submitted open-loop at a
   fixed rate (Python client): queue latency when there is no backlog.

Alone: `.venv/bin/python -m bench.queued` (or BENCH_ONLY=queue ... -m bench.run).
Knobs: see bench/README.md (BENCH_QUEUE_*). Not named queue.py: that would shadow the
standard library's `queue` for anyone running a file from bench/ directly.
"""

import asyncio
import os
import platform
import sys
import time
from pathlib import Path

import psycopg

from bench import prereq, service
from bench.common import (
    OUT,
    POOL_SIZE,
    REDIS_URL,
    env_str,
    git_commit,
    loadavg,
    log,
)
from bench.cpu import Sample
from bench.queue_runs import (
    accept,
    batch_stats,
    drain_row,
    newest_created,
    one_row,
    open_loop,
    pct,
    settle,
    submit_batch,
)
from bench.queue_setup import (
    DLQ_KEY,
    MSGS_KEY,
    QUEUE_DB,
    TERMINAL,
    Worker,
    flush_redis,
    queue_env,
    redis_client,
    seed_agents,
    smoke,
)
from bench.report_queue import QueueAcceptRow, QueueDrainRow, render_queue

# --------------------------------------------------------------------------- driver


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.replace(" ", "").split(",") if x]


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.replace(" ", "").split(",") if x and float(x) > 0]


def measure(out_dir: Path) -> tuple[list[QueueAcceptRow], list[QueueDrainRow], list[str]]:
    tenants = int(env_str("BENCH_QUEUE_TENANTS", "4"))
    agents = int(env_str("BENCH_QUEUE_AGENTS", "5"))
    conns = int(env_str("BENCH_QUEUE_CONNS", env_str("LOAD_CONNS", "32")))
    warm = int(env_str("BENCH_QUEUE_WARM", env_str("LOAD_WARM", "5")))
    duration = int(env_str("BENCH_QUEUE_DURATION", env_str("LOAD_DURATION", "20")))
    threads = _ints(env_str("BENCH_QUEUE_THREADS", "16,32,8"))
    batch = int(env_str("BENCH_QUEUE_BATCH", "5000"))
    rates = _floats(env_str("BENCH_QUEUE_STEADY_RATES", "50,5"))
    steady_s = float(env_str("BENCH_QUEUE_STEADY_DURATION", "10"))
    timeout = float(env_str("BENCH_QUEUE_DRAIN_TIMEOUT", "300"))
    processes = int(env_str("BENCH_QUEUE_SERVE_PROCESSES", "2"))
    notes = [
        f"setup: `agentkeel serve` (1 process, pool {POOL_SIZE}, database {QUEUE_DB}, "
        f"AGENTKEEL_REDIS_URL={REDIS_URL} so serve runs no workers, sandbox gateway); "
        f"{tenants} tenants x {agents} agents (non-BYOK)",
        f"accept: wrk -t1 -c{conns} (bench/submit.lua) {warm}s warm + {duration}s, no worker; "
        f"drain: `agentkeel worker --processes 1 --threads T` for T in {threads}, the first over "
        f"the accept backlog, the others over fresh batches of ~{batch}",
    ]
    flush_redis()
    url = service.recreate_database(QUEUE_DB)
    operator = service.operator_key(url)
    server = service.Server(url, out_dir / "queue_server.log", env=queue_env(url))
    accepts: list[QueueAcceptRow] = []
    rows: list[QueueDrainRow] = []
    wlog, wrk_log, timeline = (out_dir / f"queue_{n}" for n in ("worker.log", "load.log",
                                                                 "timeline.txt"))  # fmt: skip
    try:
        server.wait_ready()
        pairs = asyncio.run(seed_agents(server.base, operator, tenants, agents))
        pairs_file = out_dir / "queue_pairs.txt"
        pairs_file.write_text("".join(f"{t} {a}\n" for t, a in pairs))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        ok, smoke_text = smoke(server.base, pairs)
        log(f"queue smoke: {smoke_text}")
        notes.append(f"smoke: {smoke_text}")
        if not ok:
            log("queue smoke test FAILED: not loading")
            return accepts, rows, notes

        # 1. acceptance only
        accept_row = accept(server.base, pairs_file, server.pid, conns, warm, duration, wrk_log)
        accepts += [accept_row] if accept_row is not None else []
        notes.append(f"loadavg after accept: {loadavg()}")

        # 2. drain a backlog with one worker process, per thread count
        after: object = "-infinity"
        for i, t in enumerate(threads):
            if (
                i > 0
                or one_row(url, f"SELECT count(*) FROM executions WHERE NOT {TERMINAL}")[0] == 0
            ):
                submit_batch(server.base, pairs_file, url, batch, wrk_log)
            settle(url)  # the accept step's last requests, still in flight when wrk ended
            backlog = int(
                one_row(url, "SELECT count(*) FROM executions WHERE status = 'queued'")[0]
            )
            upto = newest_created(url)
            with redis_client() as rc:
                msgs = rc.hlen(MSGS_KEY)
            label = "drain-accept-backlog" if i == 0 and accepts else "drain-batch"
            log(f"{label} T={t}: {backlog} queued, {msgs} messages in Redis; starting the worker")
            if msgs != backlog:
                notes.append(f"{label} T={t}: {backlog} queued rows but {msgs} Redis messages")
            worker = Worker(url, t, wlog)
            try:
                ready = worker.wait_ready()
                row = drain_row(url, worker, after, upto, backlog, label, timeout, timeline)
            finally:
                worker.stop()
            rows.append(row)
            requeued, errors = worker.reaper_requeued(), worker.error_lines()
            notes.append(
                f"{label} T={t}: backlog {backlog}, worker ready {ready:.1f}s after spawn; "
                f"statuses {row.statuses}; attempts>1: "
                f"{batch_stats(url, after, upto).attempts_gt1}; reaper requeued {requeued}; "
                f"worker log error lines {errors}; loadavg after: {loadavg()}"
                + ("" if row.complete else "; DID NOT DRAIN")
            )
            log(f"{label} T={t}: {row.done_per_s:.1f}/s (db {row.db_per_s:.1f}/s) "
                f"q p50={row.q50_ms:.0f}ms p99={row.q99_ms:.0f}ms not_success={row.not_success} "
                f"worker cpu {row.wrk_cpu:.0f}% = {row.wrk_us_msg:.0f} us/msg")  # fmt: skip
            after = upto

        # 3. steady: open-loop arrivals with the best worker running
        complete = [r for r in rows if r.complete and r.done_per_s == r.done_per_s]
        if rates and complete:
            best = max(complete, key=lambda r: r.done_per_s).threads
            worker = Worker(url, best, wlog)
            try:
                worker.wait_ready()
                for rate in rates:
                    start = newest_created(url)
                    since = Sample.take(worker.pid)
                    codes, lat = asyncio.run(open_loop(server.base, pairs, rate, steady_s))
                    sent = sum(codes.values())
                    label = f"steady-{rate:g}/s"
                    row = drain_row(url, worker, start, None, codes.get("202", 0), label,
                                    timeout, timeline, since)  # fmt: skip
                    rows.append(row)
                    notes.append(
                        f"{label} T={best}: {sent} submitted open-loop over {steady_s:g}s "
                        f"(Python client), answers {dict(codes)}, submit p50 "
                        f"{pct(lat, 0.5):.1f} ms p99 {pct(lat, 0.99):.1f} ms; statuses "
                        f"{row.statuses}; loadavg after: {loadavg()}"
                    )
                    log(f"{label}: q p50={row.q50_ms:.1f}ms p99={row.q99_ms:.1f}ms "
                        f"not_success={row.not_success}")  # fmt: skip
            finally:
                worker.stop()
        with redis_client() as rc:
            notes.append(
                f"redis after: {rc.hlen(MSGS_KEY)} messages left, {rc.zcard(DLQ_KEY)} dead letters"
            )
    finally:
        server.stop()
    if processes > 1 and accepts:
        accepts += accept_with_processes(url, out_dir, pairs_file, processes, conns, warm, duration)
    return accepts, rows, notes


def accept_with_processes(url: str, out_dir: Path, pairs_file: Path, processes: int, conns: int,
                          warm: int, duration: int) -> list[QueueAcceptRow]:  # fmt: skip
    """The accept step again, on `serve --workers N` (the same database; no worker)."""
    server = service.Server(url, out_dir / f"queue_server_{processes}.log", env=queue_env(url),
                            args=("--workers", str(processes)))  # fmt: skip
    try:
        server.wait_ready()
        row = accept(server.base, pairs_file, server.pid, conns, warm, duration,
                     out_dir / "queue_load.log", processes)  # fmt: skip
    finally:
        server.stop()
    return [row] if row is not None else []


def section(out_dir: Path) -> list[str]:
    """For bench/run.py: measure, save queue.tsv, return the rendered lines (never raises)."""
    try:
        accepts, rows, notes = measure(out_dir)
    except Exception as exc:  # report the rest of the run anyway
        log(f"queue measurement failed: {type(exc).__name__}: {exc}")
        return [f"== queue: FAILED: {type(exc).__name__}: {exc}"]
    write_tsv(accepts, rows, out_dir / "queue.tsv")
    return render_queue(accepts, rows, notes)


def write_tsv(accepts: list[QueueAcceptRow], rows: list[QueueDrainRow], path: Path) -> None:
    with path.open("w") as f:
        for a in accepts:
            f.write(f"accept\tp={a.processes}\tc={a.conns}\t{a.rps:.1f}\t{a.p50_ms:.3f}\t{a.p99_ms:.3f}\t"
                    f"{a.errors}\t{a.svc_cpu:.0f}\t{a.busy:.0f}\n")  # fmt: skip
        for r in rows:
            f.write(f"{r.label}\tT={r.threads}\t{r.done_per_s:.1f}\t{r.q50_ms:.1f}\t"
                    f"{r.q99_ms:.1f}\t{r.not_success}\t{r.wrk_cpu:.0f}\t"
                    f"{r.busy:.0f}\n")  # fmt: skip


def main() -> int:
    """Standalone: only this section, its own output dir and table."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = OUT / f"queue-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    load_start = loadavg()
    log(f"queue bench; output in {out_dir}")
    prereq.ensure(out_dir / "setup.log", need_anchors=False)
    lines = section(out_dir)
    header = [
        f"agentkeel queue bench  commit: {git_commit()}  {os.cpu_count()} cores  "
        f"{platform.python_implementation()} {platform.python_version()}",
        f"loadavg start: {load_start}  end: {loadavg()}",
    ]
    table = "\n".join([*header, "", *lines])
    print("\n" + table, flush=True)
    (out_dir / "table.txt").write_text(table + "\n")
    (OUT / "latest-queue.txt").write_text(table + "\n")
    log(f"table saved to {out_dir / 'table.txt'} (and {OUT / 'latest-queue.txt'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
