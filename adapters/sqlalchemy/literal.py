"""SQLAlchemy statements rendered as SQL text with their values in it, for the unit of work
to send several statements as one simple-protocol message (one round trip).

The values are bound client-side by psycopg (`ClientCursor.mogrify`: libpq's quoting for
the connection's encoding, the mode psycopg documents for servers that cannot take
parameters), never pasted in with string formatting.
"""

from functools import lru_cache
from typing import Any

from psycopg import AsyncClientCursor
from psycopg import AsyncConnection as PsycopgConnection
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.elements import ClauseElement

_DIALECT: Dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=256)  # statements are module constants; one compile per column set
def _compiled(statement: ClauseElement, column_keys: frozenset[str]) -> Compiled:
    return statement.compile(dialect=_DIALECT, column_keys=sorted(column_keys))


def render(driver: PsycopgConnection[Any], statement: ClauseElement, params: dict[str, Any]) -> str:
    """`statement` with `params` as literals. For an INSERT or UPDATE without explicit
    `.values()`, the params' column names choose the columns written, as `execute` does."""
    compiled = _compiled(statement, frozenset(params))
    values = compiled.construct_params(params)
    return AsyncClientCursor(driver).mogrify(compiled.string, values)


def driver_sql(statement: ClauseElement) -> str:
    """`statement` as psycopg's SQL text, `%(name)s` placeholders (for `fetch_one`)."""
    return str(statement.compile(dialect=_DIALECT))
