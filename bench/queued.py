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
import contextlib
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import redis

from adapters.dramatiq_queue.broker import EXECUTIONS_QUEUE, NAMESPACE
from bench import prereq, service
from bench.common import (
    OUT,
    POOL_SIZE,
    REDIS_URL,
    VENV_BIN,
    env_str,
    git_commit,
    loadavg,
    log,
    parse_result_line,
    which,
)
from bench.cpu import Sample, usage
from bench.report import QueueAcceptRow, QueueDrainRow, render_queue
from bench.seed import PROMPT

QUEUE_DB = env_str("BENCH_QUEUE_DB", "agentkeel_bench_queue")
LUA = Path(__file__).resolve().parent / "submit.lua"
INPUT = "Summarise in one sentence why unit tests are worth writing."
MSGS_KEY = f"{NAMESPACE}:{EXECUTIONS_QUEUE}.msgs"  # Dramatiq's message bodies, by id
DLQ_KEY = f"{NAMESPACE}:{EXECUTIONS_QUEUE}.XQ"  # its dead letters
TERMINAL = "status NOT IN ('queued', 'running')"


# --------------------------------------------------------------------------- setup


def redis_client() -> "redis.Redis[bytes]":
    client: redis.Redis[bytes] = redis.Redis.from_url(REDIS_URL)
    return client


def flush_redis() -> None:
    """FLUSHDB on the bench's own Redis database; never on db 0 (the default, likely shared)."""
    path = urlsplit(REDIS_URL).path.strip("/")
    if not path.isdigit() or int(path) == 0:
        raise RuntimeError(
            f"BENCH_QUEUE_REDIS_URL must name a dedicated db index other than 0 (got {path!r}): "
            "the bench runs FLUSHDB on it"
        )
    with redis_client() as client:
        client.flushdb()
    log(f"redis db {path} flushed")


def _env(url: str) -> dict[str, str]:
    """The service's environment: Redis broker (so serve runs no workers), sandbox gateway."""
    env = service.service_env(url)
    for name in ("AGENTKEEL_LITELLM_URL", "AGENTKEEL_LITELLM_MASTER_KEY"):
        env.pop(name, None)
    return env


class Worker:
    """`agentkeel worker --processes 1 --threads T` (one process); stopped by its PID only."""

    def __init__(self, url: str, threads: int, logfile: Path) -> None:
        self.threads = threads
        self.logfile = logfile
        self._log = logfile.open("a")
        self._log.write(f"\n==== worker --threads {threads}\n")
        self._log.flush()
        self._offset = logfile.stat().st_size
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "agentkeel"), "worker", "--processes", "1", "--threads", str(threads)],
            env=_env(url),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.proc.pid

    def own_log(self) -> str:
        with self.logfile.open() as f:
            f.seek(self._offset)
            return f.read()

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from spawn to `agentkeel worker ... running`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agentkeel worker exited {self.proc.returncode}, see log")
            if "agentkeel worker" in self.own_log() and " running (" in self.own_log():
                return time.monotonic() - self.started
            time.sleep(0.1)
        raise RuntimeError(f"agentkeel worker not running after {timeout:.0f} s")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        log(f"worker stopped (pid {self.pid}, exit {self.proc.returncode})")

    def reaper_requeued(self) -> int:
        """Executions its reaper enqueued again (queued > 2 min: duplicate, no-op messages)."""
        total = 0
        for line in self.own_log().splitlines():
            if "reaper: " in line and " requeued" in line:
                with contextlib.suppress(IndexError, ValueError):
                    total += int(line.split("reaper: ", 1)[1].split()[0])
        return total

    def error_lines(self) -> int:
        return sum(1 for ln in self.own_log().splitlines() if " ERROR " in ln or "Traceback" in ln)


# --------------------------------------------------------------------------- seeding, smoke


async def _seed(base: str, operator: str, tenants: int, agents: int) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def post(path: str, token: str, body: dict[str, object]) -> dict[str, str]:
            r = await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
            if r.status_code != 201:
                raise RuntimeError(f"POST {path} -> {r.status_code}: {r.text[:300]}")
            data: dict[str, str] = r.json()
            return data

        pairs: list[tuple[str, str]] = []
        for t in range(tenants):
            tenant = await post(
                "/api/tenants",
                operator,
                {"name": f"queue-tenant-{t:03d}", "admin_email": f"q{t}@bench.example"},
            )
            token = tenant["api_key"]
            for a in range(agents):
                made = await post(
                    "/api/agents",
                    token,
                    {"name": f"queued-{a}", "system_prompt": PROMPT, "model": "gpt-4o-mini",
                     "temperature": 0.5, "max_tokens": 256},
                )  # fmt: skip
                pairs.append((token, made["id"]))
    return pairs


def smoke(base: str, pairs: list[tuple[str, str]]) -> tuple[bool, str]:
    """202 + Location + queued; GET it; unknown agent 404; the message is in Redis and
    nothing takes it (no worker: serve must not run any with AGENTKEEL_REDIS_URL)."""
    token, agent = pairs[0]
    auth = {"Authorization": f"Bearer {token}"}
    results: list[tuple[str, bool, object]] = []
    with httpx.Client(base_url=base, timeout=10) as c, redis_client() as rc:
        before = rc.hlen(MSGS_KEY)
        r = c.post(f"/api/agents/{agent}/executions", json={"input": INPUT}, headers=auth)
        body = r.json() if r.status_code == 202 else {}
        exec_id = body.get("id")
        ok = (
            r.status_code == 202
            and body.get("status") == "queued"
            and r.headers.get("location") == f"/api/executions/{exec_id}"
        )
        results.append(("submit", ok, r.status_code))
        results.append(("message", rc.hlen(MSGS_KEY) == before + 1, rc.hlen(MSGS_KEY) - before))
        r = c.get(f"/api/executions/{exec_id}", headers=auth)
        results.append(
            ("get", r.status_code == 200 and r.json().get("id") == exec_id, r.status_code)
        )
        r = c.post(f"/api/agents/{uuid.uuid4()}/executions", json={"input": INPUT}, headers=auth)
        results.append(("unknown_agent", r.status_code == 404, r.status_code))
        time.sleep(1.5)
        r = c.get(f"/api/executions/{exec_id}", headers=auth)
        status = r.json().get("status") if r.status_code == 200 else r.status_code
        results.append(("no_worker", status == "queued", status))
    text = " ".join(f"{label}={v}{'' if ok else '(FAIL)'}" for label, ok, v in results)
    return all(ok for _, ok, _ in results), text


# --------------------------------------------------------------------------- database


def _one(url: str, sql: str, params: tuple[object, ...] = ()) -> tuple[object, ...]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return tuple(row)


def newest_created(url: str) -> object:
    return _one(url, "SELECT coalesce(max(created_at), '-infinity') FROM executions")[0]


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


async def _open_loop(base: str, pairs: list[tuple[str, str]], rate: float, seconds: float
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


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


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
    server = service.Server(url, out_dir / "queue_server.log", env=_env(url))
    accepts: list[QueueAcceptRow] = []
    rows: list[QueueDrainRow] = []
    wlog, wrk_log, timeline = (out_dir / f"queue_{n}" for n in ("worker.log", "load.log",
                                                                 "timeline.txt"))  # fmt: skip
    try:
        server.wait_ready()
        pairs = asyncio.run(_seed(server.base, operator, tenants, agents))
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
            if i > 0 or _one(url, f"SELECT count(*) FROM executions WHERE NOT {TERMINAL}")[0] == 0:
                submit_batch(server.base, pairs_file, url, batch, wrk_log)
            settle(url)  # the accept step's last requests, still in flight when wrk ended
            backlog = int(_one(url, "SELECT count(*) FROM executions WHERE status = 'queued'")[0])
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
                    codes, lat = asyncio.run(_open_loop(server.base, pairs, rate, steady_s))
                    sent = sum(codes.values())
                    label = f"steady-{rate:g}/s"
                    row = drain_row(url, worker, start, None, codes.get("202", 0), label,
                                    timeout, timeline, since)  # fmt: skip
                    rows.append(row)
                    notes.append(
                        f"{label} T={best}: {sent} submitted open-loop over {steady_s:g}s "
                        f"(Python client), answers {dict(codes)}, submit p50 "
                        f"{_pct(lat, 0.5):.1f} ms p99 {_pct(lat, 0.99):.1f} ms; statuses "
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
    server = service.Server(url, out_dir / f"queue_server_{processes}.log", env=_env(url),
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
