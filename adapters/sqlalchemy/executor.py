"""What a SQL repository needs of its connection: `execute`, and `fetch_one` for hot reads."""

from typing import Any, Protocol

from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.expression import Executable


class Executor(Protocol):
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Runs one statement in the unit of work's transaction."""
        ...

    async def fetch_one(self, sql: str, parameters: dict[str, Any]) -> Any | None:
        """The first row of `sql` (`%(name)s` placeholders; a named tuple), straight on the
        driver: a hot read without SQLAlchemy's execution layer."""
        ...

    async def fetch_all(self, sql: str, parameters: dict[str, Any]) -> list[Any]:
        """Every row of `sql`, as `fetch_one`."""
        ...
