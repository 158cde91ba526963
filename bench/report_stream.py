"""The streaming section's tables (bench/streaming.py): c=1 latencies, the machine's own
speed, and GET alone and with streamed runs going, with what those runs cost the service.
Targets are printed as text, never asserted."""

import contextlib
import statistics
from dataclasses import dataclass

from bench.stream_clients import Timed


@dataclass(frozen=True, slots=True)
class StreamCost:
    """The service's CPU per streamed run with no other load (the background streams
    alone): what the runs take out of one service process's core."""

    seconds: float
    runs: int
    svc_cpu_s: float

    @property
    def runs_per_s(self) -> float:
        return self.runs / self.seconds

    @property
    def ms_per_run(self) -> float:
        return 1000 * self.svc_cpu_s / max(self.runs, 1)


def _pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def render_host_speed(counts: list[int]) -> list[str]:
    low, mid, high = min(counts), statistics.median(counts), max(counts)
    return [
        "",
        f"host speed, idle machine, one core, {len(counts)} slices of 0.5 s (loops of fixed "
        f"work): min {low}, median {mid:.0f}, max {high} (max/min x{high / max(low, 1):.2f})",
    ]


def render_c1(c1: dict[str, list[Timed]], runs: int) -> list[str]:
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


def render_get(
    rows: list,  # type: ignore[type-arg]
    conc: int,
    profile: str,
    cost: StreamCost,
    where: str,
    *,
    shared: bool = True,
) -> list[str]:
    """`busy`: the whole machine, % of all its cores. `shared`: the runs are served by the
    process that serves GET (otherwise by one of their own, `cost` that one's)."""
    out = [
        "",
        f"== GET /api/agents/{{id}} (wrk -t1 -c32) on {where}, alone and "
        f"with {conc} streamed runs going ({profile} each)",
        f"{'round':<6} {'load':<14} {'rps':>9} {'p50_ms':>8} {'p99_ms':>8} {'errors':>6} "
        f"{'streams_ok':>10} {'failed':>6} {'svc_cpu':>7} {'busy':>5}",
    ]
    for rnd, alone, loaded, done, failed in rows:
        for label, v, extra in (
            ("alone", alone, ("", "")),
            (f"+{conc} streams", loaded, (str(done), str(failed))),
        ):
            errors = int(v.get("non2xx", "0")) + int(v.get("sock_errors", "0"))
            out.append(
                f"{rnd:<6} {label:<14} {float(v.get('rps', 'nan')):>9.1f} "
                f"{float(v.get('p50_ms', 'nan')):>8.3f} {float(v.get('p99_ms', 'nan')):>8.3f} "
                f"{errors:>6} {extra[0]:>10} {extra[1]:>6} {v.get('svc_cpu', '?'):>6}% "
                f"{v.get('busy', '?'):>4}%"
            )
    ratio_lines, median = _ratios(rows, "streams")
    out += ratio_lines
    if median is not None:
        verdict = "met" if median[0] >= 0.9 and median[1] <= 1.1 else "MISSED"
        out[-1] += f" (target: within 10%: {verdict})"
    if not shared:  # no budget: the runs' CPU does not come out of GET's process
        return [*out, _cost_line(cost) + " on the runs' own process"]
    return out + _render_cost(cost, [alone for _, alone, *_ in rows])


def _ratios(rows: list, what: str) -> tuple[list[str], tuple[float, float] | None]:  # type: ignore[type-arg]
    """Each round's loaded / alone ratios, then their medians (rps, p99)."""
    ratios, out = [], []
    for rnd, alone, loaded, *_ in rows:
        with contextlib.suppress(KeyError, ValueError, ZeroDivisionError):
            rps = float(loaded["rps"]) / float(alone["rps"])
            p99 = float(loaded["p99_ms"]) / float(alone["p99_ms"])
            ratios.append((rps, p99))
            order = "alone first" if rnd % 2 else f"{what} first"
            line = f"round {rnd} ({order}): with {what} / alone: rps x{rps:.3f}, p99 x{p99:.3f}"
            out.append(line)
    if not ratios:
        return out, None
    rps = statistics.median(r for r, _ in ratios)
    p99 = statistics.median(p for _, p in ratios)
    low, high = min(r for r, _ in ratios), max(r for r, _ in ratios)
    out.append(
        f"median of {len(ratios)} rounds: rps x{rps:.3f} (rounds x{low:.3f} to "
        f"x{high:.3f}), p99 x{p99:.3f}"
    )
    return out, (rps, p99)


def render_yardstick(rows: list, rate: float) -> list[str]:  # type: ignore[type-arg]
    """The same GET rounds with unstreamed runs at the streams' rate: not a target, what
    that many runs per second cost GET when nothing streams."""
    out = [
        "",
        f"== yardstick, not a target: the same GET rounds with {rate:.0f} unstreamed runs per "
        "second instead of the streams (the same agents; each run answered at once)",
    ]
    for rnd, alone, loaded, done, failed in rows:
        out.append(
            f"round {rnd}: GET alone {float(alone.get('rps', 'nan')):.1f} rps, with the runs "
            f"{float(loaded.get('rps', 'nan')):.1f} rps ({done} runs ok, {failed} failed)"
        )
    return out + _ratios(rows, "runs")[0]


def _cost_line(cost: StreamCost) -> str:
    return (
        f"streamed runs alone ({cost.seconds:.0f} s, no GET load): {cost.runs_per_s:.1f} "
        f"runs/s, service {cost.ms_per_run:.2f} ms CPU per run"
    )


def _render_cost(cost: StreamCost, alone: list[dict[str, str]]) -> list[str]:
    """What the streamed runs cost against the 10% budget: at full GET load the service's
    CPU is all GET's (`svc_cpu` alone: one core for one process, less than two for two on
    this machine, where wrk and PostgreSQL share the cores), so the runs' CPU comes out of
    it; within 10%, they may take a tenth of it."""
    full = [v for v in alone if float(v.get("rps", 0) or 0) > 0 and "svc_cpu" in v]
    line = _cost_line(cost)
    if not full:
        return [line]
    svc_cpu = statistics.median(float(v["svc_cpu"]) for v in full)  # % of one core
    per_get = statistics.median(10 * float(v["svc_cpu"]) / float(v["rps"]) for v in full)
    share = cost.runs_per_s * cost.ms_per_run / 10  # % of one core
    budget = svc_cpu / max(cost.runs_per_s, 1e-9)  # ms per run: a tenth of svc_cpu
    return [
        f"{line} = {share:.1f}% of one core, against GET's {svc_cpu:.0f}% alone; within 10% "
        f"needs at most {budget:.2f} ms per run at this rate (a GET alone: {per_get:.3f} ms, "
        f"so a run costs {cost.ms_per_run / per_get:.1f} GETs)"
    ]
