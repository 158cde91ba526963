"""What a SQL repository needs of its connection: `execute`, and `fetch_one`/`fetch_all`
for the hot reads (adapters/sqlalchemy/prepared.py)."""

from typing import Any, Protocol

from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.expression import Executable


class Executor(Protocol):
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Runs one statement in the unit of work's transaction."""
        ...

    async def fetch_one(self, sql: str) -> Any | None:
        """The first row (a named tuple) of `sql`, a statement with its values in it (a
        prepared statement's call), sent straight on the driver with whatever the unit of
        work holds back: a hot read without SQLAlchemy's execution layer."""
        ...

    async def fetch_all(self, sql: str) -> list[Any]:
        """Every row of `sql`, as `fetch_one`."""
        ...
