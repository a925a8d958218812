"""Termination triggers: evaluated at each close over the history; they report, never act."""

from __future__ import annotations

from .explain import Note, _, english, note
from .history import History, PriorMonth
from .months import Month
from .results import TerminationRight
from .terms import TerminationTrigger, TriggerType


def termination_rights(
    triggers: tuple[TerminationTrigger, ...], current: PriorMonth, history: History
) -> tuple[TerminationRight, ...]:
    """The triggers that hold at this close, each with the first month of its uninterrupted
    holding (``since``) and the evidence; in the order of the trigger types, then of their months and
    windows, whatever order the terms list them in (a stored contract's and its scenario's may differ)."""
    previous = history.get(current.month - 1)
    rights = []
    for trigger in sorted(triggers, key=_trigger_order):
        evidence = _evidence(trigger, current, history)
        if not evidence:
            continue
        held_before = previous.right(trigger) if previous else None
        since = held_before.since if held_before else current.month
        rights.append(TerminationRight(trigger, since, english(evidence), evidence))
    return tuple(rights)


def _trigger_order(trigger: TerminationTrigger) -> tuple[int, int, int]:
    return (list(TriggerType).index(trigger.type), trigger.months, trigger.window or 0)


def _evidence(trigger: TerminationTrigger, current: PriorMonth, history: History) -> tuple[Note, ...]:
    """Why ``trigger`` holds at this close, as notes; none when it does not hold."""
    if trigger.type is TriggerType.CONSECUTIVE_DEFAULTS:
        return _consecutive_evidence(trigger.months, current)
    first = current.month.window_start(trigger.window)
    window = [*history.between(first, current.month - 1), current]
    if trigger.type is TriggerType.DEFAULTS_IN_WINDOW:
        hits = [prior.month for prior in window if prior.has_credit_bearing_default]
        template = _("{count} months with a credit-bearing default in {first}..{last} (≥ {months}): {listed}")
    else:
        hits = [prior.month for prior in window if prior.cap_reached]
        template = _("{count} months with credits at the at-risk amount in {first}..{last} (≥ {months}): {listed}")
    if len(hits) < trigger.months:
        return ()
    listed = ", ".join(str(month) for month in hits)
    return (
        note(
            template, count=len(hits), first=str(first), last=str(current.month), months=trigger.months, listed=listed
        ),
    )


def _consecutive_evidence(months: int, current: PriorMonth) -> tuple[Note, ...]:
    template = _("{code} credit-bearing in {run} consecutive months ({first}..{last}, ≥ {months})")
    return tuple(
        note(
            template,
            code=line.code,
            run=line.run,
            first=str(_run_start(current.month, line.run)),
            last=str(current.month),
            months=months,
        )
        for line in sorted(current.service_levels, key=lambda line: line.code)  # not in the terms' order
        if line.run >= months
    )


def _run_start(month: Month, run: int) -> Month:
    return month - (run - 1)
