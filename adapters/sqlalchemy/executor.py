"""What a SQL repository needs of its connection: `execute`, and nothing else."""

from typing import Any, Protocol

from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.expression import Executable


class Executor(Protocol):
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Runs one statement in the unit of work's transaction."""
        ...
