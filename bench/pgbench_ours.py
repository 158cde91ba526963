"""Step 4: pgbench running the SQL of one authenticated request on OUR schema.

GET  = BEGIN; authenticate_api_key(hash) (also sets the tenant context); SELECT the agent;
       COMMIT (the service's read-only unit of work ends in a commit: docs/database.md).
POST = BEGIN; authenticate_api_key(hash); INSERT the agent; COMMIT.
As the runtime role (PGOPTIONS=-c role=agentkeel_runtime), so RLS applies as in the service.
One script per tenant (pgbench picks one per transaction), key hash as a literal.
"""

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from bench.common import BENCH_DB, database_url, env_str, libpq_env, log
from bench.report import Row
from bench.seed import PROMPT, Seeded

RUNTIME_ROLE = "agentkeel_runtime"
_AUTH = "SELECT key_id, tenant_id, key_hash FROM authenticate_api_key('\\x{h}'::bytea) \\gset\n"
# The agent table's every column, as the service's select(agents) reads it.
_COLS = (
    "id, tenant_id, name, system_prompt, model, temperature, max_tokens, use_byok, "
    "provider_id, status, created_at, updated_at"
)


def _get_script(key_hash: str, agent_ids: list[str]) -> str:
    ids = ",".join(agent_ids)
    return (
        f"\\set a random(1, {len(agent_ids)})\n"
        "BEGIN;\n"
        + _AUTH.format(h=key_hash)
        + f"SELECT {_COLS} FROM agents WHERE id = ('{{{ids}}}'::uuid[])[:a];\n"
        "COMMIT;\n"
    )


def _post_script(key_hash: str) -> str:
    return (
        "\\set n random(1, 9000000000000000000)\n"
        "BEGIN;\n"
        + _AUTH.format(h=key_hash)
        + f"INSERT INTO agents ({_COLS}) VALUES (gen_random_uuid(), :tenant_id, "
        f"'pgbench-' || (:n)::text, '{PROMPT}', 'gpt-4o-mini', 0.5, 512, false, NULL, "
        "'active', now(), now());\n"
        "COMMIT;\n"
    )


def write_scripts(seeded: Seeded, into: Path) -> dict[str, list[Path]]:
    """At most 128 scripts per mode (pgbench's limit): one per tenant."""
    scripts: dict[str, list[Path]] = {"get": [], "post": []}
    for n, (token, ids) in enumerate(zip(seeded.tokens[:128], seeded.agents, strict=False)):
        key_hash = hashlib.sha256(token.encode()).hexdigest()
        for mode, text in (("get", _get_script(key_hash, ids)), ("post", _post_script(key_hash))):
            path = into / f"{mode}_t{n:03d}.sql"
            path.write_text(text)
            scripts[mode].append(path)
    return scripts


def _percentiles(log_dir: Path) -> tuple[float, float]:
    """p50, p99 in ms from pgbench's per-transaction logs (3rd column: latency in µs)."""
    lat = sorted(
        int(line.split()[2])
        for f in log_dir.iterdir()
        for line in f.read_text().splitlines()
        if line.strip()
    )
    if not lat:
        return float("nan"), float("nan")
    pick = lambda q: lat[max(0, int(len(lat) * q) - 1)] / 1000  # noqa: E731 (as the anchors)
    return pick(0.50), pick(0.99)


def run_one(mode: str, scripts: list[Path], out_dir: Path) -> Row | None:
    clients = env_str("BENCH_PGBENCH_CLIENTS", "10")
    threads = env_str("BENCH_PGBENCH_THREADS", "2")
    duration = env_str("BENCH_PGBENCH_DURATION", env_str("PGBENCH_DURATION", "20"))
    env = {
        **os.environ,
        **libpq_env(database_url(BENCH_DB)),
        "PGOPTIONS": f"-c role={RUNTIME_ROLE}",
    }
    with tempfile.TemporaryDirectory(prefix="agentkeel-pgbench-log-") as log_dir:
        cmd = ["pgbench", "-n", "-M", "prepared", "-c", clients, "-j", threads, "-T", duration,
               "-l", f"--log-prefix={log_dir}/tx"]  # fmt: skip
        for s in scripts:
            cmd += ["-f", str(s)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        (out_dir / f"pgbench_agentkeel_{mode}.txt").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            log(f"pgbench-agentkeel {mode} failed: {proc.stderr.strip()[-400:]}")
            return None
        p50, p99 = _percentiles(Path(log_dir))
    tps = next((ln.split()[2] for ln in proc.stdout.splitlines() if ln.startswith("tps = ")), "-")
    failed = next(
        (ln.split()[4] for ln in proc.stdout.splitlines()
         if ln.startswith("number of failed transactions:")),
        "0",
    )  # fmt: skip
    tps = f"{float(tps):.1f}" if tps != "-" else tps
    log(f"pgbench-agentkeel {mode} c={clients}: tps={tps} p50={p50:.2f}ms p99={p99:.2f}ms")
    return Row(f"pgbench-agentkeel-{mode}", f"c={clients}", tps, f"{p50:.2f}", f"{p99:.2f}", failed)


def run(seeded: Seeded, out_dir: Path) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="agentkeel-pgbench-") as tmp:
        scripts = write_scripts(seeded, Path(tmp))
        rows = [run_one(mode, scripts[mode], out_dir) for mode in ("get", "post")]
    return [r for r in rows if r is not None]
