"""What a SQL repository needs of its connection: SQLAlchemy's `execute`, and for the
statements of every request (adapters/sqlalchemy/prepared.py) the unit of work's own
one-round-trip messages, straight on the driver."""

from typing import Any, Protocol

from psycopg import AsyncCursor
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.expression import Executable

from adapters.sqlalchemy.prepared import PreparedStatement


class Executor(Protocol):
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Runs one statement in the unit of work's transaction."""
        ...

    def call(self, statement: PreparedStatement, params: dict[str, Any]) -> str:
        """The prepared statement's call, `params` as literals."""
        ...

    def defer(self, sql: str) -> None:
        """`sql` goes out with the next statement, or with the COMMIT; its errors are
        raised there. For a statement whose answer nobody needs (an INSERT)."""

    async def send(self, sql: str) -> AsyncCursor[Any]:
        """What is held back, then `sql`, in one round trip; the cursor is on the answer to
        `sql` (named-tuple rows)."""
        ...

    async def fetch_one(self, sql: str) -> Any | None:
        """The first row of `send(sql)`."""
        ...

    async def fetch_all(self, sql: str) -> list[Any]:
        """Every row of `send(sql)`."""
        ...
