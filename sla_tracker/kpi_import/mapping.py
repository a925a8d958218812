"""Column mappings: which header of a vendor's KPI pack holds the date (and the time of day, for an
interval file that gives it in its own column) and which holds each counter.

A mapping is saved per contract and reused when a new file's headers contain its columns; the first
file of a new layout gets a suggestion built from the counters' codes, names and known synonyms.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract
from sla_tracker.models import ColumnMapping, KpiCounter

DATE_HEADERS = ("date", "jour", "day", "fecha", "data", "datum", "mois", "month", "periode", "period")
TIME_HEADERS = (
    "heure",
    "time",
    "interval",
    "intervalle",
    "tranche horaire",
    "heure de debut",
    "debut de l intervalle",
    "start time",
    "interval start",
)

# Headers vendors use, in French and English, beside each counter's code and name.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "offered": (
        "appels recus",
        "appels offerts",
        "appels presentes",
        "calls offered",
        "offered calls",
        "calls received",
        "received calls",
        "inbound calls",
        "offered",
    ),
    "answered": (
        "appels traites",
        "appels repondus",
        "appels decroches",
        "calls answered",
        "answered calls",
        "calls handled",
        "handled calls",
    ),
    "answered_within_20s": (
        "traites en moins de 20 s",
        "traites 20 s",
        "traites en moins de 20s",
        "repondus en moins de 20 s",
        "answered within 20 s",
        "answered within 20s",
        "calls answered within 20 s",
        "answered in 20 s",
    ),
    "abandoned": ("abandons", "appels abandonnes", "calls abandoned", "abandoned calls", "abandons total"),
    "short_abandoned": ("abandons courts", "abandons de moins de 5 s", "short abandons", "short abandoned calls"),
    "total_wait_seconds": ("temps d attente total s", "temps d attente total", "total wait seconds", "total wait s"),
    "handle_seconds": ("temps de traitement s", "temps de traitement total", "handle time s", "total handle time"),
    "emails_due": ("e mails dus", "emails dus", "mails dus", "e mails due", "emails due"),
    "emails_answered_within_24h": (
        "e mails traites en 24 h",
        "e mails repondus en 24 h",
        "e mails answered within 24 business hours",
        "emails answered within 24h",
    ),
    "qa_evaluations": ("evaluations qualite", "quality evaluations"),
    "qa_points": ("points qualite", "quality points"),
    "qa_points_possible": ("points qualite possibles", "quality points possible"),
    "csat_responses": ("reponses enquete", "reponses csat", "csat responses", "survey responses"),
    "csat_top2": ("reponses satisfaites", "csat top 2", "csat top 2 box", "top 2 box"),
}


def normalise_header(text: object) -> str:
    """Lower case, no accents, punctuation and "<" as spaces: "Traités < 20 s" → "traites 20 s"."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


@dataclass
class ResolvedMapping:
    """The mapping a file is read with, where it came from, and the headers it leaves out."""

    date_column: str | None
    columns: dict[str, str]
    name: str = ""
    time_column: str | None = None
    saved: ColumnMapping | None = None
    origin: str = "suggested"
    unmapped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    # Headers the mapping ignores on purpose, and counters suggested for the unmapped headers that
    # look like one (a saved mapping reused for a file with a new column).
    ignored: list[str] = field(default_factory=list)
    suggested: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return (
            bool(self.date_column)
            and bool(self.columns)
            and not self.missing
            and not self.suggested
            and not (self.origin == "suggested" and self.unmapped)
        )

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "origin": self.origin,
            "saved_mapping": self.saved.pk if self.saved else None,
            "date_column": self.date_column,
            "time_column": self.time_column,
            "columns": self.columns,
            "unmapped_columns": self.unmapped,
            "missing_columns": self.missing,
            "ignored_columns": self.ignored,
            "suggested_columns": self.suggested,
        }


def suggest_mapping(headers: list[str], *, counters: list[KpiCounter] | None = None) -> ResolvedMapping:
    """Guess the date column and each counter's column from the headers; unknown headers stay unmapped."""
    known = _known_headers(counters)
    date_column, time_column, columns, unmapped, taken = None, None, {}, [], set()
    for header in headers:
        if not header:
            continue
        key = normalise_header(header)
        if date_column is None and key in DATE_HEADERS:
            date_column = header
        elif time_column is None and key in TIME_HEADERS:
            time_column = header
        elif (code := known.get(key)) and code not in taken:
            columns[header] = code
            taken.add(code)
        else:
            unmapped.append(header)
    return ResolvedMapping(date_column=date_column, time_column=time_column, columns=columns, unmapped=unmapped)


def _known_headers(counters: list[KpiCounter] | None) -> dict[str, str]:
    """Each counter's code, name and synonyms, normalised, → its code."""
    counters = list(KpiCounter.objects.all()) if counters is None else counters
    known: dict[str, str] = {}
    for counter in counters:
        for alias in (counter.code, counter.name, *SYNONYMS.get(counter.code, ())):
            known.setdefault(normalise_header(alias), counter.code)
    return known


def find_saved_mapping(contract: Contract, headers: list[str]) -> tuple[ColumnMapping, dict[str, str]] | None:
    """The contract's saved mapping whose read columns are all in `headers`, compared as the suggestion
    compares them (case, accents, spaces and punctuation aside): an exact layout first, then the newest.
    Returned with the file's header of each of the mapping's headers."""
    by_key: dict[str, str] = {}
    for header in headers:
        if header:
            by_key.setdefault(normalise_header(header), header)
    present = set(by_key.values())
    candidates, exact = [], []
    for mapping in contract.column_mappings.order_by("-created_at", "-pk"):
        names = {mapping.date_column, mapping.time_column, *mapping.columns} - {""}
        in_file = {name: by_key.get(normalise_header(name)) for name in names}
        needed = {mapping.date_column, mapping.time_column, *(h for h, code in mapping.columns.items() if code)}
        if any(in_file.get(name) is None for name in needed - {""}):
            continue
        renamed = {name: header for name, header in in_file.items() if header is not None}
        candidates.append((mapping, renamed))
        if set(renamed.values()) == present:
            exact.append((mapping, renamed))
    return (exact or candidates or [None])[0]


def resolve_mapping(
    *,
    contract: Contract,
    headers: list[str],
    mapping_name: str | None = None,
    mapping: dict | None = None,
    counters: list[KpiCounter] | None = None,
) -> ResolvedMapping:
    """The mapping to read a file with: a named saved one, one given as JSON, a matching saved one, or a guess.

    JSON form: {"date_column": "Date", "columns": {"Appels reçus": "offered", "Commentaire": null}, "name": "…"},
    with "time_column": "Heure" for an interval file that gives the time in its own column; a header
    mapped to null is ignored on purpose. Raises ValidationError for an unknown name or bad JSON.
    """
    present = [h for h in headers if h]
    if mapping is not None:
        date_column, time_column, columns = _mapping_from_json(mapping)
        if errors := counters_mapped_twice(columns):
            raise ValidationError(errors)
        name = str(mapping.get("name") or mapping_name or "")
        existing = contract.column_mappings.filter(name=name).first() if name else None
        resolved = ResolvedMapping(
            date_column=date_column, time_column=time_column, columns=columns, name=name, origin="given"
        )
        if existing and (existing.date_column, existing.time_column or None, existing.columns) == (
            date_column,
            time_column,
            columns,
        ):
            resolved.saved, resolved.origin = existing, "saved"
    elif mapping_name:
        saved = contract.column_mappings.filter(name=mapping_name).first()
        if saved is None:
            raise ValidationError(
                format_lazy(_("This contract has no column mapping named “{name}”."), name=mapping_name)
            )
        resolved = _from_saved(saved)
    elif found := find_saved_mapping(contract, present):
        resolved = _from_saved(*found)
    else:
        resolved = suggest_mapping(present, counters=counters)
    if resolved.origin != "suggested":
        used = {resolved.date_column, resolved.time_column, *resolved.columns}
        resolved.missing = [h for h in used if h and h not in present]
        resolved.ignored = [h for h in present if resolved.columns.get(h) == "" or _ignored(mapping, h)]
        resolved.unmapped = [h for h in present if h not in used and not _ignored(mapping, h)]
    if resolved.origin == "saved" and resolved.unmapped:
        # A new column with a counter's header: ask rather than leave its values out without a word.
        known, taken = _known_headers(counters), set(resolved.columns.values())
        for header in resolved.unmapped:
            code = known.get(normalise_header(header))
            if code and code not in taken:
                resolved.suggested[header] = code
                taken.add(code)
    resolved.columns = {header: code for header, code in resolved.columns.items() if code}
    return resolved


def _from_saved(saved: ColumnMapping, renamed: dict[str, str] | None = None) -> ResolvedMapping:
    """A saved mapping, with its headers as the file writes them (`renamed`: saved header → file's)."""
    renamed = renamed or {}
    return ResolvedMapping(
        date_column=renamed.get(saved.date_column, saved.date_column),
        time_column=renamed.get(saved.time_column, saved.time_column) or None,
        columns={renamed.get(header, header): code or "" for header, code in saved.columns.items()},
        name=saved.name,
        saved=saved,
        origin="saved",
    )


def _ignored(mapping: dict | None, header: str) -> bool:
    return bool(mapping) and header in (mapping.get("columns") or {})


def counters_mapped_twice(columns: dict[str, str | None]) -> list:
    """An error for each counter that ``columns`` (header → counter code, or empty) maps more than one header to,
    naming those headers, so the user sees which columns to correct (a counter has one value per day)."""
    used = [code for code in columns.values() if code]
    return [
        format_lazy(
            _("Each counter can come from one column only: the columns {columns} are mapped to {code}."),
            columns=", ".join(f"“{header}”" for header, mapped in columns.items() if mapped == code),
            code=code,
        )
        for code in sorted({code for code in used if used.count(code) > 1})
    ]


def _mapping_from_json(mapping: dict) -> tuple[str, str | None, dict[str, str]]:
    if not isinstance(mapping, dict):
        raise ValidationError(_("The mapping must be an object with “date_column” and “columns”."))
    date_column = mapping.get("date_column")
    time_column = mapping.get("time_column") or None
    columns = mapping.get("columns")
    if not isinstance(date_column, str) or not date_column.strip():
        raise ValidationError(_("The mapping needs the name of the date column (“date_column”)."))
    if time_column is not None and not isinstance(time_column, str):
        raise ValidationError(_("The mapping's “time_column” must be the header of the time column, or null."))
    if not isinstance(columns, dict) or not all(
        isinstance(header, str) and (code is None or isinstance(code, str)) for header, code in columns.items()
    ):
        raise ValidationError(_("The mapping's “columns” must map each header to a counter code (or null)."))
    texts = {
        "name": [mapping.get("name")],
        "date_column": [date_column],
        "time_column": [time_column],
        "columns": [*columns, *columns.values()],
    }
    for key, values in texts.items():
        # PostgreSQL text cannot hold a NUL: refused as a form's or a serializer's text field refuses it.
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise ValidationError(
                format_lazy(_("The mapping's “{key}”: {error}"), key=key, error=ProhibitNullCharactersValidator.message)
            )
    columns = {header.strip(): (code or "").strip() for header, code in columns.items()}
    date_column, time_column = date_column.strip(), (time_column.strip() or None) if time_column else None
    # As the mapping step's form refuses them (views_kpi.MappingForm), rather than as a value per row.
    if time_column == date_column:
        raise ValidationError(_("The time column cannot be the date column."))
    for header in (date_column, time_column):
        if header and columns.get(header):
            raise ValidationError(
                format_lazy(_("“{header}” holds the dates or times: it cannot hold a counter."), header=header)
            )
    return date_column, time_column, columns


@transaction.atomic
def save_mapping(
    *, contract: Contract, name: str, date_column: str, columns: dict[str, str], actor, time_column: str | None = None
) -> ColumnMapping:
    """Save (or replace) the contract's mapping of that name; the columns must name existing counters.
    A column mapped to "" or None is ignored on purpose, and remembered as such."""
    columns = {header: code or "" for header, code in columns.items()}
    codes = {code for code in columns.values() if code}
    unknown = sorted(codes - set(KpiCounter.objects.filter(code__in=codes).values_list("code", flat=True)))
    if unknown:
        raise ValidationError(format_lazy(_("Unknown counters: {codes}."), codes=", ".join(unknown)))
    mapping = ColumnMapping.objects.filter(contract=contract, name=name).first() or ColumnMapping(
        contract=contract, name=name, created_by=actor
    )
    mapping.date_column, mapping.time_column, mapping.columns = date_column, time_column or "", columns
    mapping.full_clean()
    mapping.save()
    return mapping
