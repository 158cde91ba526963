"""The queue bench's setup: its Redis db, the service environment, one `agentkeel worker`
process, and seeding and smoke-testing through the API."""

import contextlib
import os
import signal
import subprocess
import time
import uuid
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import redis

from adapters.dramatiq_queue.broker import EXECUTIONS_QUEUE, NAMESPACE
from bench import service
from bench.common import (
    REDIS_URL,
    agentkeel_bin,
    env_str,
    log,
)
from bench.seed import PROMPT, api_post

QUEUE_DB = env_str("BENCH_QUEUE_DB", "agentkeel_bench_queue")
LUA = Path(__file__).resolve().parent / "submit.lua"
INPUT = "Summarise in one sentence why unit tests are worth writing."
MSGS_KEY = f"{NAMESPACE}:{EXECUTIONS_QUEUE}.msgs"  # Dramatiq's message bodies, by id
DLQ_KEY = f"{NAMESPACE}:{EXECUTIONS_QUEUE}.XQ"  # its dead letters
TERMINAL = "status NOT IN ('queued', 'running')"


# --------------------------------------------------------------------------- setup


def redis_client() -> "redis.Redis[bytes]":
    client: redis.Redis[bytes] = redis.Redis.from_url(REDIS_URL)
    return client


def flush_redis() -> None:
    """FLUSHDB on the bench's own Redis database; never on db 0 (the default, likely shared)."""
    path = urlsplit(REDIS_URL).path.strip("/")
    if not path.isdigit() or int(path) == 0:
        raise RuntimeError(
            f"BENCH_QUEUE_REDIS_URL must name a dedicated db index other than 0 (got {path!r}): "
            "the bench runs FLUSHDB on it"
        )
    with redis_client() as client:
        client.flushdb()
    log(f"redis db {path} flushed")


def queue_env(url: str) -> dict[str, str]:
    """The service's environment: Redis broker (so serve runs no workers), sandbox gateway."""
    env = service.service_env(url)
    for name in ("AGENTKEEL_LITELLM_URL", "AGENTKEEL_LITELLM_MASTER_KEY"):
        env.pop(name, None)
    return env


class Worker:
    """`agentkeel worker --processes 1 --threads T` (one process); stopped by its PID only."""

    def __init__(self, url: str, threads: int, logfile: Path) -> None:
        self.threads = threads
        self.logfile = logfile
        self._log = logfile.open("a")
        self._log.write(f"\n==== worker --threads {threads}\n")
        self._log.flush()
        self._offset = logfile.stat().st_size
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [agentkeel_bin(), "worker", "--processes", "1", "--threads", str(threads)],
            env=queue_env(url),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.proc.pid

    def own_log(self) -> str:
        with self.logfile.open() as f:
            f.seek(self._offset)
            return f.read()

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from spawn to `agentkeel worker ... running`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agentkeel worker exited {self.proc.returncode}, see log")
            if "agentkeel worker" in self.own_log() and " running (" in self.own_log():
                return time.monotonic() - self.started
            time.sleep(0.1)
        raise RuntimeError(f"agentkeel worker not running after {timeout:.0f} s")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        log(f"worker stopped (pid {self.pid}, exit {self.proc.returncode})")

    def reaper_requeued(self) -> int:
        """Executions its reaper enqueued again (queued > 2 min: duplicate, no-op messages)."""
        total = 0
        for line in self.own_log().splitlines():
            if "reaper: " in line and " requeued" in line:
                with contextlib.suppress(IndexError, ValueError):
                    total += int(line.split("reaper: ", 1)[1].split()[0])
        return total

    def error_lines(self) -> int:
        return sum(1 for ln in self.own_log().splitlines() if " ERROR " in ln or "Traceback" in ln)


# --------------------------------------------------------------------------- seeding, smoke


async def seed_agents(base: str, operator: str, tenants: int, agents: int) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        post = partial(api_post, client)

        pairs: list[tuple[str, str]] = []
        for t in range(tenants):
            tenant = await post(
                "/api/tenants",
                operator,
                {"name": f"queue-tenant-{t:03d}", "admin_email": f"q{t}@bench.example"},
            )
            token = tenant["api_key"]
            for a in range(agents):
                made = await post(
                    "/api/agents",
                    token,
                    {"name": f"queued-{a}", "system_prompt": PROMPT, "model": "gpt-4o-mini",
                     "temperature": 0.5, "max_tokens": 256},
                )  # fmt: skip
                pairs.append((token, made["id"]))
    return pairs


def smoke(base: str, pairs: list[tuple[str, str]]) -> tuple[bool, str]:
    """202 + Location + queued; GET it; unknown agent 404; the message is in Redis and
    nothing takes it (no worker: serve must not run any with AGENTKEEL_REDIS_URL)."""
    token, agent = pairs[0]
    auth = {"Authorization": f"Bearer {token}"}
    results: list[tuple[str, bool, object]] = []
    with httpx.Client(base_url=base, timeout=10) as c, redis_client() as rc:
        before = rc.hlen(MSGS_KEY)
        r = c.post(f"/api/agents/{agent}/executions", json={"input": INPUT}, headers=auth)
        body = r.json() if r.status_code == 202 else {}
        exec_id = body.get("id")
        ok = (
            r.status_code == 202
            and body.get("status") == "queued"
            and r.headers.get("location") == f"/api/executions/{exec_id}"
        )
        results.append(("submit", ok, r.status_code))
        results.append(("message", rc.hlen(MSGS_KEY) == before + 1, rc.hlen(MSGS_KEY) - before))
        r = c.get(f"/api/executions/{exec_id}", headers=auth)
        results.append(
            ("get", r.status_code == 200 and r.json().get("id") == exec_id, r.status_code)
        )
        r = c.post(f"/api/agents/{uuid.uuid4()}/executions", json={"input": INPUT}, headers=auth)
        results.append(("unknown_agent", r.status_code == 404, r.status_code))
        time.sleep(1.5)
        r = c.get(f"/api/executions/{exec_id}", headers=auth)
        status = r.json().get("status") if r.status_code == 200 else r.status_code
        results.append(("no_worker", status == "queued", status))
    text = " ".join(f"{label}={v}{'' if ok else '(FAIL)'}" for label, ok, v in results)
    return all(ok for _, ok, _ in results), text
