"""What a SQL repository needs of its connection: SQLAlchemy's `execute`, and for the
statements of every request (adapters/sqlalchemy/statements.py) the unit of work's
batches, one round trip each, through psycopg's pipeline mode."""

from typing import Any, Protocol

from psycopg import AsyncCursor
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.expression import Executable

from adapters.sqlalchemy.statements import Bound


class Executor(Protocol):
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Runs one statement in the unit of work's transaction."""
        ...

    def defer(self, call: Bound) -> None:
        """`call` goes out with the next statement, or with the COMMIT; its errors are
        raised there. For a statement whose answer nobody needs (an INSERT)."""

    async def send(self, *calls: Bound) -> list[AsyncCursor[Any]]:
        """What is held back, then `calls`, in one round trip; a cursor on the answer to
        each of `calls` (named-tuple rows)."""
        ...

    async def fetch_one(self, call: Bound) -> Any | None:
        """The first row of `send(call)`."""
        ...

    async def fetch_all(self, call: Bound) -> list[Any]:
        """Every row of `send(call)`."""
        ...
