"""The simulator's JSON scenario format (issue 3 §2): strict loading with JSON-path errors,
the inverse dump used by ``export_scenario``, and the result as JSON-ready data."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .checks import Problem, find_problems
from .evaluate import evaluate
from .money import round_half_up, to_cents
from .months import Month, MonthRange
from .results import Evaluation, MonthResult, ServiceLevelResult
from .terms import (
    AllocationCredit,
    Bonus,
    Charges,
    ContractData,
    ContractTerms,
    CounterRow,
    CounterTerm,
    CreditModel,
    Direction,
    EarnBack,
    EngineError,
    Exclusion,
    ExpectedMissRule,
    FixedCredit,
    Incident,
    Kind,
    LinearCredit,
    MinVolume,
    MinVolumeRule,
    Multiplier,
    ServiceLevelTerms,
    Shortfall,
    TerminationTrigger,
    Tier,
    TieredCredit,
    TriggerType,
)

MEASURED_PLACES = 4
# Limits that keep an evaluation short and its month arithmetic inside the calendar. They are at
# least as wide as the stored terms (sla_tracker.models.terms), so an exported contract loads.
MAX_MONTHS = 120  # months evaluated by one scenario: ten years
FIRST_YEAR, LAST_YEAR = 1900, 9000  # of the evaluated months
MAX_COUNT = 32767  # months, windows, runs, occurrences: stored as PositiveSmallIntegerField
MAX_PRECISION = 6  # as ServiceLevelVersion.precision
MAX_VOLUME = 2147483647  # as ServiceLevelVersion.min_volume, a PositiveIntegerField
_DECIMAL_PATTERN = re.compile(r"-?\d+(\.\d+)?")
_COUNTER_PATTERN = re.compile(r"-?[A-Za-z_][A-Za-z0-9_]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DECIMAL_LIMIT = Decimal("1e16")
# The largest amount the tracker stores (charges, fixed credits: 12 digits before the point).
MONEY_MAX = Decimal("999999999999.99")
_COUNTER_PLACES = Decimal("0.0001")  # a counter value as the tracker stores one
_CREDIT_FIELDS = {
    "allocation": {"allocation_pct"},
    "fixed": {"amount"},
    "tiers": {"bands"},
    "linear": {"pct_per_point", "shortfall"},
}


@dataclass(frozen=True)
class Scenario:
    """A contract's penalty schedule with its data and the months to evaluate."""

    months: MonthRange
    terms: ContractTerms
    data: ContractData


class ScenarioError(ValueError):
    """A scenario that cannot be evaluated; ``problems`` names every bad field by JSON path."""

    def __init__(self, path: str, message: str, *more: Problem) -> None:
        self.problems = (Problem(path, message), *more)
        super().__init__(str(self))

    @classmethod
    def of(cls, problems: list[Problem]) -> ScenarioError:
        first, *more = problems
        return cls(first.path, first.message, *more)

    @property
    def path(self) -> str:
        return self.problems[0].path

    @property
    def message(self) -> str:
        return self.problems[0].message

    def __str__(self) -> str:
        return "; ".join(f"{problem.path}: {problem.message}" for problem in self.problems)

    def as_dict(self) -> dict[str, list[str]]:
        """Messages per path, e.g. for an API's 400 response."""
        errors: dict[str, list[str]] = {}
        for problem in self.problems:
            errors.setdefault(problem.path or "$", []).append(problem.message)
        return errors


def load_scenario(data: Any) -> Scenario:
    """Build a :class:`Scenario` from parsed JSON; raise :class:`ScenarioError` naming every
    bad field (unknown fields, wrong types, bad months, inconsistent terms)."""
    if not isinstance(data, dict):
        raise ScenarioError("$", "must be an object")
    reader = _Reader()
    scenario = reader.scenario(data)
    if not reader.problems:
        reader.problems += find_problems(scenario.terms, scenario.data)
        reader.problems += _charges_problems(scenario)
    if reader.problems:
        raise ScenarioError.of(reader.problems)
    return scenario


def run_scenario(data: Any) -> dict[str, Any]:
    """Load, evaluate and return the result as JSON-ready data."""
    scenario = load_scenario(data)
    return result_to_dict(evaluate_scenario(scenario), scenario.terms.currency)


def evaluate_scenario(scenario: Scenario) -> Evaluation:
    """The scenario's months; data the engine cannot evaluate (counts summing below zero) are refused
    under ``measurements``, as a bad field is."""
    try:
        return evaluate(scenario.terms, scenario.data, scenario.months)
    except EngineError as exc:
        raise ScenarioError("measurements", str(exc)) from exc


def result_to_dict(evaluation: Evaluation, currency: str) -> dict[str, Any]:
    """The result format: decimals as strings, money with 2 decimals, measured with 4."""
    return {"currency": currency, "months": [_month_to_dict(month) for month in evaluation.months]}


def _month_to_dict(result: MonthResult) -> dict[str, Any]:
    return {
        "month": str(result.month),
        "charges": str(to_cents(result.charges)),
        "at_risk_amount": _optional(result.at_risk_amount, to_cents),
        "service_levels": [_line_to_dict(line) for line in result.lines],
        "uncapped_credits": str(to_cents(result.uncapped_credits)),
        "cap_reached": result.cap_reached,
        "credits": str(result.credits),
        "bonuses": str(result.bonuses),
        "earn_backs": str(result.earn_backs),
        "net": str(result.net),
        "termination_rights": [
            {"type": str(right.trigger.type), "since": str(right.since), "evidence": right.evidence}
            for right in result.termination_rights
        ],
    }


def _line_to_dict(line: ServiceLevelResult) -> dict[str, Any]:
    return {
        "code": line.code,
        "measured": _optional(line.measured, lambda value: round_half_up(value, MEASURED_PLACES)),
        "status": str(line.status),
        "run": line.run,
        "raw_credit": str(to_cents(line.raw_credit)),
        "credit": str(line.credit),
        "bonus": str(line.bonus),
        "earn_back": str(line.earn_back),
        "explanation": line.explanation,
    }


def _optional(value: Any, convert: Callable[[Any], Decimal]) -> str | None:
    return None if value is None else str(convert(value))


def _charges_problems(scenario: Scenario) -> list[Problem]:
    """Every evaluated month needs charges, and so does every month of a capped contract year."""
    terms, charges = scenario.terms, scenario.data.charges
    needed = set(scenario.months)
    if terms.annual_cap_pct is not None:
        for month in scenario.months:
            first = terms.contract_year_of(month)
            needed.update(MonthRange(first, first + 11))
    missing = sorted(
        month for month in needed if charges.default is None and month not in charges.by_month
    )
    if not missing:
        return []
    listed = ", ".join(str(month) for month in missing)
    return [Problem("charges", f'no charges for {listed}: add them or a "default"')]


class _Reader:
    """Reads the JSON tree, collecting problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def scenario(self, data: Any) -> Scenario:
        fields = self.fields(
            data,
            "",
            required={"months", "charges", "service_levels"},
            optional={
                "currency",
                "at_risk_pct",
                "pool_pct",
                "annual_cap_pct",
                "contract_year_start",
                "termination_triggers",
                "measurements",
                "exclusions",
                "incidents",
            },
        )
        service_levels = self.items(fields, "service_levels", self.service_level)
        terms = ContractTerms(
            service_levels=tuple(service_levels),
            currency=self.currency(_value(fields, "currency", "EUR"), "currency"),
            at_risk_pct=self.optional(fields, "at_risk_pct", self.pct),
            pool_pct=self.optional(fields, "pool_pct", self.pct),
            annual_cap_pct=self.optional(fields, "annual_cap_pct", self.pct),
            contract_year_start=self.year_start(_value(fields, "contract_year_start", "01")),
            termination_triggers=tuple(self.items(fields, "termination_triggers", self.trigger)),
        )
        data = ContractData(
            charges=self.charges(fields.get("charges"), "charges"),
            rows=tuple(self.items(fields, "measurements", self.row)),
            exclusions=tuple(self.items(fields, "exclusions", self.exclusion)),
            incidents=tuple(self.items(fields, "incidents", self.incident)),
        )
        return Scenario(self.month_range(fields.get("months"), "months"), terms, data)

    # Structure

    def fields(
        self, data: Any, path: str, *, required: set[str], optional: set[str] = frozenset()
    ) -> dict[str, Any]:
        if data is None:  # a missing required field, already reported
            return {}
        if not isinstance(data, dict):
            self.fail(path, "must be an object")
            return {}
        for name in data:
            if name not in required | optional:
                self.fail(_child(path, name), "unknown field")
        given = {name for name, value in data.items() if value is not None}
        for name in sorted(required - given):
            self.fail(_child(path, name), "required")
        return data

    def items(
        self, fields: dict[str, Any], name: str, read: Callable[[Any, str], Any]
    ) -> list[Any]:
        value = fields.get(name, [])
        if not isinstance(value, list):
            self.fail(name, "must be a list")
            return []
        return self.each(value, name, read)

    def each(self, items: list[Any], path: str, read: Callable[[Any, str], Any]) -> list[Any]:
        """The items of a list of objects read; a null item is reported (and skipped) here, as
        ``fields`` takes null for a missing required field that is already reported."""
        read_items = []
        for index, item in enumerate(items):
            if item is None:
                self.fail(f"{path}[{index}]", "must be an object")
            else:
                read_items.append(read(item, f"{path}[{index}]"))
        return read_items

    def optional(
        self, fields: dict[str, Any], name: str, read: Callable[..., Any], path: str = ""
    ) -> Any:
        return None if fields.get(name) is None else read(fields[name], _child(path, name))

    # Values

    def decimal(
        self,
        value: Any,
        path: str,
        *,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
    ) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(path, "must be a decimal number or a string holding one")
            return None
        # A JSON number may be written with an exponent (1e-05): as a float, its shortest repr in plain digits.
        text = format(Decimal(repr(value)), "f") if isinstance(value, float) else str(value)
        if not _DECIMAL_PATTERN.fullmatch(text):
            self.fail(path, f"not a decimal number: {value!r}")
            return None
        number = Decimal(text)
        if minimum is not None and number < minimum:
            self.fail(path, f"must be at least {minimum}")
            return None
        if maximum is not None and number > maximum:
            self.fail(path, f"must be at most {maximum}")
            return None
        if abs(number) >= _DECIMAL_LIMIT:  # beyond any contract's figures, and the engine's exact sums
            self.fail(path, "must have at most 16 digits before the point")
            return None
        return number

    def positive(self, value: Any, path: str) -> Decimal | None:
        number = self.decimal(value, path)
        if number is not None and number <= 0:
            self.fail(path, "must be above 0")
            return None
        return number

    def pct(self, value: Any, path: str) -> Decimal | None:
        return self.decimal(value, path, minimum=Decimal(0))

    def integer(
        self, value: Any, path: str, minimum: int = 1, maximum: int = MAX_COUNT
    ) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, "must be a whole number")
            return None
        if value < minimum:
            self.fail(path, f"must be at least {minimum}")
            return None
        if value > maximum:
            self.fail(path, f"must be at most {maximum}")
            return None
        return value

    def label(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            self.fail(path, "must be a string")
            return ""
        return value

    def text(self, value: Any, path: str) -> str:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "must be a non-empty string")
            return ""
        return value

    def choice(self, value: Any, path: str, kind: type) -> Any:
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(f'"{item}"' for item in kind)
            self.fail(path, f"must be one of {allowed}")
            return None

    def month(self, value: Any, path: str) -> Month | None:
        if value is None:
            return None
        try:
            return Month.parse(value)
        except ValueError:
            self.fail(path, f'must be a month "YYYY-MM", not {value!r}')
            return None

    def date(self, value: Any, path: str) -> date | None:
        if value is None:
            return None
        try:
            if isinstance(value, str) and len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            pass
        self.fail(path, f'must be a date "YYYY-MM-DD", not {value!r}')
        return None

    def currency(self, value: Any, path: str) -> str:
        if not (isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value)):
            self.fail(path, 'must be a three-letter currency code such as "EUR"')
        return value

    def codes(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            self.fail(path, "must be a non-empty list of service level codes")
            return ()
        # A null code is no code: "" is refused as one.
        return tuple(
            self.text("" if code is None else code, f"{path}[{index}]")
            for index, code in enumerate(value)
        )

    # Contract level

    def month_range(self, value: Any, path: str) -> MonthRange | None:
        fields = self.fields(value, path, required={"from", "to"})
        first = self.month(fields.get("from"), f"{path}.from") if "from" in fields else None
        last = self.month(fields.get("to"), f"{path}.to") if "to" in fields else None
        if first is None or last is None:
            return None
        for month, name in ((first, "from"), (last, "to")):
            if not FIRST_YEAR <= month.year <= LAST_YEAR:
                self.fail(f"{path}.{name}", f"the year must be from {FIRST_YEAR} to {LAST_YEAR}")
                return None
        if last < first:
            self.fail(f"{path}.to", f"must not be before from ({first})")
            return None
        latest = first + (MAX_MONTHS - 1)
        if last > latest:
            self.fail(f"{path}.to", f"at most {MAX_MONTHS} months at a time: {latest} at the latest")
            return None
        return MonthRange(first, last)

    def year_start(self, value: Any) -> int:
        if isinstance(value, str) and re.fullmatch(r"0[1-9]|1[0-2]", value):
            return int(value)
        self.fail("contract_year_start", 'must be a month number "01" to "12"')
        return 1

    def charges(self, value: Any, path: str) -> Charges:
        if value is None:
            return Charges()
        if not isinstance(value, dict) or not value:
            self.fail(path, 'must be an object with "default" and/or "YYYY-MM" amounts')
            return Charges()
        by_month = {}
        for key, amount in value.items():
            if key == "default":
                continue
            month = self.month(key, _child(path, key))
            by_month[month] = self.required_decimal(amount, _child(path, key), maximum=MONEY_MAX)
        default = self.optional(value, "default", self.money, path)
        return Charges(default, by_month)

    def money(self, value: Any, path: str) -> Decimal | None:
        return self.decimal(value, path, minimum=Decimal(0), maximum=MONEY_MAX)

    def required_decimal(self, value: Any, path: str, *, maximum: Decimal | None = None) -> Decimal | None:
        """A value of at least 0 where null cannot mean a missing field already reported."""
        if value is None:
            self.fail(path, "required")
            return None
        return self.decimal(value, path, minimum=Decimal(0), maximum=maximum)

    def trigger(self, value: Any, path: str) -> TerminationTrigger:
        fields = self.fields(value, path, required={"type", "months"}, optional={"window"})
        return TerminationTrigger(
            type=self.choice(fields.get("type"), f"{path}.type", TriggerType),
            months=self.integer(fields.get("months"), f"{path}.months"),
            window=self.optional(fields, "window", self.integer, path),
        )

    # Service levels

    def service_level(self, value: Any, path: str) -> ServiceLevelTerms:
        fields = self.fields(
            value,
            path,
            required={"code", "numerator", "denominator", "expected"},
            optional={
                "name",
                "kind",
                "scale",
                "direction",
                "minimum",
                "expected_miss_rule",
                "precision",
                "min_volume",
                "credit",
                "cap_pct",
                "multipliers",
                "earn_back",
                "bonus",
            },
        )
        return ServiceLevelTerms(
            code=self.text(fields.get("code"), f"{path}.code"),
            name=self.label(_value(fields, "name", ""), f"{path}.name"),
            kind=self.choice(_value(fields, "kind", "critical"), f"{path}.kind", Kind),
            numerator=self.formula(fields.get("numerator"), f"{path}.numerator"),
            denominator=self.formula(fields.get("denominator"), f"{path}.denominator"),
            scale=self.positive(_value(fields, "scale", "100"), f"{path}.scale"),
            direction=self.choice(
                _value(fields, "direction", "higher_is_better"), f"{path}.direction", Direction
            ),
            expected=self.decimal(fields.get("expected"), f"{path}.expected"),
            minimum=self.optional(fields, "minimum", self.decimal, path),
            expected_miss_rule=self.optional(fields, "expected_miss_rule", self.miss_rule, path),
            precision=self.optional(fields, "precision", self.precision, path),
            min_volume=self.optional(fields, "min_volume", self.min_volume, path),
            credit=self.optional(fields, "credit", self.credit, path),
            cap_pct=self.optional(fields, "cap_pct", self.pct, path),
            multipliers=tuple(
                self.each(
                    self.list_of(fields, "multipliers", path),
                    f"{path}.multipliers",
                    self.multiplier,
                )
            ),
            earn_back=self.optional(fields, "earn_back", self.earn_back, path),
            bonus=self.optional(fields, "bonus", self.bonus, path),
        )

    def list_of(self, fields: dict[str, Any], name: str, path: str) -> list[Any]:
        value = fields.get(name, [])
        if not isinstance(value, list):
            self.fail(_child(path, name), "must be a list")
            return []
        return value

    def formula(self, value: Any, path: str) -> tuple[CounterTerm, ...]:
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            self.fail(path, 'must be a non-empty list of counters ("-name" subtracts)')
            return ()
        for index, item in enumerate(value):
            if not (isinstance(item, str) and _COUNTER_PATTERN.fullmatch(item)):
                self.fail(f"{path}[{index}]", f"not a counter name: {item!r}")
                return ()
        return tuple(CounterTerm.parse(item) for item in value)

    def precision(self, value: Any, path: str) -> int | None:
        return self.integer(value, path, minimum=0, maximum=MAX_PRECISION)

    def miss_rule(self, value: Any, path: str) -> ExpectedMissRule:
        fields = self.fields(value, path, required={"occurrences", "window"})
        return ExpectedMissRule(
            occurrences=self.integer(fields.get("occurrences"), f"{path}.occurrences"),
            window=self.integer(fields.get("window"), f"{path}.window"),
        )

    def min_volume(self, value: Any, path: str) -> MinVolume:
        fields = self.fields(value, path, required={"at_least"}, optional={"rule"})
        return MinVolume(
            at_least=self.decimal(
                fields.get("at_least"),
                f"{path}.at_least",
                minimum=Decimal(0),
                maximum=Decimal(MAX_VOLUME),
            ),
            rule=self.choice(_value(fields, "rule", "not_measured"), f"{path}.rule", MinVolumeRule),
        )

    def credit(self, value: Any, path: str) -> CreditModel | None:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return None
        kind = value.get("type")
        if kind not in _CREDIT_FIELDS:
            allowed = ", ".join(f'"{name}"' for name in _CREDIT_FIELDS)
            self.fail(
                f"{path}.type", f"must be one of {allowed}" if "type" in value else "required"
            )
            return None
        optional = {"shortfall"} if kind == "linear" else set()
        fields = self.fields(
            value, path, required={"type"} | _CREDIT_FIELDS[kind] - optional, optional=optional
        )
        if kind == "allocation":
            return AllocationCredit(
                self.pct(fields.get("allocation_pct"), f"{path}.allocation_pct")
            )
        if kind == "fixed":
            return FixedCredit(self.money(fields.get("amount"), f"{path}.amount"))
        if kind == "tiers":
            bands = fields.get("bands")
            if not isinstance(bands, list) or not bands:
                self.fail(f"{path}.bands", "must be a non-empty list of bands")
                return TieredCredit(())
            return TieredCredit(tuple(self.each(bands, f"{path}.bands", self.band)))
        return LinearCredit(
            pct_per_point=self.pct(fields.get("pct_per_point"), f"{path}.pct_per_point"),
            shortfall=self.choice(
                _value(fields, "shortfall", "proportional"), f"{path}.shortfall", Shortfall
            ),
        )

    def band(self, value: Any, path: str) -> Tier:
        fields = self.fields(value, path, required={"from", "pct"}, optional={"to"})
        return Tier(
            lower=self.decimal(fields.get("from"), f"{path}.from"),
            upper=self.optional(fields, "to", self.decimal, path),
            pct=self.pct(fields.get("pct"), f"{path}.pct"),
        )

    def multiplier(self, value: Any, path: str) -> Multiplier:
        fields = self.fields(value, path, required={"run", "factor"})
        return Multiplier(
            run=self.integer(fields.get("run"), f"{path}.run"),
            factor=self.decimal(fields.get("factor"), f"{path}.factor", minimum=Decimal(0)),
        )

    def earn_back(self, value: Any, path: str) -> EarnBack:
        fields = self.fields(value, path, required={"months", "pct"})
        return EarnBack(
            months=self.integer(fields.get("months"), f"{path}.months"),
            pct=self.pct(fields.get("pct"), f"{path}.pct"),
        )

    def bonus(self, value: Any, path: str) -> Bonus:
        fields = self.fields(value, path, required={"above", "pct_per_full_point", "max_pct"})
        return Bonus(
            above=self.decimal(fields.get("above"), f"{path}.above"),
            pct_per_full_point=self.pct(
                fields.get("pct_per_full_point"), f"{path}.pct_per_full_point"
            ),
            max_pct=self.pct(fields.get("max_pct"), f"{path}.max_pct"),
        )

    # Data

    def row(self, value: Any, path: str) -> CounterRow | None:
        fields = self.fields(value, path, required={"values"}, optional={"date", "month"})
        values = self.counter_values(fields.get("values"), f"{path}.values")
        if (fields.get("date") is None) == (fields.get("month") is None):  # null: absent
            self.fail(path, 'needs exactly one of "date" and "month"')
            return None
        if fields.get("date") is not None:
            day = self.date(fields["date"], f"{path}.date")
            return None if day is None else CounterRow(Month.of(day), values, day)
        month = self.month(fields["month"], f"{path}.month")
        return None if month is None else CounterRow(month, values)

    def counter_values(self, value: Any, path: str) -> dict[str, Decimal]:
        if not isinstance(value, dict):
            self.fail(path, "must be an object of counter values")
            return {}
        values = {}
        for name, number in value.items():
            if not _IDENTIFIER.fullmatch(name):
                self.fail(_child(path, name), "not a counter name")
            values[name] = self.required_decimal(number, _child(path, name))
            counted = values[name]
            if counted is not None and counted != counted.quantize(_COUNTER_PLACES):
                self.fail(_child(path, name), "must have at most 4 decimals, as a stored KPI value")
        return values

    def exclusion(self, value: Any, path: str) -> Exclusion:
        fields = self.fields(
            value, path, required={"from", "to"}, optional={"reason", "service_levels"}
        )
        return Exclusion(
            start=self.date(fields.get("from"), f"{path}.from"),
            end=self.date(fields.get("to"), f"{path}.to"),
            service_levels=self.optional(fields, "service_levels", self.codes, path),
            reason=self.label(_value(fields, "reason", ""), f"{path}.reason"),
        )

    def incident(self, value: Any, path: str) -> Incident:
        fields = self.fields(
            value, path, required={"month", "service_levels"}, optional={"selected"}
        )
        return Incident(
            month=self.month(fields.get("month"), f"{path}.month"),
            service_levels=self.codes(fields.get("service_levels"), f"{path}.service_levels"),
            selected=self.optional(fields, "selected", self.text, path),
        )


def _value(fields: dict[str, Any], name: str, default: str) -> Any:
    """An optional field's value; null means the default, like an absent field."""
    value = fields.get(name)
    return default if value is None else value


def _child(path: str, name: str) -> str:
    if _IDENTIFIER.fullmatch(name):
        return f"{path}.{name}" if path else name
    return f'{path}["{name}"]'


def dump_scenario(scenario: Scenario) -> dict[str, Any]:
    """The JSON-ready form of a scenario; ``load_scenario(dump_scenario(s)) == s``."""
    terms, data = scenario.terms, scenario.data
    dumped: dict[str, Any] = {
        "currency": terms.currency,
        "months": {"from": str(scenario.months.first), "to": str(scenario.months.last)},
        "charges": _dump_charges(data.charges),
    }
    for name in ("at_risk_pct", "pool_pct", "annual_cap_pct"):
        if getattr(terms, name) is not None:
            dumped[name] = _number(getattr(terms, name))
    dumped["contract_year_start"] = f"{terms.contract_year_start:02d}"
    if terms.termination_triggers:
        dumped["termination_triggers"] = [
            _dump_trigger(trigger) for trigger in terms.termination_triggers
        ]
    dumped["service_levels"] = [_dump_service_level(item) for item in terms.service_levels]
    dumped["measurements"] = [_dump_row(row) for row in data.rows]
    dumped["exclusions"] = [_dump_exclusion(item) for item in data.exclusions]
    dumped["incidents"] = [_dump_incident(item) for item in data.incidents]
    return dumped


def _number(value: Decimal) -> str:
    return format(value, "f")


def _count(value: Decimal) -> int | str:
    """Counters as JSON integers when whole, else as decimal strings."""
    return int(value) if value == value.to_integral_value() else _number(value)


def _dump_charges(charges: Charges) -> dict[str, str]:
    dumped = {} if charges.default is None else {"default": _number(charges.default)}
    dumped.update(
        {str(month): _number(amount) for month, amount in sorted(charges.by_month.items())}
    )
    return dumped


def _dump_trigger(trigger: TerminationTrigger) -> dict[str, Any]:
    dumped: dict[str, Any] = {"type": str(trigger.type), "months": trigger.months}
    if trigger.window is not None:
        dumped["window"] = trigger.window
    return dumped


def _dump_service_level(terms: ServiceLevelTerms) -> dict[str, Any]:
    dumped: dict[str, Any] = {
        "code": terms.code,
        "name": terms.name,
        "kind": str(terms.kind),
        "numerator": [str(term) for term in terms.numerator],
        "denominator": [str(term) for term in terms.denominator],
        "scale": _number(terms.scale),
        "direction": str(terms.direction),
        "expected": _number(terms.expected),
    }
    if terms.minimum is not None:
        dumped["minimum"] = _number(terms.minimum)
    if terms.expected_miss_rule is not None:
        rule = terms.expected_miss_rule
        dumped["expected_miss_rule"] = {"occurrences": rule.occurrences, "window": rule.window}
    if terms.precision is not None:
        dumped["precision"] = terms.precision
    if terms.min_volume is not None:
        volume = terms.min_volume
        dumped["min_volume"] = {"at_least": _count(volume.at_least), "rule": str(volume.rule)}
    if terms.credit is not None:
        dumped["credit"] = _dump_credit(terms.credit)
    if terms.cap_pct is not None:
        dumped["cap_pct"] = _number(terms.cap_pct)
    if terms.multipliers:
        dumped["multipliers"] = [
            {"run": item.run, "factor": _number(item.factor)} for item in terms.multipliers
        ]
    if terms.earn_back is not None:
        dumped["earn_back"] = {
            "months": terms.earn_back.months,
            "pct": _number(terms.earn_back.pct),
        }
    if terms.bonus is not None:
        bonus = terms.bonus
        dumped["bonus"] = {
            "above": _number(bonus.above),
            "pct_per_full_point": _number(bonus.pct_per_full_point),
            "max_pct": _number(bonus.max_pct),
        }
    return dumped


def _dump_credit(credit: CreditModel) -> dict[str, Any]:
    if isinstance(credit, AllocationCredit):
        return {"type": "allocation", "allocation_pct": _number(credit.allocation_pct)}
    if isinstance(credit, FixedCredit):
        return {"type": "fixed", "amount": _number(credit.amount)}
    if isinstance(credit, TieredCredit):
        return {"type": "tiers", "bands": [_dump_band(band) for band in credit.bands]}
    return {
        "type": "linear",
        "pct_per_point": _number(credit.pct_per_point),
        "shortfall": str(credit.shortfall),
    }


def _dump_band(band: Tier) -> dict[str, str]:
    dumped = {"from": _number(band.lower), "pct": _number(band.pct)}
    if band.upper is not None:
        dumped["to"] = _number(band.upper)
    return dumped


def _dump_row(row: CounterRow) -> dict[str, Any]:
    when = {"date": row.day.isoformat()} if row.day else {"month": str(row.month)}
    return {**when, "values": {name: _count(value) for name, value in row.values.items()}}


def _dump_exclusion(exclusion: Exclusion) -> dict[str, Any]:
    dumped: dict[str, Any] = {
        "from": exclusion.start.isoformat(),
        "to": exclusion.end.isoformat(),
        "reason": exclusion.reason,
    }
    if exclusion.service_levels is not None:
        dumped["service_levels"] = list(exclusion.service_levels)
    return dumped


def _dump_incident(incident: Incident) -> dict[str, Any]:
    dumped: dict[str, Any] = {
        "month": str(incident.month),
        "service_levels": list(incident.service_levels),
    }
    if incident.selected is not None:
        dumped["selected"] = incident.selected
    return dumped


__all__ = [
    "EngineError",
    "Scenario",
    "ScenarioError",
    "dump_scenario",
    "load_scenario",
    "result_to_dict",
    "run_scenario",
]
