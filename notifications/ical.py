"""A minimal iCalendar (RFC 5545) writer: escaped text, lines folded at 75 octets, CRLF endings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

CRLF = "\r\n"
MAX_LINE_OCTETS = 75


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a UTF-8 character;
    continuation lines start with one space (RFC 5545 §3.1)."""
    chunks = []
    current = ""
    limit = MAX_LINE_OCTETS
    for char in line:
        if len((current + char).encode()) > limit:
            chunks.append(current)
            current = char
            limit = MAX_LINE_OCTETS - 1  # the leading space of a continuation line counts
        else:
            current += char
    chunks.append(current)
    return (CRLF + " ").join(chunks)


def format_utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def format_date(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


@dataclass(frozen=True)
class Event:
    """A timed event (datetimes) or an all-day one (dates; ``end`` is exclusive)."""

    uid: str
    summary: str
    start: datetime.date | datetime.datetime
    end: datetime.date | datetime.datetime
    description: str = ""
    url: str = ""
    location: str = ""

    def lines(self, stamp: datetime.datetime) -> list[str]:
        lines = ["BEGIN:VEVENT", f"UID:{escape_text(self.uid)}", f"DTSTAMP:{format_utc(stamp)}"]
        if isinstance(self.start, datetime.datetime):
            lines += [f"DTSTART:{format_utc(self.start)}", f"DTEND:{format_utc(self.end)}"]
        else:
            lines += [f"DTSTART;VALUE=DATE:{format_date(self.start)}", f"DTEND;VALUE=DATE:{format_date(self.end)}"]
        lines.append(f"SUMMARY:{escape_text(self.summary)}")
        if self.description:
            lines.append(f"DESCRIPTION:{escape_text(self.description)}")
        if self.location:
            lines.append(f"LOCATION:{escape_text(self.location)}")
        if self.url:
            lines.append(f"URL:{self.url}")
        lines.append("END:VEVENT")
        return lines


def calendar(events: list[Event], *, name: str, stamp: datetime.datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//BPO tracker//Governance calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines += event.lines(stamp)
    lines.append("END:VCALENDAR")
    return CRLF.join(fold(line) for line in lines) + CRLF
