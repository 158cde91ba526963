"""Schema migrations (Alembic) and the runtime role's grants, run as the owner role."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, pool

import migrations
from adapters.sqlalchemy.runtime_role import ensure_runtime_role
from adapters.sqlalchemy.urls import sqlalchemy_url

SCRIPT_LOCATION = str(Path(migrations.__file__).parent)


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def _at_head(conn: Connection, config: Config) -> bool:
    head = ScriptDirectory.from_config(config).get_current_head()
    return MigrationContext.configure(conn).get_current_revision() == head


def _run(owner_url: str, action: str, revision: str, runtime_login: str | None = None) -> None:
    engine = create_engine(sqlalchemy_url(owner_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            if action == "upgrade":
                config = alembic_config(conn)
                command.upgrade(config, revision)
                conn.commit()
                # The grants list describes the head schema; older revisions lack objects.
                if _at_head(conn, config):
                    ensure_runtime_role(conn, runtime_login)
            else:
                command.downgrade(alembic_config(conn), revision)
            conn.commit()
    finally:
        engine.dispose()


def upgrade(owner_url: str, runtime_url: str | None = None, revision: str = "head") -> None:
    """Upgrade to `revision`, then give the runtime role exactly the grants it needs."""
    runtime_login = sqlalchemy_url(runtime_url).username if runtime_url else None
    _run(owner_url, "upgrade", revision, runtime_login)


def downgrade(owner_url: str, revision: str) -> None:
    _run(owner_url, "downgrade", revision)


def current_revision(owner_url: str) -> str | None:
    engine = create_engine(sqlalchemy_url(owner_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
