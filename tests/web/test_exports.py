"""Exports of the report and of a statement: the files open and hold the right numbers."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sla_tracker import exports
from sla_tracker.services import waive_adjustment, waive_line
from tests.factories import ContractFactory, PenaltyStatementFactory, StatementAdjustmentFactory, VendorUserFactory
from tests.web.conftest import make_statement

pytestmark = pytest.mark.django_db


def report_export(fmt):
    return reverse("sla_tracker:report-export", args=[fmt]) + "?month=2025-03"


def statement_export(statement, fmt):
    return reverse("sla_tracker:statement-export", args=[statement.pk, fmt])


def rows_of(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_report_xlsx_has_a_header_real_numbers_and_dates_and_totals_per_currency(
    client, procurement, statement, other_statement
):
    client.force_login(procurement)

    response = client.get(report_export("xlsx"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="penalty-report-2025-03.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("Contract", "Title", "Vendor", "Month")
    credits = header.index("Credits")
    by_reference = {row[0]: row for row in rows[1:3]}
    eur = by_reference[statement.contract.reference]
    assert isinstance(eur[3], datetime.datetime)
    assert eur[3].date() == datetime.date(2025, 3, 1)
    assert eur[credits] == 1500
    assert isinstance(eur[credits], int | float)
    totals = {row[0]: row for row in rows[3:]}
    assert set(totals) == {"Total EUR", "Total GBP"}
    assert totals["Total EUR"][credits] == 1500
    assert totals["Total GBP"][credits] == 1500


def test_the_report_csv_has_the_header_rows_and_totals(client, procurement, statement, other_statement):
    make_statement(contract=ContractFactory(currency="EUR"))
    client.force_login(procurement)

    rows = rows_of(client.get(report_export("csv")))

    assert rows[0][0] == "Contract"
    credits = rows[0].index("Credits")
    net = rows[0].index("Net")
    assert len(rows) == 1 + 3 + 2
    totals = {row[0]: row for row in rows[4:]}
    assert Decimal(totals["Total EUR"][credits]) == Decimal("3000.00")
    assert Decimal(totals["Total EUR"][net]) == Decimal("-2600.00")
    assert Decimal(totals["Total GBP"][credits]) == Decimal("1500.00")
    cap = rows[0].index("Cap reached")
    assert {row[cap] for row in rows[1:4]} <= {"Yes", "No"}
    reached = sum(row[cap] == "Yes" for row in rows[1:4] if row[rows[0].index("Currency")] == "EUR")
    assert totals["Total EUR"][cap] == f"{reached} of 2"  # a text like the rows', not a bare count


def test_the_report_csv_writes_each_month_as_a_month(client, procurement, statement):
    client.force_login(procurement)

    rows = rows_of(client.get(report_export("csv")))

    assert rows[1][rows[0].index("Month")] == "2025-03"


def test_the_report_export_is_scoped_like_the_report(client, statement, other_statement):
    client.force_login(VendorUserFactory(vendor=statement.contract.vendor))

    rows = rows_of(client.get(report_export("csv")))

    references = [row[0] for row in rows[1:]]
    assert statement.contract.reference in references
    assert other_statement.contract.reference not in references


def test_an_unknown_export_format_is_404(client, procurement, statement):
    client.force_login(procurement)

    assert client.get(report_export("docx")).status_code == 404
    assert client.get(statement_export(statement, "docx")).status_code == 404


def test_the_statement_xlsx_has_the_lines_as_numbers_and_the_totals(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(statement_export(statement, "xlsx"))

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if any(value is not None for value in row)]
    assert rows[0][:2] == ("Contract", statement.contract.reference)
    header_index = next(index for index, row in enumerate(rows) if row[0] == "Service level")
    header = rows[header_index]
    lines = rows[header_index + 1 : header_index + 3]
    assert lines[0][header.index("Measured")] == 72.5
    assert lines[0][header.index("Credit")] == 1500
    assert lines[0][header.index("Status")] == "Default"
    assert "72.50 % < 80 % target" in lines[0][header.index("Explanation")]
    totals = {row[0]: row for row in rows[header_index + 3 :]}
    assert totals["Credits"][header.index("Credit")] == 1500
    assert totals["Net"][header.index("Credit")] == -1300


def test_a_contract_reference_with_separators_names_the_sheet_and_the_files_it_can(client, procurement):
    """A workbook refuses "/" or ":" in a sheet's name, and a file name holds no "/": the reference is kept
    readable in both rather than the export failing."""
    statement = make_statement(reference="BPO/2026:01")
    client.force_login(procurement)

    xlsx = client.get(statement_export(statement, "xlsx"))
    csv_file = client.get(statement_export(statement, "csv"))
    pdf = client.get(statement_export(statement, "pdf"))

    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.active.title == "BPO-2026-01"
    assert workbook.active["B1"].value == "BPO/2026:01"
    assert xlsx["Content-Disposition"] == 'attachment; filename="statement-BPO-2026-01-2025-03.xlsx"'
    assert csv_file["Content-Disposition"] == 'attachment; filename="statement-BPO-2026-01-2025-03.csv"'
    assert pdf["Content-Disposition"] == 'attachment; filename="statement-BPO-2026-01-2025-03.pdf"'


def test_a_text_starting_with_an_equals_sign_is_a_text_in_the_xlsx_not_a_formula(client, procurement, statement):
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason="=agreed at the steering committee")
    client.force_login(procurement)

    sheet = load_workbook(io.BytesIO(client.get(statement_export(statement, "xlsx")).content)).active

    cell = next(cell for row in sheet.iter_rows() for cell in row if cell.value == "=agreed at the steering committee")
    assert cell.data_type == "s"


def test_a_reason_pasted_with_control_characters_is_written_to_the_xlsx_without_them(client, procurement, statement):
    """A word processor's manual line break is a vertical tab, which a worksheet refuses: the export is not a
    server error, and the line break stays one."""
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason="Agreed at the committee\x0bsee the minutes\x1b")
    client.force_login(procurement)

    response = client.get(statement_export(statement, "xlsx"))

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "Agreed at the committee\nsee the minutes" in [cell.value for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("reason", ['=HYPERLINK("http://x.example")', "+1 agreed", "-agreed", "@SUM(A1)"])
def test_a_text_a_spreadsheet_would_take_for_a_formula_is_a_text_in_the_csv(client, procurement, statement, reason):
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason=reason)
    client.force_login(procurement)

    cells = [cell for row in rows_of(client.get(statement_export(statement, "csv"))) for cell in row]

    assert "'" + reason in cells
    assert reason not in cells


def test_a_negative_amount_in_the_csv_stays_a_number():
    assert exports._csv([[Decimal("-14400.00"), "- agreed"]]).decode("utf-8-sig") == "-14400.00,'- agreed\r\n"


def test_the_statement_csv_lists_the_lines(client, procurement, statement):
    client.force_login(procurement)

    rows = rows_of(client.get(statement_export(statement, "csv")))

    assert rows[0][:2] == ["Contract", statement.contract.reference]
    header_index = next(index for index, row in enumerate(rows) if row and row[0] == "Service level")
    assert rows[header_index + 1][rows[header_index].index("Credit")] == "1500.00"


def test_the_statement_csv_writes_its_month_and_the_months_recomputed_as_months(client, procurement, statement):
    february = PenaltyStatementFactory(contract=statement.contract, month=datetime.date(2025, 2, 1), approved=True)
    StatementAdjustmentFactory(
        statement=statement, origin=february, service_level=statement.lines.first().service_level
    )
    client.force_login(procurement)

    rows = rows_of(client.get(statement_export(statement, "csv")))

    assert rows[2] == ["Month", "2025-03"]
    header_index = rows.index(
        [
            "Month recomputed",
            "Service level",
            "Amount",
            "Amount waived",
            "Currency",
            "Reason",
            "Waiver",
            "Waived by",
            "Waived on",
        ]
    )
    assert rows[header_index + 1][0] == "2025-02"


def test_a_csv_writes_a_month_as_a_month_and_a_day_as_a_day():
    content = exports._csv([[exports.MonthCell(2026, 4, 1), datetime.date(2026, 4, 1)]])

    assert content.decode("utf-8-sig") == "2026-04,2026-04-01\r\n"


def test_a_french_reader_gets_the_csv_french_spreadsheets_read(client, procurement, statement):
    client.force_login(procurement)

    text = client.get(statement_export(statement, "csv"), HTTP_ACCEPT_LANGUAGE="fr").content.decode("utf-8-sig")

    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header_index = next(index for index, row in enumerate(rows) if row and row[0] == "Niveau de service")
    assert rows[header_index + 1][rows[header_index].index("Crédit")] == "1500,00"
    assert rows[0][:2] == ["Contrat", statement.contract.reference]


def test_the_statement_pdf_is_a_pdf_naming_the_contract_and_the_amounts(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(statement_export(statement, "pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pypdf = pytest.importorskip("pypdf")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert statement.contract.reference in text
    assert "1,500.00" in text
    assert "72.50 % < 80 % target" in text


def test_the_statement_pdf_shows_the_at_risk_amount_and_the_credits_before_the_caps_as_the_page_does(
    client, procurement
):
    capped = make_statement(currency="EUR")
    capped.at_risk_amount, capped.uncapped_credits, capped.cap_reached = Decimal("1500.00"), Decimal("2000.00"), True
    capped.save()
    uncapped = make_statement(currency="EUR", month=datetime.date(2025, 4, 1))
    client.force_login(procurement)
    pypdf = pytest.importorskip("pypdf")

    def pdf_text(statement):
        response = client.get(statement_export(statement, "pdf"))
        return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)

    capped_text, uncapped_text = pdf_text(capped), pdf_text(uncapped)

    assert "€1,500.00 at risk" in capped_text
    assert "€2,000.00 before the caps" in capped_text
    assert "before the caps" not in uncapped_text  # credits no cap reduced


def test_a_waived_line_reads_the_same_on_the_page_in_the_pdf_and_in_the_csv(client, procurement, statement):
    """Each format's credit is what the line is charged (nothing once waived, as the totals count it), with
    the amount waived beside it."""
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason="Goodwill after the carrier outage")
    client.force_login(procurement)

    page = client.get(reverse("sla_tracker:statement", args=[statement.pk])).content.decode()
    row = page[page.index(f'id="line-{line.pk}"') :]
    assert row.index('data-testid="line-credit">€0.00<div') < row.index("</tr>")
    assert '<div class="small text-body-secondary" data-testid="line-waived">€1,500.00 waived</div>' in row
    assert '<div class="fs-5" data-testid="total-credits">€0.00</div>' in page
    assert "€1,500.00 waived</div>" in page[page.index('data-testid="total-credits"') :]

    rows = rows_of(client.get(statement_export(statement, "csv")))
    header_index = next(index for index, row in enumerate(rows) if row and row[0] == "Service level")
    header = rows[header_index]
    credit, waived = header.index("Credit"), header.index("Credit waived")
    lines = {row[0]: row for row in rows[header_index + 1 : header_index + 3]}
    assert (lines[line.service_level.code][credit], lines[line.service_level.code][waived]) == ("0.00", "1500.00")
    met = next(row for code, row in lines.items() if code != line.service_level.code)
    assert (met[credit], met[waived]) == ("0.00", "")  # not waived: nothing in the column
    totals = {row[0]: row for row in rows[header_index + 3 :] if row}
    assert (totals["Credits"][credit], totals["Credits"][waived]) == ("0.00", "1500.00")
    assert totals["Net"][credit] == "200.00"

    response = client.get(statement_export(statement, "pdf"))
    pypdf = pytest.importorskip("pypdf")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "Waived\n€0.00\n€1,500.00 waived\n" in text  # the line: status, credit, amount waived
    assert "Credits €0.00\n€1,500.00 waived\n" in text


def test_a_waived_lines_waiver_is_in_the_csv_and_the_xlsx_as_on_the_page(client, procurement, statement):
    """Why, who and when, as the statement page writes them under the line; amounts stay numbers."""
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason="Goodwill after the carrier outage")
    line.refresh_from_db()
    waived_on = timezone.localtime(line.waived_at)
    client.force_login(procurement)

    rows = rows_of(client.get(statement_export(statement, "csv")))
    header_index = next(index for index, row in enumerate(rows) if row and row[0] == "Service level")
    header = rows[header_index]
    waiver = [header.index(title) for title in ("Waiver", "Waived by", "Waived on")]
    lines = {row[0]: row for row in rows[header_index + 1 : header_index + 3]}
    assert [lines[line.service_level.code][index] for index in waiver] == [
        "Goodwill after the carrier outage",
        str(procurement),
        f"{waived_on:%Y-%m-%d %H:%M}",
    ]
    met = next(row for code, row in lines.items() if code != line.service_level.code)
    assert [met[index] for index in waiver] == ["", "", ""]  # not waived: nothing in the columns

    sheet = load_workbook(io.BytesIO(client.get(statement_export(statement, "xlsx")).content)).active
    values = [row for row in sheet.iter_rows(values_only=True) if any(value is not None for value in row)]
    header_index = next(index for index, row in enumerate(values) if row[0] == "Service level")
    waived = next(row for row in values[header_index + 1 :] if row[0] == line.service_level.code)
    assert [waived[index] for index in waiver] == [
        "Goodwill after the carrier outage",
        str(procurement),
        waived_on.replace(tzinfo=None, second=0, microsecond=0),
    ]
    assert waived[values[header_index].index("Credit waived")] == 1500  # a number, not a text
    cell = next(row for row in sheet.iter_rows() if row[0].value == line.service_level.code)[waiver[2]]
    assert cell.number_format == "yyyy-mm-dd hh:mm"

    text = client.get(statement_export(statement, "csv"), HTTP_ACCEPT_LANGUAGE="fr").content.decode("utf-8-sig")
    french = list(csv.reader(io.StringIO(text), delimiter=";"))
    header_index = next(index for index, row in enumerate(french) if row and row[0] == "Niveau de service")
    waived = next(row for row in french[header_index + 1 :] if row[0] == line.service_level.code)
    assert waived[french[header_index].index("Annulation de pénalité")] == ("Goodwill after the carrier outage")


def test_a_waived_adjustment_reads_the_same_on_the_page_in_the_pdf_the_csv_and_the_report(
    client, procurement, statement
):
    """The adjustment counts for nothing once waived, in the statement's totals and in every format, with the
    amount waived beside it, as a waived line's credit."""
    february = PenaltyStatementFactory(contract=statement.contract, month=datetime.date(2025, 2, 1), approved=True)
    adjustment = StatementAdjustmentFactory(
        statement=statement, origin=february, service_level=statement.lines.first().service_level, amount="-2500.00"
    )
    waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="Goodwill after the carrier outage")
    statement.refresh_from_db()
    assert (statement.adjustments, statement.net) == (Decimal("0.00"), Decimal("-1300.00"))
    client.force_login(procurement)

    rows = rows_of(client.get(statement_export(statement, "csv")))
    header_index = next(index for index, row in enumerate(rows) if row and row[0] == "Service level")
    header = rows[header_index]
    totals = {row[0]: row for row in rows[header_index + 3 :] if row}
    assert (totals["Adjustments"][header.index("Credit")], totals["Adjustments"][header.index("Credit waived")]) == (
        "0.00",
        "-2500.00",
    )
    assert totals["Net"][header.index("Credit")] == "-1300.00"
    title = rows.index(["Adjustments carried in"])
    assert rows[title + 2][2:4] == ["0.00", "-2500.00"]
    adjustment.refresh_from_db()
    waived_on = timezone.localtime(adjustment.waived_at)
    assert rows[title + 2][-3:] == [
        "Goodwill after the carrier outage",
        str(procurement),
        f"{waived_on:%Y-%m-%d %H:%M}",
    ]

    sheet = load_workbook(io.BytesIO(client.get(statement_export(statement, "xlsx")).content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    title = values.index(["Adjustments carried in", *[None] * (len(values[0]) - 1)])
    assert values[title + 2][2:4] == [0, -2500]
    assert values[title + 1][6:9] == ["Waiver", "Waived by", "Waived on"]
    assert values[title + 2][6:9] == [
        "Goodwill after the carrier outage",
        str(procurement),
        waived_on.replace(tzinfo=None, second=0, microsecond=0),
    ]

    pypdf = pytest.importorskip("pypdf")
    pdf = client.get(statement_export(statement, "pdf")).content
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Waived\n€0.00\n−€2,500.00 waived\n" in text  # the adjustment: status, amount, amount waived
    assert "Adjustments €0.00\n−€2,500.00 waived\n" in text
    assert "Waiver: Goodwill after the carrier outage" in text

    report = rows_of(client.get(report_export("csv")))
    row = next(row for row in report if row and row[0] == statement.contract.reference)
    assert (row[report[0].index("Adjustments")], row[report[0].index("Net")]) == ("0.00", "-1300.00")
