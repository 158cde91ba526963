"""SQL text with its values in it, for the unit of work to send several statements as one
simple-protocol message (one round trip).

Values become literals here for the types a run writes (text, numbers, booleans, UUIDs,
aware datetimes), exactly as psycopg's client-side binding writes them (`mogrify`;
tests/unit/test_sql_literals.py holds the two side by side), at a fraction of its cost: a
run's INSERT and UPDATE carry some thirty values. Any other value, and text psycopg
refuses (NUL characters), goes to psycopg itself.
"""

import math
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement

DIALECT: Dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]


def driver_sql(statement: ClauseElement) -> str:
    """`statement` (without parameters) as psycopg's SQL text."""
    return str(statement.compile(dialect=DIALECT))


def uuid_literal(value: uuid.UUID) -> str:
    """A UUID as a SQL literal: its canonical text is hex digits and dashes only."""
    if not isinstance(value, uuid.UUID):
        raise TypeError(f"not a UUID: {type(value).__name__}")
    return f"'{uuid.UUID.__str__(value)}'::uuid"


def bytea_literal(value: bytes) -> str:
    # An escape string reads the same whatever standard_conforming_strings says.
    return f" E'\\\\x{bytes(value).hex()}'::bytea"


def _text(value: str) -> str | None:
    if "\x00" in value:
        return None  # psycopg raises its DataError
    quoted = value.replace("'", "''")
    if "\\" in value:
        # An escape string reads the same whatever standard_conforming_strings says.
        return " E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"


def _number(value: int | float) -> str | None:
    if type(value) is float and not math.isfinite(value):
        return None
    text = repr(value)
    return " " + text if text.startswith("-") else text  # never `--`, a comment


def _datetime(value: datetime) -> str | None:
    if value.tzinfo is None:
        return None
    return f"'{value.isoformat(sep=' ')}'::timestamptz"


_WRITERS: dict[type, Callable[[object], str | None]] = {
    str: _text,  # type: ignore[dict-item]
    int: _number,  # type: ignore[dict-item]
    float: _number,  # type: ignore[dict-item]
    bool: lambda value: "true" if value else "false",
    uuid.UUID: uuid_literal,  # type: ignore[dict-item]
    datetime: _datetime,  # type: ignore[dict-item]
}


def sql_literal(value: object, psycopg_literal: Callable[[object], str]) -> str:
    """`value` as a SQL literal; `psycopg_literal` for what is not written here."""
    if value is None:
        return "NULL"
    writer = _WRITERS.get(type(value))  # exact types: a subclass may render differently
    written = writer(value) if writer is not None else None
    return psycopg_literal(value) if written is None else written
