from dataclasses import dataclass

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Page:
    """Offset pagination, already validated at the edge (limit 1..200, offset >= 0)."""

    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0
