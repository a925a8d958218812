"""Corrections of KPI data of months whose penalty statement is approved or invoiced (issue 3 §3, issue 4).

The statement never changes: the month is recomputed with the corrected data at once, and the difference in
its credits is carried into the contract's next open statement as an adjustment. Contract A of DOMAIN.md §6
(Example 1): January's CSL-1 is a default credited €14,400.00; corrected to 40,000 of 43,000 answered within
20 s it is met, a difference of €14,400.00 in the vendor's favour.
"""

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from contracts.choices import Channel, ContractStatus
from contracts.models import Contract, MonthlyCharge
from sla_tracker.choices import MeasurementSource, StatementAction, StatementStatus, UploadStatus
from sla_tracker.kpi_import.reasons import readable_errors
from sla_tracker.kpi_import.service import KpiDataRejected, import_upload, preview_upload, save_measurements
from sla_tracker.kpi_import.validation import KpiValue
from sla_tracker.models import KpiUpload, Measurement, MeasurementChange, StatementEvent
from sla_tracker.services import mark_statement_invoiced
from tests.factories import (
    ContractFactory,
    ContractScopeFactory,
    MonthlyChargeFactory,
    UserFactory,
    VendorUserFactory,
)

from .kpi_support import csv_file
from .test_adjustments_carry import adjustments, approve, contract_a, last_data, nets
from .test_close import close, line_of, scenario_json, seed_scenario, snapshot, statement_of
from .test_kpi_api import client_for

pytestmark = pytest.mark.django_db
D = Decimal
REASON = "The vendor's corrected January report: the ACD export had dropped two days."
CORRECTED = [KpiValue("answered_within_20s", "2026-01", 40_000, row=0, column="value")]


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


def approved_january(procurement, *extra_months: str):
    contract = contract_a("2026-02", *extra_months)
    ContractScopeFactory(contract=contract, channel=Channel.VOICE)  # the corrected counter's channel
    january = approve(close(contract, "2026-01"), procurement)
    return contract, january


def within_20s(contract) -> Decimal:
    return Measurement.objects.get(contract=contract, counter__code="answered_within_20s").value


def correct(contract, actor, reason=REASON, values=CORRECTED):
    return save_measurements(
        contract=contract, values=values, source=MeasurementSource.API, actor=actor, correction_reason=reason
    )


@pytest.mark.parametrize("invoiced", [False, True], ids=["approved", "invoiced"])
def test_a_correction_keeps_the_statement_and_carries_the_difference_into_the_next_open_one(procurement, invoiced):
    contract, january = approved_january(procurement)
    if invoiced:
        mark_statement_invoiced(statement_id=january.pk, actor=procurement, invoice_reference="INV-2026-0117")
    close(contract, "2026-02")
    before = snapshot(contract)[:1]

    result = correct(contract, contract.owner)

    assert (result.updated, result.created, result.deleted) == (1, 0, 0)
    assert within_20s(contract) == 40_000
    assert snapshot(contract)[:1] == before  # January's statement and lines as they were
    assert statement_of(contract, "2026-01").status == (
        StatementStatus.INVOICED if invoiced else StatementStatus.APPROVED
    )
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]
    assert nets(contract) == {"2026-01": D("-14400.00"), "2026-02": D("14400.00")}
    assert last_data(january) == {"carried_into": {"2026-02": {"CSL-1": "14400.00"}}, "pending": {}}
    corrected = StatementEvent.objects.get(statement=january, action=StatementAction.DATA_CORRECTED)
    assert (corrected.actor, corrected.note, corrected.data) == (
        contract.owner,
        REASON,
        {"created": 0, "updated": 1, "deleted": 0},
    )
    change = MeasurementChange.objects.get(contract=contract)
    assert (change.old_value, change.new_value, change.changed_by, change.correction_reason) == (
        D("31500"),
        D("40000"),
        contract.owner,
        REASON,
    )


def test_without_an_open_statement_the_difference_waits_for_the_next_close(procurement):
    contract, january = approved_january(procurement)

    correct(contract, contract.owner)

    assert adjustments(contract) == []
    assert last_data(january) == {"pending": {"CSL-1": "14400.00"}}
    close(contract, "2026-02")
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]


def test_without_a_reason_an_approved_month_is_refused_with_the_way_to_correct_it(procurement):
    contract, _january = approved_january(procurement)
    close(contract, "2026-02")
    before, events = snapshot(contract), StatementEvent.objects.count()

    with pytest.raises(KpiDataRejected) as refused:
        correct(contract, contract.owner, reason="   ")

    message = str(refused.value.issues[0].message)
    assert message.startswith("The penalty statement of January 2026 is “Approved”, so its data only changes")
    assert "corrects the month with a reason" in message
    assert within_20s(contract) == 31_500
    assert (snapshot(contract), StatementEvent.objects.count()) == (before, events)
    assert not MeasurementChange.objects.exists()


def test_the_vendors_own_users_cannot_correct_an_approved_month(procurement):
    contract, _january = approved_january(procurement)
    contract.vendor_self_reporting = True
    contract.save()
    vendor_user = VendorUserFactory(vendor=contract.vendor)

    with pytest.raises(PermissionDenied):
        correct(contract, vendor_user)

    assert within_20s(contract) == 31_500
    assert adjustments(contract) == []


def test_a_correction_whose_month_cannot_be_recomputed_is_refused_and_writes_nothing(procurement):
    contract, _january = approved_january(procurement)
    close(contract, "2026-02")
    MonthlyCharge.objects.filter(contract=contract, month=date(2026, 1, 1)).delete()
    before, events = snapshot(contract), StatementEvent.objects.count()

    with pytest.raises(KpiDataRejected) as refused:
        correct(contract, contract.owner)

    assert str(refused.value.issues[0].message) == (
        f"The correction cannot be carried: {contract.reference} has no monthly charges for January 2026: "
        "record them before the close."
    )
    assert within_20s(contract) == 31_500
    assert (snapshot(contract), StatementEvent.objects.count()) == (before, events)
    assert not MeasurementChange.objects.exists()


def test_a_correction_that_changes_nothing_records_nothing(procurement):
    contract, _january = approved_january(procurement)
    close(contract, "2026-02")
    before, events = snapshot(contract), StatementEvent.objects.count()

    result = correct(contract, contract.owner, values=[KpiValue("answered_within_20s", "2026-01", 31_500)])

    assert result.unchanged == 1
    assert (snapshot(contract), StatementEvent.objects.count()) == (before, events)


# The API ----------------------------------------------------------------------------------------------------

CORRECTIONS_URL = "/api/v1/measurements/corrections/"


def correction_payload(contract, **changes) -> dict:
    payload = {
        "reason": REASON,
        "values": [
            {"contract": contract.reference, "counter": "answered_within_20s", "month": "2026-01", "value": 40000}
        ],
    }
    return {**payload, **changes}


def test_the_api_corrects_an_approved_month_and_carries_the_difference(procurement):
    contract, _january = approved_january(procurement)
    close(contract, "2026-02")

    response = client_for(contract.owner).post(CORRECTIONS_URL, correction_payload(contract), format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"created": 0, "updated": 1, "deleted": 0, "unchanged": 0}
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]
    assert MeasurementChange.objects.get(contract=contract).correction_reason == REASON


def test_the_bulk_endpoint_refuses_an_approved_month_and_names_the_corrections(procurement):
    contract, _january = approved_january(procurement)
    items = correction_payload(contract)["values"]

    response = client_for(contract.owner).post("/api/v1/measurements/bulk/", items, format="json")

    assert response.status_code == 400
    assert "through the API's measurement corrections" in response.json()["errors"][0]["message"]
    assert within_20s(contract) == 31_500


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reason": ""}, "reason", "Give the reason for the correction."),
        ({"reason": None}, "reason", "Give the reason for the correction."),
        ({"values": []}, "values", "Send a non-empty JSON list of values."),
        ({"comment": "x"}, "comment", "Unknown field “comment”: the fields are reason, values."),
    ],
)
def test_a_malformed_correction_is_refused_and_writes_nothing(procurement, changes, field, message):
    contract, _january = approved_january(procurement)

    response = client_for(contract.owner).post(CORRECTIONS_URL, correction_payload(contract, **changes), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": None, "field": field, "message": message}]
    assert within_20s(contract) == 31_500
    assert not MeasurementChange.objects.exists()


def test_a_vendor_user_may_not_correct_even_their_own_contract(procurement):
    contract, _january = approved_january(procurement)
    contract.vendor_self_reporting = True
    contract.save()

    response = client_for(VendorUserFactory(vendor=contract.vendor)).post(
        CORRECTIONS_URL, correction_payload(contract), format="json"
    )

    assert response.status_code == 403
    assert within_20s(contract) == 31_500


def test_another_managers_contract_is_unknown_to_the_corrections(procurement):
    contract, _january = approved_january(procurement)
    other_manager = UserFactory()
    ContractFactory(owner=other_manager)  # theirs: they may correct something, not this contract

    response = client_for(other_manager).post(CORRECTIONS_URL, correction_payload(contract), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 0, "field": "contract", "message": "Unknown contract."}]
    assert within_20s(contract) == 31_500
    assert not MeasurementChange.objects.exists()


# Files: the web form, the API and the command ----------------------------------------------------------------

CORRECTED_PACK = "Month,answered_within_20s\n2026-01,40000\n"
PACK_MAPPING = {"date_column": "Month", "columns": {"answered_within_20s": "answered_within_20s"}}


def preview_pack(contract, actor, reason=""):
    return preview_upload(
        contract=contract, file=csv_file(CORRECTED_PACK), actor=actor, mapping=PACK_MAPPING, correction_reason=reason
    )


def test_a_file_with_a_reason_corrects_an_approved_month(procurement):
    contract, january = approved_january(procurement)
    close(contract, "2026-02")

    upload = preview_pack(contract, contract.owner, reason=f"  {REASON}  ")
    assert (upload.status, upload.correction_reason) == (UploadStatus.VALIDATED, REASON)
    assert within_20s(contract) == 31_500  # a preview writes nothing
    import_upload(upload=upload, actor=contract.owner)

    assert within_20s(contract) == 40_000
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]
    change = MeasurementChange.objects.get(contract=contract)
    assert (change.upload, change.correction_reason) == (upload, REASON)
    assert StatementEvent.objects.get(statement=january, action=StatementAction.DATA_CORRECTED).note == REASON


def test_a_file_without_a_reason_is_refused_for_an_approved_month(procurement):
    contract, _january = approved_january(procurement)

    with pytest.raises(KpiDataRejected) as refused:
        preview_pack(contract, contract.owner)

    assert "only changes through a correction" in readable_errors(refused.value.stored_errors())[0]["message"]
    assert not KpiUpload.objects.exists()


def test_a_vendor_user_can_neither_send_nor_import_a_correction(procurement):
    contract, _january = approved_january(procurement)
    contract.vendor_self_reporting = True
    contract.save()
    vendor_user = VendorUserFactory(vendor=contract.vendor)

    with pytest.raises(PermissionDenied):
        preview_pack(contract, vendor_user, reason="Our figures were wrong.")
    assert not KpiUpload.objects.exists()

    upload = preview_pack(contract, contract.owner, reason=REASON)
    with pytest.raises(PermissionDenied):
        import_upload(upload=upload, actor=vendor_user)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.VALIDATED  # left for the manager to import
    assert within_20s(contract) == 31_500


def test_the_api_takes_a_correction_file_with_its_reason(procurement):
    contract, _january = approved_january(procurement)
    close(contract, "2026-02")
    client = client_for(contract.owner)
    url = f"/api/v1/contracts/{contract.pk}/kpi-uploads/"

    sent = client.post(
        url,
        {"file": csv_file(CORRECTED_PACK), "mapping": json.dumps(PACK_MAPPING), "correction_reason": REASON},
        format="multipart",
    )
    assert sent.status_code == 201, sent.content
    assert (sent.json()["status"], sent.json()["correction_reason"]) == (UploadStatus.VALIDATED, REASON)
    imported = client.post(f"{url}{sent.json()['id']}/import/")

    assert imported.status_code == 200, imported.content
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]


def test_the_api_refuses_a_correction_file_from_a_vendor_user_and_says_why(procurement):
    contract, _january = approved_january(procurement)
    contract.vendor_self_reporting = True
    contract.save()

    response = client_for(VendorUserFactory(vendor=contract.vendor)).post(
        f"/api/v1/contracts/{contract.pk}/kpi-uploads/",
        {"file": csv_file(CORRECTED_PACK), "mapping": json.dumps(PACK_MAPPING), "correction_reason": "Ours."},
        format="multipart",
    )

    assert response.status_code == 403
    assert (
        "Only the contract's vendor manager or an administrator corrects approved months." in response.content.decode()
    )
    assert not KpiUpload.objects.exists()


def test_the_command_imports_a_correction_file_with_its_reason(procurement, tmp_path):
    contract, _january = approved_january(procurement)
    close(contract, "2026-02")
    path = tmp_path / "january-corrected.csv"
    path.write_text(CORRECTED_PACK, encoding="utf-8")
    mapping = json.dumps(PACK_MAPPING)

    with pytest.raises(CommandError):
        call_command("import_kpis", str(path), "--contract", contract.reference, "--mapping-json", mapping)
    assert within_20s(contract) == 31_500

    call_command(
        "import_kpis",
        str(path),
        "--contract",
        contract.reference,
        "--mapping-json",
        mapping,
        "--correction-reason",
        REASON,
        stdout=StringIO(),
    )
    assert within_20s(contract) == 40_000
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]


def test_a_correction_that_moves_a_bonus_carries_that_difference_too(procurement):
    """Example 17 of DOMAIN.md §6: CSAT 92.4 % earns a bonus of 2 full points × 0.5 % × €200,000 = €2,000.00.
    Corrected to 2,250 of 2,500 (90.0 %: no full point above 90), the bonus falls and the vendor owes it back."""
    contract = seed_scenario(scenario_json("ex17_bonus_alongside_a_credit"))
    MonthlyChargeFactory(contract=contract, month=date(2026, 2, 1), amount=D("200000.00"))
    ContractScopeFactory(contract=contract, channel=Channel.VOICE)
    january = approve(close(contract, "2026-01"), procurement)
    assert line_of(contract, "2026-01", "CSL-5").bonus == D("2000.00")
    close(contract, "2026-02")

    correct(contract, contract.owner, values=[KpiValue("csat_top2", "2026-01", 2250)])

    assert line_of(contract, "2026-01", "CSL-5").bonus == D("2000.00")  # as approved
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-5", D("-2000.00"))]
    assert last_data(january) == {"carried_into": {"2026-02": {"CSL-5": "-2000.00"}}, "pending": {}}


def test_a_correction_records_on_each_statement_only_the_changes_of_its_own_month(procurement):
    contract, january = approved_january(procurement)
    close(contract, "2026-02")
    values = [
        KpiValue("answered_within_20s", "2026-01", 31_500, row=0, column="value"),  # unchanged
        KpiValue("answered_within_20s", "2026-02-03", 1_000, row=1, column="value"),  # an open month
    ]

    correct(contract, contract.owner, values=values)

    # January did not change: no event on it, and the open month's change is an ordinary one.
    assert not StatementEvent.objects.filter(action=StatementAction.DATA_CORRECTED).exists()
    assert MeasurementChange.objects.get(contract=contract).correction_reason == ""

    correct(
        contract,
        contract.owner,
        values=[
            KpiValue("answered_within_20s", "2026-01", 40_000, row=0, column="value"),
            KpiValue("answered_within_20s", "2026-02-04", 1_000, row=1, column="value"),
        ],
    )

    event = StatementEvent.objects.get(action=StatementAction.DATA_CORRECTED)
    assert (event.statement, event.data) == (january, {"created": 0, "updated": 1, "deleted": 0})
    assert dict(MeasurementChange.objects.filter(contract=contract).values_list("day", "correction_reason")) == {
        None: REASON,
        date(2026, 2, 3): "",
        date(2026, 2, 4): "",
    }


def test_a_reason_longer_than_the_limit_is_refused_and_writes_nothing(procurement):
    contract, _january = approved_january(procurement)

    with pytest.raises(ValidationError) as refused:
        correct(contract, contract.owner, reason="x" * 1_001)
    response = client_for(contract.owner).post(
        CORRECTIONS_URL, correction_payload(contract, reason="x" * 1_001), format="json"
    )

    # The message names the longest reason accepted, not a bound it would contradict.
    assert refused.value.message_dict == {"correction_reason": ["Keep the reason to at most 1000 characters."]}
    assert response.json()["errors"] == [
        {"index": None, "field": "reason", "message": "Keep the reason to at most 1000 characters."}
    ]
    assert within_20s(contract) == 31_500


def test_a_reason_of_exactly_the_limit_is_accepted(procurement):
    contract, _january = approved_january(procurement)

    correct(contract, contract.owner, reason="x" * 1_000)

    assert within_20s(contract) == 40_000


# Procurement's home page ----------------------------------------------------------------------------------


def test_procurement_sees_the_differences_waiting_and_which_no_close_will_carry(procurement, client):
    contract, january = approved_january(procurement)
    correct(contract, contract.owner)  # no open statement after January: the difference waits
    client.force_login(procurement)

    waiting = client.get(reverse("accounts:home")).context["differences_waiting"]
    assert [(statement.pk, statement.waiting, statement.settle_outside) for statement in waiting] == [
        (january.pk, D("14400.00"), False)
    ]

    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.TERMINATED, terminated_on=date(2026, 1, 31))
    page = client.get(reverse("accounts:home")).content.decode()
    assert 'data-testid="contract-ended"' in page

    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.ACTIVE, terminated_on=None)
    close(contract, "2026-02")  # carries it
    assert client.get(reverse("accounts:home")).context["differences_waiting"] == []
    client.force_login(contract.owner)  # a vendor manager does not review statements
    assert client.get(reverse("accounts:home")).context["differences_waiting"] == []
