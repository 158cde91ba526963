"""Paths, environment knobs and small helpers shared by the bench modules."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
VENV_BIN = Path(sys.executable).parent  # the bench's virtualenv (make bench uses .venv)
_code_bin = [VENV_BIN]  # whose `agentkeel` is measured: this tree's, or an A/B baseline's


def use_code_tree(tree: Path | None) -> None:
    """Measure the `agentkeel` of `tree` (its own .venv), or this tree's (None)."""
    _code_bin[0] = VENV_BIN if tree is None else tree / ".venv" / "bin"


def agentkeel_bin() -> str:
    return str(_code_bin[0] / "agentkeel")


def anchors_dir() -> Path:
    """The shared yardstick: $BENCH_ANCHORS_DIR, else <repo root>/../shared/bench-anchors."""
    override = os.environ.get("BENCH_ANCHORS_DIR")
    return Path(override) if override else REPO.parent / "shared" / "bench-anchors"


def env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


ADMIN_URL = env_str("BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_DB = env_str("BENCH_AGENTKEEL_DB", "agentkeel_bench")
BENCH_WORK = Path(env_str("BENCH_WORK", "/tmp/bench-anchor"))
BENCH_VENV = Path(env_str("BENCH_VENV", "/tmp/bench-venv"))
POOL_SIZE = env_str("BENCH_POOL_SIZE", "10")
# Every measured `agentkeel serve` gets a broker URL, as in production, so it runs no
# worker threads of its own (those are measured apart, by the queue section).
REDIS_URL = env_str("BENCH_QUEUE_REDIS_URL", "redis://127.0.0.1:6379/14")


def database_url(dbname: str) -> str:
    """BENCH_DATABASE_ADMIN_URL with its database replaced by `dbname`."""
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path="/" + dbname))


def libpq_env(url: str) -> dict[str, str]:
    """PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for command-line tools (psql, pgbench)."""
    parts = urlsplit(url)
    env = {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
        "PGDATABASE": parts.path.lstrip("/") or "postgres",
    }
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return env


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def run_logged(cmd: list[str], logfile: Path, env: dict[str, str] | None = None) -> int:
    """Run `cmd`, echoing its output line by line and saving it to `logfile`."""
    with logfile.open("a") as out:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            print("  | " + line, end="", flush=True)
            out.write(line)
        return proc.wait()


_RESULT_FIELD = re.compile(r"(\w+)=(\S+)")


def parse_result_line(line: str) -> dict[str, str]:
    """`RESULT rps=... p50_ms=...` (load.sh) -> {"rps": ..., ...}."""
    return dict(_RESULT_FIELD.findall(line))


def git_commit() -> str:
    """HEAD's commit, read from .git directly (no git process)."""
    git = REPO / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        if (git / ref).exists():
            return (git / ref).read_text().strip()[:12] + f" ({ref.rsplit('/', 1)[-1]})"
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:12] + f" ({ref.rsplit('/', 1)[-1]})"
    except OSError:
        pass
    return "unknown"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def which(name: str) -> str | None:
    return shutil.which(name)
