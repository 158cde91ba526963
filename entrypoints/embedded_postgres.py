"""The embedded default: PostgreSQL 16 from the `pgserver` wheel, data in the project folder.

Used only when no database URL is configured, so that `make run` works on a fresh machine.
The code path afterwards is the same as with a real server: migrations, runtime role, RLS.
"""

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, pool, text

from adapters.sqlalchemy.urls import sqlalchemy_url

DATABASE = "agentkeel"
log = logging.getLogger("agentkeel.embedded")
_servers: dict[Path, Any] = {}  # keep the handle alive: pgserver stops the server on exit


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded server and return the URL of the agentkeel database."""
    import pgserver  # imported here: it is heavy and only the embedded mode needs it

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pgdata) or pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    _servers[pgdata] = server
    admin_url = sqlalchemy_url(server.get_uri())
    engine = create_engine(admin_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": DATABASE}
            ).first()
            if exists is None:
                conn.execute(text(f"CREATE DATABASE {DATABASE}"))
                log.info("created embedded database in %s", pgdata)
    finally:
        engine.dispose()
    return admin_url.set(database=DATABASE).render_as_string(hide_password=False)
