"""`make bench` with BENCH_AB_BASELINE=<a work tree of another commit, with its .venv>: that
tree's `agentkeel` (A) against this tree's (B), on the same machine in one run, alternating
A B, B A, ... so that drift in the machine's load falls on both sides alike.

Each turn measures, with the measured tree's own CLI (migrate, serve, worker) and this
tree's harness: GET/POST over HTTP (load.sh), the execute section (added p50 at c=1 over
the mock upstream) and the queue section (accept at the API, drain by one worker). The lean
anchor (litestar-uvicorn) is measured once, first. Figures are noisy on a shared machine:
read the B/A ratios within a round, and the rounds against each other.
"""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench import anchors, prereq
from bench import execute as execute_bench
from bench import queued as queue_bench
from bench.common import OUT, env_str, git_commit, loadavg, log, use_code_tree
from bench.report import LITESTAR, ExecRow, Row
from bench.report_queue import QueueAcceptRow, QueueDrainRow

# Shorter sections than a plain `make bench` (an A/B run measures each of them 2 x rounds).
_DEFAULTS = {
    "BENCH_ANCHORS": LITESTAR,
    "BENCH_QUEUE_THREADS": "16",
    "BENCH_QUEUE_STEADY_RATES": "0",
    "BENCH_QUEUE_SERVE_PROCESSES": "1",
}


@dataclass
class Turn:
    round: int
    side: str  # A (baseline) | B (this tree)
    http: list[Row]
    execs: list[ExecRow]
    accepts: list[QueueAcceptRow]
    drains: list[QueueDrainRow]


def _commit_of(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short=12", "HEAD"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return done.stdout.strip() or "?"


def _turn(index: int, side: str, tree: Path | None, out_dir: Path) -> Turn:
    from bench.run import measure_service  # bench.run delegates to this module

    use_code_tree(tree)
    where = out_dir / f"round{index}-{side}"
    where.mkdir(parents=True, exist_ok=True)
    log(f"== A/B round {index}, {side} ({tree or 'this tree'})")
    http, _ = measure_service(where, pgbench=False)
    execs, _ = execute_bench.measure(where)
    accepts, drains, _ = queue_bench.measure(where)
    return Turn(index, side, http, execs, accepts, drains)


def main() -> int:
    baseline = Path(os.environ["BENCH_AB_BASELINE"]).resolve()
    if not (baseline / ".venv" / "bin" / "agentkeel").exists():
        raise SystemExit(f"{baseline}/.venv/bin/agentkeel missing: run `make install` there")
    for name, value in _DEFAULTS.items():
        os.environ.setdefault(name, value)
    rounds = int(env_str("BENCH_AB_ROUNDS", "2"))
    out_dir = OUT / f"ab-{os.getpid()}-{git_commit()}"
    out_dir.mkdir(parents=True, exist_ok=True)
    load_start = loadavg()
    prereq.ensure(out_dir / "setup.log", need_anchors=True)
    anchor_rows, _ = anchors.run(out_dir / "anchors.log")
    turns: list[Turn] = []
    for index in range(1, rounds + 1):
        order = ("A", "B") if index % 2 else ("B", "A")
        for side in order:
            turns.append(_turn(index, side, baseline if side == "A" else None, out_dir))
    use_code_tree(None)
    from bench.report_ab import render_ab

    header = [
        f"A = {_commit_of(baseline)} ({baseline}), B = this tree {git_commit()}; "
        f"{rounds} rounds, order A B / B A alternating; loadavg start {load_start}, "
        f"end {loadavg()}; 2 shared cores: compare within a round",
    ]
    table = render_ab(header, anchor_rows, turns)
    print("\n" + table, flush=True)
    (out_dir / "table.txt").write_text(table + "\n")
    (OUT / "latest-ab.txt").write_text(table + "\n")
    log(f"A/B table saved to {out_dir / 'table.txt'} (and {OUT / 'latest-ab.txt'})")
    return 0
