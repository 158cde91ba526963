"""Alembic environment: runs plain SQL revisions over a synchronous psycopg connection.

The connection (or URL) is handed in by `adapters.sqlalchemy.migrate`; nothing is read
from alembic.ini so that the same code path serves the CLI, the embedded server and tests.
"""

from alembic import context
from sqlalchemy import create_engine

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
