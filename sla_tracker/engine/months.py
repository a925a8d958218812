"""Calendar months as values: the engine never reads the clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

_MONTH_PATTERN = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, e.g. ``Month(2026, 1)``; ``str()`` gives ``"2026-01"``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse ``"YYYY-MM"``; raise ``ValueError`` for anything else."""
        match = _MONTH_PATTERN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"not a month in the form YYYY-MM: {text!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month a day belongs to."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __add__(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def __sub__(self, months: int) -> Month:
        return self + -months

    def window_start(self, length: int) -> Month:
        """The first of the ``length`` months ending with this one, but not before 0001-01: a
        window may reach back before the calendar (stored windows go up to 32767 months)."""
        return self - min(length - 1, self.months_since(Month(1, 1)))

    def months_since(self, other: Month) -> int:
        """How many months ``other`` lies before this month (negative if after)."""
        return (self.year - other.year) * 12 + self.month - other.month

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return (self + 1).first_day - timedelta(days=1)


@dataclass(frozen=True)
class MonthRange:
    """Consecutive months from ``first`` to ``last``, both included."""

    first: Month
    last: Month

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"month range ends ({self.last}) before it starts ({self.first})")

    def __iter__(self) -> Iterator[Month]:
        month = self.first
        while month <= self.last:
            yield month
            month += 1

    def __len__(self) -> int:
        return self.last.months_since(self.first) + 1

    def __contains__(self, month: object) -> bool:
        return isinstance(month, Month) and self.first <= month <= self.last

    def __str__(self) -> str:
        return f"{self.first}..{self.last}"
