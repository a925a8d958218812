"""Terms a month with an approved (or invoiced) statement applies are fixed: their edits and deletions are
refused, naming the month and the first open month, and new terms may not start at or before such a month,
through the API, the admin and the models alike; terms of open months change as before."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from config.formats import month_name
from contracts.models import MonthlyCharge
from sla_tracker.choices import CreditType, StatementStatus
from sla_tracker.models import (
    CreditMultiplier,
    CreditTier,
    PenaltyRegime,
    PenaltyStatement,
    ServiceLevel,
    ServiceLevelVersion,
    StatementAdjustment,
)
from tests.factories import (
    ContractFactory,
    CreditMultiplierFactory,
    CreditTierFactory,
    MonthlyChargeFactory,
    PenaltyRegimeFactory,
    PenaltyStatementFactory,
    ServiceLevelFactory,
    ServiceLevelVersionFactory,
    StatementLineFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date

FIXED_SINCE_JANUARY = (
    "These terms apply from January 2025 and the penalty statement of January 2025 is “Invoiced”, so they can no "
    "longer change: add a new version valid from June 2025, the first open month."
)
FIXED_SINCE_APRIL = (
    "These terms apply from April 2025 and the penalty statement of April 2025 is “Approved”, so they can no longer "
    "change: add a new version valid from June 2025, the first open month."
)
NOT_DELETED_SINCE_JANUARY = (
    "These terms apply from January 2025 and the penalty statement of January 2025 is “Invoiced”, so they can no "
    "longer be deleted: add a new version valid from June 2025, the first open month."
)


def starts_too_early(month: str, status: str = "Approved") -> str:
    month = month_name(month)  # the message writes the month as the pages do
    return (
        f"The penalty statement of {month} is “{status}”, so terms can no longer start in {month}: "
        "make them valid from June 2025, the first open month."
    )


@pytest.fixture
def contract():
    """A contract from 2025-01 whose statements are invoiced for 2025-01..03, approved for 2025-04..05 and
    a draft for 2025-06 (the first open month); its terms: a regime from 2025-01, a tiered CSL-1 from 2025-01
    (0–70 %: 10 %, 70–80 %: 2 %, × 1.5 from the second month) and its version from 2025-04."""
    contract = ContractFactory(reference="DEMO-A")
    for month in (1, 2, 3):
        PenaltyStatementFactory(contract=contract, month=D(2025, month, 1), approved=True, status="invoiced")
    for month in (4, 5):
        PenaltyStatementFactory(contract=contract, month=D(2025, month, 1), approved=True)
    PenaltyStatementFactory(contract=contract, month=D(2025, 6, 1))
    return contract


@pytest.fixture
def regime(contract):
    return PenaltyRegimeFactory(contract=contract, valid_from=D(2025, 1, 1))


@pytest.fixture
def level(contract):
    return ServiceLevelFactory(contract=contract, code="CSL-1")


@pytest.fixture
def version(level):
    """CSL-1's terms from 2025-01, tiered, with a multiplier."""
    version = ServiceLevelVersionFactory(service_level=level, valid_from=D(2025, 1, 1), tiers=True)
    CreditTierFactory(version=version, lower=Decimal("0"), upper=Decimal("70"), pct=Decimal("10"))
    CreditTierFactory(version=version, lower=Decimal("70"), upper=Decimal("80"), pct=Decimal("2"))
    CreditMultiplierFactory(version=version, run=2, factor=Decimal("1.5"))
    return version


@pytest.fixture
def april(level):
    return ServiceLevelVersionFactory(service_level=level, valid_from=D(2025, 4, 1), expected=Decimal("82"))


@pytest.fixture
def api(contract):
    """The contract's vendor manager, as QA was: the API lets them write terms."""
    client = APIClient()
    client.force_authenticate(contract.owner)
    return client


@pytest.fixture
def administrator():
    return UserFactory(administrator=True)


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def version_url(version) -> str:
    return f"/api/v1/service-level-versions/{version.pk}/"


def errors_of(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    return body["errors"]


def new_version(level, month: str) -> dict:
    return {
        "service_level": level.pk,
        "valid_from": f"{month}-01",
        "numerator": ["answered_within_20s"],
        "denominator": ["answered", "abandoned", "-abandoned_short"],
        "expected": "85.0000",
        "minimum": "70.0000",
        "credit_type": CreditType.ALLOCATION,
        "allocation_pct": "20.0000",
    }


# The admin's forms, posted as shown with a few values changed -----------------------------------------


def _value(bound_field):
    value = bound_field.value()
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def admin_form_data(response) -> dict:
    """The data an admin change page posts back as shown: its form and each inline formset."""
    assert response.status_code == 200
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name in form.fields:
            value = _value(form[name])
            if value is not None:
                data[form.add_prefix(name)] = value
    return data


def inline_prefix(response, model) -> str:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return inline.formset.prefix
    raise AssertionError(f"no inline of {model.__name__}")


def inline_index(response, row) -> int:
    for inline in response.context["inline_admin_formsets"]:
        for index, form in enumerate(inline.formset.forms):
            if form.instance.pk == row.pk and type(form.instance) is type(row):
                return index
    raise AssertionError(f"{row} is not in the page's inlines")


def change_url(row) -> str:
    return reverse(f"admin:{row._meta.app_label}_{row._meta.model_name}_change", args=[row.pk])


def form_errors(response) -> dict:
    assert response.status_code == 200, "the form was not shown again"
    return {field: list(messages) for field, messages in response.context["adminform"].form.errors.items()}


def inline_errors(response, model) -> tuple[list, list]:
    """(the formset's own errors, each form's errors) of the inline of `model`."""
    assert response.status_code == 200, "the form was not shown again"
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return list(inline.formset.non_form_errors()), [form.errors for form in inline.formset.forms]
    raise AssertionError(f"no inline of {model.__name__}")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# API -----------------------------------------------------------------------------------------------


def test_a_version_in_force_in_an_approved_month_is_not_changed_through_the_api(api, version):
    response = api.patch(version_url(version), {"expected": "75.0000"}, format="json")

    assert errors_of(response) == {"expected": [FIXED_SINCE_JANUARY]}
    version.refresh_from_db()
    assert version.expected == Decimal("80")
    assert version.history.count() == 1


def test_each_changed_field_of_fixed_terms_is_named(api, april):
    response = api.patch(version_url(april), {"expected": "60.0000", "minimum": "50.0000"}, format="json")

    assert errors_of(response) == {"expected": [FIXED_SINCE_APRIL], "minimum": [FIXED_SINCE_APRIL]}


def test_an_invoiced_month_fixes_its_terms_as_an_approved_one_does(api, contract, april):
    PenaltyStatement.objects.filter(contract=contract, month=D(2025, 4, 1)).update(status=StatementStatus.INVOICED)

    response = api.patch(version_url(april), {"expected": "75.0000"}, format="json")

    assert errors_of(response) == {"expected": [FIXED_SINCE_APRIL.replace("“Approved”", "“Invoiced”")]}


def test_terms_of_open_months_only_change_through_the_api(api, level):
    june = ServiceLevelVersionFactory(service_level=level, valid_from=D(2025, 6, 1))

    response = api.patch(version_url(june), {"expected": "75.0000"}, format="json")

    assert response.status_code == 200, response.content
    june.refresh_from_db()
    assert june.expected == Decimal("75")


def test_draft_in_review_and_disputed_statements_do_not_fix_terms(api, contract):
    contract = ContractFactory(owner=contract.owner)
    for month, status in ((1, StatementStatus.DRAFT), (2, StatementStatus.IN_REVIEW), (3, StatementStatus.DISPUTED)):
        PenaltyStatementFactory(contract=contract, month=D(2025, month, 1), status=status)
    version = ServiceLevelVersionFactory(service_level__contract=contract, valid_from=D(2025, 1, 1))

    response = api.patch(version_url(version), {"expected": "75.0000"}, format="json")

    assert response.status_code == 200, response.content


def test_a_new_version_cannot_start_at_or_before_an_approved_month(api, level, version):
    for month, status in (("2025-05", "Approved"), ("2025-02", "Invoiced")):
        response = api.post("/api/v1/service-level-versions/", new_version(level, month), format="json")

        assert errors_of(response) == {"valid_from": [starts_too_early(month, status)]}
    assert ServiceLevelVersion.objects.filter(service_level=level).count() == 1


def test_a_new_version_starts_in_the_first_open_month(api, level, version):
    response = api.post("/api/v1/service-level-versions/", new_version(level, "2025-06"), format="json")

    assert response.status_code == 201, response.content
    assert level.versions.latest().valid_from == D(2025, 6, 1)


def test_an_open_version_is_not_moved_back_into_an_approved_month(api, level):
    july = ServiceLevelVersionFactory(service_level=level, valid_from=D(2025, 7, 1))

    response = api.patch(version_url(july), {"valid_from": "2025-05-01"}, format="json")

    assert errors_of(response) == {"valid_from": [starts_too_early("2025-05")]}


def test_a_fixed_version_is_not_moved_to_an_open_month_either(api, april):
    response = api.patch(version_url(april), {"valid_from": "2025-07-01"}, format="json")

    assert errors_of(response) == {"valid_from": [FIXED_SINCE_APRIL]}


def test_a_version_sent_back_unchanged_is_accepted(api, version):
    response = api.patch(version_url(version), {"expected": "80.0000", "minimum": "70"}, format="json")

    assert response.status_code == 200, response.content


def test_an_approved_month_fixes_the_terms_of_the_months_before_it_too(api, contract, level):
    """A month's result feeds the later months (runs, earn-backs, the annual cap): terms applying before
    an approved month are fixed even when a later version applies in that month."""
    PenaltyStatement.objects.filter(contract=contract, month__gte=D(2025, 3, 1)).update(status=StatementStatus.DRAFT)
    PenaltyStatement.objects.filter(contract=contract, month=D(2025, 5, 1)).update(status=StatementStatus.APPROVED)
    march = ServiceLevelVersionFactory(service_level=level, valid_from=D(2025, 3, 1))
    ServiceLevelVersionFactory(service_level=level, valid_from=D(2025, 5, 1))

    response = api.patch(version_url(march), {"expected": "75.0000"}, format="json")

    assert errors_of(response) == {
        "expected": [
            "These terms apply from March 2025 and the penalty statement of May 2025 is “Approved”, so they can no "
            "longer change: add a new version valid from June 2025, the first open month."
        ]
    }


def test_a_service_level_is_not_retired_from_an_approved_month(api, level):
    url = f"/api/v1/service-levels/{level.pk}/"
    refusal = (
        "The penalty statement of May 2025 is “Approved”, so the month this service level is retired from can "
        "change only from June 2025, the first open month."
    )

    assert errors_of(api.patch(url, {"retired_from": "2025-05-01"}, format="json")) == {"retired_from": [refusal]}
    assert api.patch(url, {"retired_from": "2025-06-01"}, format="json").status_code == 200
    ServiceLevel.objects.filter(pk=level.pk).update(retired_from=D(2025, 4, 1))
    assert errors_of(api.patch(url, {"retired_from": None}, format="json")) == {
        "retired_from": [refusal.replace("May 2025", "April 2025")]
    }


def test_a_service_level_cited_by_an_approved_statement_keeps_its_code(api, level, contract, version):
    url = f"/api/v1/service-levels/{level.pk}/"
    draft = contract.statements.get(month=D(2025, 6, 1))
    StatementLineFactory(statement=draft, service_level=level, terms=version)

    assert api.patch(url, {"code": "CSL-1A"}, format="json").status_code == 200  # a draft cites it only
    ServiceLevel.objects.filter(pk=level.pk).update(code="CSL-1")
    StatementLineFactory(statement=contract.statements.get(month=D(2025, 4, 1)), service_level=level, terms=version)

    assert errors_of(api.patch(url, {"code": "CSL-9", "name": "Renamed"}, format="json")) == {
        "code": [
            "The penalty statement of April 2025 is “Approved” and cites this service level as CSL-1: its code no "
            "longer changes."
        ]
    }
    assert ServiceLevel.objects.values_list("code", "name").get(pk=level.pk) == ("CSL-1", level.name)
    assert api.patch(url, {"name": "Voice service level, 80 % in 20 s"}, format="json").status_code == 200


# Models: every other path ----------------------------------------------------------------------------


def test_fixed_terms_refuse_validation_and_deletion_on_the_models(regime, version):
    regime.at_risk_pct = Decimal("15")
    with pytest.raises(ValidationError) as refused:
        regime.full_clean()
    assert refused.value.message_dict == {"at_risk_pct": [FIXED_SINCE_JANUARY]}

    for row in (regime, version, version.tiers.first(), version.multipliers.get()):
        with pytest.raises(ValidationError) as refused:
            row.delete()
        assert refused.value.messages == [NOT_DELETED_SINCE_JANUARY]
    assert (PenaltyRegime.objects.count(), CreditTier.objects.count(), CreditMultiplier.objects.count()) == (1, 2, 1)


def test_a_tier_or_multiplier_added_to_fixed_terms_is_refused(version):
    for row in (
        CreditTier(version=version, lower=Decimal("80"), upper=None, pct=Decimal("0")),
        CreditMultiplier(version=version, run=3, factor=Decimal("2")),
    ):
        with pytest.raises(ValidationError) as refused:
            row.full_clean()
        assert refused.value.message_dict == {"__all__": [FIXED_SINCE_JANUARY]}


def test_a_new_regime_cannot_start_at_or_before_an_approved_month(contract, regime):
    with pytest.raises(ValidationError) as refused:
        PenaltyRegime(contract=contract, valid_from=D(2025, 4, 1), at_risk_pct=Decimal("15")).full_clean()

    assert refused.value.message_dict == {"valid_from": [starts_too_early("2025-04")]}
    PenaltyRegime(contract=contract, valid_from=D(2025, 6, 1), at_risk_pct=Decimal("15")).full_clean()
    assert "April 2025" in refused.value.message_dict["valid_from"][0]


def test_the_refusal_writes_its_months_in_the_language_it_is_raised_in(contract, regime):
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        PenaltyRegime(contract=contract, valid_from=D(2025, 4, 1), at_risk_pct=Decimal("15")).full_clean()

    assert refused.value.message_dict == {
        "valid_from": [
            "Le relevé de pénalités pour avril 2025 est au statut «\u00a0Approuvé\u00a0»\u00a0: des conditions ne "
            "peuvent donc plus commencer en avril 2025. Rendez-les applicables à partir de juin 2025, le premier mois "
            "ouvert."
        ]
    }


def test_terms_of_another_contract_are_not_fixed_by_this_ones_statements(version):
    other = ServiceLevelVersionFactory(valid_from=D(2025, 1, 1))
    other.expected = Decimal("75")

    other.full_clean()


# Admin -----------------------------------------------------------------------------------------------


def test_a_fixed_version_is_not_changed_in_the_admin(admin_client, version):
    page = admin_client.get(change_url(version))
    data = admin_form_data(page) | {"expected": "75.0000"}

    response = admin_client.post(change_url(version), data)

    assert form_errors(response) == {"expected": [FIXED_SINCE_JANUARY]}
    version.refresh_from_db()
    assert version.expected == Decimal("80")


def test_a_fixed_regime_is_not_changed_in_the_admin(admin_client, regime):
    page = admin_client.get(change_url(regime))

    response = admin_client.post(change_url(regime), admin_form_data(page) | {"annual_cap_pct": "10"})

    assert form_errors(response) == {"annual_cap_pct": [FIXED_SINCE_JANUARY]}
    regime.refresh_from_db()
    assert regime.annual_cap_pct == Decimal("8")


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [(CreditTier, "pct", "25"), (CreditTier, "upper", "75"), (CreditMultiplier, "factor", "2")],
)
def test_the_tiers_and_multipliers_of_a_fixed_version_are_not_changed_in_the_admin(
    admin_client, version, model, field, value
):
    row = model.objects.filter(version=version).order_by("pk").first()
    page = admin_client.get(change_url(version))
    key = f"{inline_prefix(page, model)}-{inline_index(page, row)}-{field}"

    response = admin_client.post(change_url(version), admin_form_data(page) | {key: value})

    _formset_errors, errors = inline_errors(response, model)
    assert errors[inline_index(page, row)] == {field: [FIXED_SINCE_JANUARY]}
    assert model.objects.get(pk=row.pk).history.count() == 1


def test_a_tier_is_not_added_to_a_fixed_version_in_the_admin(admin_client, version):
    page = admin_client.get(change_url(version))
    prefix = inline_prefix(page, CreditTier)
    data = admin_form_data(page) | {
        f"{prefix}-TOTAL_FORMS": "3",
        f"{prefix}-2-version": str(version.pk),
        f"{prefix}-2-lower": "80",
        f"{prefix}-2-pct": "0",
    }

    response = admin_client.post(change_url(version), data)

    _formset_errors, errors = inline_errors(response, CreditTier)
    assert errors[2] == {"__all__": [FIXED_SINCE_JANUARY]}
    assert version.tiers.count() == 2


def test_a_tier_of_a_fixed_version_is_not_deleted_in_the_admin(admin_client, version):
    tier = version.tiers.get(lower=0)
    page = admin_client.get(change_url(version))
    key = f"{inline_prefix(page, CreditTier)}-{inline_index(page, tier)}-DELETE"

    response = admin_client.post(change_url(version), admin_form_data(page) | {key: "on"})

    formset_errors, _errors = inline_errors(response, CreditTier)
    assert formset_errors == [f"{tier}: {NOT_DELETED_SINCE_JANUARY}"]
    assert CreditTier.objects.filter(pk=tier.pk).exists()


def test_the_tiers_of_an_open_version_change_in_the_admin(admin_client, level, administrator):
    june = ServiceLevelVersionFactory(
        service_level=level, valid_from=D(2025, 6, 1), tiers=True, expected=Decimal("70"), minimum=Decimal("60")
    )
    tier = CreditTierFactory(version=june, lower=Decimal("0"), upper=Decimal("70"), pct=Decimal("10"))
    page = admin_client.get(change_url(june))
    key = f"{inline_prefix(page, CreditTier)}-{inline_index(page, tier)}-pct"

    response = admin_client.post(change_url(june), admin_form_data(page) | {key: "25"})

    assert response.status_code == 302
    tier.refresh_from_db()
    assert tier.pct == Decimal("25")


def test_a_version_of_a_service_level_is_not_changed_in_its_inline(admin_client, level, version):
    page = admin_client.get(change_url(level))
    key = f"{inline_prefix(page, ServiceLevelVersion)}-{inline_index(page, version)}-expected"

    response = admin_client.post(change_url(level), admin_form_data(page) | {key: "75"})

    _formset_errors, errors = inline_errors(response, ServiceLevelVersion)
    assert errors[inline_index(page, version)] == {"expected": [FIXED_SINCE_JANUARY]}


def test_a_fixed_version_is_not_deleted_in_the_admin(admin_client, version):
    url = reverse("admin:sla_tracker_servicelevelversion_delete", args=[version.pk])

    response = admin_client.post(url, {"post": "yes"}, follow=True)

    assert response.redirect_chain == [(change_url(version), 302)]
    assert messages_of(response) == [NOT_DELETED_SINCE_JANUARY]
    assert ServiceLevelVersion.objects.filter(pk=version.pk).exists()


def test_fixed_regimes_are_not_deleted_with_the_lists_action(admin_client, contract, regime):
    june = PenaltyRegimeFactory(contract=contract, valid_from=D(2025, 6, 1))
    url = reverse("admin:sla_tracker_penaltyregime_changelist")

    response = admin_client.post(
        url, {"action": "delete_selected", "_selected_action": [regime.pk, june.pk], "post": "yes"}, follow=True
    )

    assert messages_of(response) == [f"{regime}: {NOT_DELETED_SINCE_JANUARY}"]
    assert PenaltyRegime.objects.count() == 2


def test_open_regimes_are_deleted_with_the_lists_action(admin_client, contract, regime):
    june = PenaltyRegimeFactory(contract=contract, valid_from=D(2025, 6, 1))
    url = reverse("admin:sla_tracker_penaltyregime_changelist")

    response = admin_client.post(url, {"action": "delete_selected", "_selected_action": [june.pk], "post": "yes"})

    assert response.status_code == 302
    assert list(PenaltyRegime.objects.all()) == [regime]


def test_the_charges_of_a_month_with_a_statement_are_not_deleted_in_the_admin_nor_on_the_model(admin_client, contract):
    april = MonthlyChargeFactory(contract=contract, month=D(2025, 4, 1))
    june = MonthlyChargeFactory(contract=contract, month=D(2025, 6, 1))  # its statement is a draft
    july = MonthlyChargeFactory(contract=contract, month=D(2025, 7, 1))  # no statement yet
    refusal = (
        "The penalty statement of April 2025 is approved: its charges no longer change. Ask procurement to reopen it "
        "first."
    )

    response = admin_client.post(
        reverse("admin:contracts_monthlycharge_delete", args=[april.pk]), {"post": "yes"}, follow=True
    )
    assert messages_of(response) == [refusal]
    response = admin_client.post(
        reverse("admin:contracts_monthlycharge_changelist"),
        {"action": "delete_selected", "_selected_action": [april.pk, june.pk], "post": "yes"},
        follow=True,
    )
    assert messages_of(response) == [
        f"{april}: {refusal}",
        f"{june}: The penalty statement of June 2025 was computed from these charges: correct their amount instead "
        "(the statement is recomputed).",
    ]
    with pytest.raises(ValidationError, match="its charges no longer change"):
        april.delete()
    with pytest.raises(ValidationError, match="June 2025 was computed from these charges: correct their amount"):
        june.delete()
    assert MonthlyCharge.objects.filter(contract=contract).count() == 3

    july.delete()  # a month without a statement: its charges go
    assert list(MonthlyCharge.objects.filter(contract=contract).order_by("month")) == [april, june]


# The money of an approved month ----------------------------------------------------------------------


def test_terms_changes_leave_the_money_of_an_approved_month_as_approved():
    from sla_tracker.services import approve_statement, submit_statement
    from tests.sla_tracker.test_close import close, scenario_json, seed_scenario, statement_of

    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    january = close(contract, "2026-01")
    procurement = UserFactory(procurement=True)
    submit_statement(statement_id=january.pk, actor=procurement)
    approve_statement(statement_id=january.pk, actor=procurement)
    MonthlyChargeFactory(contract=contract, month=D(2026, 2, 1), amount=Decimal("200000.00"))
    close(contract, "2026-02")
    version = ServiceLevelVersion.objects.get(service_level__contract=contract, service_level__code="CSL-1")
    api = APIClient()
    api.force_authenticate(contract.owner)

    # 73.26 % was measured in January: a 70 % target would have turned its default into a met level.
    refused = api.patch(version_url(version), {"expected": "70.0000"}, format="json")
    added = api.post(
        "/api/v1/service-level-versions/",
        new_version(version.service_level, "2026-02")
        | {
            "numerator": version.numerator,
            "denominator": version.denominator,
            "allocation_pct": str(version.allocation_pct),
            "minimum": None,
        },
        format="json",
    )
    close(contract, "2026-01")
    close(contract, "2026-02")

    assert (refused.status_code, added.status_code) == (400, 201)
    assert not StatementAdjustment.objects.exists()
    assert statement_of(contract, "2026-02").adjustments == 0
    assert not january.events.filter(data__has_key="pending").exists()
