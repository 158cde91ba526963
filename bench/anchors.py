"""Step 2: the shared anchors (run_anchors.sh), measured in the same run."""

import os
import re
from pathlib import Path

from bench.common import BENCH_WORK, anchors_dir, env_str, log, run_logged
from bench.report import Row

DEFAULT_ANCHORS = "pgbench litestar-uvicorn fastapi-psycopg-uvicorn"


def read_results(tsv: Path, *, source: str = "") -> list[Row]:
    """results.tsv: name, op, rps, p50_ms, p99_ms, errors, cpu, busy (tab separated)."""
    rows = []
    for line in tsv.read_text().splitlines():
        cols = line.split("\t")
        if len(cols) >= 8:
            rows.append(Row(*cols[:8], source=source))
    return rows


def _run_dir_from(logfile: Path) -> Path | None:
    match = re.search(r"^run dir: (\S+)", logfile.read_text(), re.MULTILINE)
    return Path(match.group(1)) if match else None


def run(logfile: Path) -> tuple[list[Row], Path | None]:
    """Run the anchors; returns their rows (empty if the run failed) and its run dir."""
    env = dict(os.environ)
    env["ANCHORS"] = env_str("BENCH_ANCHORS", DEFAULT_ANCHORS)
    env["PGBENCH_CLIENTS"] = env_str("PGBENCH_CLIENTS", "10")
    env.setdefault("BENCH_WORK", str(BENCH_WORK))
    # Our own service is measured by bench/run.py, never through run_anchors.sh's `service`.
    for var in ("SERVICE_START", "SERVICE_URL", "POST_BODY", "GET_PATH", "POST_PATH", "CPU_PIDS"):
        env.pop(var, None)
    script = anchors_dir() / "run_anchors.sh"
    log(f"anchors: {env['ANCHORS']} (PGBENCH_CLIENTS={env['PGBENCH_CLIENTS']}) via {script}")
    code = run_logged(["bash", str(script)], logfile, env=env)
    run_dir = _run_dir_from(logfile)
    if code != 0:
        log(f"run_anchors.sh exited {code}; see {logfile}")
    tsv = run_dir / "results.tsv" if run_dir else None
    if tsv is None or not tsv.is_file():
        log("no anchors results.tsv found")
        return [], run_dir
    return read_results(tsv), run_dir


def latest_previous() -> tuple[list[Row], Path | None]:
    """For BENCH_SKIP_ANCHORS=1: the newest earlier anchors run under $BENCH_WORK, if any."""
    runs = sorted(
        (p for p in BENCH_WORK.glob("run-*/results.tsv") if p.stat().st_size > 0),
        key=lambda p: p.parent.name,
    )
    if not runs:
        return [], None
    return read_results(runs[-1], source="prev"), runs[-1].parent
