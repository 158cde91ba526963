"""Run `agentkeel` as a real process and wait for it to answer."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

AGENTKEEL = str(Path(sys.executable).parent / "agentkeel")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTKEEL_")}
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [AGENTKEEL, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@contextmanager
def serving(
    env: dict[str, str], cwd: Path | None = None, *options: str
) -> Iterator[tuple[str, list[str]]]:
    """Start `agentkeel serve [options]`; yield its base URL and the stdout lines read so far."""
    port = free_port()
    process = subprocess.Popen(
        [AGENTKEEL, "serve", "--port", str(port), *options],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "listening on" in line:
                break
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("agentkeel serve did not answer:\n" + "".join(lines))
        yield base, lines
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
