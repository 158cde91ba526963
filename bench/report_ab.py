"""The A/B table of bench/ab.py: one line per turn, then B/A within each round."""

from typing import TYPE_CHECKING

from bench.report import LITESTAR, P99_TARGET_MS, Row

if TYPE_CHECKING:
    from bench.ab import Turn

GET_TARGET = 1.3  # x the lean anchor's GET rps
ADDED_P50_TARGET_MS = 3.0


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _http(turn: "Turn", op: str) -> Row | None:
    return next((r for r in turn.http if r.op == op), None)


def _added_p50(turn: "Turn", name: str) -> float | None:
    at_c1 = {r.name: r for r in turn.execs if r.conns == 1}
    if name not in at_c1 or "upstream-alone" not in at_c1:
        return None
    return at_c1[name].p50_ms - at_c1["upstream-alone"].p50_ms


def _accept(turn: "Turn") -> float | None:
    return next((a.rps for a in turn.accepts if a.processes == 1), None)


def _drain(turn: "Turn") -> float | None:
    done = [r.done_per_s for r in turn.drains if r.label.startswith("drain")]
    return max(done) if done else None


def figures(turn: "Turn", lean: dict[str, float]) -> dict[str, float | None]:
    get, post = _http(turn, "get"), _http(turn, "post")
    get_rps, post_rps = _num(get and get.rps), _num(post and post.rps)
    return {
        "get_rps": get_rps,
        "get_p99": _num(get and get.p99_ms),
        "get_x_lean": get_rps / lean["get"] if get_rps and lean.get("get") else None,
        "post_rps": post_rps,
        "post_p99": _num(post and post.p99_ms),
        "post_x_lean": post_rps / lean["post"] if post_rps and lean.get("post") else None,
        "added_p50_platform": _added_p50(turn, "execute-platform"),
        "added_p50_byok": _added_p50(turn, "execute-byok"),
        "accept_rps": _accept(turn),
        "drain_per_s": _drain(turn),
    }


_COLUMNS = [
    "get_rps", "get_p99", "get_x_lean", "post_rps", "post_p99", "post_x_lean",
    "added_p50_platform", "added_p50_byok", "accept_rps", "drain_per_s",
]  # fmt: skip
_HIGHER_IS_BETTER = {"get_rps", "get_x_lean", "post_rps", "post_x_lean", "accept_rps",
                     "drain_per_s"}  # fmt: skip


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _verdict(values: dict[str, float | None]) -> str:
    checks = [
        ("GET >= 1.3x lean", values["get_x_lean"], lambda v: v >= GET_TARGET),
        ("GET p99 < 50 ms", values["get_p99"], lambda v: v < P99_TARGET_MS),
        ("added p50 < 3 ms", values["added_p50_platform"], lambda v: v < ADDED_P50_TARGET_MS),
    ]
    return ", ".join(
        f"{name}: {'-' if v is None else ('met' if ok(v) else 'MISSED')}" for name, v, ok in checks
    )


def render_ab(header: list[str], anchor_rows: list[Row], turns: list["Turn"]) -> str:
    lean = {r.op: v for r in anchor_rows if r.name.startswith(LITESTAR) and (v := _num(r.rps))}
    lines = ["== A/B (bench/ab.py)", *header]
    lines.append(
        f"lean anchor {LITESTAR}: GET {_cell(lean.get('get'))} rps, POST "
        f"{_cell(lean.get('post'))} rps (measured first, in this run)"
    )
    lines.append("round side " + " ".join(f"{c:>18}" for c in _COLUMNS))
    by_round: dict[int, dict[str, dict[str, float | None]]] = {}
    for turn in turns:
        values = figures(turn, lean)
        by_round.setdefault(turn.round, {})[turn.side] = values
        cells = " ".join(f"{_cell(values[c]):>18}" for c in _COLUMNS)
        lines.append(f"{turn.round:>5} {turn.side:>4} {cells}")
    lines.append("B vs A within each round (ratio B/A; for p99 and added p50, B - A in ms):")
    for index, sides in sorted(by_round.items()):
        if "A" not in sides or "B" not in sides:
            continue
        a, b = sides["A"], sides["B"]
        cells = []
        for column in _COLUMNS:
            va, vb = a[column], b[column]
            if va is None or vb is None:
                cells.append(f"{'-':>18}")
            elif column in _HIGHER_IS_BETTER:
                cells.append(f"{(vb / va if va else 0):>17.3f}x")
            else:
                cells.append(f"{vb - va:>+18.2f}")
        lines.append(f"{index:>5}  B/A " + " ".join(cells))
        lines.append(f"       targets, B: {_verdict(b)}")
    return "\n".join(lines)
