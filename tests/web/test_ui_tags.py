"""Money is shown with its currency, in the active language's format; status badges carry their label."""

from decimal import Decimal

from django.utils import translation

from accounts.templatetags.ui import colon, money, quantity, status_badge


def test_money_in_english_puts_the_symbol_first():
    with translation.override("en"):
        assert money(Decimal("14400"), "EUR") == "€14,400.00"
        assert money(Decimal("-250.5"), "GBP") == "−£250.50"


def test_money_in_french_groups_with_spaces_and_puts_the_symbol_last():
    with translation.override("fr"):
        assert money(Decimal("14400"), "EUR") == "14\u00a0400,00\u00a0€"


def test_currencies_without_a_symbol_show_their_code_before_the_digits_in_english_as_the_explanations_do():
    with translation.override("en"):
        assert money(Decimal("5862"), "CHF") == "CHF\u00a05,862.00"
        assert money(Decimal("-5862"), "CHF") == "−CHF\u00a05,862.00"
        assert money(Decimal("12000.006"), "CHF", exact=True) == "CHF\u00a012,000.006"
    assert money(None, "EUR") == "—"


def test_money_in_british_english_is_written_as_in_english():
    with translation.override("en-gb"):
        assert money(Decimal("5862"), "CHF") == "CHF\u00a05,862.00"
        assert money(Decimal("-5862"), "CHF") == "−CHF\u00a05,862.00"
        assert money(Decimal("14400"), "EUR") == "€14,400.00"
        assert money(Decimal("-250.5"), "GBP") == "−£250.50"
        assert money(Decimal("5862"), "") == "5,862.00"
        assert quantity(Decimal("11425.2000")) == "11,425.2"
        assert colon() == ":"


def test_currencies_without_a_symbol_show_their_code_after_the_digits_in_french():
    with translation.override("fr"):
        assert money(Decimal("5862"), "CHF") == "5\u00a0862,00\u00a0CHF"
        assert money(Decimal("-5862"), "CHF") == "−5\u00a0862,00\u00a0CHF"


def test_money_without_a_currency_is_its_digits_alone():
    with translation.override("en"):
        assert money(Decimal("-5862"), "") == "−5,862.00"
    with translation.override("fr"):
        assert money(Decimal("5862"), "") == "5\u00a0862,00"


def test_a_status_badge_shows_its_label_as_well_as_its_colour():
    badge = status_badge("line", "default", "Default")

    assert "text-bg-danger" in badge
    assert ">Default</span>" in badge


def test_a_quantity_drops_the_columns_trailing_zeros_and_is_grouped_as_the_language_writes_numbers():
    with translation.override("en"):
        assert (quantity(Decimal("11425.2000")), quantity(Decimal("19129.0000"))) == ("11,425.2", "19,129")
        assert quantity(Decimal("0.0000")) == "0"
    with translation.override("fr"):
        assert quantity(Decimal("11425.2000")) == "11\u00a0425,2"
    assert quantity(None) == "—"
