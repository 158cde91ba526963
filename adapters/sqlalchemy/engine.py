"""The service's connection pool, always acting as the runtime role."""

from typing import Any

from sqlalchemy import create_engine, pool, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sqlalchemy.runtime_role import RUNTIME_ROLE
from adapters.sqlalchemy.urls import sqlalchemy_url

PREPARE_THRESHOLD = 5  # psycopg's default, said here because the design relies on it

_PRIVILEGED = text(
    """
    SELECT r.rolsuper OR r.rolbypassrls OR EXISTS (
        SELECT 1 FROM pg_class c
        WHERE c.relowner = r.oid AND c.relname = 'tenants'
          AND c.relnamespace = 'public'::regnamespace)
    FROM pg_roles r WHERE r.rolname = current_user
    """
)


def runtime_connect_args(url: str) -> dict[str, Any]:
    """If the URL's role could bypass row-level security (superuser, BYPASSRLS or the
    tables' owner), every pooled session switches to the runtime role at connect time."""
    probe = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with probe.connect() as conn:
            privileged = bool(conn.execute(_PRIVILEGED).scalar())
    finally:
        probe.dispose()
    return {"options": f"-c role={RUNTIME_ROLE}"} if privileged else {}


def create_runtime_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=10,
        hide_parameters=True,  # bound values (key hashes, secrets) never reach logs
        # psycopg prepares (protocol-level) what the unit of work sends with prepare=True
        # at once, anything else once it has run this many times on the connection.
        connect_args={**runtime_connect_args(url), "prepare_threshold": PREPARE_THRESHOLD},
        # Units of work send BEGIN themselves, folded into their first statement.
        isolation_level="AUTOCOMMIT",
        # ...and end their transaction before they give the connection back (or have it
        # invalidated: SqlUnitOfWork._release), so the pool's own reset, a ROLLBACK that
        # psycopg skips on an idle connection, was only a greenlet hop per request.
        pool_reset_on_return=None,
        # The connection given back last is taken first: at low concurrency requests stay
        # on one warm server process instead of cycling through the pool (0.5 ms of a
        # sync run's 3 ms at c=1, measured here), and idle ones can time out.
        pool_use_lifo=True,
    )
