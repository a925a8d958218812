"""Writes on contracts: the recorded renewal decisions ("renew", "give notice"), and the rule that
keeps edits from moving the end of the term or the status around them.

Each action is atomic, locks the contract row, records a RenewalDecision (the decision's audit
row) and saves the contract with its history reason and user.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.choices import ContractStatus, RenewalDecisionKind, RenewalType
from contracts.dates import current_term_end, window_for_term
from contracts.models import Contract, RenewalDecision

DECIDABLE_STATUSES = (ContractStatus.ACTIVE,)


# The status changes an edit may make: notice is given by give_notice, a term renewed by record_renewal.
STATUS_CHANGES = {
    ContractStatus.DRAFT: {ContractStatus.ACTIVE, ContractStatus.TERMINATED},
    ContractStatus.ACTIVE: {ContractStatus.EXPIRED, ContractStatus.TERMINATED},
    ContractStatus.NOTICE_GIVEN: {ContractStatus.EXPIRED, ContractStatus.TERMINATED},
    ContractStatus.EXPIRED: set(),
    ContractStatus.TERMINATED: set(),
}


def contract_edit_errors(contract: Contract, *, status: str, end_date: datetime.date) -> dict[str, list[str]]:
    """Why an edit giving the stored ``contract`` this ``status`` and ``end_date`` is refused, by
    field (empty: it is not). The end of the term and the notice move only with a recorded decision
    (record_renewal, give_notice); other status changes follow STATUS_CHANGES. The API and the back
    office both apply it."""
    refused = {}
    if end_date != contract.end_date:
        refused["end_date"] = [
            _("The end of the term moves only with a recorded decision: use the renew or give-notice action.")
        ]
    if status != contract.status and status not in STATUS_CHANGES[contract.status]:
        refused["status"] = [
            _(
                "This status change is not allowed: a draft becomes active, a running contract expires or "
                "is terminated, notice is given with the give-notice action, and an ended contract's "
                "status is final."
            )
        ]
    return refused


def _locked_contract(contract: Contract) -> Contract:
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if locked.status not in DECIDABLE_STATUSES:
        raise ValidationError(
            _("Only an active contract can be renewed or given notice (this one is %(status)s).")
            % {"status": locked.get_status_display()}
        )
    return locked


def _save_contract(contract: Contract, *, actor, reason: str) -> None:
    contract._history_user = actor
    contract._change_reason = reason[:100]
    contract.full_clean()
    contract.save()


@transaction.atomic
def record_renewal(
    *, contract: Contract, decided_by, note: str = "", today: datetime.date | None = None
) -> RenewalDecision:
    """Renew the running term: its end moves to the end of the renewed term.

    A tacit contract whose recorded end has passed renewed itself meanwhile; the decision applies
    to the term running today. Refused when the contract does not renew, or has used its renewals.
    """
    today = today or timezone.localdate()
    contract = _locked_contract(contract)
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
            % {"term_end": already.for_term_ending, "end": end, "decided": timezone.localdate(already.decided_at)}
        )
    window = window_for_term(terms, end)
    if window is None:
        raise ValidationError(
            _("This contract has used its %(count)s renewals; the term ending %(end)s is the last.")
            % {"count": contract.max_renewals, "end": end}
        )
    decision = RenewalDecision(
        contract=contract,
        decision=RenewalDecisionKind.RENEW,
        for_term_ending=end,
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


@transaction.atomic
def give_notice(
    *, contract: Contract, decided_by, note: str = "", today: datetime.date | None = None
) -> RenewalDecision:
    """Give notice so the running term is the last: the contract's status becomes "notice given"
    and its end date the end of that term.

    Refused after the notice deadline of a tacitly renewing term (the term renews; notice then
    ends the next one, whose deadline is later). A contract without renewal can always be given
    notice of its end.
    """
    today = today or timezone.localdate()
    contract = _locked_contract(contract)
    terms = contract.terms
    end = current_term_end(terms, today)
    window = window_for_term(terms, end)
    if window is not None and contract.renewal_type == RenewalType.TACIT and today > window.notice_deadline:
        raise ValidationError(
            _(
                "The notice deadline for the term ending %(end)s was %(deadline)s: that term renews. "
                "Give notice for the next term instead."
            )
            % {"end": end, "deadline": window.notice_deadline}
        )
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
