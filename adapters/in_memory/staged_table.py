"""A table view for one unit of work: reads see committed rows plus this work's own changes.

Rows are copied in and out, so a caller mutating an entity changes nothing until it calls
the repository, and nothing at all until commit: the same isolation a database gives.
"""

import copy
import uuid
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar


class _Row(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


Row = TypeVar("Row", bound=_Row)


class StagedTable(Generic[Row]):
    def __init__(self, committed: dict[uuid.UUID, Row], visible: Callable[[Row], bool]) -> None:
        self._committed = committed
        self._visible = visible
        self._staged: dict[uuid.UUID, Row | None] = {}  # None marks a deletion

    def get(self, row_id: uuid.UUID) -> Row | None:
        row = self._staged[row_id] if row_id in self._staged else self._committed.get(row_id)
        return copy.deepcopy(row) if row is not None and self._visible(row) else None

    def rows(self) -> Iterator[Row]:
        """Every visible row (copies), committed or staged."""
        for row_id in {**self._committed, **self._staged}:
            row = self.get(row_id)
            if row is not None:
                yield row

    def all_rows_unscoped(self) -> Iterator[Row]:
        """For uniqueness checks, which a database makes across tenants too."""
        merged = {**self._committed, **self._staged}
        return (row for row in merged.values() if row is not None)

    def put(self, row: Row) -> None:
        self._staged[row.id] = copy.deepcopy(row)

    def remove(self, row_id: uuid.UUID) -> bool:
        if self.get(row_id) is None:
            return False
        self._staged[row_id] = None
        return True

    def apply(self) -> None:
        for row_id, row in self._staged.items():
            if row is None:
                self._committed.pop(row_id, None)
            else:
                self._committed[row_id] = row
        self._staged.clear()

    def discard(self) -> None:
        """Roll back: forget what this unit of work staged."""
        self._staged.clear()
