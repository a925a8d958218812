"""The close records the history of every line it writes, as it does its statements': a version of each line it
creates ("+"), recomputes with other figures ("~") or removes ("-", its service level retired from the month), with
who closed, in a fixed number of queries per batch. A past meeting's scorecard reads the lines from it."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from sla_tracker.models import Measurement, ServiceLevel, StatementEvent, StatementLine
from sla_tracker.services import close_contracts_month, dispute_line, submit_statement, waive_line
from tests.factories import UserFactory, VendorUserFactory
from tests.sla_tracker.test_adjustments_carry import contract_a, correct_january
from tests.sla_tracker.test_close import AS_OF, close, line_of, seed_synthetic, statement_of

pytestmark = pytest.mark.django_db
HistoricalLine = StatementLine.history.model
# The line's own fields, as its history versions copy them.
TRACKED = [field.attname for field in HistoricalLine.tracked_fields]


def versions(line: StatementLine) -> list[tuple[str, dict]]:
    """The history of ``line`` (which may be deleted), oldest first: (type, the fields recorded)."""
    return [
        (version.history_type, {name: getattr(version, name) for name in TRACKED})
        for version in HistoricalLine.objects.filter(id=line.pk).order_by("history_date", "history_id")
    ]


def fields_of(line: StatementLine) -> dict:
    line.refresh_from_db()
    return {name: getattr(line, name) for name in TRACKED}


def test_each_line_a_close_creates_has_a_first_version_with_its_figures_and_who_closed():
    contract = contract_a()
    actor = UserFactory(procurement=True)

    close(contract, "2026-01", actor=actor)

    lines = list(statement_of(contract, "2026-01").lines.all())
    assert len(lines) == 5
    for line in lines:
        assert versions(line) == [("+", fields_of(line))]
    assert set(HistoricalLine.objects.values_list("history_user", flat=True)) == {actor.pk}
    assert line_of(contract, "2026-01", "CSL-1").history.get().inputs == line_of(contract, "2026-01", "CSL-1").inputs


def test_a_recomputation_records_a_version_of_the_lines_it_changes_only():
    contract = contract_a()
    close(contract, "2026-01")
    csl1 = line_of(contract, "2026-01", "CSL-1")
    first = fields_of(csl1)
    correct_january(contract)  # CSL-1 met after all

    close(contract, "2026-01")

    assert versions(csl1) == [("+", first), ("~", fields_of(csl1))]
    assert (first["status"], first["credit"]) == ("default", Decimal("14400.00"))
    assert (csl1.status, csl1.credit) == ("met", Decimal("0.00"))
    assert [kind for kind, _fields in versions(line_of(contract, "2026-01", "CSL-2"))] == ["+"]


def test_a_line_whose_service_level_is_retired_from_its_month_is_removed_with_its_last_version_kept():
    contract = contract_a()
    close(contract, "2026-01")
    csl5 = line_of(contract, "2026-01", "CSL-5")
    waive_line(line_id=csl5.pk, actor=UserFactory(procurement=True), reason="Carrier outage")
    as_waived = fields_of(csl5)
    ServiceLevel.objects.filter(contract=contract, code="CSL-5").update(retired_from=date(2026, 1, 1))

    close(contract, "2026-01")

    assert not StatementLine.objects.filter(pk=csl5.pk).exists()
    assert [kind for kind, _fields in versions(csl5)] == ["+", "~", "-"]  # computed, waived, removed
    assert versions(csl5)[-1][1] == as_waived
    event = StatementEvent.objects.get(statement=csl5.statement_id, action="line_waived")
    assert event.line_id is None  # the event stays, naming no line any more


def test_a_disputed_line_is_not_removed():
    contract = contract_a()
    january = close(contract, "2026-01")
    submit_statement(statement_id=january.pk, actor=UserFactory(procurement=True))
    csl1 = line_of(contract, "2026-01", "CSL-1")
    dispute_line(line_id=csl1.pk, actor=VendorUserFactory(vendor=contract.vendor), reason="Carrier outage")
    ServiceLevel.objects.filter(contract=contract, code="CSL-1").update(retired_from=date(2026, 1, 1))

    with pytest.raises(ProtectedError):
        close(contract, "2026-01")

    assert [kind for kind, _fields in versions(csl1)] == ["+"]
    assert StatementLine.objects.filter(pk=csl1.pk).exists()


def _queries(contracts, month: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        closed = close_contracts_month(contract_ids=[contract.pk for contract in contracts], month=month, as_of=AS_OF)
    assert closed.refused == {}
    return len(queries)


def test_the_lines_history_takes_the_same_queries_for_a_batch_of_any_size():
    small = [seed_synthetic(2, 10) for _ in range(2)]
    large = [seed_synthetic(4, 28) for _ in range(6)]
    counts = []
    for batch in (small, large):
        created = _queries(batch, "2026-01")
        Measurement.objects.filter(contract__in=batch, counter__code="answered_within_20s").update(value=850)
        updated = _queries(batch, "2026-01")
        ServiceLevel.objects.filter(contract__in=batch, code="CSL-2").update(retired_from=date(2026, 1, 1))
        removed = _queries(batch, "2026-01")
        counts.append((created, updated, removed))

    assert counts[0] == counts[1]
    lines = StatementLine.objects.filter(statement__contract__in=small + large).count()
    assert lines == 2 * 1 + 6 * 3  # CSL-2 removed
    history = HistoricalLine.objects.filter(statement__contract__in=small + large)
    assert history.filter(history_type="+").count() == 2 * 2 + 6 * 4
    assert history.filter(history_type="-").count() == 2 + 6
    assert history.filter(history_type="~").count() == 2 * 2 + 6 * 4  # every line recomputed with other figures
