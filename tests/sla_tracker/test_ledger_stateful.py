"""A stateful (hypothesis) hunt for money bugs in the penalty-statement ledger.

The contract is DOMAIN.md §6 contract A (tests/sla_tracker/engine/scenarios/ex01_plain_breach.json) cut down to its
two voice service levels and stretched over five months, 2026-01..2026-05, €200,000.00 of charges a month (at risk
12 %: €24,000.00):

* CSL-1 (80 % answered within 20 s): allocation 60 % of the at-risk amount, ×1.5 from the second consecutive
  default (DOMAIN.md §2.5), so a month's credit depends on the months before it (its history);
* CSL-2 (abandonment ≤ 5 %): linear, 1 % of the charges per point of shortfall, capped at 5 %, so its credit takes
  many values (a correction can raise or lower it without making it 0), earned back (100 %) by the next month if
  that month meets it (DOMAIN.md §2.7), so a later month reads the credit a waiver leaves of it.

Together they may exceed the at-risk amount: the monthly cap then cuts both pro rata. The machine's own reference is
the engine alone (sla_tracker.engine.evaluate_month) on the data the machine wrote, month after month, each on the
history of the months before it with the waived credits as the documented rule leaves them (see
``LedgerMachine.expected_lines``): it never reads the statements' figures.

The machine closes the months in order, corrects closed months' KPI data (either service level met or defaulted,
and the amounts in between), waives lines and adjustments of open statements, withdraws those waivers, moves
statements draft → in review → approved → invoiced, reopens approved ones, lets the vendor dispute lines and
adjustments (accepted with or without a waiver, or rejected), and closes months again. The contract expired at the
end of May: once every month is closed and approved (``LedgerMachine.wind_up``), the difference a correction of an
approved month leaves has no statement to be carried into, and procurement records that it was settled outside the
statements (a credit note: ``LedgerMachine.settle_outside``), which then counts as carried. What production does once
a transaction commits (the recomputation of the open statements: services.recompute_open_statements_on_commit) is
done at once after the actions that queue it. The invariants are checked after every step
(``LedgerMachine.ledger_invariants``).

``CappedLedgerMachine`` runs the same ledger under an annual cap that binds within the five months in some examples,
so that a month's credit depends on the credits charged in all the months before it in the contract year.
"""

import copy
from collections import defaultdict
from contextlib import suppress
from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import cache

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from contracts.choices import ContractStatus
from contracts.models import Contract
from sla_tracker.choices import ComputationCause, DisputeStatus, StatementStatus
from sla_tracker.engine import History, Month, ServiceLevelResult, evaluate_month, prior_month
from sla_tracker.engine.scenario import load_scenario
from sla_tracker.models import (
    AdjustmentDispute,
    LineDispute,
    Measurement,
    PenaltyStatement,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
)
from sla_tracker.penalty_inputs import LOCKED_STATUSES, OPEN_STATUSES, differences_on_record, to_month
from sla_tracker.services import (
    approve_statement,
    carry_corrections_of_approved_months,
    dispute_adjustment,
    dispute_line,
    later_closes_carrying,
    mark_statement_invoiced,
    reopen_statement,
    resolve_adjustment_dispute,
    resolve_dispute,
    settle_outside_statements,
    submit_statement,
    waive_adjustment,
    waive_line,
    withdraw_adjustment_waiver,
    withdraw_line_waiver,
)
from tests.factories import UserFactory, VendorUserFactory

from .test_close import AS_OF, close, line_of, scenario_json, seed_scenario, statement_of

D = Decimal
ZERO = D("0.00")
MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05")
CODES = ("CSL-1", "CSL-2")
# Calls answered within 20 s of 41,000 answered (+ abandoned − 400 short abandons): 73 % and 78 % miss 80 %, 84 % meets.
WITHIN_20S = (31_500, 33_500, 36_000)
# Calls abandoned (400 of them short): 4.2 % and 4.65 % meet 5 %; the others miss it by 0.9 to 9 points.
ABANDONED = (2_200, 2_400, 2_900, 3_400, 4_400, 6_000)
WAIVABLE = (StatementStatus.DRAFT, StatementStatus.IN_REVIEW)  # where a line or an adjustment is waived
DISPUTABLE = (StatementStatus.IN_REVIEW, StatementStatus.DISPUTED)
STARTING_STATUSES = (
    StatementStatus.DRAFT,
    StatementStatus.IN_REVIEW,
    StatementStatus.APPROVED,
    StatementStatus.INVOICED,
)


def ledger_scenario(within: list[int], abandoned: list[int], annual_cap_pct: str | None = None) -> dict:
    data = copy.deepcopy(scenario_json("ex01_plain_breach"))
    if annual_cap_pct is not None:
        data["annual_cap_pct"] = annual_cap_pct
    data["months"] = {"from": MONTHS[0], "to": MONTHS[-1]}
    csl1, csl2 = data["service_levels"][:2]
    csl1["multipliers"] = [{"run": 2, "factor": "1.5"}]
    csl2["credit"] = {"type": "linear", "pct_per_point": "1.0", "shortfall": "proportional"}
    csl2["cap_pct"] = "5"
    csl2["earn_back"] = {"months": 1, "pct": "100"}
    data["service_levels"] = [csl1, csl2]
    data["measurements"] = [
        {
            "month": month,
            "values": {
                "answered": 41_000,
                "answered_within_20s": within[index],
                "abandoned": abandoned[index],
                "short_abandoned": 400,
            },
        }
        for index, month in enumerate(MONTHS)
    ]
    return data


@cache
def scenario_of(within: tuple[int, ...], abandoned: tuple[int, ...], annual_cap_pct: str | None = None):
    """The scenario of the first ``len(within)`` months with these data, as the engine reads it."""
    data = ledger_scenario(
        [*within, *WITHIN_20S[:1] * len(MONTHS)], [*abandoned, *ABANDONED[:1] * len(MONTHS)], annual_cap_pct
    )
    data["months"]["to"] = MONTHS[len(within) - 1]
    data["measurements"] = data["measurements"][: len(within)]
    return load_scenario(data)


def statement_figures(statement: PenaltyStatement) -> tuple:
    """What an approved statement shows: its figures, its lines (waivers included) and its adjustments."""
    lines = tuple(
        StatementLine.objects.filter(statement=statement)
        .order_by("service_level__code")
        .values_list(
            "pk",
            "service_level__code",
            "measured",
            "status",
            "run",
            "raw_credit",
            "credit",
            "bonus",
            "earn_back",
            "explanation",
            "waived",
            "waiver_reason",
        )
    )
    adjustments = tuple(
        StatementAdjustment.objects.filter(statement=statement).order_by("pk").values_list("pk", "amount", "waived")
    )
    fields = PenaltyStatement.objects.filter(pk=statement.pk).values_list(
        "charges",
        "at_risk_amount",
        "uncapped_credits",
        "cap_reached",
        "credits",
        "bonuses",
        "earn_backs",
        "adjustments",
        "net",
        "input_fingerprint",
        "computed_at",
    )
    return (*fields.get(), lines, adjustments)


def written_rows(contract) -> tuple:
    """Counts and figures a close writes: events, statement and line versions, adjustments, fingerprints."""
    statements = PenaltyStatement.objects.filter(contract=contract)
    return (
        StatementEvent.objects.filter(statement__contract=contract).count(),
        PenaltyStatement.history.filter(contract=contract).count(),
        StatementLine.history.filter(statement__contract=contract).count(),
        list(StatementAdjustment.objects.filter(statement__contract=contract).order_by("pk").values_list("pk")),
        list(statements.order_by("month").values_list("month", "input_fingerprint", "computed_at", "net")),
    )


class LedgerMachine(RuleBasedStateMachine):
    """The ledger of one contract; every example runs in a savepoint rolled back by ``teardown``."""

    ANNUAL_CAP_PCT: str | None = None  # the contract's annual cap (% of the contract year's charges), if any

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.frozen: dict[int, tuple] = {}  # approved or invoiced statement id → its figures when approved
        self.waivers: dict[int, Decimal] = {}  # waived line id → the credit its waiver gives up (the model's own)
        self.settled: dict[int, dict[str, Decimal]] = {}  # statement id → code → settled outside (the model's own)
        self.closed = 0  # months closed so far (in order)

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # Set-up and helpers ----------------------------------------------------------------------------------------

    @initialize(
        within=st.lists(st.sampled_from(WITHIN_20S), min_size=len(MONTHS), max_size=len(MONTHS)),
        abandoned=st.lists(st.sampled_from(ABANDONED), min_size=len(MONTHS), max_size=len(MONTHS)),
        start=st.lists(
            st.tuples(st.sampled_from(STARTING_STATUSES), st.sampled_from((None, *CODES))), min_size=1, max_size=3
        ),
    )
    def seed(self, within, abandoned, start):
        """The contract with its data, and its first months closed, each with a line waived or not, and left as a
        draft, in review, approved or invoiced (a ledger the rules then work on).

        The contract expired on 31 May 2026, its last month (the months are closed in 2027: ``AS_OF``): the close
        of a month up to May is as for a running contract, but once May is closed and no statement after an
        approved month is open, no close will carry a difference waiting on it, which is when it is settled
        outside the statements (:meth:`settle_outside`)."""
        self.within, self.abandoned = within, abandoned
        self.contract = seed_scenario(ledger_scenario(within, abandoned, self.ANNUAL_CAP_PCT))
        Contract.objects.filter(pk=self.contract.pk).update(status=ContractStatus.EXPIRED, end_date=date(2026, 5, 31))
        self.contract.refresh_from_db()
        self.procurement = UserFactory(procurement=True)
        self.vendor_user = VendorUserFactory(vendor=self.contract.vendor)
        self.closed = len(start)
        close(self.contract, MONTHS[self.closed - 1])  # closes the months before it too, in order
        for month, (status, waived) in zip(MONTHS, start, strict=False):
            statement = PenaltyStatement.objects.get(contract=self.contract, month=Month.parse(month).first_day)
            if waived:
                line = statement.lines.get(service_level__code=waived)
                waive_line(line_id=line.pk, actor=self.procurement, reason="Goodwill.")
                self.waived(line)
                self.after_commit()
            if status != StatementStatus.DRAFT:
                submit_statement(statement_id=statement.pk, actor=self.procurement)
            if status in (StatementStatus.APPROVED, StatementStatus.INVOICED):
                approve_statement(statement_id=statement.pk, actor=self.procurement)
                self.frozen[statement.pk] = statement_figures(statement)
            if status == StatementStatus.INVOICED:
                mark_statement_invoiced(statement_id=statement.pk, actor=self.procurement, invoice_reference="INV-0")

    def has(self, *statuses) -> bool:
        return PenaltyStatement.objects.filter(contract=self.contract, status__in=statuses).exists()

    def statements(self, *statuses) -> list[PenaltyStatement]:
        rows = PenaltyStatement.objects.filter(contract=self.contract).order_by("month")
        return list(rows.filter(status__in=statuses) if statuses else rows)

    def after_commit(self):
        """What the transaction's commit queues (recompute_contract_drafts): each open statement closed again, oldest
        first."""
        for statement in self.statements(*OPEN_STATUSES):
            close(self.contract, f"{statement.month:%Y-%m}")

    def waived(self, line: StatementLine) -> None:
        """Record in the model a waiver just given: it gives up the line's credit as it stands."""
        line.refresh_from_db()
        assert line.waived
        self.waivers[line.pk] = line.credit

    def expected_lines(self) -> dict[int, ServiceLevelResult]:
        """Line id → the engine's line for it, the closed months evaluated in order by the engine alone on the data,
        each on the history of the months before it as the model's waivers leave it; the model's waivers brought up
        to date on the way (see :meth:`open_lines_and_waivers_follow_the_data`).

        A month's history reads a waived line's credit as what its waiver does not give up: max(0, credit − waived)
        (penalty_inputs.effective_history for an approved month; 0 for an open month, whose waived line credits at
        most what is waived), so that a later month's earn-back is of the credit actually charged."""
        scenario = scenario_of(
            tuple(self.within[: self.closed]), tuple(self.abandoned[: self.closed]), self.ANNUAL_CAP_PCT
        )
        lines = {
            (to_month(line.statement.month), line.service_level.code): line
            for line in StatementLine.objects.filter(statement__contract=self.contract).select_related(
                "statement", "service_level"
            )
        }
        expected, priors = {}, []
        for month in scenario.months:
            result = evaluate_month(scenario.terms, scenario.data, month, history=History(tuple(priors)), as_of=AS_OF)
            credits = {}
            for computed in result.lines:
                line = lines[(month, computed.code)]
                expected[line.pk] = computed
                # In an open month a rise above what the waiver gave up withdraws it; a fall keeps it, still giving
                # up the credit it had when given (a rise back to it withdraws nothing).
                open_month = line.statement.status in OPEN_STATUSES
                if open_month and line.pk in self.waivers and computed.credit > self.waivers[line.pk]:
                    del self.waivers[line.pk]
                waived = self.waivers.get(line.pk)
                credits[computed.code] = computed.credit if waived is None else max(ZERO, computed.credit - waived)
            prior = prior_month(result)
            priors.append(
                replace(
                    prior,
                    service_levels=tuple(replace(item, credit=credits[item.code]) for item in prior.service_levels),
                )
            )
        return expected

    def pick(self, data, items, label):
        return data.draw(st.sampled_from(items), label=label)

    # Rules ------------------------------------------------------------------------------------------------------

    @precondition(lambda self: self.closed < len(MONTHS))
    @rule()
    def close_next_month(self):
        close(self.contract, MONTHS[self.closed])
        self.closed += 1

    @precondition(lambda self: self.closed > 0)
    @rule(data=st.data())
    def close_a_month_twice(self, data):
        """Invariant: closing a month twice in a row writes nothing the second time (no event, no version of a
        statement or a line, no adjustment, the same fingerprints and nets): the close is idempotent, which the
        nightly recompute and a redelivered close task rely on."""
        month = self.pick(data, MONTHS[: self.closed], "month")
        close(self.contract, month)
        before = written_rows(self.contract)
        close(self.contract, month)
        assert written_rows(self.contract) == before, f"closing {month} again wrote something"

    @rule(data=st.data(), within=st.sampled_from(WITHIN_20S), abandoned=st.sampled_from(ABANDONED))
    def correct_data(self, data, within, abandoned):
        """A closed month's KPI data corrected (as kpi_import.service.save_measurements does: the approved months from
        it on recomputed in its transaction, the open statements once it commits)."""
        index = data.draw(st.integers(0, self.closed - 1), label="month")
        self.within[index], self.abandoned[index] = within, abandoned
        month = Month.parse(MONTHS[index]).first_day
        values = Measurement.objects.filter(contract=self.contract, month=month)
        values.filter(counter__code="answered_within_20s").update(value=within)
        values.filter(counter__code="abandoned").update(value=abandoned)
        carry_corrections_of_approved_months(
            contract_id=self.contract.pk, months=[month], actor=self.procurement, cause=ComputationCause.KPI_DATA
        )
        self.after_commit()

    @precondition(lambda self: self.has(StatementStatus.DRAFT))
    @rule(data=st.data())
    def submit(self, data):
        draft = self.pick(data, self.statements(StatementStatus.DRAFT), "draft")
        submit_statement(statement_id=draft.pk, actor=self.procurement)

    @precondition(lambda self: self.has(StatementStatus.DRAFT, StatementStatus.IN_REVIEW))
    @rule(data=st.data())
    def approve(self, data):
        """Submitted if a draft, then approved."""
        statement = self.pick(data, self.statements(StatementStatus.DRAFT, StatementStatus.IN_REVIEW), "statement")
        if statement.status == StatementStatus.DRAFT:
            submit_statement(statement_id=statement.pk, actor=self.procurement)
        statement = approve_statement(statement_id=statement.pk, actor=self.procurement)
        self.frozen[statement.pk] = statement_figures(statement)

    @precondition(
        lambda self: (
            not self.has(StatementStatus.DISPUTED)
            and (self.closed < len(MONTHS) or self.has(StatementStatus.DRAFT, StatementStatus.IN_REVIEW))
        )
    )
    @rule()
    def wind_up(self):
        """The contract's end: the months left closed and every open statement approved (none disputed), oldest
        first. Nothing is then left open for a correction's difference to be carried into: it waits, and only a
        settlement outside the statements (:meth:`settle_outside`) or a reopening disposes of it. Without this one
        step, reaching that state takes most of an example's steps and a settlement is hardly ever tried."""
        while self.closed < len(MONTHS):
            self.close_next_month()
        for statement in self.statements(StatementStatus.DRAFT, StatementStatus.IN_REVIEW):
            if statement.status == StatementStatus.DRAFT:
                submit_statement(statement_id=statement.pk, actor=self.procurement)
            statement = approve_statement(statement_id=statement.pk, actor=self.procurement)
            self.frozen[statement.pk] = statement_figures(statement)

    @precondition(lambda self: self.has(StatementStatus.APPROVED))
    @rule(data=st.data())
    def mark_invoiced(self, data):
        statement = self.pick(data, self.statements(StatementStatus.APPROVED), "approved")
        mark_statement_invoiced(statement_id=statement.pk, actor=self.procurement, invoice_reference="INV-1")

    @precondition(lambda self: self.has(StatementStatus.APPROVED))
    @rule(data=st.data())
    def reopen(self, data):
        statement = self.pick(data, self.statements(StatementStatus.APPROVED), "approved")
        reopen_statement(statement_id=statement.pk, actor=self.procurement, reason="Recheck.")
        del self.frozen[statement.pk]
        self.after_commit()

    def lines(self, **filters):
        return StatementLine.objects.filter(statement__contract=self.contract, **filters).order_by(
            "statement__month", "service_level__code"
        )

    def waivable_lines(self):
        return self.lines(statement__status__in=WAIVABLE, waived=False)

    def waived_lines(self):
        return self.lines(statement__status__in=WAIVABLE, waived=True)

    def waivable_adjustments(self):
        return StatementAdjustment.objects.filter(
            statement__contract=self.contract, statement__status__in=WAIVABLE, amount__lt=0, waived=False
        ).order_by("pk")

    def disputable_lines(self):
        return self.lines(statement__status__in=DISPUTABLE).exclude(disputes__status=DisputeStatus.OPEN)

    def open_disputes(self):
        return LineDispute.objects.filter(line__statement__contract=self.contract, status=DisputeStatus.OPEN).order_by(
            "pk"
        )

    @precondition(lambda self: self.waivable_lines().exists())
    @rule(data=st.data())
    def waive(self, data):
        line = self.pick(data, list(self.waivable_lines()), "line")
        waive_line(line_id=line.pk, actor=self.procurement, reason="Goodwill.")
        self.waived(line)
        self.after_commit()

    @precondition(lambda self: self.waived_lines().exists())
    @rule(data=st.data())
    def withdraw_waiver(self, data):
        line = self.pick(data, list(self.waived_lines()), "line")
        try:
            withdraw_line_waiver(line_id=line.pk, actor=self.procurement, reason="Given by mistake.")
        except ValidationError:  # a waiver given in accepting the vendor's dispute stays
            return
        del self.waivers[line.pk]
        self.after_commit()

    @precondition(lambda self: self.waivable_adjustments().exists())
    @rule(data=st.data())
    def waive_an_adjustment(self, data):
        adjustment = self.pick(data, list(self.waivable_adjustments()), "adjustment")
        waive_adjustment(adjustment_id=adjustment.pk, actor=self.procurement, reason="Gift.")

    @precondition(lambda self: self.disputable_lines().exists())
    @rule(data=st.data())
    def dispute(self, data):
        line = self.pick(data, list(self.disputable_lines()), "line")
        dispute_line(line_id=line.pk, actor=self.vendor_user, reason="Not our fault.")

    @precondition(lambda self: self.open_disputes().exists())
    @rule(data=st.data(), accepted=st.booleans(), waive=st.booleans())
    def resolve(self, data, accepted, waive):
        dispute = self.pick(data, list(self.open_disputes()), "dispute")
        waive = waive and accepted
        try:
            resolve_dispute(
                dispute_id=dispute.pk, actor=self.procurement, resolution="Decided.", accepted=accepted, waive=waive
            )
        except ValidationError:
            assert waive, "a dispute's resolution without a waiver was refused"
            return  # a waiver of a line waived already is refused, and the resolution with it
        if waive:
            self.waived(dispute.line)
            self.after_commit()

    def waiting(self) -> list[tuple[PenaltyStatement, dict[str, str], str]]:
        """The approved or invoiced statements on which a difference waits, each with it (amounts per code, as
        recorded) and why a later close will carry it ("" when none will), as the home page lists them
        (views.differences_waiting)."""
        locked = self.statements(*LOCKED_STATUSES)
        pending = differences_on_record([statement.pk for statement in locked])[0]
        waiting = [statement for statement in locked if statement.pk in pending]
        carrying = later_closes_carrying(waiting)
        return [(statement, pending[statement.pk], carrying[statement.pk]) for statement in waiting]

    @precondition(lambda self: bool(self.waiting()))
    @rule(data=st.data())
    def settle_outside(self, data):
        """Procurement records that the difference waiting on an approved or invoiced statement was settled outside
        the statements (a credit note), with the amounts the page showed (as the statement page and the API post
        them: services.settle_outside_statements). Refused, and nothing recorded, while a later close can still
        carry it (an open statement after it, or May not closed yet): it would be owed twice. The model keeps what
        was settled (:meth:`settlements_stay_as_recorded`, :meth:`every_difference_is_counted_once`)."""
        statement, amounts, carrying = self.pick(data, self.waiting(), "waiting")
        events = StatementEvent.objects.filter(statement=statement).count()
        try:
            settle_outside_statements(
                statement_id=statement.pk, actor=self.procurement, reference="CN-1", amounts=dict(amounts)
            )
        except ValidationError:
            assert carrying, f"{statement.month:%Y-%m}: a settlement no later close could carry was refused"
            assert StatementEvent.objects.filter(statement=statement).count() == events
            return
        assert not carrying, f"{statement.month:%Y-%m}: settled although {carrying}"
        settled = self.settled.setdefault(statement.pk, {})
        for code, amount in amounts.items():
            settled[code] = settled.get(code, ZERO) + D(amount)

    def adjustments(self, **filters):
        return StatementAdjustment.objects.filter(statement__contract=self.contract, **filters).order_by("pk")

    def open_adjustment_disputes(self):
        return AdjustmentDispute.objects.filter(
            adjustment__statement__contract=self.contract, status=DisputeStatus.OPEN
        ).order_by("pk")

    @precondition(lambda self: self.adjustments(statement__status__in=WAIVABLE, waived=True).exists())
    @rule(data=st.data())
    def withdraw_an_adjustment_waiver(self, data):
        adjustment = self.pick(data, list(self.adjustments(statement__status__in=WAIVABLE, waived=True)), "adjustment")
        with suppress(ValidationError):  # a waiver given in accepting the vendor's dispute stays
            withdraw_adjustment_waiver(adjustment_id=adjustment.pk, actor=self.procurement, reason="Given by mistake.")

    @precondition(
        lambda self: (
            self.adjustments(statement__status__in=DISPUTABLE).exclude(disputes__status=DisputeStatus.OPEN).exists()
        )
    )
    @rule(data=st.data())
    def dispute_an_adjustment(self, data):
        rows = self.adjustments(statement__status__in=DISPUTABLE).exclude(disputes__status=DisputeStatus.OPEN)
        adjustment = self.pick(data, list(rows), "adjustment")
        dispute_adjustment(adjustment_id=adjustment.pk, actor=self.vendor_user, reason="Not owed.")

    @precondition(lambda self: self.open_adjustment_disputes().exists())
    @rule(data=st.data(), accepted=st.booleans(), waive=st.booleans())
    def resolve_an_adjustment_dispute(self, data, accepted, waive):
        dispute = self.pick(data, list(self.open_adjustment_disputes()), "dispute")
        waive = waive and accepted
        try:
            resolve_adjustment_dispute(
                dispute_id=dispute.pk, actor=self.procurement, resolution="Decided.", accepted=accepted, waive=waive
            )
        except ValidationError:
            # Refused only for its waiver: one in the vendor's favour, or waived already.
            assert waive, "an adjustment dispute's resolution without a waiver was refused"

    # Invariants -------------------------------------------------------------------------------------------------

    @invariant()
    def ledger_invariants(self):
        """After every step, in this order (the waivers' model, which the conservation reads, is brought up to date
        first)."""
        if not hasattr(self, "contract"):
            return
        self.totals_agree_with_lines_and_adjustments()
        self.approved_statements_never_change()
        self.ledger_is_well_formed()
        expected = self.expected_lines()
        self.open_lines_and_waivers_follow_the_data(expected)
        self.settlements_stay_as_recorded()
        self.every_difference_is_counted_once(expected)
        self.money_is_conserved(expected)

    def totals_agree_with_lines_and_adjustments(self):
        """Every statement's totals are those of its lines and adjustments (services._set_totals): credits = Σ credit
        of the lines not waived; bonuses = Σ bonus; earn-backs = Σ earn-back; adjustments = Σ amount of the
        adjustments carried into it that are not waived (StatementAdjustment.charged_amount); net = bonuses +
        earn-backs − credits + adjustments. The pages, exports and the penalty report show these stored totals, so a
        total that drifts from its lines is a wrong invoice."""
        for statement in PenaltyStatement.objects.filter(contract=self.contract).prefetch_related(
            "lines", "adjustment_lines"
        ):
            lines = list(statement.lines.all())
            charged = sum((item.charged_amount for item in statement.adjustment_lines.all()), ZERO)
            credits = sum((line.credit for line in lines if not line.waived), ZERO)
            bonuses = sum((line.bonus for line in lines), ZERO)
            earn_backs = sum((line.earn_back for line in lines), ZERO)
            assert (statement.credits, statement.bonuses, statement.earn_backs, statement.adjustments) == (
                credits,
                bonuses,
                earn_backs,
                charged,
            ), f"{statement.month:%Y-%m}: stored totals disagree with its lines and adjustments"
            assert statement.net == bonuses + earn_backs - credits + charged, f"{statement.month:%Y-%m}: net"

    def approved_statements_never_change(self):
        """An approved or invoiced statement is never rewritten (README: "approved statements are never rewritten:
        later corrections become adjustments in the next open statement") until it is reopened: its figures, lines,
        waivers and adjustments stay as approved (its status may move on to invoiced; its ``effective_history``,
        what later months read of it once corrected, is not part of what it shows)."""
        for pk, figures in self.frozen.items():
            statement = PenaltyStatement.objects.get(pk=pk)
            assert statement.status in (StatementStatus.APPROVED, StatementStatus.INVOICED)
            assert statement_figures(statement) == figures, f"approved {statement.month:%Y-%m} changed"

    def ledger_is_well_formed(self):
        """No negative credit on a line (a credit is owed to the customer; a correction in the vendor's favour is an
        adjustment, not a negative credit); one statement per month (the constraint the close relies on); every line
        in a statement and every statement with one line per service level; every adjustment carried into a later
        month than its origin's; only closed months have statements."""
        assert not StatementLine.objects.filter(credit__lt=0).exists(), "a line credits less than nothing"
        assert not StatementLine.objects.filter(statement__isnull=True).exists()
        months = list(PenaltyStatement.objects.filter(contract=self.contract).values_list("month", flat=True))
        assert len(months) == len(set(months)) == self.closed, "statements per month"
        assert sorted(f"{month:%Y-%m}" for month in months) == list(MONTHS[: self.closed])
        per_statement = defaultdict(list)
        for statement_id, code in StatementLine.objects.filter(statement__contract=self.contract).values_list(
            "statement_id", "service_level__code"
        ):
            per_statement[statement_id].append(code)
        assert all(sorted(codes) == list(CODES) for codes in per_statement.values())
        assert len(per_statement) == self.closed
        for origin_month, host_month in StatementAdjustment.objects.filter(
            statement__contract=self.contract
        ).values_list("origin__month", "statement__month"):
            assert origin_month < host_month, "an adjustment carried into its own month or an earlier one"

    def open_lines_and_waivers_follow_the_data(self, expected: dict[int, ServiceLevelResult]):
        """Every line of an open statement (draft, in review, disputed) is what the engine alone gives on the data
        (status, run, credit, earn-back; see :meth:`expected_lines`): the machine recomputes the open statements
        after each change, as the commit of the change does in production.

        The waivers follow the code's rule (README: "A waiver gives up the credit its line had when it was given,
        not more"; services._plan_statement and _lift_waiver), which this model keeps on its own: a waiver given
        gives up the line's credit then; in an open month a recomputation that raises the credit above it withdraws
        the waiver, one that lowers it keeps the waiver, which still gives up the credit it had when given (a credit
        that falls and comes back to it withdraws nothing: penalty_inputs.waived_credits reads it from the line's
        history); an approved or invoiced month keeps its waived line as approved. So the lines waived in the
        database are exactly the model's."""
        for line in StatementLine.objects.filter(statement__contract=self.contract).select_related(
            "statement", "service_level"
        ):
            computed = expected[line.pk]
            label = f"{line.statement.month:%Y-%m} {line.service_level.code}"
            if line.statement.status in OPEN_STATUSES:
                assert (line.status, line.run, line.credit, line.bonus, line.earn_back) == (
                    str(computed.status),
                    computed.run,
                    computed.credit,
                    computed.bonus,
                    computed.earn_back,
                ), label
            assert line.waived == (line.pk in self.waivers), f"{label}: waived {line.waived}, the model says otherwise"

    def settlements_stay_as_recorded(self):
        """What was settled outside the statements is what the model recorded, statement by statement and code by
        code (penalty_inputs.differences_on_record reads it back from the "settled" events): a settlement is never
        lost, changed or counted twice by a later recomputation, reopening or close."""
        settled = differences_on_record([statement.pk for statement in self.statements()])[1]
        assert settled == self.settled, "the settlements on record are not those recorded"

    def every_difference_is_counted_once(self, expected_lines: dict[int, ServiceLevelResult]):
        """Per statement and service level, what the statement's month still owes beyond its own lines is counted
        exactly once, whether carried (the adjustments it caused, waived or not), settled outside the statements
        (the model's settlements) or waiting (its latest "pending" event): services._settle_differences.

        * An approved or invoiced month owes its line's share of the net as the engine gives it now (bonus +
          earn-back − credit, a waived line's credit only beyond what the waiver gave up: see
          :meth:`money_is_conserved`) less its approved share (bonus + earn-back − credit, none once waived).
        * An open month (never approved, or reopened) owes nothing beyond its own lines, which the close
          recomputed: what it carried before or had settled is withdrawn or reversed.

        So a settled difference is never carried again into a later statement (nor left waiting again): a
        settlement counts as carried, and only what a later correction changes after it is carried or waits. This
        checks per month what :meth:`money_is_conserved` checks per service level over the whole ledger, and also
        while a difference waits."""
        pending = differences_on_record([statement.pk for statement in self.statements()])[0]
        caused: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
        for origin_id, code, amount in StatementAdjustment.objects.filter(
            statement__contract=self.contract
        ).values_list("origin_id", "service_level__code", "amount"):
            caused[(origin_id, code)] += amount
        for line in StatementLine.objects.filter(statement__contract=self.contract).select_related(
            "statement", "service_level"
        ):
            statement, code, computed = line.statement, line.service_level.code, expected_lines[line.pk]
            needed = ZERO
            if statement.status in LOCKED_STATUSES:
                approved_net = line.bonus + line.earn_back - (ZERO if line.waived else line.credit)
                owed = computed.credit
                if line.pk in self.waivers:
                    owed = max(ZERO, computed.credit - self.waivers[line.pk])
                needed = computed.bonus + computed.earn_back - owed - approved_net
            counted = (
                caused[(statement.pk, code)]
                + self.settled.get(statement.pk, {}).get(code, ZERO)
                + D(pending.get(statement.pk, {}).get(code, "0"))
            )
            assert counted == needed, (
                f"{statement.month:%Y-%m} {code} ({statement.status}): carried, settled and waiting {counted}, "
                f"owed {needed}"
            )

    def money_is_conserved(self, expected_lines: dict[int, ServiceLevelResult]):
        """Once no difference waits for an open statement (differences_on_record empty: every correction of an
        approved month has been carried), what the ledger charges per service level for the closed months (each
        line's bonus + earn-back − credit, a waived line's credit as 0, plus every adjustment carried for it,
        waived or not) equals what the engine alone gives on the same data (:meth:`expected_lines`), plus what the
        waivers in force give up:

        * a waived line gives up the credit it had when waived, not more (README; services._lift_waiver): in an
          open month a credit that rises above it withdraws the waiver and one that falls keeps it; in an approved
          month the approved line stays, and what a recomputation adds to its credit is
          carried as an adjustment (services._settle_differences); so it gives up min(credit, waived);
        * a waived adjustment still counts as carried (services.waive_adjustment): it is counted here with its
          amount; what it gives up is the customer's on top;
        * a difference settled outside the statements (services.settle_outside_statements: a credit note) counts
          as carried: it is counted here with the amounts settled (the model's own record of them).

        The history of each month reads the waived credits as the model says (an earn-back is of the credit
        charged), so a correction, a waiver or its withdrawal counts once, in the month it concerns and in the
        months whose history it is, wherever its difference was carried."""
        if differences_on_record([statement.pk for statement in self.statements()])[0]:
            return
        ledger: dict[str, Decimal] = defaultdict(lambda: ZERO)
        expected: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in StatementLine.objects.filter(statement__contract=self.contract).select_related("service_level"):
            code, computed = line.service_level.code, expected_lines[line.pk]
            ledger[code] += line.bonus + line.earn_back - (ZERO if line.waived else line.credit)
            expected[code] += computed.bonus + computed.earn_back - computed.credit
            expected[code] += min(computed.credit, self.waivers.get(line.pk, ZERO))
        for code, amount in StatementAdjustment.objects.filter(statement__contract=self.contract).values_list(
            "service_level__code", "amount"
        ):
            ledger[code] += amount
        for amounts in self.settled.values():
            for code, amount in amounts.items():
                ledger[code] += amount
        assert dict(ledger) == dict(expected), "the ledger does not add up to the data less the waivers in force"


LedgerMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


@pytest.mark.django_db
def test_the_penalty_ledger_keeps_its_invariants():
    run_state_machine_as_test(LedgerMachine, settings=LedgerMachine.TestCase.settings)


class CappedLedgerMachine(LedgerMachine):
    """The same ledger under an annual cap of 3 % of the contract year's charges (€72,000.00 of €2,400,000.00; the
    contract year is the calendar year, DOMAIN.md §6 Example 15): each month may credit at most what the months
    before it in the year left of it (the cap attributed pro rata to the lines like the monthly cap), so a month's
    credit depends on the credits of all the months before it, as charged (a waived credit is not used up; the
    engine reads the history the model gives it, :meth:`LedgerMachine.expected_lines`). A correction, a waiver or its
    withdrawal in an earlier month then changes how much of the cap the later months may use, approved ones
    included (their difference carried, waiting or settled like any other), and the summarised months of the history
    (older than the earn-back reads: penalty_inputs.summary_from_statement) count with their corrected totals.

    3 % binds in some data sets and not in others: on the engine alone, of 400 data sets drawn uniformly from
    WITHIN_20S × ABANDONED over the five months, 67 % have at least one month the cap cuts (about one month in five);
    CSL-1 missed every month (the first value of WITHIN_20S, which hypothesis tries first) reaches it in April
    (€14,400.00 + 3 × €21,600.00 > €72,000.00)."""

    ANNUAL_CAP_PCT = "3"


# Fewer examples than the machine without a cap (which explores the same rules): the file stays well under the time
# budget (about 40 s for each 30 examples on PostgreSQL); 150 random examples of 30 steps of each found nothing more.
CappedLedgerMachine.TestCase.settings = settings(LedgerMachine.TestCase.settings, max_examples=20)


@pytest.mark.django_db
def test_the_penalty_ledger_keeps_its_invariants_under_an_annual_cap():
    run_state_machine_as_test(CappedLedgerMachine, settings=CappedLedgerMachine.TestCase.settings)


# Regressions ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reopening_a_month_whose_waiver_a_correction_withdraws_corrects_the_earn_back_of_a_later_approved_month():
    """January's CSL-2 misses (2,900 calls abandoned: €1,494.25), is waived and approved; February meets it and earns
    January's credit back, as later months read it (0: waived); February is approved, March is a draft. January's
    data are corrected (4,400 abandoned: €7,777.78): January stays approved, the €6,283.53 the waiver did not give up
    is carried into March, and so is February's earn-back of it. January is then reopened: its recomputation
    withdraws the waiver (the credit rose above what it gave up) and January credits €7,777.78, so February's
    earn-back is of €7,777.78. It stayed at €6,283.53 when the reopening recomputed only the open statements: the
    vendor lost €1,494.25 (services.reopen_statement now recomputes the approved months after it, as a waiver does)."""
    machine = LedgerMachine()
    try:
        machine.seed(within=[36_000] * 5, abandoned=[2_900, 2_200, 2_200, 2_200, 2_200], start=[("approved", "CSL-2")])
        february = close(machine.contract, "2026-02")
        submit_statement(statement_id=february.pk, actor=machine.procurement)
        approve_statement(statement_id=february.pk, actor=machine.procurement)
        machine.frozen[february.pk] = statement_figures(february)
        machine.closed = 2
        machine.close_next_month()
        machine.ledger_invariants()
        machine.correct_data(_Draw(0), within=36_000, abandoned=4_400)
        machine.ledger_invariants()

        machine.reopen(_Draw(statement_of(machine.contract, "2026-01")))

        machine.ledger_invariants()
        january = line_of(machine.contract, "2026-01", "CSL-2")
        earned_back = StatementAdjustment.objects.filter(origin__month=february.month, service_level__code="CSL-2")
        assert not january.waived
        assert sum(earned_back.values_list("amount", flat=True)) == january.credit
    finally:
        machine.teardown()


class _Draw:
    """Stands for hypothesis's ``st.data()`` in a deterministic replay: every draw gives ``value``."""

    def __init__(self, value):
        self.value = value

    def draw(self, strategy, label=None):
        return self.value
