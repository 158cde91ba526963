"""The queue section's table (bench/queued.py): queued executions accepted at the API (no
worker) and completed by one `agentkeel worker` process. Targets are printed as text,
never asserted."""

from dataclasses import dataclass

QUEUE_ACCEPT_TARGET = 1000.0  # accepted executions/s at the API
QUEUE_WORKER_TARGET = 300.0  # completed executions/s through one worker process


@dataclass(frozen=True, slots=True)
class QueueAcceptRow:
    processes: int  # of `agentkeel serve`
    conns: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    svc_cpu: float  # agentkeel serve, % of one core
    pg_cpu: float  # all postgres processes, % of one core
    redis_cpu: float
    busy: float  # whole machine, % of all cores
    svc_us_req: float
    pg_us_req: float


@dataclass(frozen=True, slots=True)
class QueueDrainRow:
    label: str  # drain-accept-backlog | drain-batch | steady-<rate>/s
    threads: int
    executions: int
    done_per_s: float  # polled: terminal executions/s, first -> last completion seen
    db_per_s: float  # executions / (last finished_at - first started_at)
    q50_ms: float  # started_at - created_at
    q99_ms: float
    run50_ms: float  # finished_at - started_at
    run99_ms: float
    not_success: int
    statuses: dict[str, int]
    wrk_cpu: float  # the worker process, % of one core
    pg_cpu: float
    redis_cpu: float
    busy: float
    wrk_us_msg: float  # worker CPU per completed execution, µs
    pg_us_msg: float
    complete: bool


def render_queue(accepts: list[QueueAcceptRow], rows: list[QueueDrainRow],
                 notes: list[str]) -> list[str]:  # fmt: skip
    lines = [
        "== queue: POST /api/agents/{id}/executions (no worker) and one `agentkeel worker` "
        "process (sandbox gateway) ==",
        *notes,
        "cpu = % of one core (svc/wrk = the serve/worker process, pg = all postgres "
        "processes, rds = redis-server); busy = machine; us/req, us/msg = CPU per request/message",
    ]
    fmt = "{:<8} {:>5} {:>3} {:>8} {:>8} {:>8} {:>8} {:>6} {:>7} {:>6} {:>6} {:>4} {:>10} {:>9}"
    lines.append(fmt.format("accept", "procs", "c", "requests", "rps", "p50_ms", "p99_ms",
                            "errors", "svc_cpu", "pg_cpu", "rds", "busy", "svc_us/req",
                            "pg_us/req"))  # fmt: skip
    for a in accepts:
        lines.append(fmt.format("submit", a.processes, a.conns, a.requests, f"{a.rps:.1f}",
                                f"{a.p50_ms:.2f}", f"{a.p99_ms:.2f}", a.errors,
                                f"{a.svc_cpu:.0f}", f"{a.pg_cpu:.0f}", f"{a.redis_cpu:.0f}",
                                f"{a.busy:.0f}", f"{a.svc_us_req:.0f}",
                                f"{a.pg_us_req:.0f}"))  # fmt: skip
    if not accepts:
        lines.append("(no accept row: see the log above)")
    lines.append("")
    fmt = ("{:<20} {:>2} {:>6} {:>7} {:>7} {:>8} {:>8} {:>7} {:>7} {:>5} {:>7} {:>6} {:>4} "
           "{:>4} {:>10} {:>9}")  # fmt: skip
    lines.append(fmt.format("worker", "T", "execs", "done/s", "db/s", "q_p50_ms", "q_p99_ms",
                            "run_p50", "run_p99", "!ok", "wrk_cpu", "pg_cpu", "rds", "busy",
                            "wrk_us/msg", "pg_us/msg"))  # fmt: skip
    for r in rows:
        lines.append(fmt.format(r.label + ("" if r.complete else "!"), r.threads, r.executions,
                                f"{r.done_per_s:.1f}", f"{r.db_per_s:.1f}", f"{r.q50_ms:.0f}",
                                f"{r.q99_ms:.0f}", f"{r.run50_ms:.1f}", f"{r.run99_ms:.1f}",
                                r.not_success, f"{r.wrk_cpu:.0f}", f"{r.pg_cpu:.0f}",
                                f"{r.redis_cpu:.0f}", f"{r.busy:.0f}", f"{r.wrk_us_msg:.0f}",
                                f"{r.pg_us_msg:.0f}"))  # fmt: skip
    if not rows:
        lines.append("(no worker rows: see the log above)")
    lines.append(
        "done/s: polled (status counts every 0.5 s, first to last completion, start-up "
        "excluded); db/s: from started_at/finished_at; q = started_at - created_at (for a "
        "backlog mostly the wait for the worker; steady rows: the per-message figure); "
        "!ok = executions not ending success; '!' after a label: did not drain"
    )
    lines.append("")
    for a in accepts:
        verdict = "met" if a.rps >= QUEUE_ACCEPT_TARGET else "MISSED"
        lines.append(
            f"API ({a.processes} serve process{'es' if a.processes > 1 else ''}): "
            f"{a.rps:.1f} accepted executions/s (p50 {a.p50_ms:.2f} ms, p99 {a.p99_ms:.2f} ms, "
            f"errors {a.errors}): target >= {QUEUE_ACCEPT_TARGET:,.0f}/s {verdict}"
        )
    drains = [r for r in rows if not r.label.startswith("steady") and r.complete]
    if drains:
        best = max(drains, key=lambda r: r.done_per_s)
        tried = ", ".join(f"T={r.threads}: {r.done_per_s:.1f}/s" for r in drains)
        verdict = "met" if best.done_per_s >= QUEUE_WORKER_TARGET else "MISSED"
        lines.append(
            f"one worker: best {best.done_per_s:.1f} completed executions/s at --threads "
            f"{best.threads} ({tried}); queue latency p50 {best.q50_ms:.0f} ms p99 "
            f"{best.q99_ms:.0f} ms over a backlog of {best.executions}; not success "
            f"{sum(r.not_success for r in rows)} in all rows: target >= "
            f"{QUEUE_WORKER_TARGET:,.0f}/s {verdict}"
        )
    return lines
