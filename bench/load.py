"""Step 3c: load our service with the anchors' load.sh (wrk, same shape as the anchors)."""

import os
import subprocess
import tempfile
from pathlib import Path

from bench.common import anchors_dir, log, parse_result_line, which
from bench.report import Row
from bench.seed import POST_BODY

# load.sh runs wrk twice (warm-up, then measured) with the same POST_BODY, and wrk's
# counter restarts at 1 in each process: with names unique per tenant the measured run
# would collide with the warm-up's names. This shim, put first on load.sh's PATH, turns
# @RUN@ in POST_BODY into a value unique to each wrk process.
_SHIM = """#!/usr/bin/env bash
export POST_BODY="${{POST_BODY//@RUN@/$$-$(date +%s%N)}}"
exec {wrk} "$@"
"""


def load(base: str, pairs: Path, mode: str, server_pid: int, logfile: Path) -> Row | None:
    real_wrk = which("wrk")
    if real_wrk is None:
        raise SystemExit("wrk not found")
    with tempfile.TemporaryDirectory(prefix="agentkeel-bench-wrk-") as shim_dir:
        shim = Path(shim_dir) / "wrk"
        shim.write_text(_SHIM.format(wrk=real_wrk))
        shim.chmod(0o755)
        env = dict(os.environ)
        env.update(
            PATH=f"{shim_dir}:{env.get('PATH', '')}",
            CPU_PIDS=str(server_pid),
            POST_BODY=POST_BODY,
            GET_PATH="/api/agents/{id}",
            POST_PATH="/api/agents",
        )
        proc = subprocess.run(
            ["bash", str(anchors_dir() / "load.sh"), base, str(pairs), mode],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    with logfile.open("a") as out:
        out.write(f"== load.sh {mode} (exit {proc.returncode})\n{proc.stdout}{proc.stderr}\n")
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if proc.returncode != 0 or line is None:
        log(f"load.sh {mode} failed (exit {proc.returncode}), see {logfile}")
        return None
    log(f"agentkeel {mode}: {line}")
    v = parse_result_line(line)
    errors = int(v.get("non2xx", "0")) + int(v.get("sock_errors", "0"))
    return Row(
        "agentkeel", mode, v.get("rps", "-"), v.get("p50_ms", "-"), v.get("p99_ms", "-"),
        str(errors), v.get("server_cpu_pct", "-"), v.get("machine_busy_pct", "-"),
    )  # fmt: skip
