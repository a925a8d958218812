"""Business-day calendars: which days count when a notice is given in business days.

A contract names the calendar of its jurisdiction (its governing law or place of performance): an ISO 3166-1
country and, optionally, one of its subdivisions (DE + BY: Bavaria). Its business days are that calendar's
working days: not its weekend (Saturday and Sunday in most countries; Friday and Saturday in some), nor its
public holidays (substitute days included, e.g. a United Kingdom bank holiday moved to the Monday), and its
weekend days declared working days (e.g. China's make-up Saturdays) are business days. The holidays come from
the ``holidays`` library, which computes them offline for each year (nothing is fetched at run time); the
years it has no data for (before a country's first recorded year, far in the future) have only the weekend.

A contract that names no calendar counts Monday to Friday, without public holidays.
"""

from __future__ import annotations

import bisect
import datetime
import functools
from dataclasses import dataclass

import holidays
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

ONE_DAY = datetime.timedelta(days=1)


@functools.cache
def supported_calendars() -> dict[str, tuple[str, ...]]:
    """The countries whose calendars are known (ISO 3166-1 alpha-2 codes), each with its subdivisions' codes."""
    return {
        country: tuple(subdivisions)
        for country, subdivisions in holidays.list_supported_countries(include_aliases=False).items()
    }


def calendar_errors(country: str, subdivision: str) -> dict[str, str]:
    """Why a calendar of ``country`` and ``subdivision`` is refused, by the field each concerns (empty: it is
    not). No country: Monday to Friday, and then no subdivision."""
    if not country:
        if subdivision:
            return {
                "calendar_subdivision": _("Give the country of the subdivision %(subdivision)s first.")
                % {"subdivision": subdivision}
            }
        return {}
    known = supported_calendars()
    if country not in known:
        return {
            "calendar_country": _(
                "No holiday calendar is known for the country “%(country)s”: give its ISO 3166-1 code in two capital "
                "letters, e.g. FR or DE."
            )
            % {"country": country}
        }
    if subdivision and subdivision not in known[country]:
        if not known[country]:
            message = _("The calendar of %(country)s has no subdivisions: leave the subdivision empty.")
        else:
            message = _(
                "%(country)s has no subdivision “%(subdivision)s” in its holiday calendar; its subdivisions are: "
                "%(known)s."
            )
        return {
            "calendar_subdivision": message
            % {"country": country, "subdivision": subdivision, "known": ", ".join(known[country])}
        }
    return {}


@functools.lru_cache(maxsize=2048)
def _closed_days(country: str, subdivision: str, year: int) -> tuple[datetime.date, ...]:
    """The days of ``year`` that are not business days in the calendar, in order. One fresh ``holidays``
    object per year: the library fills its objects in place as years are asked, so none is shared."""
    first = datetime.date(year, 1, 1)
    days = (first + ONE_DAY * n for n in range((datetime.date(year, 12, 31) - first).days + 1))
    if not country:
        return tuple(day for day in days if day.weekday() >= 5)
    calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return tuple(day for day in days if not calendar.is_working_day(day))


@dataclass(frozen=True)
class BusinessCalendar:
    """The business days of a country (and subdivision), or, with no country, Monday to Friday."""

    country: str = ""
    subdivision: str = ""

    @property
    def code(self) -> str:
        """The calendar as written in ISO 3166-2 style ("FR", "DE-BY"); empty for Monday to Friday."""
        return f"{self.country}-{self.subdivision}" if self.subdivision else self.country

    @property
    def label(self) -> str:
        """Which calendar, for a reader: "FR holiday calendar", "Monday to Friday, no holiday calendar"."""
        if not self.country:
            return _("Monday to Friday, no holiday calendar")
        return _("%(calendar)s holiday calendar") % {"calendar": self.code}

    def is_business_day(self, day: datetime.date) -> bool:
        closed = _closed_days(self.country, self.subdivision, day.year)
        index = bisect.bisect_left(closed, day)
        return index == len(closed) or closed[index] != day

    def closed_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """How many days after ``start`` up to and including ``end`` are not business days."""
        count = 0
        for year in range(start.year, end.year + 1):
            closed = _closed_days(self.country, self.subdivision, year)
            count += bisect.bisect_right(closed, end) - bisect.bisect_right(closed, start)
        return count


MONDAY_TO_FRIDAY = BusinessCalendar()


def business_days_text(count: int, calendar: BusinessCalendar) -> str:
    """A count of business days with the calendar it is counted in: "10 business days (FR holiday calendar)"."""
    return ngettext("%(count)d business day (%(calendar)s)", "%(count)d business days (%(calendar)s)", count) % {
        "count": count,
        "calendar": calendar.label,
    }
