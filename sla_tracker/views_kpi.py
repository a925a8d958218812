"""Web pages of KPI data logging: the vendor manager's workspace, the KPI pack upload flow (upload →
mapping → preview → import), the hand-entry grid of a month with its data history, the month's
recompute, and the vendor portal's action items and findings.

The pages drive the same services as the API (sla_tracker.api.kpi): preview_upload, import_upload
and save_measurements, so a file, a grid and an API call are validated alike. Which contracts a
user may log data for, and which they may only read (the workspace, the grid without its inputs and
the history), is decided by kpi_import.access (built on accounts.scoping); every other queryset goes
through accounts.scoping.restrict. A contract or upload outside those is a 404.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from celery.result import AsyncResult
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import BooleanField, Case, IntegerField, Prefetch, Q, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from accounts.choices import Role
from accounts.scoping import restrict
from audits.choices import FindingStatus
from audits.models import Finding
from contracts.filtersets import ContractFilterSet
from contracts.models import Contract
from contracts.months import add_months, first_of_month, last_day_of_month, month_label, parse_month
from governance.choices import ActionStatus
from governance.models import ActionItem
from governance.selectors import open_action_items
from sla_tracker.choices import ComputationCause, MeasurementSource, UploadStatus
from sla_tracker.completeness import completeness, counters_in_use
from sla_tracker.kpi_import.access import (
    VIEW_MEASUREMENTS,
    contract_for_kpi_entry,
    contracts_for_kpi_correction,
    contracts_for_kpi_entry,
    contracts_for_kpi_reading,
    may_not_log,
)
from sla_tracker.kpi_import.mapping import ResolvedMapping, counters_mapped_twice
from sla_tracker.kpi_import.parsing import parse_number, parse_period, split_time
from sla_tracker.kpi_import.readers import UnreadableFile, open_table
from sla_tracker.kpi_import.reasons import readable_errors, readable_reason
from sla_tracker.kpi_import.service import (
    CORRECTION_REASON_MAX_LENGTH,
    MAPPABLE_STATUSES,
    KpiDataRejected,
    check_may_import,
    file_values,
    import_upload,
    map_upload,
    preview_upload,
    retry_import,
    save_measurements,
)
from sla_tracker.kpi_import.tasks import ASYNC_ROW_THRESHOLD, queue_import, refused_import
from sla_tracker.kpi_import.validation import LOCKED_STATUSES, KpiValue
from sla_tracker.models import (
    ColumnMapping,
    KpiCounter,
    KpiUpload,
    Measurement,
    MeasurementChange,
    PenaltyStatement,
)
from sla_tracker.tasks import evaluate_contract_month
from sla_tracker.views import CHANGE_STATEMENTS, visible_statements

logger = logging.getLogger(__name__)

KPI_ROLES = (Role.ADMINISTRATOR, Role.VENDOR_MANAGER, Role.VENDOR_USER)
RECENT_UPLOADS = 10
WORKSPACE_PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 200
RECOMPUTE_RESULT_SECONDS = 3600
WHOLE_MONTH_ROW = 0
# What the readers take (a CSV may be named .tsv or .txt; an .xlsm is an .xlsx with macros, never run).
ACCEPTED_EXTENSIONS = ".csv,.tsv,.txt,.xlsx,.xlsm"


def _require_kpi_reader(user) -> None:
    """The KPI pages are for the roles that log data, and for those that read it (procurement…)."""
    if not (user.is_superuser or user.role in KPI_ROLES or user.has_perm(VIEW_MEASUREMENTS)):
        raise PermissionDenied


def _entry_contract(user, pk: int) -> Contract:
    return get_object_or_404(contracts_for_kpi_entry(user).select_related("vendor"), pk=pk)


def _readable_contract(user, pk: int) -> tuple[Contract, bool]:
    """A contract whose KPI data ``user`` may read (404 otherwise), and whether they may also log it."""
    contract = get_object_or_404(contracts_for_kpi_reading(user).select_related("vendor"), pk=pk)
    return contract, contracts_for_kpi_entry(user).filter(pk=contract.pk).exists()


def _month_or_404(text: str) -> datetime.date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise Http404 from exc


# The workspace ----------------------------------------------------------------------------------------


@login_required
@require_GET
def workspace(request):
    """The user's contracts with their data completeness for this month and the previous one, a page
    of WORKSPACE_PAGE_SIZE at a time (completeness is computed for that page only), searchable as the
    contract register is (reference, title or vendor)."""
    _require_kpi_reader(request.user)
    today = timezone.localdate()
    current = first_of_month(today)
    months = [current, add_months(current, -1)]
    search = request.GET.get("q", "").strip()
    readable = contracts_for_kpi_reading(request.user).select_related("vendor")
    found = ContractFilterSet(data={"q": search}, queryset=readable).qs.order_by("reference")
    page = Paginator(found, WORKSPACE_PAGE_SIZE).get_page(request.GET.get("page"))
    contracts = list(page)
    status = completeness(request.user, contracts, months, today)
    writable = set(
        contracts_for_kpi_entry(request.user)
        .filter(pk__in=[contract.pk for contract in contracts])
        .values_list("pk", flat=True)
    )
    rows = [
        {
            "contract": contract,
            "months": [status[(contract.pk, month)] for month in months],
            "writable": contract.pk in writable,
        }
        for contract in contracts
    ]
    uploads = (
        restrict(KpiUpload.objects.all(), request.user)
        .filter(contract__in=contracts_for_kpi_entry(request.user))
        .select_related("contract", "uploaded_by")
        .order_by("-created_at")[:RECENT_UPLOADS]
    )
    return render(
        request,
        "sla_tracker/kpi/workspace.html",
        {
            "rows": rows,
            "months": months,
            "page": page,
            "search": search,
            "uploads": list(uploads),
            "can_recompute": request.user.has_perm(CHANGE_STATEMENTS),
            "current_month": current,  # not over: no statement yet
            "task": _recompute_task_from_query(request, {contract.pk for contract in contracts}),
            "active_section": "kpi",
        },
    )


# Recomputing a month ------------------------------------------------------------------------------------


def _recompute_key(task_id: str) -> str:
    return f"kpi-recompute:{task_id}"


def _enqueue_recompute(contract_id: int, month: str, task_id: str) -> None:
    """Queue the close; an eager run (development, tests) leaves its outcome where the status reads it."""
    try:
        result = evaluate_contract_month.apply_async((contract_id, month, ComputationCause.ON_REQUEST), task_id=task_id)
    except Exception as exc:
        logger.exception("recomputing contract %s, %s failed", contract_id, month)
        cache.set(_recompute_key(task_id), {"state": "FAILURE", "result": str(exc)}, RECOMPUTE_RESULT_SECONDS)
        return
    if result.ready():
        cache.set(
            _recompute_key(task_id), {"state": result.state, "result": str(result.result)}, RECOMPUTE_RESULT_SECONDS
        )


@login_required
@require_POST
def recompute(request, pk: int):
    """Recompute one month of a contract's penalty statement through the Celery task, after commit."""
    contract = _entry_contract(request.user, pk)
    if not request.user.has_perm(CHANGE_STATEMENTS):
        raise PermissionDenied
    month_start = _month_or_404(request.POST.get("month", ""))
    month = month_label(month_start)
    month_name = date_format(month_start, "YEAR_MONTH_FORMAT")  # "October 2026", as the pages name a month
    if month_start >= first_of_month(timezone.localdate()):
        messages.error(
            request,
            format_lazy(
                _("{month} is not over: its statement is computed once the month has ended."), month=month_name
            ),
        )
        return redirect("sla_tracker:kpi-workspace")
    task_id = str(uuid.uuid4())
    transaction.on_commit(lambda: _enqueue_recompute(contract.pk, month, task_id))
    messages.info(
        request, format_lazy(_("Recomputing {contract} for {month}."), contract=contract.reference, month=month_name)
    )
    return redirect(f"{reverse('sla_tracker:kpi-workspace')}?task={task_id}&contract={contract.pk}&month={month}")


def _recompute_task_from_query(request, contract_ids: set[int]) -> dict | None:
    try:
        task = {
            "id": str(uuid.UUID(request.GET.get("task", ""))),
            "contract": int(request.GET.get("contract", "")),
            "month": month_label(parse_month(request.GET.get("month", ""))),
        }
    except ValueError:
        return None
    return task if task["contract"] in contract_ids else None


@login_required
@require_GET
def recompute_status(request, pk: int, month: str, task_id: uuid.UUID):
    """The state of a recompute task (polled by the workspace): queued, running, done or failed."""
    contract = _entry_contract(request.user, pk)
    month_start = _month_or_404(month)
    outcome = cache.get(_recompute_key(str(task_id)))
    # In-process (eager) tasks leave their outcome in the cache above; a worker's, in the result backend.
    if outcome is None and settings.CELERY_RESULT_BACKEND and not settings.CELERY_TASK_ALWAYS_EAGER:
        result = AsyncResult(str(task_id))
        outcome = {"state": result.state, "result": str(result.result) if result.ready() else ""}
    state = (outcome or {}).get("state", "PENDING")
    detail = (outcome or {}).get("result", "")
    failed = state == "FAILURE" or detail.startswith("not closed")
    statement = None
    if state == "SUCCESS":
        statement = visible_statements(request.user).filter(contract=contract, month=month_start).first()
    # An approved or invoiced statement is not recomputed in place: a difference becomes an adjustment.
    locked = statement is not None and statement.is_locked
    return render(
        request,
        "sla_tracker/kpi/_recompute_status.html",
        {
            "contract": contract,
            "month": month_label(month_start),
            "month_name": date_format(month_start, "YEAR_MONTH_FORMAT"),
            "task_id": task_id,
            "state": state,
            "finished": state in ("SUCCESS", "FAILURE"),
            "failed": failed,
            "detail": detail.removeprefix("not closed: ") if failed else "",
            "statement": statement,
            "locked": locked,
        },
    )


# Uploading a KPI pack -----------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("KPI pack (CSV or Excel)"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ACCEPTED_EXTENSIONS}),
    )
    mapping = forms.ModelChoiceField(
        label=_("Saved column mapping"),
        queryset=ColumnMapping.objects.none(),
        required=False,
        empty_label=_("Recognise the layout"),
        widget=forms.Select(attrs={"class": "form-select"}),
        help_text=_("A new layout is recognised from its headers; you confirm its mapping once."),
    )
    correction_reason = forms.CharField(
        label=_("Reason, if the file corrects months whose statement is approved"),
        required=False,
        max_length=CORRECTION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
        help_text=_(
            "Leave empty for new data. With a reason, the file may change months whose penalty statement is "
            "approved or invoiced: those statements stay as they are, and the differences in credits are carried "
            "into the next open statement as adjustments."
        ),
    )

    def __init__(self, *args, contract: Contract, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].queryset = restrict(ColumnMapping.objects.filter(contract=contract), user).order_by(
            "name"
        )
        if not contracts_for_kpi_correction(user).filter(pk=contract.pk).exists():
            del self.fields["correction_reason"]  # the vendor's users contest a figure through a dispute


def _get_upload(user, pk: int) -> KpiUpload:
    return get_object_or_404(
        restrict(KpiUpload.objects.all(), user)
        .filter(contract__in=contracts_for_kpi_entry(user))
        .select_related("contract__vendor", "retried_by"),
        pk=pk,
    )


def _after_preview(upload: KpiUpload):
    if upload.status == UploadStatus.NEEDS_MAPPING:
        return redirect("sla_tracker:kpi-upload-mapping", pk=upload.pk)
    return redirect("sla_tracker:kpi-upload", pk=upload.pk)


def error_groups(errors: list[dict]) -> list[dict]:
    """Readable errors (`readable_errors`, in row order) grouped by row: those of the whole file first."""
    groups: list[dict] = []
    for error in errors:
        if not groups or groups[-1]["row"] != error["row"]:
            groups.append({"row": error["row"], "errors": []})
        groups[-1]["errors"].append(error)
    return groups


def refusal_report(name: str, errors: list[dict], error_count: int, preview: dict | None = None) -> dict:
    """What the pages show of a refused pack (`_upload_errors.html`): its errors as stored, grouped by row."""
    preview = preview or {}
    return {
        "name": name,
        "groups": error_groups(readable_errors(errors)),
        "error_count": error_count,
        "more_errors": max(0, error_count - len(errors)),
        "sheet": preview.get("sheet"),
        "header_row": preview.get("header_row"),
    }


def _refused_report(user, upload_id: int, contract: Contract | None = None) -> dict | None:
    """The report of an upload whose import the task refused (and removed), if ``user`` logs the data of its
    contract (``contract``, when given)."""
    refusal = refused_import(upload_id)
    if refusal is None or (contract is not None and refusal["contract"] != contract.pk):
        return None
    if not contracts_for_kpi_entry(user).filter(pk=refusal["contract"]).exists():
        return None
    return {
        **refusal_report(refusal["name"], refusal["errors"], refusal["error_count"]),
        "contract": refusal["contract"],
    }


def _refused_url(contract_id: int, upload_id: int) -> str:
    return f"{reverse('sla_tracker:kpi-upload-new', args=[contract_id])}?refused={upload_id}"


def _upload_form_page(request, contract: Contract, form: UploadForm, refusal: dict | None = None):
    return render(
        request,
        "sla_tracker/kpi/upload_form.html",
        {"contract": contract, "form": form, "refusal": refusal, "active_section": "kpi"},
    )


@login_required
def upload_new(request, pk: int):
    """Step 1: the file (and a saved mapping if the user picks one). A valid pack is stored for its preview
    (or its mapping); a refused one is not: the form lists its errors, to correct the file and send it
    again. ``?refused=<upload id>`` lists those of an import the task refused. A contract the user sees but
    does not log data for is refused with that reason (403), another is a 404."""
    try:
        contract = contract_for_kpi_entry(request.user, pk)
    except Contract.DoesNotExist:
        raise Http404 from None
    form = UploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        contract=contract,
        user=request.user,
    )
    refusal = None
    refused_id = request.GET.get("refused", "")
    if request.method == "GET" and refused_id.isascii() and refused_id.isdigit():
        refusal = _refused_report(request.user, int(refused_id), contract)
    if request.method == "POST" and form.is_valid():
        mapping = form.cleaned_data["mapping"]
        file = form.cleaned_data["file"]
        try:
            upload = preview_upload(
                contract=contract,
                file=file,
                actor=request.user,
                original_name=file.name,
                mapping_name=mapping.name if mapping else None,
                correction_reason=form.cleaned_data.get("correction_reason", ""),
                mapping_step=True,
            )
        except KpiDataRejected as rejected:
            refusal = refusal_report(file.name, rejected.stored_errors(), rejected.error_count, rejected.preview)
        except UnreadableFile as error:
            form.add_error("file", error.message)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            return _after_preview(upload)
    return _upload_form_page(request, contract, form, refusal)


IGNORE = ""


class MappingForm(forms.Form):
    """One select per column of the file: which counter it holds, or ignore it; the date column, and the
    time column of an interval file that gives the time of day in its own column."""

    name = forms.CharField(
        label=_("Name of this layout"),
        max_length=90,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text=_("The mapping is saved for the contract under this name when the file is imported."),
    )

    def __init__(self, *args, headers: list[str], counters: list[KpiCounter], initial_mapping: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = [header for header in headers if header]
        self.fields["date_column"] = forms.ChoiceField(
            label=_("Date column"),
            choices=[(header, header) for header in self.headers],
            initial=initial_mapping.get("date_column"),
            widget=forms.Select(attrs={"class": "form-select"}),
        )
        self.fields["time_column"] = forms.ChoiceField(
            label=_("Time column (interval files)"),
            choices=[("", _("None: daily values, or the time is in the date")), *self.fields["date_column"].choices],
            initial=initial_mapping.get("time_column") or "",
            required=False,
            widget=forms.Select(attrs={"class": "form-select"}),
        )
        choices = [(IGNORE, _("Ignore this column")), *((c.code, f"{c.code} – {c.name}") for c in counters)]
        columns = {**(initial_mapping.get("suggested_columns") or {}), **(initial_mapping.get("columns") or {})}
        for index, header in enumerate(self.headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header,
                choices=choices,
                required=False,
                initial=columns.get(header, IGNORE),
                widget=forms.Select(attrs={"class": "form-select form-select-sm", "data-header": header}),
            )
        if not self.initial.get("name"):
            self.fields["name"].initial = initial_mapping.get("name") or ""

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    def clean(self):
        data = super().clean()
        date_column, time_column = data.get("date_column"), data.get("time_column") or None
        if time_column and time_column == date_column:
            raise ValidationError(_("The time column cannot be the date column."))
        for index, header in enumerate(self.headers):
            if header in (date_column, time_column) and data.get(f"column_{index}"):
                self.add_error(
                    f"column_{index}",
                    format_lazy(_("“{header}” holds the dates or times: it cannot hold a counter."), header=header),
                )
        columns = {
            header: data.get(f"column_{index}") or None
            for index, header in enumerate(self.headers)
            if header not in (date_column, time_column)
        }
        used = [code for code in columns.values() if code]
        if not used:
            raise ValidationError(_("Map at least one column to a counter."))
        if errors := counters_mapped_twice(columns):
            raise ValidationError(errors)
        data["mapping"] = {
            "date_column": date_column,
            "time_column": time_column,
            "columns": columns,
            "name": data.get("name") or "",
        }
        return data


@login_required
def upload_mapping(request, pk: int):
    """Step 2 (a new layout only, or a mapping that leaves columns unread): confirm the suggested mapping; the
    file is checked again with it and the upload becomes the mapped upload, validated (map_upload). A refusal
    changes nothing: the page lists the errors, and the upload waits for another mapping (or the user sends a
    corrected file). An upload imported, importing, failed or queued for its import is not mapped again."""
    upload = _get_upload(request.user, pk)
    preview = upload.preview or {}
    if not preview.get("headers") or upload.status not in MAPPABLE_STATUSES or upload.task_id:
        return redirect("sla_tracker:kpi-upload", pk=upload.pk)
    form = MappingForm(
        request.POST if request.method == "POST" else None,
        headers=preview["headers"],
        counters=list(KpiCounter.in_scope_of(upload.contract).order_by("channel", "code")),
        initial_mapping=preview.get("mapping") or {},
    )
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            checked = map_upload(upload=upload, mapping=form.cleaned_data["mapping"], actor=request.user)
        except KpiDataRejected as rejected:
            refusal = refusal_report(
                upload.original_name, rejected.stored_errors(), rejected.error_count, rejected.preview
            )
        except UnreadableFile as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        except PermissionDenied as refused:  # a correction, mapped by who may not correct the contract
            form.add_error(None, str(refused))
        else:
            return _after_preview(checked)
    return render(
        request,
        "sla_tracker/kpi/upload_mapping.html",
        {
            "upload": upload,
            "contract": upload.contract,
            "form": form,
            # Why the stored mapping needs the user, e.g. the columns it leaves unmapped: a submitted form maps
            # or ignores each column, so once it is refused for another reason that notice is out of date.
            "mapping_needed": "" if form.is_bound else readable_reason(preview.get("mapping_needed")),
            "refusal": refusal,
            "active_section": "kpi",
        },
    )


@dataclass
class MonthCounterTotal:
    month: str
    code: str
    values: int = 0
    name: str = ""  # the counter's name, shown beside its code (upload_detail: one query for the preview's counters)
    total: Decimal = Decimal(0)
    # The values of the contract already stored for the file's days of that month and counter (or for the
    # month, a whole-month value in the file): the ones the import replaces (save_measurements: by day, or
    # by month for a whole-month value). The month's other stored values stay.
    stored: int = 0
    stored_total: Decimal = Decimal(0)
    periods: set[datetime.date | None] = field(default_factory=set, repr=False)  # the file's days; None: the month

    @property
    def first_day(self) -> datetime.date:
        return parse_month(self.month)


def values_by_month(upload: KpiUpload) -> list[MonthCounterTotal] | None:
    """How many values, and their sum, the file holds per month and counter, with the stored values its
    import replaces (None for a large file, whose preview shows its months and counters only: reading it
    again would hold up the page)."""
    mapping_data = upload.preview.get("mapping") or {}
    if upload.rows_total > ASYNC_ROW_THRESHOLD or not mapping_data.get("date_column") or not upload.file:
        return None
    mapping = ResolvedMapping(date_column=mapping_data["date_column"], columns=mapping_data.get("columns") or {})
    totals: dict[tuple[str, str], MonthCounterTotal] = {}
    try:
        with upload.file.open("rb") as stored, open_table(stored) as table:
            for item in file_values(table, mapping):
                try:
                    month, day = parse_period(split_time(item.period)[0])
                    number = parse_number(item.value, decimal_comma=table.decimal_comma)
                except ValueError:
                    continue
                key = (f"{month:%Y-%m}", item.counter)
                entry = totals.setdefault(key, MonthCounterTotal(*key))
                entry.values += 1
                entry.total += number
                entry.periods.add(day)  # the day of an interval value: its day's sum is stored
    except (UnreadableFile, OSError, ValueError):
        return None
    stored = Measurement.objects.filter(
        contract=upload.contract,
        month__in=sorted({parse_month(month) for month, _code in totals}),
        counter__code__in=sorted({code for _month, code in totals}),
    ).values_list("month", "day", "counter__code", "value")
    for month, day, code, value in stored:
        entry = totals.get((f"{month:%Y-%m}", code))
        if entry is not None and day in entry.periods:
            entry.stored += 1
            entry.stored_total += value
    return [totals[key] for key in sorted(totals)]


@login_required
@require_GET
def upload_detail(request, pk: int):
    """Step 3 and 4: the values found, the Import button; then the progress of the import and its result.
    Once the task refused the import (and removed the upload), the upload form lists the errors."""
    try:
        upload = _get_upload(request.user, pk)
    except Http404:
        if refused := _refused_report(request.user, pk):
            return redirect(_refused_url(refused["contract"], pk))
        raise
    preview = upload.preview or {}
    imported_months = []
    if upload.status in (UploadStatus.VALIDATED, UploadStatus.IMPORTED):
        imported_months = [parse_month(month) for month in preview.get("months", [])]
    totals = values_by_month(upload) if upload.status == UploadStatus.VALIDATED else None
    # The counters' names beside their codes, in one query for the preview's counters and its totals' rows.
    codes = sorted({*preview.get("counters", ()), *(total.code for total in totals or ())})
    names = dict(KpiCounter.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    for total in totals or ():
        total.name = names.get(total.code, "")
    first_day, last_day = (preview.get(key) for key in ("first_day", "last_day"))
    return render(
        request,
        "sla_tracker/kpi/upload_detail.html",
        {
            "upload": upload,
            "contract": upload.contract,
            "preview": preview,
            "mapping": preview.get("mapping") or {},
            "totals": totals,
            "counters": [{"code": code, "name": names.get(code, "")} for code in preview.get("counters", ())],
            "replaces_stored": any(total.stored for total in totals or ()),
            "months": imported_months,
            "first_day": datetime.date.fromisoformat(first_day) if first_day else None,
            "last_day": datetime.date.fromisoformat(last_day) if last_day else None,
            # Uploads refused before refused packs stopped being stored keep their report.
            "refusal": refusal_report(upload.original_name, upload.errors, upload.error_count)
            if upload.errors
            else None,
            "mapping_needed": readable_reason(preview.get("mapping_needed")),
            "result": preview.get("result"),
            "in_background": upload.rows_total > ASYNC_ROW_THRESHOLD,
            "active_section": "kpi",
        },
    )


@login_required
@require_POST
def upload_import(request, pk: int):
    """Import a validated upload: large files as the Celery task (the page then shows its progress). A
    refused import writes nothing and removes the upload: the upload form lists the errors."""
    upload = _get_upload(request.user, pk)
    if upload.status == UploadStatus.IMPORTED:
        return redirect("sla_tracker:kpi-upload", pk=upload.pk)
    if upload.status != UploadStatus.VALIDATED:
        messages.error(request, _("Only a validated upload can be imported; upload a corrected file."))
        return redirect("sla_tracker:kpi-upload", pk=upload.pk)
    try:
        check_may_import(upload, request.user)
    except PermissionDenied as refused:
        messages.error(request, str(refused))
        return redirect("sla_tracker:kpi-upload", pk=upload.pk)
    return _import(request, upload)


def _import(request, upload: KpiUpload):
    """Import a validated upload now, or a large one as the Celery task; a refusal (the upload removed) goes
    to the upload form that lists the errors."""
    if upload.rows_total > ASYNC_ROW_THRESHOLD:
        queue_import(upload, request.user)
        messages.info(request, _("The import runs in the background; this page shows its progress."))
        return redirect("sla_tracker:kpi-upload", pk=upload.pk)
    try:
        import_upload(upload=upload, actor=request.user)
    except KpiDataRejected as rejected:
        return _refused_on_the_form(request, upload, rejected)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The KPI pack was imported."))
    return redirect("sla_tracker:kpi-upload", pk=upload.pk)


def _refused_on_the_form(request, upload: KpiUpload, rejected: KpiDataRejected):
    form = UploadForm(contract=upload.contract, user=request.user)
    refusal = refusal_report(upload.original_name, rejected.stored_errors(), rejected.error_count)
    return _upload_form_page(request, upload.contract, form, refusal)


@login_required
@require_POST
def upload_retry(request, pk: int):
    """Run a failed import again: the file is checked again against the contract's data as it is now, then
    imported as from the Import button. Checked and refused now, the upload is removed and the upload form
    lists the errors."""
    upload = _get_upload(request.user, pk)
    try:
        upload = retry_import(upload=upload, actor=request.user)
    except KpiDataRejected as rejected:
        return _refused_on_the_form(request, upload, rejected)
    except PermissionDenied as refused:
        messages.error(request, str(refused))
        return redirect("sla_tracker:kpi-upload", pk=upload.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("sla_tracker:kpi-upload", pk=upload.pk)
    return _import(request, upload)


@login_required
@require_GET
def upload_progress(request, pk: int):
    """The import's progress (polled every two seconds); once it is over the page reloads with the result,
    or, once the task refused it (and removed the upload), goes to the upload form that lists the errors."""
    try:
        upload = _get_upload(request.user, pk)
    except Http404:
        if refused := _refused_report(request.user, pk):
            response = HttpResponse("")
            response["HX-Redirect"] = _refused_url(refused["contract"], pk)
            return response
        raise
    if upload.status not in (UploadStatus.VALIDATED, UploadStatus.IMPORTING):
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    percent = upload.rows_done * 100 // upload.rows_total if upload.rows_total else 0
    return render(request, "sla_tracker/kpi/_upload_progress.html", {"upload": upload, "percent": percent})


# The hand-entry grid of a month -----------------------------------------------------------------------


def _cell_name(code: str, row: int) -> str:
    return f"v-{code}-{row}"


def _plain_value(value: Decimal | None) -> str:
    """A stored value as the user types it: no grouping, the decimal mark of the interface's language."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if _decimal_comma() else text


def _decimal_comma() -> bool:
    return (get_language() or "en").startswith("fr")


def grid_counters(user, contract: Contract, month: datetime.date, stored_codes: set[str]) -> list[KpiCounter]:
    """The counters the service levels use that month, and any other with a stored value (so nothing
    stored is hidden), in one query beside the versions' one."""
    codes = counters_in_use(user, [contract.pk], [month])[month].get(contract.pk, set()) | stored_codes
    return list(KpiCounter.objects.filter(code__in=codes).order_by("channel", "code"))


@login_required
def month_grid(request, pk: int, month: str):
    """Days × counters of one contract and month, pre-filled; only the changed cells are sent to
    save_measurements, all or nothing, and its errors are shown next to their cells. A user who only
    reads the contract's data sees the values without inputs, and may not post.

    A month whose statement is approved or invoiced is read-only, except in correction mode
    (``?correct=1``, for who may correct it): the cells are editable and a reason is required; the
    difference in credits is carried into the next open statement (save_measurements)."""
    contract, writable = _readable_contract(request.user, pk)
    if request.method == "POST" and not writable:
        raise PermissionDenied(may_not_log(contract))
    month_start = _month_or_404(month)
    today = timezone.localdate()
    stored = {
        (code, day.day if day else WHOLE_MONTH_ROW): value
        for code, day, value in restrict(Measurement.objects.all(), request.user)
        .filter(contract=contract, month=month_start)
        .values_list("counter__code", "day", "value")
    }
    counters = grid_counters(request.user, contract, month_start, {code for code, _row in stored})
    locked = (
        restrict(PenaltyStatement.objects.all(), request.user)
        .filter(contract=contract, month=month_start, status__in=LOCKED_STATUSES)
        .first()
    )
    may_correct = (
        locked is not None and writable and contracts_for_kpi_correction(request.user).filter(pk=contract.pk).exists()
    )
    correcting = may_correct and request.GET.get("correct") == "1"
    # The grid of a month whose statement was approved since the page was opened: nothing is saved, and the page
    # says why (the month's notice, and the correction for who may make it) rather than refuse the role.
    stale = request.method == "POST" and locked is not None and request.GET.get("correct") != "1"
    if request.method == "POST" and locked is not None and not correcting and not stale:
        raise PermissionDenied
    days = [
        month_start + datetime.timedelta(days=offset)
        for offset in range((last_day_of_month(month_start) - month_start).days + 1)
    ]
    rows = [(WHOLE_MONTH_ROW, None), *((day.day, day) for day in days)]
    open_for_entry = writable and (locked is None or correcting)
    last_entry_day = min(today, contract.last_day_of_service)
    # The rows the page offers inputs for: the browser posts only those (a disabled input is not sent).
    editable_rows = {
        row
        for row, day in rows
        if open_for_entry and (month_start <= today if day is None else contract.start_date <= day <= last_entry_day)
    }
    cell_errors: dict[tuple, list[str]] = defaultdict(list)
    form_errors: list[str] = [_("Nothing was saved.")] if stale else []
    posted = request.POST if request.method == "POST" and not stale else None
    to_confirm = 0
    correction_reason = posted.get("correction_reason", "").strip() if posted is not None else ""
    reason_error = ""
    if posted is not None:
        values = []
        for row, day in rows:
            if row not in editable_rows:
                continue
            for counter in counters:
                text = posted.get(_cell_name(counter.code, row), "").strip()
                if text == _plain_value(stored.get((counter.code, row))):
                    continue
                values.append(
                    KpiValue(
                        counter=counter.code,
                        period=day or month_start.strftime("%Y-%m"),
                        value=text or None,
                        row=row,
                        column=counter.code,
                    )
                )
        if not values:
            messages.info(request, _("Nothing changed."))
            return redirect("sla_tracker:kpi-grid", pk=contract.pk, month=month_label(month_start))
        deletions = sum(1 for value in values if value.value is None)
        if correcting and not correction_reason:
            reason_error = _("Give the reason for correcting a month whose statement is approved.")
            form_errors.append(_("Nothing was saved: the reason for the correction is missing."))
        elif correcting and len(correction_reason) > CORRECTION_REASON_MAX_LENGTH:
            reason_error = _("Keep the reason to at most %(max)d characters.") % {"max": CORRECTION_REASON_MAX_LENGTH}
            form_errors.append(reason_error)
        elif deletions and posted.get("confirm_deletions") != str(deletions):
            to_confirm = deletions  # emptied cells delete their values: saved once that is confirmed
        else:
            try:
                result = save_measurements(
                    contract=contract,
                    values=values,
                    source=MeasurementSource.MANUAL,
                    actor=request.user,
                    decimal_comma=_decimal_comma(),
                    correction_reason=correction_reason if correcting else "",
                )
            except KpiDataRejected as rejected:
                for issue in rejected.issues:
                    if issue.column:
                        cell_errors[(issue.column, issue.row)].append(str(issue.message))
                    elif issue.row is not None:
                        cell_errors[("", issue.row)].append(str(issue.message))
                    else:
                        form_errors.append(str(issue.message))
                if cell_errors:
                    form_errors.insert(
                        0,
                        ngettext(
                            "%(count)d error: nothing was saved. Correct the cell in red and save again.",
                            "%(count)d errors: nothing was saved. Correct the cells in red and save again.",
                            rejected.error_count,
                        )
                        % {"count": rejected.error_count},
                    )
                else:
                    form_errors.insert(0, _("Nothing was saved."))
            else:
                saved = format_lazy(
                    _("Saved. New values: {created}; changed: {updated}; deleted: {deleted}."),
                    created=result.created,
                    updated=result.updated,
                    deleted=result.deleted,
                )
                if correcting:
                    saved = format_lazy(
                        _(
                            "{saved} The statement stays as it is: the difference in its credits is carried into "
                            "the next open statement as an adjustment, or waits for one; the statement's history "
                            "says which."
                        ),
                        saved=saved,
                    )
                messages.success(request, saved)
                return redirect("sla_tracker:kpi-grid", pk=contract.pk, month=month_label(month_start))
    grid = []
    error_cells: list[dict] = []
    for row, day in rows:
        cells = []
        for counter in counters:
            name = _cell_name(counter.code, row)
            value = posted.get(name, "") if posted is not None else _plain_value(stored.get((counter.code, row)))
            cells.append(
                {
                    "name": name,
                    "code": counter.code,
                    "value": value,
                    "stored": stored.get((counter.code, row)),
                    "errors": cell_errors.get((counter.code, row), []),
                }
            )
        row_errors = cell_errors.get(("", row), [])
        # Each error also listed above the grid, linked to its cell: a wide grid hides the cells past its right edge.
        error_cells += [{"name": "", "day": day, "code": "", "message": message} for message in row_errors]
        error_cells += [
            {"name": cell["name"], "day": day, "code": cell["code"], "message": message}
            for cell in cells
            for message in cell["errors"]
        ]
        grid.append(
            {
                "row": row,
                "day": day,
                "weekend": day is not None and day.weekday() >= 5,
                "editable": row in editable_rows,
                "errors": row_errors,
                "cells": cells,
            }
        )
    return render(
        request,
        "sla_tracker/kpi/month_grid.html",
        {
            "contract": contract,
            "month": month_start,
            "month_label": month_label(month_start),
            "previous_month": month_label(add_months(month_start, -1)),
            "next_month": month_label(add_months(month_start, 1)) if add_months(month_start, 1) <= today else None,
            "counters": counters,
            "grid": grid,
            "locked": locked,
            "writable": writable,
            "may_correct": may_correct,
            "correcting": correcting,
            "correction_reason": correction_reason,
            "correction_reason_max": CORRECTION_REASON_MAX_LENGTH,
            "reason_error": reason_error,
            "form_errors": form_errors,
            "error_cells": error_cells,
            "to_confirm": to_confirm,
            "active_section": "kpi",
        },
    )


@login_required
@require_GET
def month_history(request, pk: int, month: str):
    """Every create, change and delete of the month's values: who, when, old → new, which upload (a
    link for those who log the contract's data: the upload pages are theirs)."""
    contract, writable = _readable_contract(request.user, pk)
    month_start = _month_or_404(month)
    changes = (
        restrict(MeasurementChange.objects.all(), request.user)
        .filter(contract=contract, month=month_start)
        .select_related("counter", "changed_by", "upload")
        .order_by("-changed_at", "-id")
    )
    page = Paginator(changes, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sla_tracker/kpi/month_history.html",
        {
            "contract": contract,
            "month": month_start,
            "month_label": month_label(month_start),
            "page": page,
            "writable": writable,
            "active_section": "kpi",
        },
    )


# The vendor portal: my action items, findings addressed to my vendor ----------------------------------


@login_required
@require_GET
def my_action_items(request):
    """The open action items the user owns, overdue first, then by due date."""
    today = timezone.localdate()
    items = (
        restrict(open_action_items(), request.user)
        .filter(owner=request.user)
        .annotate(overdue=Case(When(due_date__lt=today, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .select_related("meeting__committee__contract", "meeting__committee__vendor", "finding__audit")
        .order_by("-overdue", "due_date", "pk")
    )
    return render(
        request,
        "sla_tracker/kpi/my_action_items.html",
        {"items": list(items), "today": today, "active_section": "action-items"},
    )


@login_required
@require_GET
def vendor_findings(request):
    """The audit findings addressed to the vendor of a vendor user, unsettled first."""
    if not request.user.is_vendor_user:
        raise PermissionDenied
    today = timezone.localdate()
    findings = (
        restrict(Finding.objects.filter(addressed_to_vendor=True), request.user)
        .annotate(
            settled=Case(
                When(status__in=FindingStatus.settled_values(), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            overdue=Case(
                When(~Q(status__in=FindingStatus.settled_values()) & Q(due_date__lt=today), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .select_related("audit__audit_right__contract", "vendor_contact")
        .prefetch_related(Prefetch("action_items", queryset=restrict(ActionItem.objects.all(), request.user)))
        .order_by("settled", "-overdue", "due_date", "pk")
    )
    return render(
        request,
        "sla_tracker/kpi/vendor_findings.html",
        {
            "findings": list(findings),
            "today": today,
            "open_actions": ActionStatus.open_values(),
            "active_section": "findings",
        },
    )
