"""One pagination for every list: ``Connection[T]`` of ``Edge[T]`` with ``PageInfo``.

Relay's shape, written once (strawberry names ``Connection[Person]`` "PersonConnection"
and ``Edge[Person]`` "PersonEdge"). A list that also counts (a timeline's
``totalCount``) subclasses its connection and adds the field. Cursors come from the one
codec, :mod:`cdp.cursors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, Self, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type(description="Where a page ends, and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page (opaque)."
    )


@strawberry.type(description="One row of a page, with the cursor that resumes after it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @classmethod
    def of(
        cls, rows: Iterable[tuple[str, T]], has_next: bool, end: str | None = None, **extra: Any
    ) -> Self:
        """A page from ``(cursor, node)`` rows; ``end`` when the page read past its last
        row (rows left out); ``extra`` fills a subclass's own fields."""
        edges = [Edge(cursor=cursor, node=node) for cursor, node in rows]
        end = end or (edges[-1].cursor if edges else None)
        return cls(edges=edges, page_info=PageInfo(has_next_page=has_next, end_cursor=end), **extra)
