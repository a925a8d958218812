"""The what-if simulator as a page: a contract's terms and data as a scenario, edited and evaluated
without storing anything (the same engine and format as `simulate_penalties` and the API)."""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.roles import may_simulate
from accounts.scoping import restrict
from contracts.models import Contract
from contracts.months import add_months, first_of_month, month_label, parse_month
from sla_tracker.choices import LineStatus
from sla_tracker.engine import Evaluation, Month, MonthRange
from sla_tracker.engine.explain import to_data as explanation_data
from sla_tracker.engine.scenario import (
    FIRST_YEAR,
    LAST_YEAR,
    Scenario,
    ScenarioError,
    evaluate_scenario,
    load_scenario,
    result_to_dict,
)
from sla_tracker.explanations import readable
from sla_tracker.penalty_inputs import export_scenario, history_before
from sla_tracker.scenario_messages import readable_problems
from sla_tracker.views import visible_statements

MONTHS_BACK = 12
MAX_MONTHS = 60


class MonthsForm(forms.Form):
    """The months whose terms and data are loaded from the contract."""

    first = forms.CharField(
        label=pgettext_lazy("first month of a period", "From"),
        widget=forms.TextInput(attrs={"type": "month", "class": "form-control"}),
    )
    last = forms.CharField(
        label=pgettext_lazy("last month of a period", "To"),
        widget=forms.TextInput(attrs={"type": "month", "class": "form-control"}),
    )

    def clean(self):
        data = super().clean()
        try:
            # The engine's months, which take every year a scenario's range check below can name.
            first, last = Month.parse(data.get("first", "")), Month.parse(data.get("last", ""))
        except ValueError as exc:
            raise forms.ValidationError(_("Give the months as YYYY-MM.")) from exc
        if first > last:
            raise forms.ValidationError(_("The first month comes after the last."))
        if first.year < FIRST_YEAR or last.year > LAST_YEAR:  # as a scenario's months (its month arithmetic)
            raise forms.ValidationError(
                _("Give months from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
            raise forms.ValidationError(_("At most %(count)d months at a time.") % {"count": MAX_MONTHS})
        data["months"] = MonthRange(first, last)
        return data


class ScenarioForm(forms.Form):
    scenario = forms.CharField(
        label=_("Scenario (JSON)"),
        widget=forms.Textarea(attrs={"rows": 22, "class": "form-control font-monospace small", "spellcheck": "false"}),
    )

    def clean_scenario(self):
        text = self.cleaned_data["scenario"]
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON: %(error)s (line %(line)d, column %(column)d).")
                % {"error": exc.msg, "line": exc.lineno, "column": exc.colno}
            ) from exc
        except RecursionError as exc:  # deeper than Python decodes: refused as the API's parser refuses it
            raise forms.ValidationError(_("Not valid JSON: it is nested too deeply.")) from exc


# What the page's download buttons send: the scenario as edited, or its result (as simulate_penalties prints it).
DOWNLOADS = ("scenario", "result")


def _download(contract: Contract, what: str, data: dict, scenario: Scenario, evaluation: Evaluation) -> HttpResponse:
    content = data if what == "scenario" else result_to_dict(evaluation, scenario.terms.currency)
    filename = f"{contract.reference}-{what}-{scenario.months.first}-{scenario.months.last}.json"
    return HttpResponse(
        json.dumps(content, indent=2, ensure_ascii=False) + "\n",
        content_type="application/json",
        headers={"Content-Disposition": content_disposition_header(True, get_valid_filename(filename))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def simulate_contract(request, pk: int):
    """GET loads the contract's scenario for the months asked (by default the last twelve); POST
    evaluates the scenario as edited and shows the result beside the stored statements' credits."""
    user = request.user
    if not may_simulate(user):
        raise PermissionDenied
    contract = get_object_or_404(restrict(Contract.objects.select_related("vendor"), user), pk=pk)
    last = add_months(first_of_month(timezone.localdate()), -1)
    months_form = MonthsForm(
        request.GET or {"first": month_label(add_months(last, 1 - MONTHS_BACK)), "last": month_label(last)}
    )
    differing: list[Month] = []
    earlier = result = problems = None
    if request.method == "POST":
        form = ScenarioForm(request.POST)
        if form.is_valid():
            try:
                scenario = load_scenario(form.cleaned_data["scenario"])
                result = evaluate_scenario(scenario)
            except ScenarioError as exc:
                problems = readable_problems(exc.problems)
            else:
                if request.POST.get("download") in DOWNLOADS:
                    return _download(
                        contract, request.POST["download"], form.cleaned_data["scenario"], scenario, result
                    )
    else:
        initial = ""
        if months_form.is_valid():
            scenario, differing = export_scenario(contract, months_form.cleaned_data["months"])
            earlier = history_before(contract, months_form.cleaned_data["months"])
            initial = json.dumps(scenario, indent=2, ensure_ascii=False)
        form = ScenarioForm(initial={"scenario": initial})
    context = {
        "contract": contract,
        "months_form": months_form,
        "form": form,
        "differing": differing,
        "history_before": earlier,
        "problems": problems,
        "result": result and _result_rows(user, contract, result, scenario.terms.currency),
        "active_section": "contracts",
    }
    refused = problems or (request.method == "POST" and form.errors)
    return render(request, "sla_tracker/simulator.html", context, status=400 if refused else 200)


def _result_rows(user, contract: Contract, evaluation: Evaluation, currency: str) -> dict:
    """The result's months as table rows, each with the credits of the contract's stored statement of
    that month (if any), so that a change of terms reads as a difference; each line with its
    explanation (and the evidence of each termination right) in the reader's language."""
    result = result_to_dict(evaluation, currency)
    explanations = {
        (str(month.month), line.code): readable(line.explanation, explanation_data(line.notes))
        for month in evaluation.months
        for line in month.lines
    }
    months = [parse_month(item["month"]) for item in result["months"]]
    # Credits in another currency than the scenario's are no difference to show.
    same_currency = currency == contract.currency
    statements = visible_statements(user).filter(contract=contract, month__in=months) if same_currency else []
    stored = {statement.month: statement.credits for statement in statements}
    codes = [line["code"] for line in result["months"][0]["service_levels"]] if result["months"] else []
    rows = []
    for item, month, evaluated in zip(result["months"], months, evaluation.months, strict=True):
        lines = {line["code"]: line for line in item["service_levels"]}
        credits = Decimal(item["credits"])
        actual = stored.get(month)
        rows.append(
            {
                "month": month,
                "item": item,
                "lines": [
                    lines[code]
                    | {
                        "label": LineStatus(lines[code]["status"]).label,
                        "explanation": explanations[(item["month"], code)],
                    }
                    if code in lines
                    else None
                    for code in codes
                ],
                "stored": actual,
                "difference": None if actual is None else credits - actual,
                "termination_rights": [
                    {"since": right.since, "evidence": readable(right.evidence, explanation_data(right.notes))}
                    for right in evaluated.termination_rights
                ],
            }
        )
    totals = {
        name: sum((Decimal(item[name]) for item in result["months"]), Decimal("0.00"))
        for name in ("credits", "bonuses", "earn_backs", "net")
    }
    compared = [row for row in rows if row["stored"] is not None]
    return {
        "currency": result["currency"],
        "contract_currency": None if same_currency else contract.currency,
        "codes": codes,
        "rows": rows,
        "totals": totals,
        "stored_total": sum((row["stored"] for row in compared), Decimal("0.00")) if compared else None,
        "difference_total": sum((row["difference"] for row in compared), Decimal("0.00")) if compared else None,
    }
