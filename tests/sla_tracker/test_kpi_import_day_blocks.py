"""Runs of interval rows summed at once (`Validator._sum_block`) give exactly what checking the rows one by
one gives: the same values to store, the same errors in the same order, the same counts."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.models import Contract
from sla_tracker.kpi_import.validation import FileRows, Validator
from tests.factories import VendorSiteFactory
from tests.sla_tracker.kpi_support import TODAY, voice_contract

pytestmark = pytest.mark.django_db

COUNTERS = [("Offered", "offered"), ("Answered", "answered"), ("Within 20 s", "answered_within_20s")]
SECONDS = [("Wait (s)", "total_wait_seconds")]

# Days inside the contract's term, one outside it, one after TODAY, and texts that are not dates.
DAYS = ["02/01/2025", "2025-01-03", "03/01/2025", "31/12/2024", "20/03/2025", "32/01/2025", ""]
# The same for a contract from 1 October 2024 in Paris, whose clocks went back on 27 October 2024: 02:00–02:45
# (quarter hours 8 to 11) came twice.
AUTUMN_DAYS = ["27/10/2024", "2024-10-27", "28/10/2024", "30/09/2024", "20/03/2025", "32/01/2025", ""]
GOOD_CELLS = st.one_of(st.integers(0, 5000).map(str), st.sampled_from(["0", "007", "1 234", "12,0", "12.0"]))
ODD_CELLS = st.sampled_from(
    [
        "",
        " ",
        " 12",
        "-3",
        "abc",
        "12,5",
        "12.5",
        "1.234",
        "1,234",
        "1 23",
        "12,34567",
        "١٢",
        "99999999999999999",
        "1e3",
    ]
)
SECOND_CELLS = st.one_of(
    st.integers(0, 10**6).map(str),
    st.builds(
        lambda whole, tenths: f"{whole:,}".replace(",", "\u00a0") + f",{tenths}",
        st.integers(0, 10**6),
        st.integers(0, 9),
    ),
    st.sampled_from(["14 523,4", "14523.4", "0,25", "1.234,5", "1,234.5", "3,14159", "12 34,5", "0007,50"]),
)
STARTS = st.integers(0, 80)  # the first quarter hour of a run
TIMES = st.one_of(
    st.integers(0, 95).map(lambda quarter: f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"),
    st.sampled_from(["", "08:15:30", "24:00", "8:15", "08:15:00"]),
)


def grouped(number: int) -> str:
    return f"{number:,}".replace(",", "\u00a0")


@st.composite
def clean_cells(draw, columns, decimal_comma, within_bounds):
    """Cells each accepted on its own: counts (kept within their bounds, or not: the day's sums are then
    refused), seconds with the file's decimal mark."""
    offered = draw(st.integers(0, 5000))
    answered = draw(st.integers(0, offered if within_bounds else 5000))
    within = draw(st.integers(0, answered if within_bounds else 5000))
    counts = {"offered": offered, "answered": answered, "answered_within_20s": within}
    cells = []
    for _header, code in columns:
        if code == "total_wait_seconds":
            mark = {True: ",", False: "."}.get(decimal_comma) or draw(st.sampled_from(",."))
            whole, tenths = draw(st.integers(0, 10**6)), draw(st.integers(0, 99))
            cells.append(draw(st.sampled_from([str(whole), grouped(whole), f"{grouped(whole)}{mark}{tenths}"])))
        else:
            cells.append(draw(st.sampled_from([str(counts[code]), grouped(counts[code])])))
    return cells


@st.composite
def interval_files(draw, days=DAYS, starts=STARTS, repeated=range(0)):
    """An interval file and its decimal mark: runs of a day's quarter hours; in three files out of four,
    now and then a repeated time, an empty or odd cell, a daily row, a refused date, a short row, a day
    that comes back later or a run given again; the fourth has none of these (each run its own quarter
    hours), though its counts may add up beyond their same-day bounds. `days`: three days in the term,
    then days that are refused; `starts`: the quarter hours the runs of the first three files start at;
    `repeated`: quarter hours the clocks give twice, which a run then lists again, now and then, as an
    ACD does (02:00…02:45, 02:00…02:45)."""
    clean = not draw(st.integers(0, 3))
    within_bounds = draw(st.integers(0, 3)) > 0
    decimal_comma = draw(st.sampled_from([True, False, None]))
    separate_time = draw(st.booleans())
    with_seconds = draw(st.booleans())
    columns = COUNTERS + (SECONDS if with_seconds else [])
    rows, runs = [], []
    for run in range(draw(st.integers(1, 5))):
        noisy_day = not clean and not draw(st.integers(0, 4))
        day = draw(st.sampled_from(days if noisy_day else days[:3]))
        start = run * 16 if clean else draw(starts)
        if runs and not clean and not draw(st.integers(0, 2)):
            day, start = draw(st.sampled_from(runs))  # a run given again, from its first quarter hour
        runs.append((day, start))
        time = None
        daily = not clean and not draw(st.integers(0, 5))  # a run of daily rows (no time)
        quarters = list(range(start, start + draw(st.integers(1, 12))))
        if (again := [quarter for quarter in quarters if quarter in repeated]) and draw(st.booleans()):
            after = quarters.index(again[-1]) + 1
            quarters[after:after] = again
        for quarter in quarters:
            kind = 2 if clean else draw(st.integers(0, 9))
            if daily:
                time = ""
            elif kind == 0:
                time = draw(TIMES)
            elif kind > 1 or time is None:  # else the previous row's time again
                time = f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"
            if clean:
                cells = draw(clean_cells(columns, decimal_comma, within_bounds))
            else:
                cells = []
                for _header, code in columns:
                    odd = not draw(st.integers(0, 14))
                    if code == "total_wait_seconds":
                        cells.append(draw(ODD_CELLS if odd else SECOND_CELLS))
                    else:
                        cells.append(draw(ODD_CELLS if odd else GOOD_CELLS))
                if not draw(st.integers(0, 29)):
                    cells = cells[:-1]  # a short row
            date_cells = [day, time] if separate_time else [f"{day} {time}".strip()]
            rows.append(date_cells + cells)
    return separate_time, columns, rows, decimal_comma


def check(contract, separate_time, columns, rows, *, decimal_comma, blocks):
    offset = 2 if separate_time else 1
    source = FileRows(
        rows=iter([(number, list(cells)) for number, cells in enumerate(rows, start=2)]),
        date_index=0,
        date_column="Date",
        columns=[(offset + index, header, code) for index, (header, code) in enumerate(columns)],
        time_index=1 if separate_time else None,
        time_column="Time" if separate_time else None,
    )
    validator = Validator(contract=contract, today=TODAY, decimal_comma=decimal_comma)
    validator.sums_day_blocks = blocks
    checked = list(validator.check_rows(source))
    validator.finish()  # the same-day bounds, as the import checks them after the rows
    return {
        "values": checked,
        "errors": [(str(issue.message), issue.row, issue.column, issue.value) for issue in validator.issues],
        "counts": (validator.error_count, validator.value_count),
        "days": (validator.months, validator.first_day, validator.last_day),
    }


def contract_in_term():
    contract = Contract.objects.filter(reference="BLOCKS").first()
    return contract or voice_contract(reference="BLOCKS", start_date=datetime.date(2025, 1, 1))


def contract_in_paris_from_october():
    contract = Contract.objects.filter(reference="BLOCKS-DST").first()
    if contract is None:
        contract = voice_contract(reference="BLOCKS-DST", start_date=datetime.date(2024, 10, 1))
        contract.scopes.update(site=VendorSiteFactory(vendor=contract.vendor, time_zone="Europe/Paris"))
    return contract


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interval_files())
def test_summing_runs_at_once_gives_what_checking_row_by_row_gives(file):
    contract = contract_in_term()
    separate_time, columns, rows, decimal_comma = file
    at_once = check(contract, separate_time, columns, rows, decimal_comma=decimal_comma, blocks=True)
    row_by_row = check(contract, separate_time, columns, rows, decimal_comma=decimal_comma, blocks=False)
    assert at_once == row_by_row


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interval_files(days=AUTUMN_DAYS, starts=st.one_of(STARTS, st.integers(4, 11)), repeated=range(8, 12)))
def test_on_the_day_the_clocks_go_back_summing_runs_at_once_gives_what_checking_row_by_row_gives(file):
    """The repeated quarter hours may come twice: within a run, in two runs, or a third time."""
    contract = contract_in_paris_from_october()
    separate_time, columns, rows, decimal_comma = file
    at_once = check(contract, separate_time, columns, rows, decimal_comma=decimal_comma, blocks=True)
    row_by_row = check(contract, separate_time, columns, rows, decimal_comma=decimal_comma, blocks=False)
    assert at_once == row_by_row


def test_a_clean_interval_file_is_summed_without_checking_each_row(monkeypatch):
    """The runs of a well-formed file never reach the row-by-row checks, and their sums are right."""
    contract = contract_in_term()

    def row_by_row(*args, **kwargs):
        raise AssertionError("a row of a clean run was checked on its own")

    monkeypatch.setattr(Validator, "_row_day", row_by_row)
    rows = [
        [f"02/01/2025 {quarter // 4:02d}:{quarter % 4 * 15:02d}", "10", "9", "8", "1\u00a0234,5"]
        for quarter in range(96)
    ]
    result = check(contract, False, COUNTERS + SECONDS, rows, decimal_comma=True, blocks=True)
    assert result["errors"] == []
    ((period, pairs),) = result["values"]
    assert period.day == datetime.date(2025, 1, 2)
    codes = {counter.id: code for code, counter in Validator(contract=contract, today=TODAY).counters.items()}
    assert {codes[counter_id]: text for counter_id, text in pairs} == {
        "offered": "960",
        "answered": "864",
        "answered_within_20s": "768",
        "total_wait_seconds": "118512",
    }


def quarter_hours(first: int, last: int) -> list[str]:
    return [f"{quarter // 4:02d}:{quarter % 4 * 15:02d}" for quarter in range(first, last)]


@pytest.mark.parametrize("split", [None, 10, 14])
def test_the_autumn_days_repeated_hour_is_summed_at_once_in_one_run_or_across_two(monkeypatch, split):
    """100 quarter hours, 02:00–02:45 twice, in one run or in two (cut within the repeated hour, or after it,
    by a row of another day): never checked row by row, every row summed."""
    contract = contract_in_paris_from_october()
    monkeypatch.setattr(Validator, "_row_day", lambda *args, **kwargs: pytest.fail("a row was checked on its own"))
    times = quarter_hours(0, 12) + quarter_hours(8, 96)
    rows = [[f"27/10/2024 {time}", str(number), str(number), "1"] for number, time in enumerate(times, start=1)]
    if split:
        # Another day's run between the two parts.
        rows[split:split] = [["28/10/2024 00:00", "5", "5", "1"], ["28/10/2024 00:15", "5", "5", "1"]]
    result = check(contract, False, COUNTERS, rows, decimal_comma=True, blocks=True)
    assert result["errors"] == []
    sums = {period.day: sorted(text for _counter_id, text in pairs) for period, pairs in result["values"]}
    assert sums[datetime.date(2024, 10, 27)] == ["100", "5050", "5050"]


@pytest.mark.parametrize(
    ("times", "refused_row"),
    [
        (quarter_hours(0, 12) + quarter_hours(8, 96) + ["02:15"], 102),  # a third 02:15, in the same run
        (quarter_hours(0, 12) + quarter_hours(8, 96) + ["05:00"], 102),  # 05:00 twice
        ([*quarter_hours(0, 96), "02:30", "02:30"], 99),  # the second time of 02:30 is accepted, not the third
    ],
)
def test_a_run_with_a_time_given_once_too_often_is_refused_once_by_the_row_by_row_checks(times, refused_row):
    contract = contract_in_paris_from_october()
    rows = [[f"27/10/2024 {time}", "1", "1", "1"] for time in times]
    at_once = check(contract, False, COUNTERS, rows, decimal_comma=True, blocks=True)
    assert at_once == check(contract, False, COUNTERS, rows, decimal_comma=True, blocks=False)
    assert [(row, column) for _message, row, column, _value in at_once["errors"]] == [
        (refused_row, header) for header, _code in COUNTERS
    ]


def test_a_run_giving_repeated_times_a_third_time_after_other_runs_is_refused_row_by_row():
    """The day's 100 quarter hours, another day, then a run of 02:15 and 02:30 again: their third times."""
    contract = contract_in_paris_from_october()
    rows = [[f"27/10/2024 {time}", "1", "1", "1"] for time in quarter_hours(0, 12) + quarter_hours(8, 96)]
    rows += [["28/10/2024 00:00", "5", "5", "1"], ["28/10/2024 00:15", "5", "5", "1"]]
    rows += [["27/10/2024 02:15", "1", "1", "1"], ["27/10/2024 02:30", "1", "1", "1"]]
    at_once = check(contract, False, COUNTERS, rows, decimal_comma=True, blocks=True)
    assert at_once == check(contract, False, COUNTERS, rows, decimal_comma=True, blocks=False)
    assert [(row, column) for _message, row, column, _value in at_once["errors"]] == [
        (row, header) for row in (104, 105) for header, _code in COUNTERS
    ]
