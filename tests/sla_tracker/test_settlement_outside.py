"""A difference no statement will carry is settled outside the statements, and that settlement is recorded.

Contract A of DOMAIN.md §6 (Example 1) ends on 31 January 2026 with January approved: its €14,400.00 credit
is corrected away afterwards (40,000 of 43,000 answered within 20 s: met), and no later close will carry the
difference. Procurement settles it by a credit note and records the note's reference on the statement.
"""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from contracts.choices import ContractStatus
from contracts.models import Contract
from sla_tracker.choices import MeasurementSource, StatementAction
from sla_tracker.kpi_import.service import save_measurements
from sla_tracker.kpi_import.validation import KpiValue
from sla_tracker.models import StatementEvent
from sla_tracker.services import settle_outside_statements
from tests.factories import UserFactory, VendorUserFactory

from .test_adjustments_carry import adjustments, last_data
from .test_close import close
from .test_kpi_corrections import approved_january

pytestmark = pytest.mark.django_db
D = Decimal
CREDIT_NOTE = "CN-2026-0042"


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


def correct_to(contract, value: int):
    save_measurements(
        contract=contract,
        values=[KpiValue("answered_within_20s", "2026-01", value, row=0, column="value")],
        source=MeasurementSource.API,
        actor=contract.owner,
        correction_reason="The vendor's corrected January report.",
    )


def ended_with_a_waiting_difference(procurement):
    contract, january = approved_january(procurement)
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.TERMINATED, terminated_on=date(2026, 1, 31))
    correct_to(contract, 40_000)
    assert last_data(january) == {"pending": {"CSL-1": "14400.00"}}
    return contract, january


def waiting_on_home(client, user):
    client.force_login(user)
    return [
        (row.pk, row.waiting, row.settle_outside)
        for row in client.get(reverse("accounts:home")).context["differences_waiting"]
    ]


def test_procurement_records_the_settlement_and_the_difference_no_longer_waits(procurement, client):
    _contract, january = ended_with_a_waiting_difference(procurement)
    assert waiting_on_home(client, procurement) == [(january.pk, D("14400.00"), True)]

    settle_outside_statements(statement_id=january.pk, actor=procurement, reference=f"  {CREDIT_NOTE} ")

    event = StatementEvent.objects.filter(statement=january).latest("id")
    assert (event.action, event.actor, event.data) == (
        StatementAction.SETTLED,
        procurement,
        {"pending": {}, "settled": {"CSL-1": "14400.00"}, "reference": CREDIT_NOTE},
    )
    assert waiting_on_home(client, procurement) == []
    page = client.get(reverse("sla_tracker:statement", args=[january.pk])).content.decode()
    assert f"Settled outside the statements by {CREDIT_NOTE}" in page
    assert 'data-action="settle"' not in page  # nothing left to settle


def test_a_settled_difference_counts_as_carried_when_the_month_is_recomputed_again(procurement):
    contract, january = ended_with_a_waiting_difference(procurement)
    settle_outside_statements(statement_id=january.pk, actor=procurement, reference=CREDIT_NOTE)
    events = StatementEvent.objects.count()
    settled_id = StatementEvent.objects.latest("id").id

    close(contract, "2026-01")  # the same figures: nothing waits again, nothing is recorded
    assert StatementEvent.objects.count() == events

    correct_to(contract, 34_400)  # 80.0 %: still met, the same figures
    assert last_data(january, StatementAction.SETTLED)["settled"] == {"CSL-1": "14400.00"}
    assert (
        not StatementEvent.objects.filter(statement=january, action=StatementAction.RECOMPUTED, id__gt=settled_id)
        .exclude(data__pending={})
        .exists()
    )

    correct_to(contract, 31_500)  # back to the approved data: the settled credit note is owed back
    assert last_data(january) == {"pending": {"CSL-1": "-14400.00"}}
    assert adjustments(contract) == []


@pytest.mark.parametrize(
    ("situation", "message"),
    [
        ("running", "The contract is in force: the close of a later month carries this difference"),
        ("last month open", "The close of February 2026, the contract's last month, carries this difference"),
        ("nothing waits", "has no difference waiting to be carried"),
    ],
)
def test_a_settlement_is_refused_while_a_close_can_still_carry_the_difference(procurement, situation, message):
    contract, january = approved_january(procurement)
    if situation == "last month open":
        Contract.objects.filter(pk=contract.pk).update(
            status=ContractStatus.TERMINATED, terminated_on=date(2026, 2, 27)
        )
    if situation == "nothing waits":
        Contract.objects.filter(pk=contract.pk).update(
            status=ContractStatus.TERMINATED, terminated_on=date(2026, 1, 31)
        )
    else:
        correct_to(contract, 40_000)
    events = StatementEvent.objects.count()

    with pytest.raises(ValidationError) as refused:
        settle_outside_statements(statement_id=january.pk, actor=procurement, reference=CREDIT_NOTE)

    assert message in " ".join(refused.value.messages)
    assert StatementEvent.objects.count() == events


def test_an_open_statement_after_it_carries_the_difference_instead(procurement):
    contract, january = approved_january(procurement)
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.TERMINATED, terminated_on=date(2026, 2, 27))
    correct_to(contract, 40_000)
    StatementEvent.objects.filter(statement=january, action=StatementAction.RECOMPUTED).update(
        data={"pending": {"CSL-1": "14400.00"}}
    )  # as if February's close had not carried it yet
    close(contract, "2026-02")
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]

    with pytest.raises(ValidationError) as refused:
        settle_outside_statements(statement_id=january.pk, actor=procurement, reference=CREDIT_NOTE)
    assert "no difference waiting" in " ".join(refused.value.messages)


def test_the_reference_is_required_and_bounded(procurement):
    _contract, january = ended_with_a_waiting_difference(procurement)
    for reference, field_message in [
        ("  ", "Give the reference of the credit note or invoice that settles the difference."),
        ("X" * 101, "Keep the reference to at most 100 characters."),
    ]:
        with pytest.raises(ValidationError) as refused:
            settle_outside_statements(statement_id=january.pk, actor=procurement, reference=reference)
        assert refused.value.message_dict == {"reference": [field_message]}
    assert not StatementEvent.objects.filter(action=StatementAction.SETTLED).exists()


def test_the_statement_page_offers_and_records_the_settlement(procurement, client):
    _contract, january = ended_with_a_waiting_difference(procurement)
    client.force_login(procurement)
    page = client.get(reverse("sla_tracker:statement", args=[january.pk])).content.decode()
    assert 'data-action="settle"' in page

    url = reverse("sla_tracker:statement-action", args=[january.pk, "settle"])
    refused = client.post(url, {"reference": ""})
    assert refused.status_code == 200 and not StatementEvent.objects.filter(action=StatementAction.SETTLED).exists()
    done = client.post(url, {"reference": CREDIT_NOTE})

    assert done.status_code == 302
    assert last_data(january, StatementAction.SETTLED)["reference"] == CREDIT_NOTE


def test_a_settlement_posted_where_it_is_not_offered_shows_only_why_it_is_refused(procurement, client):
    """The page's explanation says the contract has ended: not above the refusal of a contract in force."""
    contract, january = approved_january(procurement)
    correct_to(contract, 40_000)
    client.force_login(procurement)

    refused = client.post(reverse("sla_tracker:statement-action", args=[january.pk, "settle"]), {"reference": "X"})

    page = refused.content.decode()
    assert refused.status_code == 200
    assert "The contract is in force: the close of a later month carries this difference" in page
    assert "The contract has ended" not in page
    assert not StatementEvent.objects.filter(action=StatementAction.SETTLED).exists()


def test_the_api_records_the_settlement_for_procurement_only(procurement):
    from rest_framework.test import APIClient

    contract, january = ended_with_a_waiting_difference(procurement)
    url = f"/api/v1/penalty-statements/{january.pk}/settle/"
    # The vendor's own users see the approved statement but may not act on it; another vendor's do not see it.
    for user, status in [
        (contract.owner, 403),
        (VendorUserFactory(vendor=contract.vendor), 403),
        (VendorUserFactory(), 404),
    ]:
        api = APIClient()
        api.force_authenticate(user)
        assert api.post(url, {"reference": CREDIT_NOTE}, format="json").status_code == status
    api = APIClient()
    api.force_authenticate(procurement)
    refused = api.post(url, {}, format="json")
    assert refused.status_code == 400 and "reference" in refused.json()["errors"]

    settled = api.post(url, {"reference": CREDIT_NOTE}, format="json")

    assert settled.status_code == 200, settled.content
    assert settled.json()["id"] == january.pk
    assert last_data(january, StatementAction.SETTLED)["settled"] == {"CSL-1": "14400.00"}


def test_a_settlement_is_refused_when_a_correction_changed_the_difference_since_it_was_read(procurement, client):
    """The page showed €14,400.00 waiting; before it is confirmed, another correction leaves €9,600.00 waiting.
    The credit note recorded must be the one whose amount was shown: the confirmation is refused and shows
    the amount now waiting, which a second confirmation settles."""
    _contract, january = ended_with_a_waiting_difference(procurement)
    client.force_login(procurement)
    url = reverse("sla_tracker:statement-action", args=[january.pk, "settle"])
    shown = client.get(url).context["form"]["amounts"].value()
    assert json.loads(shown) == {"CSL-1": "14400.00"}
    StatementEvent.objects.filter(statement=january, action=StatementAction.RECOMPUTED).update(
        data={"pending": {"CSL-1": "9600.00"}}
    )  # what a recomputation after another correction records

    refused = client.post(url, {"reference": CREDIT_NOTE, "amounts": shown})

    assert refused.status_code == 200
    errors = " ".join(refused.context["form"].non_field_errors())
    assert "changed since you opened it: the difference waiting on it is now CSL-1 €9,600.00" in errors
    assert not StatementEvent.objects.filter(action=StatementAction.SETTLED).exists()
    assert json.loads(refused.context["form"]["amounts"].value()) == {"CSL-1": "9600.00"}  # confirm again: these
    assert client.post(url, {"reference": CREDIT_NOTE, "amounts": json.dumps({"CSL-1": "9600.00"})}).status_code == 302
    assert last_data(january, StatementAction.SETTLED)["settled"] == {"CSL-1": "9600.00"}


@pytest.mark.parametrize("amounts", ['{"CSL-1": "abc"}', '["14400.00"]', '{"CSL-1": {"x": 1}}', '"14400.00"'])
def test_a_settlement_whose_shown_amounts_cannot_be_read_back_is_refused_without_an_error(procurement, client, amounts):
    _contract, january = ended_with_a_waiting_difference(procurement)
    client.force_login(procurement)

    refused = client.post(
        reverse("sla_tracker:statement-action", args=[january.pk, "settle"]),
        {"reference": CREDIT_NOTE, "amounts": amounts},
    )

    assert refused.status_code == 200
    assert "could not be read back" in " ".join(refused.context["form"].non_field_errors())
    assert not StatementEvent.objects.filter(action=StatementAction.SETTLED).exists()


def test_the_api_refuses_a_settlement_of_other_amounts_than_those_waiting(procurement):
    from rest_framework.test import APIClient

    _contract, january = ended_with_a_waiting_difference(procurement)
    api = APIClient()
    api.force_authenticate(procurement)
    url = f"/api/v1/penalty-statements/{january.pk}/settle/"

    refused = api.post(url, {"reference": CREDIT_NOTE, "amounts": {"CSL-1": "8442.00"}}, format="json")
    assert refused.status_code == 400
    assert "the difference waiting on it is now CSL-1 €14,400.00" in str(refused.json()["errors"])
    settled = api.post(url, {"reference": CREDIT_NOTE, "amounts": {"CSL-1": "14400"}}, format="json")
    assert settled.status_code == 200, settled.content


def test_the_settlement_page_is_not_offered_while_a_close_can_carry_the_difference(procurement, client):
    contract, january = approved_january(procurement)
    correct_to(contract, 40_000)  # waits, but the contract runs: the next close carries it
    client.force_login(procurement)

    assert client.get(reverse("sla_tracker:statement-action", args=[january.pk, "settle"])).status_code == 404
    page = client.get(reverse("sla_tracker:statement", args=[january.pk])).content.decode()
    assert 'data-action="settle"' not in page


def test_the_differences_waiting_are_read_in_a_fixed_number_of_queries(procurement):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sla_tracker.views import differences_waiting

    ended_with_a_waiting_difference(procurement)
    with CaptureQueriesContext(connection) as one:
        first = differences_waiting(procurement)
    ended_with_a_waiting_difference(procurement)
    ended_with_a_waiting_difference(procurement)
    with CaptureQueriesContext(connection) as three:
        rows = differences_waiting(procurement)

    assert [row.settle_outside for row in first] == [True]
    assert [row.settle_outside for row in rows] == [True, True, True]
    assert len(three.captured_queries) == len(one.captured_queries)
