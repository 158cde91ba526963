"""The queue bench's measurements: wrk submissions (accept), worker drains polled in the
database, and open-loop steady submissions."""

import asyncio
import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from bench.common import (
    log,
    parse_result_line,
    which,
)
from bench.cpu import Sample, usage
from bench.queue_setup import INPUT, LUA, TERMINAL, Worker
from bench.report_queue import QueueAcceptRow, QueueDrainRow

# --------------------------------------------------------------------------- database


def one_row(url: str, sql: str, params: tuple[object, ...] = ()) -> tuple[object, ...]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return tuple(row)


def newest_created(url: str) -> object:
    return one_row(url, "SELECT coalesce(max(created_at), '-infinity') FROM executions")[0]


@dataclass(frozen=True, slots=True)
class BatchStats:
    n: int
    statuses: dict[str, int]
    q50_ms: float
    q99_ms: float
    run50_ms: float
    run99_ms: float
    span_s: float  # first started_at -> last finished_at
    attempts_gt1: int


def batch_stats(url: str, after: object, upto: object | None) -> BatchStats:
    """The executions created in (after, upto]: outcome and latencies, from the database."""
    where = "created_at > %s" + (" AND created_at <= %s" if upto is not None else "")
    params = (after,) if upto is None else (after, upto)
    with psycopg.connect(url, autocommit=True) as conn:
        statuses = dict(
            conn.execute(
                f"SELECT status, count(*) FROM executions WHERE {where} GROUP BY status", params
            ).fetchall()
        )
        row = conn.execute(
            f"""
            SELECT count(*),
              percentile_cont(0.5) WITHIN GROUP (ORDER BY started_at - created_at),
              percentile_cont(0.99) WITHIN GROUP (ORDER BY started_at - created_at),
              percentile_cont(0.5) WITHIN GROUP (ORDER BY finished_at - started_at),
              percentile_cont(0.99) WITHIN GROUP (ORDER BY finished_at - started_at),
              max(finished_at) - min(started_at),
              count(*) FILTER (WHERE attempts > 1)
            FROM executions WHERE {where}
            """,
            params,
        ).fetchone()

    def ms(v: object) -> float:
        return v.total_seconds() * 1000 if v is not None else float("nan")

    counts = {str(k): int(v) for k, v in statuses.items()}
    q50, q99, r50, r99 = (ms(v) for v in row[1:5])
    return BatchStats(int(row[0]), counts, q50, q99, r50, r99, ms(row[5]) / 1000, int(row[6]))


def count_terminal(conn: psycopg.Connection, after: object) -> int:
    row = conn.execute(
        f"SELECT count(*) FROM executions WHERE created_at > %s AND {TERMINAL}",
        (after,),
    ).fetchone()
    return int(row[0]) if row else 0


# --------------------------------------------------------------------------- wrk


def run_wrk(base: str, pairs_file: Path, conns: int, duration: int, logfile: Path, label: str,
            limit: int = 0, until: Callable[[], bool] | None = None
            ) -> dict[str, str] | None:  # fmt: skip
    """wrk with bench/submit.lua. `until`: polled every 0.2 s; once true, wrk gets SIGINT (it
    then stops and prints its summary: its own -d cannot end early, even when LIMIT stopped
    its thread)."""
    wrk = which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found")
    env = {**os.environ, "PAIRS_FILE": str(pairs_file), "EXEC_INPUT": json.dumps(INPUT),
           "LIMIT": str(limit)}  # fmt: skip
    cmd = [wrk, "-t1", f"-c{conns}", f"-d{duration}s", "--timeout", "10s", "-s", str(LUA), base]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if until is not None:
        while proc.poll() is None and not until():
            time.sleep(0.2)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # by its PID
    try:
        stdout, stderr = proc.communicate(timeout=duration + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    with logfile.open("a") as out:
        out.write(f"== {label} c={conns} (exit {proc.returncode})\n{stdout}{stderr}\n")
    line = next((ln for ln in stdout.splitlines() if ln.startswith("RESULT")), None)
    if proc.returncode != 0 or line is None:
        log(f"wrk {label} failed (exit {proc.returncode}), see {logfile}")
        return None
    return parse_result_line(line)


def accept(base: str, pairs_file: Path, server_pid: int, conns: int, warm: int, duration: int,
           logfile: Path, processes: int = 1) -> QueueAcceptRow | None:  # fmt: skip
    if warm > 0:
        run_wrk(base, pairs_file, conns, warm, logfile, "accept warm-up")
    a = Sample.take(server_pid)
    v = run_wrk(base, pairs_file, conns, duration, logfile, "accept")
    u = usage(a, Sample.take(server_pid))
    if v is None:
        return None
    requests = max(1, int(v.get("requests", "0")))
    row = QueueAcceptRow(
        processes=processes,
        conns=conns,
        requests=requests,
        rps=float(v.get("rps", "nan")),
        p50_ms=float(v.get("p50_ms", "nan")),
        p99_ms=float(v.get("p99_ms", "nan")),
        errors=int(v.get("non2xx", "0")) + int(v.get("sock_errors", "0")),
        svc_cpu=u.proc_pct,
        pg_cpu=u.pg_pct,
        redis_cpu=u.redis_pct,
        busy=u.busy_pct,
        svc_us_req=1e6 * u.proc_s / requests,
        pg_us_req=1e6 * u.pg_s / requests,
    )
    log(f"accept c={conns} processes={processes}: rps={row.rps:.1f} p50={row.p50_ms:.1f}ms "
        f"p99={row.p99_ms:.1f}ms "
        f"errors={row.errors} svc_cpu={row.svc_cpu:.0f}% pg_cpu={row.pg_cpu:.0f}%")  # fmt: skip
    return row


# --------------------------------------------------------------------------- drain


@dataclass(slots=True)
class Drained:
    row: QueueDrainRow
    notes: list[str] = field(default_factory=list)


def drain(url: str, worker: Worker, after: object, expected: int, label: str, timeout: float,
          timeline: Path) -> tuple[Sample, Sample, int]:  # fmt: skip
    """Poll until `expected` executions created after `after` have ended (or timeout / the
    worker died); returns the first sample with a completion, the first with all done,
    and the last count seen."""
    first: Sample | None = None
    last: Sample | None = None
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn, timeline.open("a") as tl:
        tl.write(f"== {label}: t_s done worker_ticks pg_ticks redis_ticks\n")
        t0 = time.monotonic()
        while True:
            s = Sample.take(worker.pid, count_terminal(conn, after))
            tl.write(f"{s.t - t0:.2f} {s.done} {s.proc} {s.pg} {s.rds}\n")
            if first is None and s.done > 0:
                first = s
            last = s
            if s.done >= expected or time.monotonic() > deadline or not worker.alive():
                break
            time.sleep(0.5)
    assert last is not None
    if last.done < expected:
        why = "worker exited" if not worker.alive() else f"timeout {timeout:.0f}s"
        log(f"{label}: {last.done}/{expected} ended ({why})")
    return first or last, last, last.done


def drain_row(url: str, worker: Worker, after: object, upto: object | None, expected: int,
              label: str, timeout: float, timeline: Path, since: Sample | None = None
              ) -> QueueDrainRow:  # fmt: skip
    """`since`: measure from this sample (steady rows: from before the first submission, as
    completions follow arrivals) instead of from the first completion seen."""
    first, last, done = drain(url, worker, after, expected, label, timeout, timeline)
    first = since or first
    u = usage(first, last)
    n = max(1, last.done - first.done)
    stats = batch_stats(url, after, upto)
    return QueueDrainRow(
        label=label,
        threads=worker.threads,
        executions=stats.n,
        done_per_s=(last.done - first.done) / u.seconds if u.seconds > 0.2 else float("nan"),
        db_per_s=stats.n / stats.span_s if stats.span_s > 0 else float("nan"),
        q50_ms=stats.q50_ms,
        q99_ms=stats.q99_ms,
        run50_ms=stats.run50_ms,
        run99_ms=stats.run99_ms,
        not_success=stats.n - stats.statuses.get("success", 0),
        statuses=stats.statuses,
        wrk_cpu=u.proc_pct,
        pg_cpu=u.pg_pct,
        redis_cpu=u.redis_pct,
        busy=u.busy_pct,
        wrk_us_msg=1e6 * u.proc_s / n,
        pg_us_msg=1e6 * u.pg_s / n,
        complete=done >= expected,
    )


def settle(url: str, timeout: float = 20.0) -> int:
    """Wait until the row count stops moving (wrk has stopped, but the server still answers
    the requests that were in flight); returns the count."""
    prev, stable = -1, 0
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM executions").fetchone()
            count = int(row[0]) if row else 0
            stable = stable + 1 if count == prev else 0
            if stable >= 2:
                break
            prev = count
            time.sleep(0.5)
    return prev


def submit_batch(base: str, pairs_file: Path, url: str, size: int, logfile: Path) -> int:
    """A fresh backlog of about `size` executions (no worker running); returns its size."""
    with psycopg.connect(url, autocommit=True) as conn:

        def count() -> int:
            row = conn.execute("SELECT count(*) FROM executions").fetchone()
            return int(row[0]) if row else 0

        before = count()
        v = run_wrk(base, pairs_file, 32, 600, logfile, f"batch {size}", limit=size,
                    until=lambda: count() - before >= size)  # fmt: skip
        made = settle(url) - before  # with the requests still in flight when wrk stopped
    if v is not None:
        log(f"batch: {made} executions submitted at {v.get('rps')}/s")
    return made


# --------------------------------------------------------------------------- steady


async def open_loop(base: str, pairs: list[tuple[str, str]], rate: float, seconds: float
                     ) -> tuple[Counter[str], list[float]]:  # fmt: skip
    codes: Counter[str] = Counter()
    lat: list[float] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:

        async def one(token: str, agent: str) -> None:
            t = time.perf_counter()
            try:
                r = await client.post(f"/api/agents/{agent}/executions", json={"input": INPUT},
                                      headers={"Authorization": f"Bearer {token}"})  # fmt: skip
                codes[str(r.status_code)] += 1
            except httpx.HTTPError as exc:
                codes[type(exc).__name__] += 1
            lat.append((time.perf_counter() - t) * 1000)

        loop = asyncio.get_running_loop()
        tasks = []
        t0 = loop.time()
        for i in range(int(rate * seconds)):
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(*random.choice(pairs))))
        await asyncio.gather(*tasks)
    return codes, sorted(lat)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]
