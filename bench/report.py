"""Step 5: the table of figures (printed and saved under bench/out/)."""

from dataclasses import dataclass

P99_TARGET_MS = 50.0
LITESTAR = "litestar-uvicorn"
PEERS = ("fastapi-asyncpg-uvicorn", "fastapi-psycopg-uvicorn")  # first one present is the peer


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    op: str
    rps: str
    p50_ms: str
    p99_ms: str
    errors: str
    cpu: str = "-"
    busy: str = "-"
    source: str = ""  # "prev": taken from an earlier anchors run (BENCH_SKIP_ANCHORS=1)

    @property
    def kind(self) -> str:
        """get or post: the operation, also for pgbench rows (`pgbench-post c=10`)."""
        if self.name.startswith("pgbench"):
            return "post" if self.name.endswith("-post") else "get"
        return self.op

    @property
    def is_pgbench(self) -> bool:
        return self.name.startswith("pgbench")


def _num(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _ratio(row: Row, ref: Row | None) -> str:
    a, b = _num(row.rps), _num(ref.rps) if ref else None
    return f"{a / b:.3f}" if a is not None and b else "-"


def _find(rows: list[Row], name: str, kind: str, pool: str) -> Row | None:
    for r in rows:
        if r.name.startswith(name) and r.kind == kind and (not r.is_pgbench or r.op == f"c={pool}"):
            return r
    return None


def _db_ref(rows: list[Row], row: Row, pool: str) -> Row | None:
    """HTTP rows: pgbench on the same schema; pgbench-agentkeel rows: the anchors' pgbench."""
    if row.name.startswith("agentkeel"):
        return _find(rows, "pgbench-agentkeel", row.kind, pool)
    if row.name.startswith("pgbench-agentkeel"):
        return _find(rows, f"pgbench-{row.kind}", row.kind, pool)
    if row.is_pgbench:
        return None
    return _find(rows, f"pgbench-{row.kind}", row.kind, pool)


def _target(row: Row) -> str:
    p99 = _num(row.p99_ms)
    if row.is_pgbench or p99 is None:
        return "-"
    return "ok" if p99 < P99_TARGET_MS else "MISS"


def render(rows: list[Row], *, pool: str, header: list[str]) -> str:
    peer_name = next((p for p in PEERS if any(r.name == p for r in rows)), None)
    lines = [*header, ""]
    lines.append(
        f"vs_litestar = rps / {LITESTAR} rps, same op; vs_peer = rps / "
        f"{peer_name or '(no fastapi peer measured)'} rps, same op"
    )
    lines.append(
        f"vs_db = rps / pgbench TPS at c={pool}, same op and schema (agentkeel rows: "
        "pgbench-agentkeel; pgbench-agentkeel rows: the anchors' pgbench)"
    )
    lines.append(
        f"p99<{P99_TARGET_MS:g}: target check (text only); cpu = server process tree, % of one "
        "core; busy = whole machine, % of all cores"
    )
    if any(r.source == "prev" for r in rows):
        lines.append("* = anchor row from an EARLIER run (BENCH_SKIP_ANCHORS=1): rough guide only")
    fmt = "{:<26} {:<5} {:>9} {:>7} {:>8} {:>6} {:>4} {:>4} {:>11} {:>7} {:>6} {:>7}"
    lines.append(
        fmt.format(
            "anchor",
            "op",
            "rps",
            "p50_ms",
            "p99_ms",
            "errors",
            "cpu",
            "busy",
            "vs_litestar",
            "vs_peer",
            "vs_db",
            f"p99<{P99_TARGET_MS:g}",
        )
    )
    for r in rows:
        lit = _find(rows, LITESTAR, r.kind, pool)
        peer = _find(rows, peer_name, r.kind, pool) if peer_name else None
        name = r.name + ("*" if r.source == "prev" else "")
        lines.append(
            fmt.format(
                name,
                r.op,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                r.errors,
                r.cpu,
                r.busy,
                _ratio(r, lit),
                _ratio(r, peer),
                _ratio(r, _db_ref(rows, r, pool)),
                _target(r),
            )
        )
    lines.extend(["", *summary(rows, pool=pool, peer_name=peer_name)])
    return "\n".join(lines)


def summary(rows: list[Row], *, pool: str, peer_name: str | None) -> list[str]:
    out = []
    for r in rows:
        if not r.name.startswith("agentkeel"):
            continue
        lit = _find(rows, LITESTAR, r.kind, pool)
        peer = _find(rows, peer_name, r.kind, pool) if peer_name else None
        verdict = {"ok": "met", "MISS": "MISSED", "-": "unknown"}[_target(r)]
        out.append(
            f"{r.name} {r.op}: {r.rps} rps = {_ratio(r, lit)} x {LITESTAR}, "
            f"{_ratio(r, peer)} x {peer_name or 'peer'}; p99 {r.p99_ms} ms: "
            f"target p99 < {P99_TARGET_MS:g} ms {verdict}; errors {r.errors}"
        )
    return out


# ---------------------------------------------------------------------------------------
# Execute section (bench/execute.py): added latency of POST /api/agents/execute over a
# local mock LiteLLM upstream. Separate rows and table; nothing above depends on it.

ADDED_P50_TARGET_MS = 3.0
UPSTREAM = "upstream-alone"


@dataclass(frozen=True, slots=True)
class ExecRow:
    name: str  # upstream-alone | execute-platform | execute-byok
    conns: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    svc_cpu: float  # agentkeel process, % of one core
    up_cpu: float  # mock upstream process, % of one core
    busy: float  # whole machine, % of all cores
    svc_us_req: float  # agentkeel CPU per request, µs
    up_us_req: float  # mock CPU per request, µs


def render_execute(rows: list[ExecRow], notes: list[str]) -> list[str]:
    lines = [
        "== execute: POST /api/agents/execute over a local mock LiteLLM upstream ==",
        *notes,
        "added = this row's p50/p99 - upstream-alone's at the same c (what the service adds "
        "to a direct call); cpu = % of one core; us/req = process CPU per request",
    ]
    fmt = "{:<17} {:>3} {:>8} {:>8} {:>8} {:>6} {:>7} {:>6} {:>4} {:>10} {:>9} {:>9} {:>9}"
    lines.append(fmt.format("measure", "c", "rps", "p50_ms", "p99_ms", "errors", "svc_cpu",
                            "up_cpu", "busy", "svc_us/req", "up_us/req", "added_p50",
                            "added_p99"))  # fmt: skip
    base = {r.conns: r for r in rows if r.name == UPSTREAM}
    added: dict[tuple[str, int], float] = {}
    for r in rows:
        ref = base.get(r.conns)
        a50 = a99 = "-"
        if ref is not None and r.name != UPSTREAM:
            added[(r.name, r.conns)] = r.p50_ms - ref.p50_ms
            a50, a99 = f"{r.p50_ms - ref.p50_ms:.3f}", f"{r.p99_ms - ref.p99_ms:.3f}"
        lines.append(
            fmt.format(
                r.name,
                r.conns,
                f"{r.rps:.1f}",
                f"{r.p50_ms:.3f}",
                f"{r.p99_ms:.3f}",
                r.errors,
                f"{r.svc_cpu:.0f}",
                f"{r.up_cpu:.0f}",
                f"{r.busy:.0f}",
                "-" if r.name == UPSTREAM else f"{r.svc_us_req:.0f}",
                f"{r.up_us_req:.0f}",
                a50,
                a99,
            )
        )
    if not rows:
        lines.append("(no rows: see the log above)")
    lines.append("")
    for name in ("execute-platform", "execute-byok"):
        one = added.get((name, 1))
        if one is None:
            continue
        verdict = "met" if one < ADDED_P50_TARGET_MS else "MISSED"
        lines.append(
            f"{name}: added p50 at c=1 = {one:.3f} ms (per call, database round trips "
            f"included): target < {ADDED_P50_TARGET_MS:g} ms {verdict}"
        )
    lines.append(
        "caveat: wrk is closed-loop; at c>1 a row's latency is mostly c / its own throughput, "
        "so 'added' at c=32 mixes queueing in the service (and the mock's own, at a much "
        "higher rps) with per-call cost; c=1 is the honest per-call figure. Both processes "
        "and wrk share the same cores."
    )
    return lines
