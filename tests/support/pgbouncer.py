"""A real PgBouncer (>= 1.21) in transaction mode with `max_prepared_statements`, started
for a test in front of the test PostgreSQL, on a free port with a generated config.

Installed by .ci/pgbouncer.sh. Outside CI a missing one skips; with CI=true it fails.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from adapters.sqlalchemy.urls import sqlalchemy_url
from tests.support.processes import free_port

_MIN_VERSION = (1, 21)
SERVER_CONNECTIONS = 2  # fewer than the pool's: clients share and swap server connections


def _version(binary: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    first = out.stdout.split()
    if len(first) < 2 or first[0] != "PgBouncer":
        return None
    return tuple(int(part) for part in first[1].split(".")[:2])


def find_pgbouncer() -> str:
    candidates = [os.environ.get("AGENTKEEL_TEST_PGBOUNCER"), shutil.which("pgbouncer")]
    candidates += ["/usr/local/bin/pgbouncer", "/usr/sbin/pgbouncer"]
    for binary in filter(None, candidates):
        version = _version(binary)
        if version is not None and version >= _MIN_VERSION:
            return binary
    message = "no PgBouncer >= 1.21 (run .ci/pgbouncer.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _config(target_host: str, target_port: int, port: int, users: Path) -> str:
    return f"""
[databases]
* = host={target_host} port={target_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {users}
pool_mode = transaction
max_prepared_statements = 200
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 200
admin_users = pgbouncer_admin
"""


@contextmanager
def pgbouncer(database_url: str, login: str) -> Iterator[str]:
    """PgBouncer in front of `database_url`'s server; yields the URL of the same database
    through it, as `login` (trusted, no password)."""
    binary = find_pgbouncer()
    url = sqlalchemy_url(database_url)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="agentkeel-pgbouncer-") as tmp:
        folder = Path(tmp)
        users = folder / "users.txt"
        users.write_text(f'"{login}" ""\n"pgbouncer_admin" ""\n')
        config = folder / "pgbouncer.ini"
        host = str(url.query.get("host") or url.host or "127.0.0.1")  # or a socket folder
        config.write_text(_config(host, url.port or 5432, port, users))
        for path in (folder, users, config):  # PgBouncer drops root (_run_as)
            path.chmod(0o755 if path.is_dir() else 0o644)
        log = folder / "out.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [binary, *_run_as(host), str(config)], stdout=out, stderr=subprocess.STDOUT
            )
        try:
            _wait_listening(port, process, log)
            through = url.set(host="127.0.0.1", port=port, username=login, password=None, query={})
            yield through.render_as_string(hide_password=False)
        finally:
            process.terminate()
            process.wait(timeout=10)


def _run_as(host: str) -> list[str]:
    """PgBouncer refuses to run as root and drops to `-u`'s user: `nobody` reaches a server
    over TCP, but a socket folder (the embedded pgserver's is its data folder, 0700) only
    its owner can enter."""
    if os.geteuid() != 0:
        return []
    if host.startswith("/"):
        return ["-u", pwd.getpwuid(Path(host).stat().st_uid).pw_name]
    return ["-u", "nobody"]


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"pgbouncer did not listen: {log.read_text()[-2000:]}")


def admin_url(through: str) -> str:
    """PgBouncer's admin console, for SHOW commands."""
    url = sqlalchemy_url(through).set(drivername="postgresql", database="pgbouncer")
    return url.set(username="pgbouncer_admin").render_as_string(hide_password=False)
