"""A line's explanation in the reader's language: the engine writes it in English and gives its
parts as notes; the close stores them; the pages, exports and simulator write them in French."""

import ast
import csv
import datetime
import html
import io
import json
import logging
import re
import string
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from config.formats import long_date, month_name
from sla_tracker.engine.explain import to_data
from sla_tracker.engine.scenario import load_scenario
from sla_tracker.explanations import readable
from sla_tracker.models import StatementLine
from tests.factories import UserFactory
from tests.sla_tracker.test_close import close, scenario_json, seed_scenario

ENGINE = Path(__file__).resolve().parents[2] / "sla_tracker" / "engine"
NBSP = "\u00a0"
NNBSP = "\u202f"  # French sets it before a semicolon

EX01_ENGLISH = (
    "73.26 % < 80 % target → default; allocation 60 % × €24,000.00 at risk = €14,400.00; monthly cap not reached"
)
EX01_FRENCH = (
    f"73,26{NBSP}% < 80{NBSP}% (cible) → défaillance{NNBSP}; allocation 60{NBSP}% × 24{NBSP}000,00{NBSP}€ à risque = "
    f"14{NBSP}400,00{NBSP}€{NNBSP}; plafond mensuel non atteint"
)


def written_out(text: str) -> str:
    """The engine's English with its days and months as the pages write them ("2026-12-08" → "Dec. 8, 2026",
    "2026-01" → "January 2026")."""
    text = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", lambda day: long_date(datetime.date.fromisoformat(day[0])), text)
    return re.sub(r"\b\d{4}-\d{2}\b", lambda month: month_name(month[0]), text)


def engine_templates() -> set[str]:
    """Every string the engine marks with ``_`` (its explanation templates and words)."""
    found = set()
    for path in ENGINE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
                found.add(node.args[0].value)
    return found


def fields(template: str) -> set[str]:
    return {name for _text, name, _spec, _conversion in string.Formatter().parse(template) if name}


def french_lines(name: str) -> list[tuple[str, str]]:
    """(English, French) explanation of every line of a DOMAIN.md §6 scenario, through the notes."""
    from sla_tracker.engine import evaluate

    scenario = load_scenario(scenario_json(name))
    evaluation = evaluate(scenario.terms, scenario.data, scenario.months)
    with translation.override("fr"):
        return [
            (line.explanation, readable(line.explanation, to_data(line.notes)))
            for month in evaluation.months
            for line in month.lines
        ]


def test_every_template_of_the_engine_is_translated_into_french_with_the_same_fields():
    templates = engine_templates()
    assert "{value} {sign} {expected} {level} → default" in templates and len(templates) > 30

    with translation.override("fr"):
        for template in templates:
            assert gettext(template) != template, f"untranslated: {template}"
            assert fields(gettext(template)) == fields(template), template


def test_the_notes_write_the_engines_english_text_again():
    from sla_tracker.engine import evaluate

    rights = 0
    for path in sorted((Path(__file__).parent / "engine" / "scenarios").glob("*.json")):
        scenario = load_scenario(json.loads(path.read_text()))
        for month in evaluate(scenario.terms, scenario.data, scenario.months).months:
            for line in month.lines:
                assert "; ".join(note.english() for note in line.notes) == line.explanation, path.name
            for right in month.termination_rights:
                assert "; ".join(note.english() for note in right.notes) == right.evidence, path.name
                rights += 1
    assert rights >= 3


def test_the_english_pages_write_the_engines_text_again_with_the_pages_amounts_and_dates():
    from sla_tracker.engine import evaluate

    lines = 0
    for path in sorted((Path(__file__).parent / "engine" / "scenarios").glob("*.json")):
        scenario = load_scenario(json.loads(path.read_text()))
        with translation.override("en"):
            for month in evaluate(scenario.terms, scenario.data, scenario.months).months:
                for line in month.lines:
                    assert readable(line.explanation, to_data(line.notes)) == written_out(line.explanation), path.name
                    lines += 1
                for right in month.termination_rights:
                    assert readable(right.evidence, to_data(right.notes)) == written_out(right.evidence), path.name
    assert lines > 100


EX01_CHF_ENGINE = (
    "73.26 % < 80 % target → default; allocation 60 % × CHF 24,000.00 at risk = CHF 14,400.00; monthly cap not reached"
)
EX01_CHF_ENGLISH = (
    f"73.26 % < 80 % target → default; allocation 60 % × CHF{NBSP}24,000.00 at risk = CHF{NBSP}14,400.00; "
    "monthly cap not reached"
)
EX01_CHF_FRENCH = (
    f"73,26{NBSP}% < 80{NBSP}% (cible) → défaillance{NNBSP}; allocation 60{NBSP}% × 24{NBSP}000,00{NBSP}CHF à risque "
    f"= 14{NBSP}400,00{NBSP}CHF{NNBSP}; plafond mensuel non atteint"
)


def in_swiss_francs(name: str) -> dict:
    return {**scenario_json(name), "currency": "CHF"}


def test_an_amount_in_a_currency_without_a_symbol_reads_as_the_pages_write_money_not_as_the_engines_text():
    from sla_tracker.engine import evaluate

    scenario = load_scenario(in_swiss_francs("ex01_plain_breach"))
    (line,) = [line for line in evaluate(scenario.terms, scenario.data, scenario.months).months[0].lines if line.credit]

    assert line.explanation == EX01_CHF_ENGINE  # the engine's own text (the simulator's JSON) is unchanged
    with translation.override("en"):
        assert readable(line.explanation, to_data(line.notes)) == EX01_CHF_ENGLISH
    with translation.override("en-gb"):  # British English writes it as English does
        assert readable(line.explanation, to_data(line.notes)) == EX01_CHF_ENGLISH
    with translation.override("fr"):
        assert readable(line.explanation, to_data(line.notes)) == EX01_CHF_FRENCH


@pytest.mark.django_db
def test_a_statement_in_swiss_francs_writes_the_credit_alike_in_its_table_its_explanation_and_its_export(client):
    statement = close(seed_scenario(in_swiss_francs("ex01_plain_breach")), "2026-01")
    client.force_login(UserFactory(procurement=True))
    url = reverse("sla_tracker:statement", args=[statement.pk])

    english = client.get(url).content.decode()
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    exported = client.get(reverse("sla_tracker:statement-export", args=[statement.pk, "csv"])).content.decode()

    assert statement.currency == "CHF"
    assert f'data-testid="line-credit">CHF{NBSP}14,400.00' in english
    assert html.escape(EX01_CHF_ENGLISH) in english and "14,400.00 CHF" not in english
    assert f'data-testid="line-credit">14{NBSP}400,00{NBSP}CHF' in french
    assert html.escape(EX01_CHF_FRENCH) in french
    (row,) = [row for row in csv.reader(io.StringIO(exported.lstrip("\ufeff"))) if row and row[0] == "CSL-1"]
    assert (row[6], row[10]) == ("14400.00", EX01_CHF_ENGLISH)  # the amount stays a number, the text is the page's


EX13_FRENCH_EVIDENCE = [
    "CSL-3 donnant lieu à crédit 3 mois consécutifs (juillet 2026..septembre 2026, ≥ 3)",
    "7 mois avec une défaillance donnant lieu à crédit sur octobre 2025..septembre 2026 (≥ 6)\u00a0: "
    "janvier 2026, mars 2026, avril 2026, juin 2026, juillet 2026, août 2026, septembre 2026",
]


@pytest.mark.django_db
def test_a_termination_rights_evidence_reads_in_the_readers_language(client):
    contract = seed_scenario(scenario_json("ex13_termination_triggers"))
    for month in range(1, 10):
        statement = close(contract, f"2026-{month:02d}")
    client.force_login(UserFactory(procurement=True))
    url = reverse("sla_tracker:statement", args=[statement.pk])

    english = client.get(url).content.decode()
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    evidence = [right["evidence"] for right in statement.termination_rights]
    assert evidence[0] == "CSL-3 credit-bearing in 3 consecutive months (2026-07..2026-09, ≥ 3)"  # the engine's
    assert html.escape("CSL-3 credit-bearing in 3 consecutive months (July 2026..September 2026, ≥ 3)") in english
    with translation.override("en"):
        assert all(html.escape(written_out(text)) in english for text in evidence)
    assert all(html.escape(text) in french for text in EX13_FRENCH_EVIDENCE)
    assert "consecutive months" not in french and "credit-bearing default" not in french


def simulated_in_french(client, name: str, last_month: int):
    """The simulator page of a contract seeded from a DOMAIN.md §6 scenario, from 2026-01 to
    ``last_month`` of 2026, in French."""
    from sla_tracker.engine import Month, MonthRange
    from sla_tracker.penalty_inputs import export_scenario

    contract = seed_scenario(scenario_json(name))
    client.force_login(UserFactory(procurement=True))
    scenario = export_scenario(contract, MonthRange(Month(2026, 1), Month(2026, last_month)))[0]
    return client.post(
        reverse("sla_tracker:simulate", args=[contract.pk]),
        {"scenario": json.dumps(scenario)},
        HTTP_ACCEPT_LANGUAGE="fr",
    )


@pytest.mark.django_db
def test_the_simulator_page_writes_a_termination_rights_evidence_in_the_readers_language(client):
    page = simulated_in_french(client, "ex13_termination_triggers", 9)

    september = page.context["result"]["rows"][8]
    assert [right["evidence"] for right in september["termination_rights"]] == EX13_FRENCH_EVIDENCE
    assert f'title="{html.escape(EX13_FRENCH_EVIDENCE[0])}"' in page.content.decode()
    # Also written out below the table, with the month since which the right is available.
    assert str(september["termination_rights"][0]["since"]) == "2026-09"
    assert f"Droit de résiliation depuis septembre 2026\u00a0:</strong> {html.escape(EX13_FRENCH_EVIDENCE[0])}" in (
        page.content.decode()
    )


@pytest.mark.parametrize(
    ("name", "french"),
    [
        ("ex01_plain_breach", EX01_FRENCH),
        (
            "ex14_expected_and_minimum_levels",
            f"77,00{NBSP}% < 80{NBSP}% (niveau attendu), occurrence 4 sur 12 mois (défaillance à partir de la 4e) "
            f"→ défaillance{NNBSP}; crédit forfaitaire = 10{NBSP}000,00{NBSP}€",
        ),
        (
            "ex11_excluded_days",
            None,  # checked below: the excluded days follow the status in parentheses
        ),
    ],
)
def test_a_line_reads_in_french_with_numbers_and_money_as_french_writes_them(name, french):
    lines = french_lines(name)

    if french is not None:
        assert french in [text for _english, text in lines]
    else:
        assert any("(jours exclus retirés\u00a0: 14 avril 2026, 15 avril 2026)" in text for _english, text in lines)
    for english, text in lines:
        assert text != english and "target" not in text and "default" not in text


@pytest.mark.django_db
def test_the_close_stores_the_notes_and_the_statement_page_writes_them_in_the_readers_language(client):
    statement = close(seed_scenario(scenario_json("ex01_plain_breach")), "2026-01")
    line = statement.lines.get(service_level__code="CSL-1")
    client.force_login(UserFactory(procurement=True))
    url = reverse("sla_tracker:statement", args=[statement.pk])

    english = client.get(url).content.decode()
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert line.explanation == EX01_ENGLISH and line.explanation_notes
    assert "73.26 % &lt; 80 % target → default; allocation 60 % × €24,000.00 at risk" in english
    assert f"(cible) → défaillance{NNBSP}; allocation 60{NBSP}% × 24{NBSP}000,00{NBSP}€ à risque" in french
    assert "% target" not in french and "at risk" not in french


@pytest.mark.django_db
def test_the_statement_export_writes_the_explanation_in_the_readers_language(client):
    statement = close(seed_scenario(scenario_json("ex01_plain_breach")), "2026-01")
    client.force_login(UserFactory(procurement=True))

    response = client.get(
        reverse("sla_tracker:statement-export", args=[statement.pk, "csv"]), HTTP_ACCEPT_LANGUAGE="fr"
    )

    text = io.StringIO(response.content.decode("utf-8-sig"))
    cells = [cell for row in csv.reader(text, delimiter=";") for cell in row]  # French spreadsheets' CSV
    assert EX01_FRENCH in cells


@pytest.mark.django_db
def test_the_simulator_page_writes_the_explanations_in_the_readers_language(client):
    page = simulated_in_french(client, "ex01_plain_breach", 1)

    (row,) = page.context["result"]["rows"]
    assert row["lines"][0]["explanation"] == EX01_FRENCH


@pytest.mark.django_db
def test_a_line_computed_before_the_notes_were_stored_keeps_its_english_text():
    line = StatementLine(explanation=EX01_ENGLISH, explanation_notes=[])

    with translation.override("fr"):
        assert line.readable_explanation == EX01_ENGLISH


def test_a_note_the_pages_cannot_write_falls_back_to_the_english_text_and_is_logged(caplog):
    notes = [{"template": "credit {credit}", "args": {"credit": {"unknown": "1"}}}]

    with translation.override("fr"), caplog.at_level(logging.ERROR, logger="sla_tracker.explanations"):
        assert readable("credit €1.00", notes) == "credit €1.00"
    assert "explanation notes not rendered" in caplog.text


@pytest.mark.django_db
def test_the_api_gives_the_explanation_in_english_and_in_the_requests_language(client):
    statement = close(seed_scenario(scenario_json("ex01_plain_breach")), "2026-01")
    line = statement.lines.get(service_level__code="CSL-1")
    client.force_login(UserFactory(procurement=True))

    body = client.get(f"/api/v1/statement-lines/{line.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()

    assert (body["explanation"], body["localized_explanation"]) == (EX01_ENGLISH, EX01_FRENCH)


def test_the_days_and_months_of_an_explanation_are_written_as_the_pages_write_them():
    notes = [
        {"template": "provisional until {day}", "args": {"day": "2026-12-08"}},
        {
            "template": "earn-back of the {month} credit forfeited ({current} not met)",
            "args": {"month": "2026-01", "current": "2026-10"},
        },
        {"template": "excluded days {days} removed", "args": {"days": "2026-03-01, 2026-03-02"}},
    ]
    english = "provisional until 2026-12-08; earn-back …"

    with translation.override("en"):
        assert readable(english, notes) == (
            "provisional until Dec. 8, 2026; earn-back of the January 2026 credit forfeited (October 2026 not met); "
            "excluded days March 1, 2026, March 2, 2026 removed"
        )
    with translation.override("fr"):
        assert readable(english, notes) == (
            f"provisoire jusqu’au 8 décembre 2026{NNBSP}; récupération du crédit de janvier 2026 perdue "
            f"(octobre 2026 non atteint){NNBSP}; jours exclus retirés{NBSP}: 1er mars 2026, 2 mars 2026"
        )


def test_an_argument_that_only_looks_like_a_date_is_written_as_it_is():
    notes = [
        {
            "template": "{code} credit-bearing in {run} consecutive months ({first}..{last}, ≥ {months})",
            "args": {"code": "2026-01", "run": 3, "first": "2026-13", "last": "2026-09", "months": 3},
        }
    ]

    with translation.override("en"):
        assert readable("…", notes) == "2026-01 credit-bearing in 3 consecutive months (2026-13..September 2026, ≥ 3)"
