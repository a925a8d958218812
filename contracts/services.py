"""Writes on contracts: the recorded renewal decisions ("renew", "give notice"), and the rule that
keeps edits from moving the end of the term or the status around them.

Each action is atomic, locks the contract row, records a RenewalDecision (the decision's audit
row) and saves the contract with its history reason and user.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.formats import long_date
from contracts.choices import ContractStatus, PeriodUnit, RenewalDecisionKind, RenewalType
from contracts.dates import ContractTerms, RenewalWindow, current_term_end, window_for_term
from contracts.models import MAX_TERM_MONTHS, Contract, RenewalDecision
from contracts.months import first_of_month

DECIDABLE_STATUSES = (ContractStatus.ACTIVE,)
# A contract enters the register being prepared or already running; the other statuses follow decisions.
STATUSES_AT_REGISTRATION = {ContractStatus.DRAFT, ContractStatus.ACTIVE}
# The fields the chain of term ends is computed from.
TERM_FIELDS = ("start_date", "initial_term_months", "end_date", "renewal_type", "renewal_term_months", "max_renewals")
# The renewal and notice clauses (the calendar its business days follow included): once the contract runs,
# each change says why (as an amendment would).
CLAUSE_FIELDS = (
    "renewal_type",
    "renewal_term_months",
    "max_renewals",
    "notice_period",
    "notice_period_unit",
    "calendar_country",
    "calendar_subdivision",
)


# The status changes an edit may make: notice is given by give_notice, a term renewed by record_renewal.
STATUS_CHANGES = {
    ContractStatus.DRAFT: {ContractStatus.ACTIVE, ContractStatus.TERMINATED},
    ContractStatus.ACTIVE: {ContractStatus.EXPIRED, ContractStatus.TERMINATED},
    ContractStatus.NOTICE_GIVEN: {ContractStatus.EXPIRED, ContractStatus.TERMINATED},
    ContractStatus.EXPIRED: set(),
    ContractStatus.TERMINATED: set(),
}


def contract_edit_errors(
    contract: Contract | None, values: Mapping[str, Any], *, today: datetime.date | None = None, reason: str = ""
) -> dict[str, list[str]]:
    """Why registering a contract with ``values`` (``contract`` None), or giving the stored
    ``contract`` these ``values``, is refused, by field (empty: it is not). The API and the back
    office both apply it; the renewal decisions (record_renewal, give_notice) do not edit.

    - A contract is registered as a draft or active; its end of term must end the initial term or
      one of its renewals (the chain of term ends from its start).
    - The end of the term and the notice move only with a recorded decision, and the start and the
      initial term not at all, except on a draft, whose dates are still being typed; other status
      changes follow STATUS_CHANGES, and a contract expires only once its term has ended.
    - A contract terminated while it ran records its last day of service, within the term (its months up
      to that day are still closed); a draft that never ran is terminated without one.
    - The renewal and notice clauses (CLAUSE_FIELDS) of a contract that runs or ran change only with a
      ``reason`` (e.g. the amendment that changes them), kept in the contract's history; a draft's are still
      being typed.
    - The vendor and the currency are fixed once the contract runs (or, on a draft, once a site of
      the vendor or charges in the currency are recorded): its statements, data and history belong
      to that vendor, in that currency. A contract with another vendor is a new contract.
    """
    today = today or timezone.localdate()
    refused: dict[str, list[str]] = {}
    stored = (
        {
            name: getattr(contract, name)
            for name in (*TERM_FIELDS, *CLAUSE_FIELDS, "status", "terminated_on", "vendor", "currency")
        }
        if contract
        else {}
    )
    merged = {**stored, **values}
    changed = {name for name in values if contract is None or values[name] != stored.get(name)}

    if contract is None:
        if merged.get("status", ContractStatus.DRAFT) not in STATUSES_AT_REGISTRATION:
            refused["status"] = [
                _("A contract is registered as a draft or as active: notice, expiry and termination come later.")
            ]
    else:
        draft = contract.status == ContractStatus.DRAFT
        if "end_date" in changed and not draft:
            refused["end_date"] = [
                _("The end of the term moves only with a recorded decision: use the renew or give-notice action.")
            ]
        status = merged["status"]
        if "status" in changed:
            if status not in STATUS_CHANGES[contract.status]:
                refused["status"] = [
                    _(
                        "This status change is not allowed: a draft becomes active, a running contract expires or "
                        "is terminated, notice is given with the give-notice action, and an ended contract's "
                        "status is final."
                    )
                ]
            elif status == ContractStatus.EXPIRED and contract.end_date >= today:
                refused["status"] = [
                    _("A contract expires once its term has ended (on %(end)s); to end it earlier, terminate it.")
                    % {"end": long_date(contract.end_date)}
                ]
        for name in ("start_date", "initial_term_months"):
            if name in changed and not draft:
                refused[name] = [
                    _(
                        "The start and the initial term are fixed once the contract is active: its months, contract "
                        "years, charges and statements count from them."
                    )
                ]
        if not draft and not reason.strip():
            for name in CLAUSE_FIELDS:
                if name in changed:
                    refused.setdefault(name, []).append(
                        _(
                            "%(field)s is a clause of the contract: once it runs, say why it changes (the reason for "
                            "the change, e.g. the amendment that makes it)."
                        )
                        % {"field": capfirst(Contract._meta.get_field(name).verbose_name)}
                    )
        if "vendor" in changed and (not draft or contract.scopes.filter(site__isnull=False).exists()):
            refused["vendor"] = [
                _(
                    "The vendor is fixed once the contract is active or its scope names the vendor's sites: its "
                    "data, statements and history belong to that vendor. A contract with another vendor is a new "
                    "contract."
                )
            ]
        if "currency" in changed and (not draft or contract.charges.exists()):
            refused["currency"] = [
                _(
                    "The currency is fixed once the contract is active or has charges: its charges and "
                    "statements are in that currency."
                )
            ]

    frozen = {"end_date", "start_date", "initial_term_months"} & set(refused)
    if changed & set(TERM_FIELDS) and not frozen and (message := _term_end_error(merged)):
        refused.setdefault("end_date", []).append(message)
    if "status" not in refused and (message := _last_day_of_service_error(contract, merged, changed)):
        refused["terminated_on"] = [message]
    return refused


def _last_day_of_service_error(contract: Contract | None, values: Mapping[str, Any], changed: set[str]) -> str | None:
    """Why ``values``' last day of service is refused: a contract terminated while it ran (active or under
    notice) needs one, within its term, since its months up to that day are still closed; a draft that never
    ran has none, nor has any contract that is not terminated; once terminated, it is fixed."""
    last_day, status = values.get("terminated_on"), values.get("status")
    if contract is not None and contract.status == ContractStatus.TERMINATED:
        return (
            _("The last day of service is fixed once the contract is terminated.")
            if "terminated_on" in changed
            else None
        )
    if status != ContractStatus.TERMINATED:
        return _("Only a terminated contract has a last day of service.") if last_day else None
    if contract is None or contract.status == ContractStatus.DRAFT:
        return _("A draft never ran: it is terminated without a last day of service.") if last_day else None
    if not last_day:
        return _("Give the last day of service: the contract's months up to that day are still closed.")
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and not start <= last_day <= end:
        return _("The last day of service falls within the term, from %(start)s to %(end)s.") % {
            "start": long_date(start),
            "end": long_date(end),
        }
    # What was recorded for later days would still count: the close and the KPI checks stop at that day.
    month = first_of_month(last_day)
    if latest := contract.statements.filter(month__gt=month).order_by("-month").values_list("month", flat=True).first():
        return _(
            "A penalty statement exists for %(month)s, after this day: the last day of service is in or after "
            "the last month with a statement."
        ) % {"month": date_format(latest, "YEAR_MONTH_FORMAT")}
    later_data = contract.measurements.filter(Q(day__gt=last_day) | Q(day__isnull=True, month__gt=month))
    if later := later_data.order_by("-month", "-day").values_list("month", "day").first():
        return _(
            "KPI data is recorded for %(when)s, after this day: delete the data after the last day of service "
            "first, or give a later day."
        ) % {"when": long_date(later[1]) if later[1] else date_format(later[0], "YEAR_MONTH_FORMAT")}
    return None


def _term_end_error(values: Mapping[str, Any]) -> str | None:
    """Why ``values``' end_date ends no term of the contract they describe (None: it ends one, or the
    other fields are not valid yet and their own errors say so)."""
    start, months, end = values.get("start_date"), values.get("initial_term_months"), values.get("end_date")
    if not (start and months and end) or end <= start or months > MAX_TERM_MONTHS:
        return None
    renewal_months = values.get("renewal_term_months")
    if renewal_months is not None and not 0 < renewal_months <= MAX_TERM_MONTHS:
        return None
    terms = ContractTerms(
        start_date=start,
        initial_term_months=months,
        end_date=end,
        renewal_type=values.get("renewal_type") or RenewalType.TACIT,
        renewal_term_months=renewal_months,
        max_renewals=values.get("max_renewals"),
        notice_period=1,
        notice_unit=PeriodUnit.MONTHS,
    )
    before = after = None
    for term_end in terms.term_ends():
        if term_end == end:
            return None
        if term_end > end:
            after = term_end
            break
        before = term_end
    if before is None:
        return _("The initial term of %(months)s months from %(start)s ends on %(initial)s.") % {
            "months": months,
            "start": long_date(start),
            "initial": long_date(terms.initial_end),
        }
    if after is None:
        return _("The last term this contract may run ends on %(last)s.") % {"last": long_date(before)}
    return _("%(end)s ends no term of this contract: the nearest term ends are %(before)s and %(after)s.") % {
        "end": long_date(end),
        "before": long_date(before),
        "after": long_date(after),
    }


def _refuse_undecidable(contract: Contract) -> None:
    if contract.status not in DECIDABLE_STATUSES:
        raise ValidationError(
            _("Only an active contract can be renewed or given notice (this one is %(status)s).")
            % {"status": contract.get_status_display()}
        )


def _locked_contract(contract: Contract) -> Contract:
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    _refuse_undecidable(locked)
    return locked


def _save_contract(contract: Contract, *, actor, reason: str) -> None:
    contract._history_user = actor
    contract._change_reason = reason[:100]
    contract.full_clean()
    contract.save()


def renewal_to_record(contract: Contract, today: datetime.date) -> RenewalWindow:
    """The renewal that renewing ``contract`` ``today`` records: the window of the term running today (a tacit
    contract whose recorded end has passed renewed itself meanwhile: current_term_end), whose
    ``renewed_term_end`` becomes the end of the term.

    Refused (ValidationError) when the contract is not active or does not renew, when the running term is
    renewed already, or when the contract has used its renewals.
    """
    _refuse_undecidable(contract)
    if contract.renewal_type == RenewalType.NONE:
        raise ValidationError(_("This contract has no renewal clause."))
    terms = contract.terms
    end = current_term_end(terms, today)
    already = contract.renewal_decisions.filter(
        decision=RenewalDecisionKind.RENEW, new_end_date=end, for_term_ending__gte=today
    ).first()
    if already is not None:
        # The term running today was renewed already: a second decision would renew a term that has not begun.
        raise ValidationError(
            _(
                "The term ending %(term_end)s is already renewed to %(end)s (decided on %(decided)s); "
                "the next decision is for the renewed term, once it runs."
            )
            % {
                "term_end": long_date(already.for_term_ending),
                "end": long_date(end),
                "decided": long_date(timezone.localdate(already.decided_at)),
            }
        )
    window = window_for_term(terms, end)
    if window is None:
        raise ValidationError(
            ngettext(
                "This contract has used its %(count)s renewal; the term ending %(end)s is the last.",
                "This contract has used its %(count)s renewals; the term ending %(end)s is the last.",
                contract.max_renewals,
            )
            % {"count": contract.max_renewals, "end": long_date(end)}
        )
    return window


@transaction.atomic
def record_renewal(
    *, contract: Contract, decided_by, note: str = "", today: datetime.date | None = None
) -> RenewalDecision:
    """Renew the running term: its end moves to the end of the renewed term (renewal_to_record)."""
    today = today or timezone.localdate()
    contract = _locked_contract(contract)
    window = renewal_to_record(contract, today)
    decision = RenewalDecision(
        contract=contract,
        decision=RenewalDecisionKind.RENEW,
        for_term_ending=window.term_end,
        new_end_date=window.renewed_term_end,
        decided_by=decided_by,
        decided_at=timezone.now(),
        note=note,
    )
    decision.full_clean()
    decision.save()
    contract.end_date = window.renewed_term_end
    _save_contract(contract, actor=decided_by, reason=f"Renewed to {window.renewed_term_end}")
    return decision


def notice_term_end(contract: Contract, today: datetime.date) -> tuple[datetime.date, datetime.date | None]:
    """The end of the term that notice given ``today`` ends, and, when the running term renews
    first because its notice deadline has passed (a tacit renewal), that deadline (else None).

    Refused (ValidationError) when the term has already ended: there is nothing left to give notice of.
    """
    terms = contract.terms
    end = current_term_end(terms, today)
    if end < today:
        raise ValidationError(
            _("The term ended on %(end)s: there is nothing left to give notice of; record the contract as expired.")
            % {"end": long_date(end)}
        )
    missed = None
    window = window_for_term(terms, end)
    while window is not None and contract.renewal_type == RenewalType.TACIT and today > window.notice_deadline:
        missed = missed or window.notice_deadline
        end = window.renewed_term_end
        window = window_for_term(terms, end)
    return end, missed


@transaction.atomic
def give_notice(
    *, contract: Contract, decided_by, note: str = "", today: datetime.date | None = None
) -> RenewalDecision:
    """Give notice so a term is the last: the contract's status becomes "notice given" and its end
    date the end of that term.

    Notice ends the running term; once the notice deadline of a tacitly renewing term has passed,
    that term renews and notice ends the next one (notice_term_end). A contract without renewal can
    be given notice of its end until it ends.
    """
    today = today or timezone.localdate()
    contract = _locked_contract(contract)
    end, _missed = notice_term_end(contract, today)
    decision = RenewalDecision(
        contract=contract,
        decision=RenewalDecisionKind.GIVE_NOTICE,
        for_term_ending=end,
        decided_by=decided_by,
        decided_at=timezone.now(),
        note=note,
    )
    decision.full_clean()
    decision.save()
    contract.end_date = end
    contract.status = ContractStatus.NOTICE_GIVEN
    _save_contract(contract, actor=decided_by, reason=f"Notice given, ends {end}")
    return decision
