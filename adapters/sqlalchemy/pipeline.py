"""Several statements in one round trip, through psycopg's pipeline mode.

Each statement goes as its own extended-protocol Parse (the first time on a connection:
`prepare=True`, psycopg names it), Bind (its values, never in the SQL text) and Execute;
one Sync closes the batch, and only then does the client wait. If a statement fails,
PostgreSQL skips the rest up to the Sync, psycopg raises the first error (the others are
`PipelineAborted`) and forgets any statement whose preparation was skipped with them. A
batch without BEGIN is one implicit transaction, committed at the Sync: all or nothing.
"""

import weakref
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import BaseRowFactory, RowMaker, namedtuple_row

from adapters.sqlalchemy.errors import domain_errors
from adapters.sqlalchemy.statements import Bound


def _named_when_read(cursor: Any) -> RowMaker[Any]:
    """psycopg's `namedtuple_row`, made only for a result that is read: a batch's answers
    to what was held back (BEGIN, the context, INSERTs) are skipped unread, and making
    the named tuple type for each of them was ~5% of a sync run's CPU in a profile.

    The cursor is held weakly: it holds this row maker, and a cycle would leave every
    cursor to the cyclic garbage collector instead of reference counting
    (docs/benchmarks.md, "Streaming")."""
    made: RowMaker[Any] | None = None
    of = weakref.ref(cursor)

    def row(values: Any) -> Any:
        nonlocal made
        if made is None:
            alive = of()
            assert alive is not None  # it is reading this row
            made = namedtuple_row(alive)
        return made(values)

    return row


_ROWS: BaseRowFactory[Any] = _named_when_read


async def send_batch(
    driver: AsyncConnection[Any], calls: Sequence[Bound]
) -> list[AsyncCursor[Any]]:
    """`calls` in one round trip, in order; one cursor on each one's answer. A refusal is
    raised as the domain error it means (adapters/sqlalchemy/errors.py)."""
    cursors = [driver.cursor(row_factory=_ROWS) for _ in calls]
    with domain_errors():
        async with driver.pipeline():
            for cursor, call in zip(cursors, calls, strict=True):
                statement = call.statement
                await cursor.execute(statement.query, call.params, prepare=statement.prepare)
    return cursors
