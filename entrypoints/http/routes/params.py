from typing import Annotated

from litestar.params import Parameter

from application.ports.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page

Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE, description="Page size (max 200)")]
Offset = Annotated[int, Parameter(ge=0, le=2**31 - 1, description="Rows to skip")]


def page(limit: int, offset: int) -> Page:
    return Page(limit=limit, offset=offset)


__all__ = ["DEFAULT_PAGE_SIZE", "Limit", "Offset", "page"]
