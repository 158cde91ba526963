"""The real-process stack of tests/e2e/test_worker_processes.py: `agentkeel worker` as a
child process (killed or stopped by the test), and the HTTP calls on `agentkeel serve`."""

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import AGENTKEEL
from tests.support.slow_gateway import SlowLiteLlm

Json = dict[str, Any]


def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.05)


class WorkerProcess:
    """`agentkeel worker`, its output in a log file per start."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self._env, self._logs = env, logs
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        self.starts += 1
        log = self._logs / f"worker-{self.starts}.log"
        with log.open("wb") as out:
            self._process = subprocess.Popen(
                [AGENTKEEL, "worker"], env=self._env, stdout=out, stderr=subprocess.STDOUT
            )
        eventually(lambda: b"agentkeel worker" in log.read_bytes() or not self.running, 30, "up")
        assert self.running, log.read_text()

    def kill(self) -> None:
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is not None and self.running:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Stack:
    base: str
    tenant: dict[str, str]
    upstream: SlowLiteLlm
    worker: WorkerProcess
    stamp: str

    def agent(self) -> str:
        body = {"name": f"a-{uuid.uuid4().hex[:8]}", "system_prompt": "Be brief."}
        created = httpx.post(f"{self.base}/api/agents", json=body, headers=self.tenant)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def submit(self, agent_id: str, text: str, client: httpx.Client | None = None) -> str:
        post = client.post if client is not None else httpx.post
        url = f"{self.base}/api/agents/{agent_id}/executions"
        response = post(url, json={"input": text}, headers=self.tenant)
        assert response.status_code == 202, response.text
        assert response.headers["location"] == f"/api/executions/{response.json()['id']}"
        return str(response.json()["id"])

    def get(self, execution_id: str) -> Json:
        response = httpx.get(f"{self.base}/api/executions/{execution_id}", headers=self.tenant)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    def listed(self, agent_id: str, status: str | None = None) -> list[Json]:
        params = {"agent_id": agent_id, "limit": "200", **({"status": status} if status else {})}
        response = httpx.get(f"{self.base}/api/executions", params=params, headers=self.tenant)
        assert response.status_code == 200, response.text
        rows: list[Json] = response.json()
        return rows

    def cancel(self, execution_id: str) -> Json:
        url = f"{self.base}/api/executions/{execution_id}/cancel"
        response = httpx.post(url, headers=self.tenant)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    def finished(self, execution_id: str, seconds: float = 20) -> Json:
        eventually(lambda: self.get(execution_id)["finished_at"] is not None, seconds, "finish")
        return self.get(execution_id)
