"""Step 3a: agentkeel's own database and server process (started and stopped by PID)."""

import base64
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import psycopg

from bench.common import (
    ADMIN_URL,
    BENCH_DB,
    POOL_SIZE,
    REDIS_URL,
    agentkeel_bin,
    database_url,
    log,
)


def recreate_database(name: str = BENCH_DB) -> str:
    """Drop and create database `name` (only that one), migrate it; returns its URL."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    # The measured tree's own migrations (an A/B baseline may have fewer revisions).
    done = subprocess.run(
        [agentkeel_bin(), "migrate"], env=service_env(url), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"agentkeel migrate failed: {done.stderr[-2000:]}")
    log(f"database {name} created and migrated ({agentkeel_bin()})")
    return url


def vacuum_analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# A throwaway key ring for this run (the service requires one with a configured database);
# an AGENTKEEL_SECRET_KEYS already in the environment wins.
_SECRET_KEYS = "bench:" + base64.b64encode(os.urandom(32)).decode()


def service_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("AGENTKEEL_SECRET_KEYS", _SECRET_KEYS)
    env.update(
        AGENTKEEL_DATABASE_URL=url,
        AGENTKEEL_MIGRATION_DATABASE_URL=url,
        AGENTKEEL_DB_POOL_SIZE=POOL_SIZE,
        AGENTKEEL_REDIS_URL=REDIS_URL,
    )
    return env


def operator_key(url: str, attempts: int = 3) -> str:
    """`agentkeel operator-key create`; retried (the work tree may be mid-edit)."""
    for attempt in range(1, attempts + 1):
        proc = subprocess.run(
            [agentkeel_bin(), "operator-key", "create"],
            env=service_env(url),
            capture_output=True,
            text=True,
            check=False,
        )
        lines = proc.stdout.strip().splitlines()
        if proc.returncode == 0 and lines:
            return lines[-1].strip()
        err = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        log(f"operator-key create failed (exit {proc.returncode}, try {attempt}): {err}")
        time.sleep(2)
    raise RuntimeError(f"agentkeel operator-key create failed: {err}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`agentkeel serve` as a child process; stopped by its PID only."""

    def __init__(
        self,
        url: str,
        logfile: Path,
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = logfile.open("w")
        command = [agentkeel_bin(), "serve", "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*command, "--port", str(self.port), *args],
            env=service_env(url) if env is None else env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise RuntimeError(f"agentkeel serve exited {code}, see {self._log.name}")
            try:
                if httpx.get(self.base + "/health/ready", timeout=2).status_code == 200:
                    log(f"agentkeel serving on {self.base} (pid {self.pid})")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"agentkeel not ready after {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        log(f"agentkeel stopped (pid {self.pid}, exit {self.proc.returncode})")
