"""Where integration tests find PostgreSQL.

AGENTKEEL_TEST_DATABASE_URL (a superuser URL) if set; else a testcontainers PostgreSQL
when Docker answers; else the embedded pgserver. With CI=true a configured server that
does not answer is a failure, never a skip or a silent fallback.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, pool, text

from adapters.sqlalchemy.urls import sqlalchemy_url


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


@contextmanager
def admin_url() -> Iterator[str]:
    configured = os.environ.get("AGENTKEEL_TEST_DATABASE_URL")
    if configured:
        _check_reachable(configured)
        yield configured
        return
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but AGENTKEEL_TEST_DATABASE_URL is not set")
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="agentkeel-pg-") as tmp:
        server = pgserver.get_server(Path(tmp), cleanup_mode="delete")  # type: ignore[attr-defined]
        yield server.get_uri()


def _check_reachable(url: str) -> None:
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise RuntimeError(
            f"AGENTKEEL_TEST_DATABASE_URL is set but PostgreSQL does not answer: {exc}"
        ) from exc
    finally:
        engine.dispose()


@contextmanager
def scratch_database(admin: str) -> Iterator[str]:
    """A new, empty database on the admin's server; dropped afterwards."""
    name = f"agentkeel_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(
        sqlalchemy_url(admin), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield sqlalchemy_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()
