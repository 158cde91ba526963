"""Alembic environment: plain SQL revisions over a synchronous psycopg connection.

Two ways in, one behaviour:

* the standard Alembic CLI or API from the project root (`alembic upgrade head`,
  `command.downgrade(Config("alembic.ini"), "-1")`): the database is `sqlalchemy.url` if
  set, else AGENTKEEL_MIGRATION_DATABASE_URL, else AGENTKEEL_DATABASE_URL (as for
  `agentkeel migrate`);
* `agentkeel migrate` (adapters.sqlalchemy.migrate) hands in its own connection.

Either way, a command with a destination (upgrade, downgrade, stamp) that leaves the schema
at head then resets the runtime role's grants: they describe the head schema, so an older
revision gets none.
"""

import logging
import os
from logging.config import fileConfig

from alembic import context
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, create_engine, pool

from adapters.sqlalchemy.runtime_role import ensure_runtime_role
from adapters.sqlalchemy.urls import sqlalchemy_url

config = context.config
# The CLI's logging comes from alembic.ini; a process that set up its own keeps it.
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _owner_url() -> str:
    url = (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("AGENTKEEL_MIGRATION_DATABASE_URL")
        or os.environ.get("AGENTKEEL_DATABASE_URL")
    )
    if not url:
        raise CommandError(
            "set AGENTKEEL_MIGRATION_DATABASE_URL (the owner role's PostgreSQL URL) to run "
            "Alembic; the embedded database is migrated by `agentkeel migrate`"
        )
    return sqlalchemy_url(url).render_as_string(hide_password=False)


def _runtime_login() -> str | None:
    """The service's login role, made a member of the runtime role."""
    if "runtime_login" in config.attributes:
        login: str | None = config.attributes["runtime_login"]
        return login
    runtime_url = os.environ.get("AGENTKEEL_DATABASE_URL")
    return sqlalchemy_url(runtime_url).username if runtime_url else None


def _has_destination() -> bool:
    try:
        context.get_revision_argument()
    except KeyError:  # current, history, ...: no destination, nothing to grant
        return False
    return True


def _migrate(conn: Connection) -> None:
    context.configure(connection=conn, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
    head = ScriptDirectory.from_config(config).get_current_head()
    if _has_destination() and context.get_context().get_current_revision() == head:
        ensure_runtime_role(conn, _runtime_login())
    conn.commit()


if context.is_offline_mode():
    # `--sql`: the revisions' SQL only, for PostgreSQL; grants need a live database.
    context.configure(dialect_name="postgresql", transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    _migrate(connection)
else:
    engine = create_engine(_owner_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _migrate(conn)
    finally:
        engine.dispose()
