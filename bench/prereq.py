"""Step 1: wrk, the anchors' virtualenv and the bench_anchor database (setup.sh if missing)."""

import os
import subprocess
from pathlib import Path

from bench.common import ADMIN_URL as _ADMIN_URL
from bench.common import BENCH_VENV, BENCH_WORK, anchors_dir, libpq_env, log, run_logged, which

ANCHOR_DB = os.environ.get("BENCH_DB") or "bench_anchor"


def _anchor_db_exists() -> bool:
    env = {**os.environ, **libpq_env(_ADMIN_URL)}
    query = f"SELECT 1 FROM pg_database WHERE datname = '{ANCHOR_DB}'"
    proc = subprocess.run(
        ["psql", "-X", "-w", "-Atc", query], env=env, capture_output=True, text=True, check=False
    )
    return proc.returncode == 0 and proc.stdout.strip() == "1"


def missing() -> list[str]:
    """What setup.sh would have to provide; empty when everything is in place."""
    gaps = []
    if which("wrk") is None:
        gaps.append("wrk")
    if which("pgbench") is None:
        gaps.append("pgbench")
    if not all((BENCH_VENV / "bin" / tool).exists() for tool in ("python", "uvicorn", "granian")):
        gaps.append(f"anchors venv {BENCH_VENV}")
    if not _anchor_db_exists():
        gaps.append(f"database {ANCHOR_DB}")
    elif not (BENCH_WORK / "pairs.txt").is_file():
        gaps.append(f"{BENCH_WORK}/pairs.txt")
    return gaps


def ensure(logfile: Path, *, need_anchors: bool = True) -> None:
    """Run the anchors' setup.sh once if anything is missing (idempotent: skipped otherwise).

    With `need_anchors=False` (BENCH_SKIP_ANCHORS=1) only wrk and pgbench are required.
    """
    gaps = missing()
    if not need_anchors:
        gaps = [g for g in gaps if g in ("wrk", "pgbench")]
    if not gaps:
        log("prerequisites present (wrk, pgbench, anchors venv, bench_anchor database)")
        return
    setup = anchors_dir() / "setup.sh"
    log(f"missing: {', '.join(gaps)} -> running {setup}")
    if run_logged(["bash", str(setup)], logfile) != 0:
        # A fresh machine may have no package lists yet: refresh once and retry.
        log("setup.sh failed; apt-get update and one retry")
        run_logged(["apt-get", "-o", "DPkg::Lock::Timeout=900", "update"], logfile)
        if run_logged(["bash", str(setup)], logfile) != 0:
            raise SystemExit(f"setup.sh failed, see {logfile}")
    still = missing() if need_anchors else [g for g in missing() if g in ("wrk", "pgbench")]
    if still:
        raise SystemExit(f"still missing after setup.sh: {', '.join(still)}")
