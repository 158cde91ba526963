"""`make bench`: anchors + agentkeel (HTTP and pgbench) in one run; table under bench/out/.

Steps: prerequisites (anchors' setup.sh if needed) -> anchors (run_anchors.sh) -> our
database, server, seed, smoke test, load.sh GET/POST -> pgbench on our schema -> table.
Knobs: see bench/README.md.
"""

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench import anchors, pgbench_ours, prereq, seed, service
from bench import execute as execute_bench  # the execute section (bench/execute.py)
from bench import queued as queue_bench  # the queue section (bench/queued.py)
from bench import streaming as stream_bench  # the streaming section (bench/streaming.py)
from bench.common import BENCH_DB, OUT, POOL_SIZE, env_flag, env_str, git_commit, loadavg, log
from bench.load import load
from bench.report import Row, render, render_execute


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pg_version() -> str:
    try:
        out = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False)
        return out.stdout.strip()
    except OSError:
        return "psql ?"


def measure_service(out_dir: Path, *, pgbench: bool = True) -> tuple[list[Row], str]:
    url = service.recreate_database()
    operator = service.operator_key(url)
    server = service.Server(url, out_dir / "server.log")
    rows: list[Row] = []
    smoke_text = "not run"
    seeded = None
    try:
        server.wait_ready()
        seeded = seed.seed(server.base, operator, out_dir / "pairs.txt")
        service.vacuum_analyze(url)
        ok, smoke_text = seed.smoke(server.base, seeded)
        log(f"smoke: {smoke_text}")
        if not ok:
            log("smoke test FAILED: not loading the service")
        else:
            for mode in ("get", "post"):
                row = load(
                    server.base, out_dir / "pairs.txt", mode, server.pid, out_dir / "load.log"
                )
                if row is not None:
                    rows.append(row)
    finally:
        server.stop()
    if seeded is not None and pgbench:
        service.vacuum_analyze(url)
        rows += pgbench_ours.run(seeded, out_dir)
    return rows, smoke_text


def main() -> int:
    if os.environ.get("BENCH_AB_BASELINE"):  # A/B against another tree (bench/ab.py)
        from bench import ab

        return ab.main()
    only = env_str("BENCH_ONLY", "")
    if only == "execute":  # only the execute section (bench/execute.py)
        return execute_bench.main()
    if only == "queue":  # only the queue section (bench/queued.py)
        return queue_bench.main()
    if only == "stream":  # only the streaming section (bench/streaming.py)
        return stream_bench.main()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = OUT / f"run-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    skip_anchors = env_flag("BENCH_SKIP_ANCHORS")
    start, load_start = _now(), loadavg()
    log(f"output in {out_dir}")

    prereq.ensure(out_dir / "setup.log", need_anchors=not skip_anchors)

    anchor_rows: list[Row] = []
    anchor_note = ""
    if skip_anchors:
        anchor_rows, prev_dir = anchors.latest_previous()
        anchor_note = f"anchors: SKIPPED (BENCH_SKIP_ANCHORS=1); ratios vs earlier run {prev_dir}"
        if prev_dir is None:
            anchor_note = "anchors: SKIPPED (BENCH_SKIP_ANCHORS=1); no earlier run: no ratios"
    else:
        anchor_rows, run_dir = anchors.run(out_dir / "anchors.log")
        anchor_note = f"anchors: measured in this run, raw output in {run_dir}"

    our_rows: list[Row] = []
    smoke_text = "not run"
    try:
        our_rows, smoke_text = measure_service(out_dir)
    except Exception as exc:  # report what we have, with the reason
        log(f"agentkeel measurement failed: {type(exc).__name__}: {exc}")
        smoke_text = f"FAILED: {type(exc).__name__}: {exc}"

    # Execute section: after the rest, so it never disturbs the figures above.
    exec_lines: list[str] = []
    if not env_flag("BENCH_SKIP_EXECUTE"):
        try:
            exec_rows, exec_notes = execute_bench.measure(out_dir)
            exec_lines = render_execute(exec_rows, exec_notes)
            execute_bench.write_tsv(exec_rows, out_dir / "execute.tsv")
        except Exception as exc:  # report the rest anyway
            log(f"execute measurement failed: {type(exc).__name__}: {exc}")
            exec_lines = [f"== execute: FAILED: {type(exc).__name__}: {exc}"]

    # Streaming section (bench/streaming.py): beside the execute figures.
    stream_lines: list[str] = []
    if not env_flag("BENCH_SKIP_STREAM"):
        try:
            stream_lines = stream_bench.measure(out_dir)
        except Exception as exc:  # report the rest anyway
            log(f"streaming measurement failed: {type(exc).__name__}: {exc}")
            stream_lines = [f"== streaming: FAILED: {type(exc).__name__}: {exc}"]

    # Queue section (bench/queued.py): last, so its worker runs never overlap the figures above.
    queue_lines: list[str] = []
    if not env_flag("BENCH_SKIP_QUEUE"):
        queue_lines = queue_bench.section(out_dir)  # never raises; a FAILED line instead

    header = [
        f"agentkeel bench  start: {start}  end: {_now()}  commit: {git_commit()}",
        f"loadavg start: {load_start}  end: {loadavg()}  {os.cpu_count()} cores  "
        f"{platform.python_implementation()} {platform.python_version()}  {_pg_version()}",
        anchor_note,
        f"agentkeel: `agentkeel serve` (uvicorn, 1 process), pool {POOL_SIZE}, database "
        f"{BENCH_DB}; smoke: {smoke_text}",
        f"HTTP: load.sh = wrk -t{env_str('LOAD_THREADS', '1')} -c{env_str('LOAD_CONNS', '32')}, "
        f"{env_str('LOAD_WARM', '5')}s warm + {env_str('LOAD_DURATION', '20')}s; "
        f"pgbench: -M prepared -j 2, per-transaction log percentiles",
    ]
    busy_before = float(load_start.split()[0]) if load_start != "?" else 0.0
    if busy_before >= 1.0:
        header.append(
            f"NOTE: the machine was already busy at the start (1-min loadavg {busy_before:.2f}):"
            " other work shares the cores, expect noisy numbers"
        )
    table = render([*anchor_rows, *our_rows], pool=POOL_SIZE, header=header)
    if exec_lines:  # the execute section
        table += "\n\n" + "\n".join(exec_lines)
    if stream_lines:  # the streaming section
        table += "\n\n" + "\n".join(stream_lines)
    if queue_lines:  # the queue section
        table += "\n\n" + "\n".join(queue_lines)
    print("\n" + table, flush=True)
    (out_dir / "table.txt").write_text(table + "\n")
    (OUT / "latest.txt").write_text(table + "\n")
    with (out_dir / "results.tsv").open("w") as f:
        for r in [*anchor_rows, *our_rows]:
            f.write("\t".join([r.name, r.op, r.rps, r.p50_ms, r.p99_ms, r.errors, r.cpu, r.busy]))
            f.write("\n")
    log(f"table saved to {out_dir / 'table.txt'} (and {OUT / 'latest.txt'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
