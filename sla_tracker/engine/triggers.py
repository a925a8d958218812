"""Termination triggers: evaluated at each close over the history; they report, never act."""

from __future__ import annotations

from .history import History, PriorMonth
from .months import Month
from .results import TerminationRight
from .terms import TerminationTrigger, TriggerType


def termination_rights(
    triggers: tuple[TerminationTrigger, ...], current: PriorMonth, history: History
) -> tuple[TerminationRight, ...]:
    """The triggers that hold at this close, each with the first month of its uninterrupted
    holding (``since``) and the evidence."""
    previous = history.get(current.month - 1)
    rights = []
    for trigger in triggers:
        evidence = _evidence(trigger, current, history)
        if evidence is None:
            continue
        held_before = previous.right(trigger) if previous else None
        since = held_before.since if held_before else current.month
        rights.append(TerminationRight(trigger, since, evidence))
    return tuple(rights)


def _evidence(trigger: TerminationTrigger, current: PriorMonth, history: History) -> str | None:
    if trigger.type is TriggerType.CONSECUTIVE_DEFAULTS:
        return _consecutive_evidence(trigger.months, current)
    first = current.month - (trigger.window - 1)
    window = [*history.between(first, current.month - 1), current]
    if trigger.type is TriggerType.DEFAULTS_IN_WINDOW:
        hits = [prior.month for prior in window if prior.has_credit_bearing_default]
        what = "with a credit-bearing default"
    else:
        hits = [prior.month for prior in window if prior.cap_reached]
        what = "with credits at the at-risk amount"
    if len(hits) < trigger.months:
        return None
    listed = ", ".join(str(month) for month in hits)
    return f"{len(hits)} months {what} in {first}..{current.month} (≥ {trigger.months}): {listed}"


def _consecutive_evidence(months: int, current: PriorMonth) -> str | None:
    runs = [line for line in current.service_levels if line.run >= months]
    if not runs:
        return None
    return "; ".join(
        f"{line.code} credit-bearing in {line.run} consecutive months "
        f"({_run_start(current.month, line.run)}..{current.month}, ≥ {months})"
        for line in runs
    )


def _run_start(month: Month, run: int) -> Month:
    return month - (run - 1)
