"""The simulator's refusals in the reader's language.

The engine (sla_tracker.engine, pure Python) names each bad field of a scenario by its JSON path with
an English message; the simulator page and the API write the message again through the translation
catalogue. A message no pattern knows is shown as the engine wrote it.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from sla_tracker.engine.checks import Problem
from sla_tracker.engine.scenario import ScenarioError

# (the engine's message, as a regular expression with named parts; the message to show)
_MESSAGES = [
    (r"required", _("required")),
    (r"unknown field", _("unknown field")),
    (r"must be an object", _("must be an object")),
    (r"must be a list", _("must be a list")),
    (r"must be a string", _("must be a string")),
    (r"must be a non-empty string", _("must be a non-empty string")),
    (r"must be a whole number", _("must be a whole number")),
    (r"must be above 0", _("must be above 0")),
    (r"must be above from", _("must be above from")),
    (r"must not be before from", _("must not be before from")),
    (r"must not be before from \((?P<first>[^)]+)\)", _("must not be before from (%(first)s)")),
    (r"must be at least (?P<limit>\S+)", _("must be at least %(limit)s")),
    (r"must be at most (?P<limit>\S+)", _("must be at most %(limit)s")),
    (r"cannot exceed 100", _("cannot exceed 100")),
    (r"must be one of (?P<allowed>.+)", _("must be one of %(allowed)s")),
    (r"must be a decimal number or a string holding one", _("must be a decimal number or a string holding one")),
    (r"not a decimal number: (?P<value>.+)", _("not a decimal number: %(value)s")),
    (r"not a counter name", _("not a counter name")),
    (r"must have at most 16 digits before the point", _("must have at most 16 digits before the point")),
    (r"must have at most 4 decimals, as a stored KPI value", _("must have at most 4 decimals, as a stored KPI value")),
    (r"not a counter name: (?P<value>.+)", _("not a counter name: %(value)s")),
    (r'must be a month "YYYY-MM", not (?P<value>.+)', _('must be a month "YYYY-MM", not %(value)s')),
    (r'must be a date "YYYY-MM-DD", not (?P<value>.+)', _('must be a date "YYYY-MM-DD", not %(value)s')),
    (r"must be a month number (from )?\"?01\"? to \"?12\"?", _("must be a month number from 01 to 12")),
    (r"the year must be from (?P<first>\d+) to (?P<last>\d+)", _("the year must be from %(first)s to %(last)s")),
    (
        r"at most (?P<count>\d+) months at a time: (?P<latest>\S+) at the latest",
        _("at most %(count)s months at a time: %(latest)s at the latest"),
    ),
    (r'must be a three-letter currency code such as "EUR"', _('must be a three-letter currency code such as "EUR"')),
    (r"must be a non-empty list of service level codes", _("must be a non-empty list of service level codes")),
    (r"must be a non-empty list of bands", _("must be a non-empty list of bands")),
    (
        r'must be a non-empty list of counters \("-name" subtracts\)',
        _('must be a non-empty list of counters ("-name" subtracts)'),
    ),
    (r"must be an object of counter values", _("must be an object of counter values")),
    (
        r'must be an object with "default" and/or "YYYY-MM" amounts',
        _('must be an object with "default" and/or "YYYY-MM" amounts'),
    ),
    (r'needs exactly one of "date" and "month"', _('needs exactly one of "date" and "month"')),
    (
        r'no charges for (?P<months>.+): add them or a "default"',
        _('no charges for %(months)s: add them or a "default"'),
    ),
    (r"unknown service level (?P<code>.+)", _("unknown service level %(code)s")),
    (r"duplicate code (?P<code>.+) \(also (?P<also>.+)\)", _("duplicate code %(code)s (also %(also)s)")),
    (r"required for a critical service level", _("required for a critical service level")),
    (r"a key service level is never credited: remove it", _("a key service level is never credited: remove it")),
    (r"an allocation credit needs at_risk_pct \(its base\)", _("an allocation credit needs at_risk_pct (its base)")),
    (
        r"(?P<code>\S+): an allocation credit needs at_risk_pct",
        _("%(code)s: an allocation credit needs at_risk_pct"),
    ),
    (r"no terms in force for (?P<month>\S+)", _("no terms in force for %(month)s")),
    (r"no charges for (?P<month>\d{4}-\d{2})", _("no charges for %(month)s")),
    (r"must be below expected \((?P<expected>[^)]+)\)", _("must be below expected (%(expected)s)")),
    (r"must be above expected \((?P<expected>[^)]+)\)", _("must be above expected (%(expected)s)")),
    (r"run (?P<run>\d+) is given twice", _("run %(run)s is given twice")),
    (r"consecutive_defaults takes no window", _("consecutive_defaults takes no window")),
    (r"required for (?P<type>\S+)", _("required for %(type)s")),
    (
        r"(?P<count>\d+) (?P<what>months|occurrences) cannot fit in a window of (?P<window>\d+)",
        _("%(count)s %(what)s cannot fit in a window of %(window)s"),
    ),
    (
        r"allocations sum to (?P<total>\S+) %, above pool_pct (?P<pool>\S+) %",
        _("allocations sum to %(total)s %%, above pool_pct %(pool)s %%"),
    ),
    (r"overlaps (?P<band>bands\[\d+\]) (?P<range>.+)", _("overlaps %(band)s %(range)s")),
    (
        r"leaves (?P<range>\[.+\)) without a band after (?P<band>bands\[\d+\])",
        _("leaves %(range)s without a band after %(band)s"),
    ),
    (
        r"leaves \[0, (?P<lower>\S+)\) without a band: start the lowest band at 0",
        _("leaves [0, %(lower)s) without a band: start the lowest band at 0"),
    ),
    (
        r"leaves (?P<range>\[.+\)) below expected without a band",
        _("leaves %(range)s below expected without a band"),
    ),
    (
        r"leaves (?P<range>\(.+\)) above expected without a band",
        _("leaves %(range)s above expected without a band"),
    ),
    (
        r"leaves values from (?P<upper>\S+) up without a band: leave out the highest band's to",
        _("leaves values from %(upper)s up without a band: leave out the highest band's to"),
    ),
    (
        r"cap_reached_in_window needs at_risk_pct \(the cap it counts\)",
        _("cap_reached_in_window needs at_risk_pct (the cap it counts)"),
    ),
    (
        r"(?P<code>\S+) in (?P<month>\S+): the numerator \((?P<formula>[^)]+)\) sums to (?P<total>\S+): "
        r"the counters it subtracts exceed those it adds",
        _(
            "%(code)s in %(month)s: the numerator (%(formula)s) sums to %(total)s: "
            "the counters it subtracts exceed those it adds"
        ),
    ),
    (
        r"(?P<code>\S+) in (?P<month>\S+): the denominator \((?P<formula>[^)]+)\) sums to (?P<total>\S+): "
        r"the counters it subtracts exceed those it adds",
        _(
            "%(code)s in %(month)s: the denominator (%(formula)s) sums to %(total)s: "
            "the counters it subtracts exceed those it adds"
        ),
    ),
    (
        r"(?P<code>.+) is not one of the incident's service levels",
        _("%(code)s is not one of the incident's service levels"),
    ),
]
_PATTERNS = [(re.compile(pattern), message) for pattern, message in _MESSAGES]


def readable_message(message: str) -> str:
    """The engine's ``message`` in the active language."""
    for pattern, translated in _PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return str(translated) % found.groupdict() if found.groupdict() else str(translated)
    return message


def readable_problems(problems: tuple[Problem, ...]) -> list[Problem]:
    return [Problem(problem.path, readable_message(problem.message)) for problem in problems]


def readable_errors(refusal: ScenarioError) -> dict[str, list[str]]:
    """The refusal's messages per JSON path, as the API answers them (ScenarioError.as_dict), translated."""
    return ScenarioError.of(readable_problems(refusal.problems)).as_dict()
