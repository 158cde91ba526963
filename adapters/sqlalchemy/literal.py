"""SQL text with its values in it, for the unit of work to send several statements as one
simple-protocol message (one round trip).

The values are bound client-side by psycopg (`ClientCursor.mogrify`: libpq's quoting for
the connection's encoding, the mode psycopg documents for servers that cannot take
parameters; see adapters/sqlalchemy/prepared.py), never pasted in with string formatting;
UUIDs and bytes, whose text is hex digits and dashes only, are the exception.
"""

import uuid

from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement

DIALECT: Dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]


def driver_sql(statement: ClauseElement) -> str:
    """`statement` (without parameters) as psycopg's SQL text."""
    return str(statement.compile(dialect=DIALECT))


def uuid_literal(value: uuid.UUID) -> str:
    """A UUID as a SQL literal: its canonical text is hex digits and dashes only."""
    return f"'{uuid.UUID(str(value))}'::uuid"


def bytea_literal(value: bytes) -> str:
    return f"'\\x{value.hex()}'::bytea"
