"""Pagination for lists over large subtrees.

``Paginator`` counts every matching row on each page view, and on a province's subtree that count
is the slowest query of the page (it grows with the subtree). ``CappedPaginator`` counts at most
``cap`` + 1 rows: below the cap the count is exact; above it the page says "10000+" and offers
the first ``cap`` rows, with a hint to narrow the filter (nobody pages through 10,000 names).
"""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator

DEFAULT_CAP = 10_000


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int = DEFAULT_CAP, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _bounded_count(self) -> int:
        # COUNT(*) over a LIMIT-ed subquery of bare ids (no annotations, no ordering): the database
        # stops after cap + 1 rows.
        object_list = self.object_list
        if hasattr(object_list, "values_list"):
            object_list = object_list.order_by().values_list("pk", flat=True)
        return object_list[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)

    @property
    def capped(self) -> bool:
        return self._bounded_count > self.cap
