"""Presentation helpers shared by every page: money with its currency, status badges with text."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import get_language

from config import formats

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}

# Bootstrap colour of each status. The badge always shows the status's label too: never colour alone.
STATUS_COLOURS = {
    "statement": {
        "draft": "secondary",
        "in_review": "info",
        "disputed": "warning",
        "approved": "success",
        "invoiced": "primary",
    },
    "line": {
        "met": "success",
        "missed": "warning",
        "default": "danger",
        "minimum_default": "danger",
        "not_measured": "secondary",
    },
}


@register.filter
def money(value, currency: str = "", *, exact: bool = False) -> str:
    """An amount as the reader sees it everywhere (pages, PDFs, explanations, messages, notifications): `14400` in
    EUR is "€14,400.00" in English (American and British alike: only French has a branch) and "14 400,00 €" in
    French; a currency without a symbol is written by its code, before the digits in English ("CHF 5,862.00", as the
    engine writes it) and after them in French ("5 862,00 CHF"), a no-break space between them; a negative amount
    starts with a minus sign ("−CHF 5,862.00").
    `exact` (from Python only) keeps the fractions of a cent an exact intermediate amount has."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    places = max(2, -amount.as_tuple().exponent) if exact else 2
    digits = number_format(abs(amount), places, force_grouping=True)
    sign = "−" if amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    if not currency:
        return f"{sign}{digits}"
    if (get_language() or "en").startswith("fr"):
        return f"{sign}{digits}\u00a0{symbol or currency}"
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{currency}\u00a0{digits}"


@register.filter
def quantity(value) -> str:
    """A stored count or measure without its column's trailing zeros, grouped as the interface's
    language writes numbers: `11425.2000` → "11,425.2" ("11 425,2" in French), `19129.0000` → "19,129"."""
    if value is None or value == "":
        return "—"
    plain = Decimal(format(Decimal(value).normalize(), "f"))
    return number_format(plain, force_grouping=True)


@register.filter
def measured(line) -> str:
    """A statement line's measured value as its explanation writes it (sla_tracker.explanations), in the
    interface's language: "18.1493" where the explanation compares 18.1493, not "18.15"; "—" if not measured."""
    from sla_tracker.explanations import measured_as_explained  # it writes amounts with this module's money

    value = measured_as_explained(line.measured, line.explanation_notes)
    return "—" if value is None else number_format(value)


@register.simple_tag
def status_badge(kind: str, value: str, label: str) -> str:
    colour = STATUS_COLOURS.get(kind, {}).get(value, "secondary")
    text = " text-dark" if colour in ("warning", "info", "light") else ""
    return format_html(
        '<span class="badge text-bg-{}{} status-{}" data-status="{}">{}</span>', colour, text, value, value, label
    )


@register.filter
def status_colour(value: str, kind: str = "line") -> str:
    return STATUS_COLOURS.get(kind, {}).get(value, "secondary")


@register.simple_tag
def colon() -> str:
    """The colon after a label, as the interface's language sets it: "Owner:", "Responsable :" (French
    puts a no-break space before it)."""
    return "\u00a0:" if (get_language() or "en").startswith("fr") else ":"


@register.filter(expects_localtime=True, is_safe=False)
def long_date(value) -> str:
    """A date written out in the reader's language ("1er septembre 2026" in French): config.formats.long_date."""
    return formats.long_date(value) if value else ""


@register.filter(is_safe=False)
def month_name(value) -> str:
    """A month (a date, or "2026-10" as event data keeps it) as the pages name one, in the reader's language:
    config.formats.month_name; anything else as it is."""
    if value in (None, ""):
        return ""
    try:
        return formats.month_name(value)
    except ValueError:
        return str(value)


@register.filter(expects_localtime=True, is_safe=False)
def long_datetime(value) -> str:
    """A moment written out in the reader's language and time zone: config.formats.long_datetime."""
    return formats.long_datetime(value) if value else ""
