"""The shapes a 工作台 is made of: a section (what to look at) holding items (one thing to do)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Entry:
    """One thing to do: ``url`` opens the page where it is done."""

    title: str
    url: str
    detail: str = ""
    action: str = "查看"
    level: str = ""  # "", "warning" or "danger"
    when: str = ""


@dataclass
class Section:
    key: str
    title: str
    icon: str
    empty: str  # what is fine when there is nothing to do
    entries: list[Entry] = field(default_factory=list)
    more_url: str = ""
    more_label: str = "全部"
    total: int | None = None  # when ``entries`` shows only the first few

    @property
    def count(self) -> int:
        return self.total if self.total is not None else len(self.entries)

    @property
    def hidden(self) -> int:
        """Items left out of ``entries`` (the section says how many)."""
        return max(0, self.total - MAX_ENTRIES) if self.total is not None else 0

    @property
    def urgent(self) -> bool:
        return any(e.level == "danger" for e in self.entries)


@dataclass
class QuickAction:
    label: str
    url: str
    icon: str


@dataclass
class Progress:
    """The quarter's organizational life: items done out of those due so far."""

    label: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(self.done * 100 / self.total) if self.total else 100


@dataclass
class RoleBoard:
    role: str
    title: str
    sections: list[Section] = field(default_factory=list)
    actions: list[QuickAction] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return sum(s.count for s in self.sections)


MAX_ENTRIES = 6


def first(entries: list[Entry], limit: int = MAX_ENTRIES) -> tuple[list[Entry], int | None]:
    """The first ``limit`` entries and the total when some were left out."""
    return entries[:limit], (len(entries) if len(entries) > limit else None)
