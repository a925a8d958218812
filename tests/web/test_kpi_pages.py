"""KPI data pages: the vendor manager's workspace, the upload flow, the hand-entry grid, the month's
history, the recompute with its status, and the vendor portal's action items and findings."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts.choices import Role
from audits.choices import FindingStatus
from contracts.choices import Channel, ContractStatus
from contracts.models import Contract
from contracts.months import add_months, first_of_month, month_label
from governance.choices import ActionStatus, Side
from sla_tracker import views_kpi
from sla_tracker.choices import ComputationCause, MeasurementSource, StatementAction, StatementStatus, UploadStatus
from sla_tracker.completeness import completeness
from sla_tracker.kpi_import import tasks
from sla_tracker.models import KpiCounter, KpiUpload, Measurement, MeasurementChange, PenaltyStatement
from sla_tracker.services import close_contract_month
from tests.factories import (
    ActionItemFactory,
    AuditFactory,
    AuditRightFactory,
    ColumnMappingFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    ContractFactory,
    ContractScopeFactory,
    FindingFactory,
    MeasurementChangeFactory,
    MeetingFactory,
    MonthlyChargeFactory,
    PenaltyRegimeFactory,
    PenaltyStatementFactory,
    ServiceLevelVersionFactory,
    UserFactory,
    VendorUserFactory,
)
from tests.sla_tracker.kpi_support import (
    csv_file,
    database_rows,
    demo_a_like_contract,
    demo_counters,
    fail_the_next_write,
    nothing_written,
    pack_file,
    sample_file,
    snapshot,
    stored_files,
    unreadable_file,
    voice_contract,
    xlsx_file,
)
from tests.sla_tracker.test_kpi_corrections import approved_january

pytestmark = pytest.mark.django_db

WORKSPACE = reverse("sla_tracker:kpi-workspace")


def today():
    return datetime.date.today()


def last_month() -> datetime.date:
    return add_months(first_of_month(today()), -1)


def kpi_contract(**fields):
    """A DEMO-A-like contract (voice and e-mail, vendor self-reporting) with a service level on
    answered_within_20s / (answered + abandoned − short_abandoned)."""
    contract = demo_a_like_contract(**fields)
    ServiceLevelVersionFactory(
        service_level__contract=contract,
        numerator=["answered_within_20s"],
        denominator=["answered", "abandoned", "-short_abandoned"],
    )
    return contract


def store(contract, code, day, value, **fields):
    """A stored value of `day`, or with day None and `month` given, of the whole month."""
    counters = demo_counters()
    fields.setdefault("month", first_of_month(day) if day else None)
    return Measurement.objects.create(
        contract=contract,
        counter=counters[code],
        day=day,
        value=Decimal(value),
        source=MeasurementSource.MANUAL,
        **fields,
    )


def grid_url(contract, month):
    return reverse("sla_tracker:kpi-grid", args=[contract.pk, month_label(month)])


# The workspace -------------------------------------------------------------------------------------


def test_the_workspace_lists_the_managers_contracts_with_the_missing_days_and_counters(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    kpi_contract()  # someone else's
    month = last_month()
    for offset in range(5):
        day = month + datetime.timedelta(days=offset)
        for code in ("answered", "abandoned", "short_abandoned", "answered_within_20s"):
            store(contract, code, day, 10)
    client.force_login(manager)

    response = client.get(WORKSPACE)

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["contract"] for row in rows] == [contract]
    previous = rows[0]["months"][1]
    assert previous.month == month
    codes = [counter.code for counter in previous.counters]
    assert codes == ["abandoned", "answered", "answered_within_20s", "short_abandoned"]
    assert {gap.code for gap in previous.gaps} == set(codes)
    assert previous.gaps[0].missing_days[0] == month + datetime.timedelta(days=5)
    assert previous.gaps[0].ranges.startswith("6–")
    page = response.content.decode()
    assert contract.reference in page
    assert reverse("sla_tracker:kpi-upload-new", args=[contract.pk]) in page
    assert grid_url(contract, month) in page


def test_today_is_not_expected_yet():
    """QA: on the 28th the workspace flagged the 28th as missing; a day is reported once it is over."""
    contract = kpi_contract()
    month = last_month()
    for offset in range(5):
        for code in ("answered", "abandoned", "short_abandoned", "answered_within_20s"):
            store(contract, code, month + datetime.timedelta(days=offset), 10)

    on_the_6th = views_kpi.completeness(contract.owner, [contract], [month], month + datetime.timedelta(days=5))
    on_the_7th = views_kpi.completeness(contract.owner, [contract], [month], month + datetime.timedelta(days=6))

    assert on_the_6th[(contract.pk, month)].complete
    assert {tuple(gap.missing_days) for gap in on_the_7th[(contract.pk, month)].gaps} == {
        (month + datetime.timedelta(days=5),)
    }
    assert on_the_7th[(contract.pk, month)].gaps[0].missing_days == [month + datetime.timedelta(days=5)]


def test_a_whole_month_value_completes_its_counter():
    contract = kpi_contract()
    month = last_month()
    for code in ("answered", "abandoned", "short_abandoned", "answered_within_20s"):
        Measurement.objects.create(
            contract=contract,
            counter=demo_counters()[code],
            month=month,
            day=None,
            value=1,
            source=MeasurementSource.MANUAL,
        )
    status = views_kpi.completeness(contract.owner, [contract], [month], today())[(contract.pk, month)]
    assert status.complete
    assert status.percent == 100


def test_each_counter_is_expected_on_the_days_its_channel_is_covered():
    from contracts.choices import CoverageDays
    from sla_tracker.completeness import completeness

    contract = voice_contract(channels=())
    ContractScopeFactory(contract=contract, channel=Channel.VOICE, coverage_days=CoverageDays.ALL_WEEK)
    ContractScopeFactory(contract=contract, channel=Channel.EMAIL, coverage_days=CoverageDays.WEEKDAYS)
    ServiceLevelVersionFactory(service_level__contract=contract, numerator=["answered"], denominator=["offered"])
    ServiceLevelVersionFactory(
        service_level__contract=contract, numerator=["emails_answered_within_24h"], denominator=["emails_due"]
    )
    month = datetime.date(2025, 3, 1)  # 31 days, 21 weekdays
    for offset in range(31):
        day = month + datetime.timedelta(days=offset)
        codes = ("answered", "offered", "emails_answered_within_24h", "emails_due")
        for code in codes if day.weekday() < 5 else codes[:2]:
            store(contract, code, day, 10)

    status = completeness(contract.owner, [contract], [month], datetime.date(2025, 6, 1))[(contract.pk, month)]

    expected = {counter.code: counter.expected_days for counter in status.counters}
    assert expected == {"answered": 31, "offered": 31, "emails_answered_within_24h": 21, "emails_due": 21}
    assert status.complete and status.percent == 100
    Measurement.objects.filter(counter__code="emails_due", day=month + datetime.timedelta(days=2)).delete()  # a Monday
    status = completeness(contract.owner, [contract], [month], datetime.date(2025, 6, 1))[(contract.pk, month)]
    assert [(gap.code, gap.ranges) for gap in status.gaps] == [("emails_due", "3")]


def test_the_workspace_takes_the_same_number_of_queries_for_one_or_five_contracts(client, count_queries):
    manager = UserFactory()
    kpi_contract(owner=manager)
    client.force_login(manager)
    one = count_queries(client, WORKSPACE)
    for _index in range(4):
        contract = kpi_contract(owner=manager)
        store(contract, "answered", last_month(), 5)
    assert count_queries(client, WORKSPACE) == one


def test_the_workspace_pages_its_contracts_and_finds_them_by_reference_title_or_vendor(client, monkeypatch):
    monkeypatch.setattr(views_kpi, "WORKSPACE_PAGE_SIZE", 2)
    manager = UserFactory()
    contracts = sorted((kpi_contract(owner=manager) for _ in range(3)), key=lambda contract: contract.reference)
    client.force_login(manager)

    first = client.get(WORKSPACE)
    second = client.get(WORKSPACE, {"page": 2})
    by_vendor = client.get(WORKSPACE, {"q": contracts[2].vendor.name.upper()})
    by_reference = client.get(WORKSPACE, {"q": contracts[0].reference})
    nothing = client.get(WORKSPACE, {"q": "no such contract"})

    assert [row["contract"] for row in first.context["rows"]] == contracts[:2]
    assert [row["contract"] for row in second.context["rows"]] == contracts[2:]
    assert 'data-testid="contract-pages"' in first.content.decode()
    assert "?page=2" in first.content.decode()
    assert [row["contract"] for row in by_vendor.context["rows"]] == [contracts[2]]
    assert [row["contract"] for row in by_reference.context["rows"]] == [contracts[0]]
    assert nothing.context["rows"] == []
    assert "No contract matches “no such contract”." in nothing.content.decode()


def test_a_page_of_the_search_keeps_the_search(client, monkeypatch):
    monkeypatch.setattr(views_kpi, "WORKSPACE_PAGE_SIZE", 1)
    manager = UserFactory()
    for _ in range(2):
        kpi_contract(owner=manager, title="Night shift voice")
    kpi_contract(owner=manager, title="E-mail backlog")
    client.force_login(manager)

    page = client.get(WORKSPACE, {"q": "night"}).content.decode()

    assert "?q=night&amp;page=2" in page
    assert "1–1 of 2" in page


def test_a_month_with_no_data_at_all_is_said_once_not_per_counter(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    partial = kpi_contract(owner=manager)
    store(partial, "answered", last_month(), 5)
    client.force_login(manager)

    response = client.get(WORKSPACE)

    by_contract = {row["contract"]: row["months"][1] for row in response.context["rows"]}
    assert by_contract[contract].nothing_reported
    assert not by_contract[partial].nothing_reported
    assert by_contract[partial].gaps
    page = response.content.decode()
    assert "Nothing reported yet for its 4 counters." in page
    assert page.count('data-testid="missing"') == 1  # the partly reported month only


def test_procurement_reads_the_workspace_of_every_contract_without_uploads_or_recompute(client):
    contract = kpi_contract()
    other = kpi_contract()
    client.force_login(UserFactory(procurement=True))

    response = client.get(WORKSPACE)

    assert response.status_code == 200
    assert [row["contract"] for row in response.context["rows"]] == sorted(
        [contract, other], key=lambda contract: contract.reference
    )
    page = response.content.decode()
    assert f'data-testid="grid-{contract.reference}-{month_label(last_month())}">Daily values</a>' in page
    assert "Hand entry" not in page
    assert f'data-testid="upload-{contract.reference}"' not in page
    assert "recompute-" not in page  # procurement may recompute statements, not from the data pages


def test_readers_see_the_contracts_of_their_scope_only(client):
    member = UserFactory(committee_member=True)
    governed = kpi_contract()
    CommitteeMemberFactory(committee=CommitteeFactory(contract=governed), user=member)
    other = kpi_contract()
    client.force_login(member)

    response = client.get(WORKSPACE)

    assert [row["contract"] for row in response.context["rows"]] == [governed]
    assert client.get(grid_url(governed, last_month())).status_code == 200
    assert client.get(grid_url(other, last_month())).status_code == 404
    assert client.get(reverse("sla_tracker:kpi-history", args=[other.pk, month_label(last_month())])).status_code == 404


def test_a_vendor_user_sees_only_self_reporting_contracts_of_their_vendor(client):
    contract = kpi_contract()
    closed = kpi_contract(vendor=contract.vendor)
    closed.vendor_self_reporting = False
    closed.save()
    kpi_contract()
    client.force_login(VendorUserFactory(vendor=contract.vendor))

    response = client.get(WORKSPACE)

    assert [row["contract"] for row in response.context["rows"]] == [contract]
    assert closed.reference not in response.content.decode()
    assert not response.context["can_recompute"]


# Recomputing a month ------------------------------------------------------------------------------------


def test_recompute_enqueues_the_close_on_commit_and_the_status_shows_the_statement(
    client, django_capture_on_commit_callbacks
):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    MonthlyChargeFactory(contract=contract, month=month)
    PenaltyRegimeFactory(contract=contract)
    store(contract, "answered", month, 100)  # the close starts at the first month with data
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("sla_tracker:kpi-recompute", args=[contract.pk]), {"month": month_label(month)})

    assert response.status_code == 302
    assert len(callbacks) == 1
    task_id = response.url.split("task=")[1].split("&")[0]
    page = client.get(response.url)
    assert reverse("sla_tracker:kpi-recompute-status", args=[contract.pk, month_label(month), task_id]) in (
        page.content.decode()
    )
    status = client.get(reverse("sla_tracker:kpi-recompute-status", args=[contract.pk, month_label(month), task_id]))
    assert status.context["state"] == "SUCCESS", status.context["detail"]
    statement = status.context["statement"]
    assert statement.contract == contract
    assert statement.month == month
    assert reverse("sla_tracker:statement", args=[statement.pk]) in status.content.decode()
    named = f"{month:%B %Y}"  # the month as the pages name it, not "2026-10"
    assert f"Recomputing {contract.reference} for {named}." in page.content.decode()
    assert f"{contract.reference} was recomputed for {named}." in status.content.decode()
    # The statement's history says it was computed on request, not by the monthly close.
    assert list(statement.events.values_list("action", "cause")) == [
        (StatementAction.COMPUTED, ComputationCause.ON_REQUEST)
    ]


def test_a_recompute_of_an_approved_month_says_the_statement_stays_and_the_month_in_progress_is_refused(
    client, django_capture_on_commit_callbacks
):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    MonthlyChargeFactory(contract=contract, month=month)
    PenaltyRegimeFactory(contract=contract)
    store(contract, "answered", month, 100)
    statement = close_contract_month(contract_id=contract.pk, month=month)
    PenaltyStatement.objects.filter(pk=statement.pk).update(
        status=StatementStatus.APPROVED, approved_by=manager, approved_at=timezone.now()
    )
    client.force_login(manager)
    url = reverse("sla_tracker:kpi-recompute", args=[contract.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"month": month_label(month)})
    task_id = response.url.split("task=")[1].split("&")[0]
    status = client.get(reverse("sla_tracker:kpi-recompute-status", args=[contract.pk, month_label(month), task_id]))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        in_progress = client.post(url, {"month": month_label(timezone.localdate())}, follow=True)

    assert status.context["locked"]
    assert "is approved: it stays as it is" in status.content.decode()
    assert "was recomputed" not in status.content.decode()
    assert not callbacks
    this_month = formats.date_format(timezone.localdate(), "YEAR_MONTH_FORMAT")
    assert f"{this_month} is not over" in in_progress.content.decode()  # the month named as the pages name it
    assert not PenaltyStatement.objects.filter(contract=contract, month=first_of_month(timezone.localdate())).exists()
    workspace = client.get(WORKSPACE).content.decode()
    assert f'data-testid="recompute-{contract.reference}-{month_label(month)}"' in workspace
    assert f'data-testid="recompute-{contract.reference}-{month_label(timezone.localdate())}"' not in workspace


def test_a_recompute_that_cannot_close_shows_why(client, django_capture_on_commit_callbacks):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)  # no monthly charges: the close refuses
    client.force_login(manager)
    month = month_label(last_month())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sla_tracker:kpi-recompute", args=[contract.pk]), {"month": month})
    task_id = response.url.split("task=")[1].split("&")[0]
    status = client.get(reverse("sla_tracker:kpi-recompute-status", args=[contract.pk, month, task_id]))
    assert status.context["failed"]
    assert "monthly charges" in status.content.decode()


def test_a_pending_recompute_keeps_polling(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    url = reverse(
        "sla_tracker:kpi-recompute-status", args=[contract.pk, "2026-01", "6a1f7c2e-58f1-4a53-9d36-0d7a1f0b8b11"]
    )
    response = client.get(url)
    assert response.context["state"] == "PENDING"
    assert 'hx-trigger="load delay:1s"' in response.content.decode()


def test_vendor_users_cannot_recompute_and_others_contracts_are_404(client):
    contract = kpi_contract()
    url = reverse("sla_tracker:kpi-recompute", args=[contract.pk])
    client.force_login(VendorUserFactory(vendor=contract.vendor))
    assert client.post(url, {"month": "2026-01"}).status_code == 403
    client.force_login(UserFactory())
    assert client.post(url, {"month": "2026-01"}).status_code == 404


# The upload flow ----------------------------------------------------------------------------------------


def upload_new_url(contract):
    return reverse("sla_tracker:kpi-upload-new", args=[contract.pk])


def test_a_correction_file_is_sent_with_its_reason_and_says_so_before_its_import(client):
    contract, _january = _approved_january_of_contract_a()
    ColumnMappingFactory(
        contract=contract,
        name="corrections",
        date_column="Month",
        columns={"answered_within_20s": "answered_within_20s"},
    )
    client.force_login(contract.owner)
    assert 'name="correction_reason"' in client.get(upload_new_url(contract)).content.decode()

    response = client.post(
        upload_new_url(contract),
        {
            "file": csv_file("Month,answered_within_20s\n2026-01,40000\n"),
            "correction_reason": "Corrected vendor report of 3 Feb.",
        },
    )

    upload = KpiUpload.objects.get()
    assert (upload.status, upload.correction_reason) == (UploadStatus.VALIDATED, "Corrected vendor report of 3 Feb.")
    page = client.get(response.url).content.decode()
    assert 'data-testid="upload-correction"' in page
    assert "Corrected vendor report of 3 Feb." in page


def test_the_vendors_users_get_no_correction_field(client):
    contract, _january = _approved_january_of_contract_a()
    contract.vendor_self_reporting = True
    contract.save()
    client.force_login(VendorUserFactory(vendor=contract.vendor))

    page = client.get(upload_new_url(contract)).content.decode()

    assert 'name="file"' in page
    assert 'name="correction_reason"' not in page


def test_the_french_sample_goes_through_upload_preview_and_import(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)

    assert client.get(upload_new_url(contract)).status_code == 200
    response = client.post(upload_new_url(contract), {"file": sample_file("kpi_pack_fr.csv")})

    upload = KpiUpload.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sla_tracker:kpi-upload", args=[upload.pk])
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert nothing_written()

    preview = client.get(response.url)
    totals = {(total.month, total.code): total for total in preview.context["totals"]}
    assert totals[("2026-10", "offered")].values == 31
    assert totals[("2026-10", "offered")].total > 0
    page = preview.content.decode()
    assert 'data-testid="import"' in page
    assert "Values found per month and counter" in page

    imported = client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk]))
    assert imported.status_code == 302
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED
    assert Measurement.objects.filter(contract=contract, month=datetime.date(2026, 10, 1)).count() == 31 * 7

    result = client.get(imported.url)
    assert grid_url(contract, datetime.date(2026, 10, 1)) in result.content.decode()
    assert "Imported on" in result.content.decode()


def test_the_interval_sample_shows_its_values_per_month_and_imports_daily_sums(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    response = client.post(upload_new_url(contract), {"file": sample_file("kpi_intervals_fr.csv")})
    upload = KpiUpload.objects.get()
    assert upload.status == UploadStatus.VALIDATED, upload.errors

    page = client.get(response.url)
    totals = {(total.month, total.code): total for total in page.context["totals"]}
    assert totals[("2026-11", "offered")].values == 2 * 96
    # 2 days × 96 quarter hours × 3 counters in the file, stored as 2 days × 3 counters.
    assert (upload.preview["values"], upload.preview["stored_values"]) == (576, 6)
    assert "stored as 6 daily values (interval sums)" in page.content.decode()

    client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk]))
    stored = Measurement.objects.filter(contract=contract, counter__code="offered")
    assert sorted(stored.values_list("day", flat=True)) == [datetime.date(2026, 11, 2), datetime.date(2026, 11, 3)]
    assert sum(m.value for m in stored) == totals[("2026-11", "offered")].total


def test_the_preview_shows_the_stored_values_of_the_files_days_only(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    month = last_month()
    store(contract, "offered", month + datetime.timedelta(days=1), "1000")
    store(contract, "offered", month + datetime.timedelta(days=5), "900")  # a day not in the file: it stays
    store(contract, "answered", month + datetime.timedelta(days=1), "800")  # a counter not in the file
    day = (month + datetime.timedelta(days=1)).strftime("%d/%m/%Y")
    text = f"Date;Appels reçus\n{day};1200\n"

    response = client.post(upload_new_url(contract), {"file": csv_file(text)})
    page = client.get(response.url)

    (total,) = page.context["totals"]
    assert (total.code, total.values, total.stored, total.stored_total) == ("offered", 1, 1, Decimal("1000"))
    content = page.content.decode()
    cell = content.split(f'data-testid="stored-{month:%Y-%m}-offered">')[1].split("</td>")[0]
    assert cell.startswith("1,000") and "1 stored value" in cell
    assert "Stored for these days" in content and 'data-testid="stored-help"' in content
    assert 'data-testid="replaces-stored"' in content
    Measurement.objects.all().delete()
    assert 'data-testid="replaces-stored"' not in client.get(response.url).content.decode()


def test_the_preview_names_each_counter_beside_its_code_in_one_query(client, count_queries):
    manager = UserFactory()
    client.force_login(manager)
    month = last_month()
    days = [(month + datetime.timedelta(days=offset)).strftime("%d/%m/%Y") for offset in (1, 2)]
    one = "Date;Appels reçus\n" + "".join(f"{day};1200\n" for day in days)
    three = "Date;Appels reçus;Appels traités;Abandons\n" + "".join(f"{day};1200;1100;50\n" for day in days)
    pages = []
    for text in (one, three):
        response = client.post(upload_new_url(kpi_contract(owner=manager)), {"file": csv_file(text)})
        pages.append(response.url)

    content = client.get(pages[1]).content.decode()

    for code in ("offered", "answered", "abandoned"):
        name = KpiCounter.objects.get(code=code).name
        cell = content.split(f'data-testid="counter-{month:%Y-%m}-{code}">')[1].split("</td>")[0]
        assert cell == f"<code>{code}</code> {name}"
        assert f"<code>{code}</code> {name}" in content.split('id="upload-preview"')[0]  # the counters of the file
    assert count_queries(client, pages[1]) == count_queries(client, pages[0])


def test_a_three_day_pack_on_a_month_with_twenty_stored_days_shows_those_three_days_stored_totals(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    month = last_month()
    for offset in range(20):  # the 1st to the 20th
        store(contract, "offered", month + datetime.timedelta(days=offset), str(100 + offset))
        store(contract, "answered", month + datetime.timedelta(days=offset), str(50 + offset))
    # The 19th and 20th are stored; the 21st is new.
    days = [month + datetime.timedelta(days=offset) for offset in (18, 19, 20)]
    rows = "".join(f"{day:%d/%m/%Y};1200;1100\n" for day in days)

    response = client.post(upload_new_url(contract), {"file": csv_file(f"Date;Appels reçus;Appels traités\n{rows}")})
    page = client.get(response.url)

    totals = {total.code: total for total in page.context["totals"]}
    assert (totals["offered"].values, totals["offered"].stored, totals["offered"].stored_total) == (
        3,
        2,
        Decimal(118 + 119),
    )
    assert (totals["answered"].stored, totals["answered"].stored_total) == (2, Decimal(68 + 69))
    content = page.content.decode()
    cell = content.split(f'data-testid="stored-{month:%Y-%m}-offered">')[1].split("</td>")[0]
    assert cell.startswith("237") and "2 stored values" in cell


def test_a_whole_month_pack_shows_the_months_stored_whole_month_value(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    month = last_month()
    store(contract, "offered", None, "30000", month=month)
    store(contract, "answered", None, "28000", month=month)  # a counter not in the file

    response = client.post(upload_new_url(contract), {"file": csv_file(f"Date;Appels reçus\n{month:%Y-%m};31000\n")})
    page = client.get(response.url)

    (total,) = page.context["totals"]
    assert (total.code, total.values, total.stored, total.stored_total) == ("offered", 1, 1, Decimal("30000"))


def test_a_pack_on_new_days_shows_nothing_stored_for_them(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    month = last_month()
    for offset in range(20):
        store(contract, "offered", month + datetime.timedelta(days=offset), "100")
    rows = "".join(f"{month + datetime.timedelta(days=offset):%d/%m/%Y};1200\n" for offset in (20, 21, 22))

    response = client.post(upload_new_url(contract), {"file": csv_file(f"Date;Appels reçus\n{rows}")})
    page = client.get(response.url)

    (total,) = page.context["totals"]
    assert (total.values, total.stored, total.stored_total) == (3, 0, Decimal(0))
    assert f'data-testid="stored-{month:%Y-%m}-offered">—</td>' in page.content.decode()
    assert 'data-testid="replaces-stored"' not in page.content.decode()


def test_a_new_layout_asks_for_the_mapping_with_a_suggestion_then_previews(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    text = f"Jour;Appels reçus;Entrants bizarres;Commentaire\n{day};1200;5;ok\n"

    response = client.post(upload_new_url(contract), {"file": csv_file(text)})

    first = KpiUpload.objects.get()
    assert first.status == UploadStatus.NEEDS_MAPPING
    assert response.url == reverse("sla_tracker:kpi-upload-mapping", args=[first.pk])
    form = client.get(response.url).context["form"]
    assert form["date_column"].value() == "Jour"
    assert form["column_0"].value() == ""  # the date column itself
    assert form["column_1"].value() == "offered"
    assert form["column_2"].value() == ""

    mapped = client.post(
        response.url,
        {"date_column": "Jour", "name": "Lumen v1", "column_1": "offered", "column_2": "answered", "column_3": ""},
    )

    second = KpiUpload.objects.get()  # the waiting upload became its mapped upload: no copy left waiting
    assert second.pk == first.pk
    assert mapped.url == reverse("sla_tracker:kpi-upload", args=[second.pk])
    assert second.status == UploadStatus.VALIDATED, second.errors
    assert second.preview["mapping"]["columns"] == {"Appels reçus": "offered", "Entrants bizarres": "answered"}
    client.post(reverse("sla_tracker:kpi-upload-import", args=[second.pk]))
    assert contract.column_mappings.get().name == "Lumen v1"


def test_a_mapped_upload_leaves_nothing_waiting_in_the_workspace_and_keeps_its_one_file(
    client, django_capture_on_commit_callbacks
):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    client.post(upload_new_url(contract), {"file": csv_file(f"Jour;Entrants;Sortants\n{day};12;10\n")})
    waiting = KpiUpload.objects.get()
    files = stored_files()
    assert waiting.file.name in files

    with django_capture_on_commit_callbacks(execute=True):
        mapped = client.post(
            reverse("sla_tracker:kpi-upload-mapping", args=[waiting.pk]),
            {"date_column": "Jour", "column_1": "offered", "column_2": "answered"},
        )

    upload = KpiUpload.objects.get()
    assert mapped.url == reverse("sla_tracker:kpi-upload", args=[waiting.pk])
    assert (upload.pk, upload.status, upload.uploaded_by) == (waiting.pk, UploadStatus.VALIDATED, manager)
    assert upload.preview["mapping"]["columns"] == {"Entrants": "offered", "Sortants": "answered"}
    assert "mapping_needed" not in upload.preview
    assert stored_files() == files  # the same file, read with its mapping
    recent = client.get(WORKSPACE).context["uploads"]
    assert [(u.pk, u.status) for u in recent] == [(waiting.pk, UploadStatus.VALIDATED)]


def test_editing_the_mapping_of_a_validated_upload_maps_that_upload_and_an_imported_one_is_not_mapped_again(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    ColumnMappingFactory(contract=contract, name="Lumen", date_column="Jour", columns={"Entrants": "offered"})
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    client.post(upload_new_url(contract), {"file": csv_file(f"Jour;Entrants;Remarque\n{day};12;10\n")})
    upload = KpiUpload.objects.get()
    assert upload.status == UploadStatus.VALIDATED
    url = reverse("sla_tracker:kpi-upload-mapping", args=[upload.pk])

    client.post(url, {"date_column": "Jour", "column_1": "offered", "column_2": "answered"})

    upload = KpiUpload.objects.get()
    assert upload.preview["mapping"]["columns"] == {"Entrants": "offered", "Remarque": "answered"}
    client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED
    assert client.get(url).url == reverse("sla_tracker:kpi-upload", args=[upload.pk])
    refused = client.post(url, {"date_column": "Jour", "column_1": "offered", "column_2": ""})
    assert refused.url == reverse("sla_tracker:kpi-upload", args=[upload.pk])
    upload.refresh_from_db()
    assert (upload.status, upload.preview["mapping"]["columns"]["Remarque"]) == (UploadStatus.IMPORTED, "answered")


def test_an_upload_is_not_mapped_once_its_import_is_queued_or_claimed_meanwhile(client):
    from sla_tracker.kpi_import.service import map_upload

    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    client.post(upload_new_url(contract), {"file": csv_file(f"Jour;Entrants\n{day};12\n")})
    upload = KpiUpload.objects.get()
    KpiUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.IMPORTING)  # claimed by an import meanwhile

    with pytest.raises(ValidationError, match="can no longer be mapped"):
        map_upload(upload=upload, mapping={"date_column": "Jour", "columns": {"Entrants": "offered"}}, actor=manager)

    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTING and upload.preview.get("mapping_needed")


def test_a_correction_waiting_for_its_mapping_keeps_its_reason_once_mapped(client):
    contract, _january = _approved_january_of_contract_a()
    client.force_login(contract.owner)
    client.post(
        upload_new_url(contract),
        {"file": csv_file("Mois,Dans les 20 s\n2026-01,40000\n"), "correction_reason": "Vendor report of 3 Feb."},
    )
    waiting = KpiUpload.objects.get()
    assert waiting.status == UploadStatus.NEEDS_MAPPING

    mapped = client.post(
        reverse("sla_tracker:kpi-upload-mapping", args=[waiting.pk]),
        {"date_column": "Mois", "column_1": "answered_within_20s"},
    )

    upload = KpiUpload.objects.get()
    assert mapped.url == reverse("sla_tracker:kpi-upload", args=[waiting.pk])
    assert (upload.status, upload.correction_reason) == (UploadStatus.VALIDATED, "Vendor report of 3 Feb."), (
        upload.errors
    )


@pytest.mark.parametrize("path", ["form", "api"])
def test_the_same_file_sent_again_with_a_mapping_replaces_the_one_waiting_for_it(
    client, path, django_capture_on_commit_callbacks
):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    text = f"Jour;Entrants\n{day};12\n"
    files = stored_files()
    client.post(upload_new_url(contract), {"file": csv_file(text)})
    waiting = KpiUpload.objects.get()
    assert waiting.status == UploadStatus.NEEDS_MAPPING
    other_file = KpiUpload.objects.create(  # another user's upload of the same file is theirs
        contract=contract,
        uploaded_by=UserFactory(),
        file=csv_file(text, name="theirs.csv"),
        original_name="theirs.csv",
        sha256=waiting.sha256,
        size_bytes=waiting.size_bytes,
        status=UploadStatus.NEEDS_MAPPING,
    )
    ColumnMappingFactory(contract=contract, name="Lumen", date_column="Jour", columns={"Entrants": "offered"})

    with django_capture_on_commit_callbacks(execute=True):
        if path == "form":
            mapping = contract.column_mappings.get()
            client.post(upload_new_url(contract), {"file": csv_file(text), "mapping": mapping.pk})
        else:
            client.post(
                f"/api/v1/contracts/{contract.pk}/kpi-uploads/",
                {"file": csv_file(text), "mapping_name": "Lumen"},
            )

    mapped = KpiUpload.objects.exclude(pk=other_file.pk).get()
    assert mapped.pk != waiting.pk and mapped.status == UploadStatus.VALIDATED
    assert stored_files() - files == {mapped.file.name, other_file.file.name}  # the waiting one's file went with it
    assert KpiUpload.objects.get(pk=other_file.pk).status == UploadStatus.NEEDS_MAPPING


def test_a_refused_resend_leaves_the_upload_waiting_for_its_mapping(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    text = f"Jour;Entrants\n{day};x\n"
    client.post(upload_new_url(contract), {"file": csv_file(text)})
    ColumnMappingFactory(contract=contract, name="Lumen", date_column="Jour", columns={"Entrants": "offered"})
    before = snapshot()

    response = client.post(
        upload_new_url(contract), {"file": csv_file(text), "mapping": contract.column_mappings.get().pk}
    )

    assert response.status_code == 200 and response.context["refusal"]
    assert snapshot() == before
    assert KpiUpload.objects.get().status == UploadStatus.NEEDS_MAPPING


def test_the_mapping_page_offers_only_the_counters_of_the_contracts_channels_and_knows_english_headers(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)  # voice and e-mail
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    text = f"Date;Offered calls;Answered calls;Remarks\n{day};1200;1100;ok\n"

    response = client.post(upload_new_url(contract), {"file": csv_file(text)})
    page = client.get(response.url)

    form = page.context["form"]
    assert (form["column_1"].value(), form["column_2"].value(), form["column_3"].value()) == ("offered", "answered", "")
    offered = {code for code, _label in form.fields["column_1"].choices}
    assert {"offered", "emails_due", "qa_evaluations"} <= offered  # voice, e-mail, every channel
    chat = set(KpiCounter.objects.filter(channel=Channel.CHAT).values_list("code", flat=True))
    assert chat and not chat & offered
    assert "null" not in page.content.decode()


def test_the_mapping_page_reads_the_time_of_day_from_its_own_column(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    text = f"Jour;Quart d'heure;Entrants\n{day};08:00;10\n{day};08:15;12\n"
    response = client.post(upload_new_url(contract), {"file": csv_file(text)})
    assert client.get(response.url).context["form"]["time_column"].value() == ""

    client.post(response.url, {"date_column": "Jour", "time_column": "Quart d'heure", "column_2": "offered"})

    upload = KpiUpload.objects.latest("pk")
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert upload.preview["mapping"]["time_column"] == "Quart d'heure"
    client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk]))
    assert Measurement.objects.get(contract=contract).value == 22
    assert contract.column_mappings.get().time_column == "Quart d'heure"


def _mapped(client, text: str, mapping: dict):
    """The mapping page's answer to ``mapping`` for a new layout (``text``)."""
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    client.post(upload_new_url(contract), {"file": csv_file(text)})
    return client.post(reverse("sla_tracker:kpi-upload-mapping", args=[KpiUpload.objects.get().pk]), mapping)


def test_a_mapping_with_one_counter_twice_is_refused(client):
    response = _mapped(
        client, "Jour;A;B\n01/01/2026;1;2\n", {"date_column": "Jour", "column_1": "offered", "column_2": "offered"}
    )

    assert response.status_code == 200
    assert "one column only" in response.content.decode()
    assert KpiUpload.objects.count() == 1


def test_a_counter_mapped_twice_is_refused_naming_both_columns(client):
    text = "Jour;Appels reçus;Entrants;Pris en charge;Décrochés\n01/01/2026;1;2;3;4\n"
    mapping = {"date_column": "Jour", "column_1": "offered", "column_2": "offered"}

    response = _mapped(client, text, {**mapping, "column_3": "answered", "column_4": "answered"})

    assert response.context["form"].non_field_errors() == [
        "Each counter can come from one column only: the columns “Pris en charge”, “Décrochés” are mapped to answered.",
        "Each counter can come from one column only: the columns “Appels reçus”, “Entrants” are mapped to offered.",
    ]
    assert 'data-testid="mapping-error"' in response.content.decode()


def test_a_refused_mapping_form_is_not_told_that_the_columns_it_maps_are_unmapped(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    client.post(upload_new_url(contract), {"file": csv_file(f"Jour;Appels reçus;Pris en charge\n{day};12;10\n")})
    url = reverse("sla_tracker:kpi-upload-mapping", args=[KpiUpload.objects.get().pk])
    page = client.get(url)
    assert "“Pris en charge”" in page.context["mapping_needed"]
    assert 'class="alert alert-info">Say which counter each of these columns holds' in page.content.decode()

    # "Pris en charge" mapped, the form refused for another reason: a counter on the date column.
    response = client.post(
        url, {"date_column": "Jour", "column_0": "abandoned", "column_1": "offered", "column_2": "answered"}
    )

    assert response.context["form"].errors["column_0"]
    assert "Pris en charge" not in response.context["mapping_needed"]
    assert 'class="alert alert-info"' not in response.content.decode()
    assert KpiUpload.objects.get().status == UploadStatus.NEEDS_MAPPING


def test_a_counter_mapped_on_the_date_column_is_refused_not_dropped(client):
    response = _mapped(
        client, "Jour;A\n01/01/2026;1\n", {"date_column": "Jour", "column_0": "offered", "column_1": "answered"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["column_0"] == ["“Jour” holds the dates or times: it cannot hold a counter."]
    assert KpiUpload.objects.count() == 1


def _refused_rows(page) -> list[tuple]:
    """The refused pack's errors as the page groups them: (row, [(column, value, reason), ...])."""
    return [
        (group["row"], [(error["column"], error["value"], error["message"]) for error in group["errors"]])
        for group in page.context["refusal"]["groups"]
    ]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_bad_file_lists_every_error_by_row_on_the_form_stores_nothing_and_a_corrected_one_goes_through(
    client, file_format
):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    first, second = (f"{last_month() + datetime.timedelta(days=day):%d/%m/%Y}" for day in (1, 2))
    rows = [["Date", "Appels reçus", "Appels traités"], [first, -1, 10], [second, "x", "10,5"]]
    before = snapshot()

    response = client.post(upload_new_url(contract), {"file": pack_file(rows, file_format)})

    assert response.status_code == 200
    assert snapshot() == before
    assert _refused_rows(response) == [
        (2, [("Appels reçus", "-1", "Negative values are not allowed: counters count things.")]),
        (
            3,
            [
                ("Appels reçus", "x", "Not a number."),
                ("Appels traités", "10,5", "answered is a count: give a whole number."),
            ],
        ),
    ]
    page = response.content.decode()
    assert 'id="upload-errors"' in page
    assert "3 errors: nothing was written" in page
    assert f"KPI pack “kpi.{file_format}”" in page
    assert page.count('<th scope="rowgroup"') == 2  # one per row, its errors beside it
    assert 'data-testid="import"' not in page
    assert 'data-testid="send-file"' in page  # the form, to send the corrected file

    rows[1][1], rows[2][1:] = 12, [11, 10]
    corrected = client.post(upload_new_url(contract), {"file": pack_file(rows, file_format)})
    assert corrected.status_code == 302
    assert KpiUpload.objects.get().status == UploadStatus.VALIDATED


# Each kind of refused pack on the form: (rows, the form's fields, where the errors are (row, column)).
REFUSED_ON_THE_FORM = {
    "two columns with one header": ([["Date", "Appels reçus", "Appels reçus"], ["{day}", 1, 2]], [(1, "Appels reçus")]),
    "no data rows": ([["Date", "Appels reçus"]], [(None, None)]),
    "a day in the future": ([["Date", "Appels reçus"], ["{future}", 1]], [(2, "Date")]),
    "a counter outside the scope": ([["Date", "Chats offered"], ["{day}", 1]], [(2, "Chats offered")]),
}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", REFUSED_ON_THE_FORM)
def test_each_kind_of_refused_pack_is_listed_on_the_form_and_leaves_nothing_behind(client, kind, file_format):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    cells, places = REFUSED_ON_THE_FORM[kind]
    dates = {"day": f"{last_month():%d/%m/%Y}", "future": f"{today() + datetime.timedelta(days=1):%d/%m/%Y}"}
    rows = [[cell.format(**dates) if isinstance(cell, str) else cell for cell in row] for row in cells]
    before = snapshot()

    response = client.post(upload_new_url(contract), {"file": pack_file(rows, file_format)})

    assert response.status_code == 200
    assert [
        (group["row"], error["column"]) for group in response.context["refusal"]["groups"] for error in group["errors"]
    ] == places
    assert snapshot() == before


def test_a_csv_row_shifted_by_a_stray_separator_is_refused_on_the_form_naming_the_column_and_leaves_nothing(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    before = snapshot()

    text = f"Date;Appels traités;Abandons\n{last_month():%d/%m/%Y};3000;;40\n"
    response = client.post(upload_new_url(contract), {"file": csv_file(text)})

    assert response.status_code == 200
    assert [
        (group["row"], error["column"], error["value"], error["message"])
        for group in response.context["refusal"]["groups"]
        for error in group["errors"]
    ] == [
        (
            2,
            "D",
            "40",
            "This row has a value in column D, which has no header: a stray separator may have shifted the row's "
            "values. Correct the row, or give the column a header.",
        )
    ]
    assert "1 error: nothing was written" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("file_format", "reason"),
    [
        ("csv", "The file is a PDF document, not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file."),
        ("xlsx", "The file is neither CSV nor Excel (.xlsx)."),
    ],
)
def test_an_unreadable_file_is_refused_on_the_form_and_leaves_nothing_behind(client, file_format, reason):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    before = snapshot()

    response = client.post(upload_new_url(contract), {"file": unreadable_file(file_format)})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [reason]
    assert snapshot() == before


def test_an_image_sent_as_a_pack_is_refused_on_the_form_saying_what_it_is(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    before = snapshot()
    image = SimpleUploadedFile("kpi.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64)

    response = client.post(upload_new_url(contract), {"file": image})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The file is a PNG image, not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file."
    ]
    assert "The file is a PNG image" in response.content.decode()
    assert not contract.kpi_uploads.exists()
    assert snapshot() == before


def test_an_uploads_errors_are_shown_in_the_readers_language_in_row_order(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = last_month() + datetime.timedelta(days=1)
    text = (
        f"Date;Appels reçus;Appels traités\n{day:%d/%m/%Y};100;110\n{day + datetime.timedelta(days=1):%d/%m/%Y};-1;1\n"
    )

    english = client.post(upload_new_url(contract), {"file": csv_file(text)}, HTTP_ACCEPT_LANGUAGE="en")
    french = client.post(upload_new_url(contract), {"file": csv_file(text)}, HTTP_ACCEPT_LANGUAGE="fr")

    with translation.override("fr"):
        french_day = formats.date_format(day)
    with translation.override("en"):
        english_day = formats.date_format(day)
    assert [(row, messages[0][2]) for row, messages in _refused_rows(english)] == [
        (2, f"answered (110) cannot be more than offered (100) on {english_day}."),
        (3, "Negative values are not allowed: counters count things."),
    ]
    assert [(row, messages[0][2]) for row, messages in _refused_rows(french)] == [
        (2, f"answered (110) ne peut pas dépasser offered (100) le {french_day}."),
        (3, "Les valeurs négatives ne sont pas autorisées\u00a0: les compteurs dénombrent des éléments."),
    ]
    assert f"le {french_day}." in french.content.decode()


def test_a_mapping_the_file_is_refused_with_lists_the_errors_on_the_mapping_page_and_stores_nothing(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    client.post(upload_new_url(contract), {"file": csv_file(f"Jour;Entrants;Sortants\n{day};12;x\n")})
    waiting = KpiUpload.objects.get()
    url = reverse("sla_tracker:kpi-upload-mapping", args=[waiting.pk])
    before = snapshot()

    response = client.post(url, {"date_column": "Jour", "column_1": "offered", "column_2": "answered"})

    assert response.status_code == 200
    assert _refused_rows(response) == [(2, [("Sortants", "x", "Not a number.")])]
    assert 'data-testid="save-mapping"' in response.content.decode()  # another mapping may be tried
    assert snapshot() == before  # the upload waits for its mapping, as it was
    assert KpiUpload.objects.get().status == UploadStatus.NEEDS_MAPPING

    fixed = client.post(url, {"date_column": "Jour", "column_1": "offered", "column_2": ""})
    assert KpiUpload.objects.get(pk=fixed.url.split("/")[-2]).status == UploadStatus.VALIDATED


def _validated_then_approved(client, contract, file_format):
    """A pack of last month sent by the contract's owner and validated, then that month's statement approved,
    so its import is refused: the upload, and the database and storage as before the pack was sent."""
    files = stored_files()
    day = last_month() + datetime.timedelta(days=1)
    rows = [["Date", "Appels reçus"], [f"{day:%d/%m/%Y}", 1200], [f"{day + datetime.timedelta(days=1):%d/%m/%Y}", 1100]]
    client.post(upload_new_url(contract), {"file": pack_file(rows, file_format)})
    upload = KpiUpload.objects.get()
    assert upload.status == UploadStatus.VALIDATED
    PenaltyStatementFactory(contract=contract, month=last_month(), approved=True)
    rows = database_rows()
    return upload, (rows | {"sla_tracker.KpiUpload": rows["sla_tracker.KpiUpload"] - 1}, files)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_refused_import_removes_the_upload_and_lists_the_errors_on_the_form(
    client, file_format, django_capture_on_commit_callbacks
):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    upload, before_the_pack = _validated_then_approved(client, contract, file_format)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk]))

    assert response.status_code == 200
    assert [row for row, _errors in _refused_rows(response)] == [2, 3]
    assert "only changes through a correction" in _refused_rows(response)[0][1][0][2]
    assert f'action="{upload_new_url(contract)}"' in response.content.decode()
    assert snapshot() == before_the_pack
    assert client.get(reverse("sla_tracker:kpi-upload", args=[upload.pk])).status_code == 404


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_import_refused_in_the_background_removes_the_upload_and_the_page_goes_to_the_errors(
    client, file_format, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(views_kpi, "ASYNC_ROW_THRESHOLD", 1)
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    upload, before_the_pack = _validated_then_approved(client, contract, file_format)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk]))

    assert snapshot() == before_the_pack
    refused_url = f"{upload_new_url(contract)}?refused={upload.pk}"
    progress = client.get(reverse("sla_tracker:kpi-upload-progress", args=[upload.pk]))
    assert progress["HX-Redirect"] == refused_url
    assert client.get(reverse("sla_tracker:kpi-upload", args=[upload.pk])).url == refused_url
    page = client.get(refused_url)
    assert [row for row, _errors in _refused_rows(page)] == [2, 3]
    assert f"KPI pack “kpi.{file_format}”" in page.content.decode()
    # Another contract's page, or a user who does not log this contract's data, shows no errors.
    other = kpi_contract(owner=manager)
    assert client.get(f"{upload_new_url(other)}?refused={upload.pk}").context["refusal"] is None
    client.force_login(VendorUserFactory())
    assert client.get(reverse("sla_tracker:kpi-upload-progress", args=[upload.pk])).status_code == 404
    assert client.get(reverse("sla_tracker:kpi-upload", args=[upload.pk])).status_code == 404


def test_a_failed_import_is_retried_from_its_page_and_imports_each_value_once(client, monkeypatch):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    client.post(upload_new_url(contract), {"file": sample_file("kpi_pack_fr.csv")})
    upload = KpiUpload.objects.get()
    page_url = reverse("sla_tracker:kpi-upload", args=[upload.pk])
    retry_url = reverse("sla_tracker:kpi-upload-retry", args=[upload.pk])
    fail_the_next_write(monkeypatch)
    with pytest.raises(OperationalError):
        client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED
    page = client.get(page_url).content.decode()
    assert 'data-testid="import-failed"' in page
    assert f'action="{retry_url}"' in page

    client.force_login(VendorUserFactory())  # another vendor's user
    assert client.post(retry_url).status_code == 404
    assert KpiUpload.objects.get(pk=upload.pk).status == UploadStatus.FAILED

    vendor_user = VendorUserFactory(vendor=contract.vendor)
    client.force_login(vendor_user)
    response = client.post(retry_url)

    assert response.status_code == 302 and response.url == page_url
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED
    assert (upload.retried_by, upload.uploaded_by) == (vendor_user, manager)
    assert Measurement.objects.filter(contract=contract, upload=upload).count() == 31 * 7
    assert MeasurementChange.objects.filter(contract=contract).count() == 31 * 7
    page = client.get(page_url).content.decode()
    assert "Imported on" in page
    assert f"import retried by {vendor_user}" in page
    assert 'data-testid="retry"' not in page

    again = client.post(retry_url, follow=True)
    assert [str(message) for message in again.context["messages"]] == [
        "Only a failed import can be retried; this upload is “Imported”."
    ]
    assert MeasurementChange.objects.filter(contract=contract).count() == 31 * 7


def test_errors_stored_as_text_before_are_shown_as_they_are_in_row_order(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    upload = KpiUpload.objects.create(
        contract=contract,
        uploaded_by=manager,
        original_name="old.csv",
        sha256="0" * 64,
        size_bytes=1,
        status=UploadStatus.REJECTED,
        error_count=2,
        errors=[
            {"row": 5, "column": "Appels reçus", "value": "x", "message": "Not a number."},
            {
                "row": 3,
                "column": "Appels reçus",
                "value": "-1",
                "message": "Les valeurs négatives ne sont pas autorisées.",
            },
        ],
    )
    client.force_login(manager)

    page = client.get(reverse("sla_tracker:kpi-upload", args=[upload.pk]), HTTP_ACCEPT_LANGUAGE="fr")

    table = page.content.decode().split('id="upload-errors"')[1]
    assert table.index("Les valeurs négatives ne sont pas autorisées.") < table.index("Not a number.")


def test_an_imported_upload_says_when_in_one_sentence(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    upload = KpiUpload.objects.create(
        contract=contract,
        uploaded_by=manager,
        original_name="done.csv",
        sha256="0" * 64,
        size_bytes=1,
        status=UploadStatus.IMPORTED,
        imported_at=timezone.make_aware(datetime.datetime(2026, 11, 27, 17, 37)),
        preview={"months": ["2026-10"], "result": {"created": 3, "updated": 1, "unchanged": 0}},
    )
    client.force_login(manager)

    page = client.get(reverse("sla_tracker:kpi-upload", args=[upload.pk])).content.decode()

    assert "p.m.." not in page
    assert "Imported on 11/27/2026 5:37 p.m. – new values: 3; changed: 1; unchanged: 0." in page


def test_the_preview_gives_its_period_and_months_in_the_readers_language(client, monkeypatch):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    response = client.post(upload_new_url(contract), {"file": sample_file("kpi_pack_fr.csv")})

    with_totals = client.get(response.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    monkeypatch.setattr(views_kpi, "ASYNC_ROW_THRESHOLD", 1)  # a large file: its months without totals
    without_totals = client.get(response.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert 'data-testid="period">1er octobre 2026 → 31 octobre 2026</div>' in with_totals
    assert "<tr><td>octobre 2026</td>" in with_totals
    months = without_totals.split('<p id="upload-preview">')[1].split("</p>")[0]
    assert months.startswith("Mois présents dans le fichier") and months.endswith(" octobre 2026")


def test_a_file_that_is_not_csv_or_excel_is_refused_on_the_form(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    response = client.post(upload_new_url(contract), {"file": csv_file("", name="empty.csv")})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert KpiUpload.objects.count() == 0


def test_a_large_upload_is_imported_by_the_task_and_the_page_polls_its_progress(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(views_kpi, "ASYNC_ROW_THRESHOLD", 1)
    monkeypatch.setattr(tasks, "ASYNC_ROW_THRESHOLD", 1)
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    client.post(upload_new_url(contract), {"file": sample_file("kpi_pack_fr.csv")})
    upload = KpiUpload.objects.get()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.task_id
    waiting = client.get(reverse("sla_tracker:kpi-upload", args=[upload.pk])).content.decode()
    assert 'id="upload-progress"' in waiting
    progress = client.get(reverse("sla_tracker:kpi-upload-progress", args=[upload.pk]))
    assert "0 of 31 rows" in progress.content.decode()

    for callback in callbacks:
        callback()
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED
    done = client.get(reverse("sla_tracker:kpi-upload-progress", args=[upload.pk]))
    assert done["HX-Refresh"] == "true"


def test_upload_pages_take_a_fixed_number_of_queries(client, count_queries):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    client.post(upload_new_url(contract), {"file": sample_file("kpi_pack_fr.csv")})
    upload = KpiUpload.objects.get()
    url = reverse("sla_tracker:kpi-upload", args=[upload.pk])
    before = count_queries(client, url)
    client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk]))
    assert count_queries(client, url) <= before


def test_vendor_users_upload_only_where_the_contract_allows_self_reporting(client):
    contract = kpi_contract()
    vendor_user = VendorUserFactory(vendor=contract.vendor)
    client.force_login(vendor_user)
    assert client.get(upload_new_url(contract)).status_code == 200
    contract.vendor_self_reporting = False
    contract.save()
    refused = client.get(upload_new_url(contract))
    assert refused.status_code == 403
    assert f"You may not log KPI data for contract {contract.reference}." in refused.content.decode()
    assert client.post(upload_new_url(contract), {"file": sample_file("kpi_pack_fr.csv")}).status_code == 403
    assert not KpiUpload.objects.exists()


def test_who_sees_a_contract_but_does_not_log_its_data_is_told_so_and_who_does_not_see_it_gets_404(client):
    contract = kpi_contract()
    month = last_month()
    client.force_login(UserFactory(procurement=True))

    upload = client.get(upload_new_url(contract))
    grid = client.post(grid_url(contract, month), {"v-answered-1": "5"})

    for response in (upload, grid):
        assert response.status_code == 403
        assert f"You may not log KPI data for contract {contract.reference}." in response.content.decode()
    assert not Measurement.objects.exists()
    client.force_login(UserFactory())  # another vendor manager: the contract is not theirs
    unknown = client.get(upload_new_url(contract))
    assert unknown.status_code == 404
    assert contract.reference not in unknown.content.decode()


def test_another_vendors_users_and_managers_get_404_on_every_page(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    client.post(upload_new_url(contract), {"file": sample_file("kpi_pack_fr.csv")})
    upload = KpiUpload.objects.get()
    month = month_label(last_month())
    urls = [
        upload_new_url(contract),
        grid_url(contract, last_month()),
        reverse("sla_tracker:kpi-history", args=[contract.pk, month]),
        reverse("sla_tracker:kpi-upload", args=[upload.pk]),
        reverse("sla_tracker:kpi-upload-mapping", args=[upload.pk]),
        reverse("sla_tracker:kpi-upload-progress", args=[upload.pk]),
    ]
    for outsider in (VendorUserFactory(), UserFactory()):
        client.force_login(outsider)
        for url in urls:
            assert client.get(url).status_code == 404, (outsider.role, url)
        assert client.post(reverse("sla_tracker:kpi-upload-import", args=[upload.pk])).status_code == 404
        assert client.post(reverse("sla_tracker:kpi-upload-retry", args=[upload.pk])).status_code == 404
    assert upload.contract.measurements.count() == 0


# The hand-entry grid ----------------------------------------------------------------------------------


def test_the_grid_shows_the_service_levels_counters_pre_filled(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    store(contract, "answered", month + datetime.timedelta(days=1), "1130")
    store(contract, "csat_responses", month + datetime.timedelta(days=1), "7")
    client.force_login(manager)

    response = client.get(grid_url(contract, month))

    assert response.status_code == 200
    codes = [counter.code for counter in response.context["counters"]]
    assert set(codes) == {"abandoned", "answered", "answered_within_20s", "short_abandoned", "csat_responses"}
    page = response.content.decode()
    assert 'name="v-answered-2" value="1130"' in page
    assert reverse("sla_tracker:kpi-history", args=[contract.pk, month_label(month)]) in page


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_the_grid_and_history_of_a_month_at_the_edge_of_the_calendar_are_404_not_500(client, month):
    """Their neighbouring month (the grid's previous and next links) and 9999-12's last day are no dates."""
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)

    assert client.get(reverse("sla_tracker:kpi-grid", args=[contract.pk, month])).status_code == 404
    assert client.get(reverse("sla_tracker:kpi-history", args=[contract.pk, month])).status_code == 404


def test_the_grid_saves_changed_cells_and_logs_them(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    store(contract, "answered", month + datetime.timedelta(days=1), "1130")
    client.force_login(manager)

    response = client.post(
        grid_url(contract, month), {"v-answered-2": "1140", "v-abandoned-2": "12", "v-answered-3": "900"}
    )

    assert response.status_code == 302
    stored = {
        (code, day.day): value
        for code, day, value in Measurement.objects.filter(contract=contract).values_list(
            "counter__code", "day", "value"
        )
    }
    assert stored == {
        ("answered", 2): Decimal("1140"),
        ("abandoned", 2): Decimal("12"),
        ("answered", 3): Decimal("900"),
    }
    change = MeasurementChange.objects.get(contract=contract, counter__code="answered", day=month.replace(day=2))
    assert (change.old_value, change.new_value, change.changed_by) == (Decimal("1130"), Decimal("1140"), manager)
    history = client.get(reverse("sla_tracker:kpi-history", args=[contract.pk, month_label(month)]))
    assert '<td class="text-end">1,130</td><td>→</td><td>1,140</td>' in history.content.decode()


def test_one_invalid_cell_writes_nothing_and_shows_its_error_beside_the_cell(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    client.force_login(manager)

    response = client.post(
        grid_url(contract, month), {"v-answered-2": "1140", "v-abandoned-2": "12", "v-answered-3": "-4"}
    )

    assert response.status_code == 200
    assert nothing_written()
    row = next(row for row in response.context["grid"] if row["row"] == 3)
    cell = next(cell for cell in row["cells"] if cell["name"] == "v-answered-3")
    assert cell["errors"] == ["Negative values are not allowed: counters count things."]
    assert cell["value"] == "-4"
    page = response.content.decode()
    assert 'data-testid="grid-errors"' in page
    assert "1 error: nothing was saved. Correct the cell in red and save again." in page
    assert "is-invalid" in page


def test_the_grid_lists_each_error_above_it_with_a_link_to_its_cell(client):
    # A wide grid hides the cells past its right edge: the summary names each one and leads to it.
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    client.force_login(manager)

    response = client.post(
        grid_url(contract, month), {"v-answered-2": "10", "v-answered_within_20s-2": "1900", "v-abandoned-3": "douze"}
    )

    page = response.content.decode()
    listed = page.split('data-testid="grid-error-list"')[1].split("</ul>")[0]
    day_2, day_3 = (formats.date_format(month + datetime.timedelta(days=n), "D j") for n in (1, 2))
    assert (
        f'<a class="alert-link" href="#v-answered_within_20s-2">{day_2} · <code>answered_within_20s</code></a>:'
        in listed
    )
    assert f'<a class="alert-link" href="#v-abandoned-3">{day_3} · <code>abandoned</code></a>: Not a number.' in listed
    assert listed.index("v-answered_within_20s-2") < listed.index("v-abandoned-3")  # in the grid's order
    assert 'id="v-abandoned-3" name="v-abandoned-3"' in page
    french = client.post(grid_url(contract, month), {"v-abandoned-3": "douze"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert "</a>\u00a0: " in french.content.decode().split('data-testid="grid-error-list"')[1]


def test_the_grid_refuses_a_whole_month_value_beside_the_days_of_that_month(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    store(contract, "offered", month + datetime.timedelta(days=1), "1000")
    client.force_login(manager)

    response = client.post(grid_url(contract, month), {"v-offered-0": "5000", "v-offered-2": "1000"})
    emptied = {"v-offered-0": "5000", "v-offered-2": ""}  # the month instead of its day
    unconfirmed = client.post(grid_url(contract, month), emptied)
    cleared = client.post(grid_url(contract, month), {**emptied, "confirm_deletions": "1"})

    assert unconfirmed.status_code == 200 and unconfirmed.context["to_confirm"] == 1
    assert "Save and delete 1 value" in unconfirmed.content.decode()
    assert cleared.status_code == 302
    assert list(Measurement.objects.filter(contract=contract).values_list("day", "value")) == [(None, Decimal("5000"))]
    assert response.status_code == 200
    assert 'aria-label="offered, Whole month"' in response.content.decode()  # a cell named for a reader
    row = next(row for row in response.context["grid"] if row["row"] == 0)
    cell = next(cell for cell in row["cells"] if cell["name"] == "v-offered-0")
    assert cell["errors"] == [
        f"offered already has values for days of {month:%B %Y}: a whole-month value would be added to them. "
        "Give the month by day, or delete its daily values first."
    ]


def test_the_grid_refuses_a_month_whose_statement_is_approved(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    PenaltyStatementFactory(contract=contract, month=month, approved=True)
    client.force_login(manager)
    page = client.get(grid_url(contract, month)).content.decode()
    assert "its data only changes through a correction" in page
    assert 'data-testid="save-grid"' not in page
    assert 'data-testid="start-correction"' in page
    # Posted without the correction mode (a page opened before the approval): nothing written, and the page
    # says why instead of refusing the role.
    response = client.post(grid_url(contract, month), {"v-answered-2": "5"})
    assert response.status_code == 200
    assert response.context["form_errors"] == ["Nothing was saved."]
    page = response.content.decode()
    assert 'data-testid="locked-month"' in page and 'data-testid="start-correction"' in page
    assert 'value="5"' not in page  # the stored values are shown, not the ones refused
    assert nothing_written()


def _approved_january_of_contract_a():
    return approved_january(UserFactory(procurement=True))


def _all_cells(response) -> dict[str, str]:
    """What the browser posts: every editable cell of the grid, as shown."""
    return {cell["name"]: cell["value"] for row in response.context["grid"] if row["editable"] for cell in row["cells"]}


def test_a_correction_reason_on_the_grid_has_at_most_the_limits_characters(client):
    contract, january = _approved_january_of_contract_a()
    url = grid_url(contract, january.month) + "?correct=1"
    client.force_login(contract.owner)
    cells = _all_cells(client.get(url))

    too_long = client.post(url, {**cells, "v-answered_within_20s-0": "40000", "correction_reason": "x" * 1_001})
    assert too_long.context["reason_error"] == "Keep the reason to at most 1000 characters."
    assert not MeasurementChange.objects.exists()

    saved = client.post(url, {**cells, "v-answered_within_20s-0": "40000", "correction_reason": "x" * 1_000})
    assert saved.status_code == 302
    assert MeasurementChange.objects.get().correction_reason == "x" * 1_000


def test_the_vendor_manager_corrects_an_approved_month_on_its_grid_with_a_reason(client):
    contract, january = _approved_january_of_contract_a()
    close_contract_month(contract_id=contract.pk, month="2026-02")
    url = grid_url(contract, january.month) + "?correct=1"
    client.force_login(contract.owner)
    shown = client.get(url)
    assert 'data-testid="correction-mode"' in shown.content.decode()
    cells = _all_cells(shown)
    assert cells["v-answered_within_20s-0"] == "31500"

    missing_reason = client.post(url, {**cells, "v-answered_within_20s-0": "40000", "correction_reason": " "})
    assert missing_reason.status_code == 200
    assert (
        missing_reason.context["reason_error"] == "Give the reason for correcting a month whose statement is approved."
    )
    assert not MeasurementChange.objects.exists()

    saved = client.post(
        url, {**cells, "v-answered_within_20s-0": "40000", "correction_reason": "Corrected vendor report of 3 Feb."}
    )
    assert saved.status_code == 302
    change = MeasurementChange.objects.get()
    assert (change.new_value, change.correction_reason) == (Decimal("40000"), "Corrected vendor report of 3 Feb.")
    january.refresh_from_db()
    assert (january.status, january.net) == (StatementStatus.APPROVED, Decimal("-14400.00"))
    february = PenaltyStatement.objects.get(contract=contract, month=datetime.date(2026, 2, 1))
    assert february.adjustments == Decimal("14400.00")
    history = client.get(reverse("sla_tracker:kpi-history", args=[contract.pk, "2026-01"])).content.decode()
    assert "Correction after approval: Corrected vendor report of 3 Feb." in history


def test_only_the_customers_side_corrects_an_approved_month(client):
    contract, january = _approved_january_of_contract_a()
    contract.vendor_self_reporting = True
    contract.save()
    vendor_user = VendorUserFactory(vendor=contract.vendor)
    client.force_login(vendor_user)
    page = client.get(grid_url(contract, january.month)).content.decode()
    assert "vendor manager makes corrections." in page
    assert 'data-testid="start-correction"' not in page
    # The correction mode is not theirs: the grid stays read-only, and a post is refused.
    assert (
        'data-testid="correction-mode"'
        not in client.get(grid_url(contract, january.month) + "?correct=1").content.decode()
    )
    response = client.post(
        grid_url(contract, january.month) + "?correct=1",
        {"v-answered_within_20s-0": "40000", "correction_reason": "Ours was wrong."},
    )
    assert response.status_code == 403
    assert not MeasurementChange.objects.exists()


def test_the_grid_and_history_take_a_fixed_number_of_queries(client, count_queries):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    client.force_login(manager)
    store(contract, "answered", month, "1")
    MeasurementChangeFactory(contract=contract, counter=demo_counters()["answered"], month=month, day=month)
    grid, history = (
        grid_url(contract, month),
        reverse("sla_tracker:kpi-history", args=[contract.pk, month_label(month)]),
    )
    one = (count_queries(client, grid), count_queries(client, history))
    for offset in range(1, 5):
        day = month + datetime.timedelta(days=offset)
        store(contract, "abandoned", day, "1")
        MeasurementChangeFactory(contract=contract, counter=demo_counters()["abandoned"], month=month, day=day)
    assert (count_queries(client, grid), count_queries(client, history)) == one


def test_bad_months_are_404(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    assert client.get(f"/penalties/kpi/contracts/{contract.pk}/months/2026-13/").status_code == 404


def test_procurement_reads_the_grid_without_inputs_and_cannot_post_it(client):
    contract = kpi_contract()
    month = last_month()
    store(contract, "answered", month + datetime.timedelta(days=1), "11425.5")
    client.force_login(UserFactory(procurement=True))

    response = client.get(grid_url(contract, month))
    posted = client.post(grid_url(contract, month), {"v-answered-2": "1", "v-answered-3": "2"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="read-only"' in page
    assert '<td class="num" data-cell="v-answered-2">11,425.5</td>' in page
    assert "<input" not in page.split('id="kpi-grid"')[1]
    assert 'data-testid="save-grid"' not in page
    assert posted.status_code == 403
    assert list(Measurement.objects.values_list("value", flat=True)) == [Decimal("11425.5")]


def test_procurement_reads_the_history_with_the_files_named_but_not_linked(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    upload = KpiUpload.objects.create(
        contract=contract, uploaded_by=manager, original_name="october.csv", sha256="0" * 64, size_bytes=1
    )
    MeasurementChangeFactory(
        contract=contract, counter=demo_counters()["answered"], month=month, day=month, upload=upload
    )
    history = reverse("sla_tracker:kpi-history", args=[contract.pk, month_label(month)])

    client.force_login(UserFactory(procurement=True))
    read = client.get(history).content.decode()
    client.force_login(manager)
    written = client.get(history).content.decode()

    upload_url = reverse("sla_tracker:kpi-upload", args=[upload.pk])
    assert "october.csv" in read and upload_url not in read
    assert f'<a href="{upload_url}">october.csv</a>' in written


def test_a_readers_grid_takes_a_fixed_number_of_queries(client, count_queries):
    contract = kpi_contract()
    month = last_month()
    store(contract, "answered", month, "1")
    client.force_login(UserFactory(procurement=True))
    one = count_queries(client, grid_url(contract, month))
    for offset in range(1, 5):
        store(contract, "abandoned", month + datetime.timedelta(days=offset), "1")
    assert count_queries(client, grid_url(contract, month)) == one


def test_in_french_a_grid_error_gives_the_day_in_french(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    day = month + datetime.timedelta(days=1)
    client.force_login(manager)

    response = client.post(
        grid_url(contract, month), {"v-answered-2": "10", "v-answered_within_20s-2": "1900"}, HTTP_ACCEPT_LANGUAGE="fr"
    )

    with translation.override("fr"):
        french_day = formats.date_format(day)
    row = next(row for row in response.context["grid"] if row["row"] == 2)
    cell = next(cell for cell in row["cells"] if cell["name"] == "v-answered_within_20s-2")
    assert cell["errors"] == [f"answered_within_20s (1900) ne peut pas dépasser answered (10) le {french_day}."]
    assert day.isoformat() not in response.content.decode()


# The vendor portal ------------------------------------------------------------------------------------


def test_my_action_items_lists_the_open_items_i_own_overdue_first(client):
    contract = ContractFactory()
    vendor_user = VendorUserFactory(vendor=contract.vendor)
    committee = CommitteeFactory(contract=contract)
    CommitteeMemberFactory(committee=committee, user=vendor_user, side=Side.VENDOR)
    meeting_fields = {"meeting": MeetingFactory(committee=committee)}
    later = ActionItemFactory(owner=vendor_user, due_date=today() + datetime.timedelta(days=10), **meeting_fields)
    overdue = ActionItemFactory(owner=vendor_user, due_date=today() - datetime.timedelta(days=3), **meeting_fields)
    ActionItemFactory(
        owner=vendor_user,
        status=ActionStatus.DONE,
        closed_at=datetime.datetime.now(tz=datetime.UTC),
        **meeting_fields,
    )
    ActionItemFactory(owner=vendor_user)  # from a committee they do not sit on
    ActionItemFactory(**meeting_fields)  # someone else's
    client.force_login(vendor_user)

    response = client.get(reverse("sla_tracker:my-action-items"))

    assert response.status_code == 200
    assert response.context["items"] == [overdue, later]
    assert "Overdue" in response.content.decode()


def test_my_action_items_takes_a_fixed_number_of_queries(client, count_queries):
    manager = UserFactory()
    contract = ContractFactory(owner=manager)
    fields = {"meeting__committee__contract": contract, "meeting__committee__vendor": None, "owner": manager}
    ActionItemFactory(**fields)
    client.force_login(manager)
    url = reverse("sla_tracker:my-action-items")
    one = count_queries(client, url)
    for _index in range(4):
        ActionItemFactory(**fields)
    assert count_queries(client, url) == one


def test_findings_addressed_to_my_vendor_are_listed_and_no_others(client):
    contract = ContractFactory()
    right = AuditRightFactory(contract=contract)
    audit = AuditFactory(audit_right=right)
    shown = FindingFactory(audit=audit, title="Abandons counted from 10 s")
    FindingFactory(audit=audit, addressed_to_vendor=False, title="Internal note on the vendor")
    FindingFactory(title="Another vendor's finding")
    settled = FindingFactory(audit=audit, status=FindingStatus.RISK_ACCEPTED, title="Accepted risk")
    client.force_login(VendorUserFactory(vendor=contract.vendor))

    response = client.get(reverse("sla_tracker:vendor-findings"))

    assert response.status_code == 200
    assert response.context["findings"] == [shown, settled]
    page = response.content.decode()
    assert "Internal note" not in page
    assert "Another vendor" not in page


def test_findings_past_their_due_date_and_not_settled_come_first_flagged_overdue(client):
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    contract = ContractFactory()
    audit = AuditFactory(audit_right=AuditRightFactory(contract=contract))
    later = FindingFactory(audit=audit, due_date=today + datetime.timedelta(days=10), title="Due later")
    late = FindingFactory(audit=audit, due_date=today - datetime.timedelta(days=15), title="Past due")
    settled = FindingFactory(
        audit=audit, due_date=today - datetime.timedelta(days=30), status=FindingStatus.RISK_ACCEPTED, title="Accepted"
    )
    client.force_login(VendorUserFactory(vendor=contract.vendor))

    response = client.get(reverse("sla_tracker:vendor-findings"))

    assert response.context["findings"] == [late, later, settled]
    assert [finding.overdue for finding in response.context["findings"]] == [True, False, False]
    assert response.content.decode().count('data-testid="finding-overdue"') == 1


def test_findings_take_a_fixed_number_of_queries_and_are_for_vendor_users_only(client, count_queries):
    contract = ContractFactory()
    audit = AuditFactory(audit_right=AuditRightFactory(contract=contract))
    FindingFactory(audit=audit)
    vendor_user = VendorUserFactory(vendor=contract.vendor)
    client.force_login(vendor_user)
    url = reverse("sla_tracker:vendor-findings")
    one = count_queries(client, url)
    for _index in range(4):
        finding = FindingFactory(audit=audit)
        ActionItemFactory(finding=finding, meeting=None, owner=vendor_user)
    assert count_queries(client, url) == one
    client.force_login(UserFactory(role=Role.PROCUREMENT))
    assert client.get(url).status_code == 403


def test_in_french_the_grid_shows_and_reads_decimal_commas(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    store(contract, "total_wait_seconds", month, "10.5")
    client.force_login(manager)

    page = client.get(grid_url(contract, month), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'name="v-total_wait_seconds-1" value="10,5"' in page

    client.post(grid_url(contract, month), {"v-total_wait_seconds-1": "1 234,5"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert Measurement.objects.get(counter__code="total_wait_seconds").value == Decimal("1234.5")


def test_the_preview_names_the_columns_it_does_not_read_with_a_link_to_the_mapping(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    ColumnMappingFactory(contract=contract, name="Lumen", date_column="Jour", columns={"Appels reçus": "offered"})
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")

    response = client.post(
        upload_new_url(contract), {"file": csv_file(f"Jour;Appels reçus;Commentaire\n{day};12;ok\n")}
    )

    upload = KpiUpload.objects.get()
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    page = client.get(response.url).content.decode()
    mapping_url = reverse("sla_tracker:kpi-upload-mapping", args=[upload.pk])
    assert 'data-testid="unmapped-columns"' in page
    assert "These columns are not read: “Commentaire”." in page
    assert f'href="{mapping_url}"' in page


def test_a_new_column_with_a_counters_header_goes_to_the_mapping_with_its_counter_suggested(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    ColumnMappingFactory(contract=contract, name="Lumen", date_column="Jour", columns={"Appels reçus": "offered"})
    client.force_login(manager)
    day = (last_month() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")

    response = client.post(upload_new_url(contract), {"file": csv_file(f"Jour;Appels reçus;Abandons\n{day};12;3\n")})

    upload = KpiUpload.objects.get()
    assert response.url == reverse("sla_tracker:kpi-upload-mapping", args=[upload.pk])
    form = client.get(response.url).context["form"]
    assert (form["column_1"].value(), form["column_2"].value()) == ("offered", "abandoned")
    assert form["name"].value() == "Lumen"


def test_the_preview_says_which_worksheet_and_header_row_it_read(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    day = last_month() + datetime.timedelta(days=2)
    rows = [["KPI report"], ["Date", "Calls offered"], [day.isoformat(), 4]]

    response = client.post(upload_new_url(contract), {"file": xlsx_file(rows)})

    page = client.get(response.url).content.decode()
    assert "Read from the worksheet “Sheet”. The headers are in row 2; the rows above them were not read." in page


def test_the_upload_form_offers_every_kind_of_file_the_server_reads(client):
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    client.force_login(manager)
    page = client.get(upload_new_url(contract)).content.decode()
    assert 'accept=".csv,.tsv,.txt,.xlsx,.xlsm"' in page


def test_the_grid_leaves_alone_the_days_it_does_not_offer(client):
    """Days after a contract's last day of service are shown without inputs; the browser does not send them,
    which must not read as emptied cells."""
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    store(contract, "answered", month + datetime.timedelta(days=19), "120")
    Contract.objects.filter(pk=contract.pk).update(
        status=ContractStatus.TERMINATED, terminated_on=month + datetime.timedelta(days=9)
    )
    client.force_login(manager)
    shown = client.get(grid_url(contract, month))
    assert not next(row for row in shown.context["grid"] if row["row"] == 20)["editable"]

    response = client.post(grid_url(contract, month), {**_all_cells(shown), "v-answered-3": "75"})

    assert response.status_code == 302
    stored = dict(Measurement.objects.filter(contract=contract, counter__code="answered").values_list("day", "value"))
    assert stored == {
        month + datetime.timedelta(days=2): Decimal("75"),
        month + datetime.timedelta(days=19): Decimal("120"),
    }


def test_the_completeness_of_a_terminated_contract_stops_at_its_last_day_of_service():
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = last_month()
    Contract.objects.filter(pk=contract.pk).update(
        status=ContractStatus.TERMINATED, terminated_on=month + datetime.timedelta(days=9)
    )
    contract.refresh_from_db()

    status = completeness(manager, [contract], [month], today())[(contract.pk, month)]

    missing = {day.day for counter in status.counters for day in counter.missing_days}
    assert missing  # nothing is stored: every expected day is missing
    assert max(missing) <= 10  # none after the last day of service, the 10th
