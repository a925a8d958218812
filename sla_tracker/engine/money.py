"""Exact arithmetic helpers: one half-up rounding rule, used for money and for precision."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

Number = Fraction | Decimal | int

CENT = 2
_CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def round_half_up(value: Number, places: int) -> Decimal:
    """Round an exact value to ``places`` decimals, halves away from zero (ROUND_HALF_UP)."""
    numerator, denominator = value.as_integer_ratio()
    # floor(|value| × 10^places + 1/2) in integers: Fraction arithmetic costs ten times more.
    whole = (2 * abs(numerator) * 10**places + denominator) // (2 * denominator)
    return Decimal(-whole if numerator < 0 else whole).scaleb(-places)


def to_cents(value: Number) -> Decimal:
    """Money rounded half-up to cents: the only rounding applied to final lines."""
    return round_half_up(value, CENT)


def pct_of(pct: Decimal, amount: Number) -> Fraction:
    """``pct`` per cent of ``amount``, exactly."""
    return Fraction(pct) * Fraction(amount) / 100


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``Decimal("60.0")`` → ``"60"``."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_cents(cents: Decimal, currency: str) -> str:
    """An amount in cents as ``€14,400.00``: thousands separators and the currency's symbol (an exact
    intermediate amount with fractions of a cent keeps them: ``€12,000.006``)."""
    symbol = _CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if cents < 0 else ""
    places = max(2, -cents.as_tuple().exponent)
    return f"{sign}{symbol}{abs(cents):,.{places}f}"
