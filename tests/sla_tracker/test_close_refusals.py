"""A close that cannot compute a contract's month (e.g. a month's charges not recorded) is kept with its reason
until a close of that month succeeds, and shown to those who act on it: the home page, the contract page and a
notice to procurement and the contract's owner, each in the reader's language."""

import datetime
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from config.formats import long_date
from contracts.models import MonthlyCharge
from notifications import services as notices
from notifications.choices import NotificationKind
from notifications.models import Notification
from sla_tracker import services, tasks
from sla_tracker.choices import CloseRefusalCode
from sla_tracker.models import CloseRefusal, PenaltyRegime, PenaltyStatement
from tests.factories import CloseRefusalFactory, UserFactory, VendorUserFactory
from tests.sla_tracker.test_close import AS_OF, scenario_json, seed_scenario

pytestmark = pytest.mark.django_db
MAY = date(2026, 5, 1)


def close_batch(contracts, month: str) -> services.ClosedMonth:
    return services.close_contracts_month(contract_ids=[c.pk for c in contracts], month=month, as_of=AS_OF)


def without_may_charges():
    """Example 9's contract (February to July) whose May charges are not recorded."""
    contract = seed_scenario(scenario_json("ex09_multiplier"))
    charge = MonthlyCharge.objects.get(contract=contract, month=MAY)
    amount = charge.amount
    charge.delete()
    return contract, amount


def test_a_refused_close_is_kept_with_its_reason_and_the_rest_of_the_batch_closes():
    good = seed_scenario(scenario_json("ex09_multiplier"))
    refused, _amount = without_may_charges()

    closed = close_batch([good, refused], "2026-07")

    assert set(closed.statements) == {good.pk}
    refusal = CloseRefusal.objects.get()
    assert (refusal.contract, refusal.month, refusal.code) == (refused, date(2026, 7, 1), CloseRefusalCode.NO_CHARGES)
    assert refusal.params == {"contract": refused.reference, "month": "2026-05"}
    expected = f"{refused.reference} has no monthly charges for May 2026: record them before the close."
    assert refusal.message == closed.refused[refused.pk] == expected
    assert refusal.readable_message == expected
    assert refusal.attempts == 1
    assert refusal.first_refused_at == refusal.refused_at
    with translation.override("fr"):
        assert refusal.readable_message == (
            f"{refused.reference} n’a pas de facturation mensuelle pour mai 2026\u00a0: "
            "enregistrez-la avant la clôture."
        )


def test_a_close_refused_again_counts_the_attempt_and_keeps_when_it_was_first_refused():
    contract, _amount = without_may_charges()
    close_batch([contract], "2026-07")
    first = CloseRefusal.objects.get()

    close_batch([contract], "2026-07")

    again = CloseRefusal.objects.get()
    assert again.attempts == 2
    assert again.first_refused_at == first.first_refused_at
    assert again.refused_at > first.refused_at


def test_once_the_reason_is_gone_the_close_succeeds_and_forgets_the_refusals_of_the_months_it_computed():
    contract, amount = without_may_charges()
    close_batch([contract], "2026-06")
    close_batch([contract], "2026-07")
    assert sorted(CloseRefusal.objects.values_list("month", flat=True)) == [date(2026, 6, 1), date(2026, 7, 1)]

    MonthlyCharge.objects.create(contract=contract, month=MAY, amount=amount)
    closed = close_batch([contract], "2026-06")

    assert closed.refused == {}
    assert list(CloseRefusal.objects.values_list("month", flat=True)) == [date(2026, 7, 1)]  # July is not closed yet
    close_batch([contract], "2026-07")
    assert not CloseRefusal.objects.exists()
    assert PenaltyStatement.objects.filter(contract=contract).count() == 6


def test_the_monthly_close_task_keeps_the_refusal_it_logs():
    contract, _amount = without_may_charges()

    result = tasks.evaluate_contracts_month([contract.pk], "2026-07")

    assert result == {"closed": 0, "refused": 1}
    assert CloseRefusal.objects.get().contract == contract


def test_terms_the_engine_refuses_are_kept_with_the_engines_reason(monkeypatch):
    contract = seed_scenario(scenario_json("ex01_plain_breach"))

    def refuse(*args, **kwargs):
        raise services.EngineError("no terms in force")

    monkeypatch.setattr(services, "evaluate_month", refuse)
    close_batch([contract], "2026-01")

    refusal = CloseRefusal.objects.get()
    assert refusal.code == CloseRefusalCode.NOT_EVALUABLE
    assert refusal.params == {"contract": contract.reference, "month": "2026-01", "reason": "no terms in force"}
    with translation.override("fr"):
        assert (
            refusal.readable_message
            == f"{contract.reference} janvier 2026 ne peut pas être évalué\u00a0: no terms in force"
        )


def test_impossible_counts_are_refused_with_the_engines_reason_in_the_readers_language():
    data = scenario_json("ex01_plain_breach")
    data["measurements"][0]["values"].update(abandoned=100, short_abandoned=150)
    contract = seed_scenario(data)

    close_batch([contract], "2026-01")

    refusal = CloseRefusal.objects.get()
    assert not PenaltyStatement.objects.filter(contract=contract).exists()
    assert refusal.code == CloseRefusalCode.NOT_EVALUABLE
    assert refusal.params["reason"] == (
        "CSL-2 in 2026-01: the numerator (abandoned - short_abandoned) sums to -50: "
        "the counters it subtracts exceed those it adds"
    )
    with translation.override("fr"):
        assert "le numérateur (abandoned - short_abandoned) a pour somme -50" in refusal.readable_message


def test_an_allocation_credit_without_an_at_risk_amount_is_refused_for_its_contract_alone():
    broken = seed_scenario(scenario_json("ex01_plain_breach"), reference="BROKEN")
    PenaltyRegime.objects.filter(contract=broken).update(at_risk_pct=None, pool_pct=None)
    good = seed_scenario(scenario_json("ex01_plain_breach"), reference="GOOD")

    close_batch([broken, good], "2026-01")

    refusal = CloseRefusal.objects.get()
    assert (refusal.contract, refusal.params["reason"]) == (broken, "CSL-1: an allocation credit needs at_risk_pct")
    assert list(PenaltyStatement.objects.values_list("contract", flat=True)) == [good.pk]
    with translation.override("fr"):
        assert refusal.readable_message.endswith("CSL-1 : un crédit par allocation demande at_risk_pct")


def test_a_refusal_of_a_change_that_rolls_back_leaves_no_refusal():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    with pytest.raises(RuntimeError), services.transaction.atomic():
        MonthlyCharge.objects.filter(contract=contract).delete()
        close_batch([contract], "2026-01")
        assert CloseRefusal.objects.exists()
        raise RuntimeError("the change is refused")

    assert not CloseRefusal.objects.exists()


def test_a_refused_recomputation_of_an_open_statement_stays_when_a_later_month_closes_and_holds_the_statement(
    client,
):
    contract = seed_scenario(scenario_json("ex09_multiplier"))  # February to July
    close_batch([contract], "2026-07")
    may = PenaltyStatement.objects.get(contract=contract, month=MAY)
    procurement = UserFactory(procurement=True)
    services.submit_statement(statement_id=may.pk, actor=contract.owner)
    MonthlyCharge.objects.filter(contract=contract, month=MAY).delete()

    assert close_batch([contract], "2026-05").refused  # May's recomputation is refused: its figures stand
    assert close_batch([contract], "2026-07").refused == {}  # July closes without recomputing May

    assert list(CloseRefusal.objects.values_list("month", flat=True)) == [MAY]
    with pytest.raises(
        services.ValidationError,
        match=r"cannot be approved before its month is recomputed\. BPO-\d+ has no monthly charges for May 2026",
    ):
        services.approve_statement(statement_id=may.pk, actor=procurement)
    html = page(client, procurement, reverse("sla_tracker:statement", args=[may.pk]))
    assert "The latest recomputation of this statement was refused" in html
    assert "has no monthly charges for May 2026" in html
    assert 'data-action="approve"' not in html  # not offered while held
    june = PenaltyStatement.objects.get(contract=contract, month=date(2026, 6, 1))
    assert "close-refusal" not in page(client, procurement, reverse("sla_tracker:statement", args=[june.pk]))


def test_a_draft_whose_recomputation_was_refused_is_not_submitted():
    contract, _amount = without_may_charges()
    close_batch([contract], "2026-04")
    april = PenaltyStatement.objects.get(contract=contract, month=date(2026, 4, 1))
    MonthlyCharge.objects.filter(contract=contract, month=april.month).delete()
    close_batch([contract], "2026-04")

    with pytest.raises(services.ValidationError, match="cannot be submitted for review before its month is recomputed"):
        services.submit_statement(statement_id=april.pk, actor=contract.owner)


def test_the_daily_safety_net_closes_each_refused_month_again_until_it_closes(settings):
    settings.MONTHLY_CLOSE_DAY = 31  # only the refused months, not last month's missing closes
    contract, amount = without_may_charges()
    close_batch([contract], "2026-06")

    tasks.close_missed_contracts()
    assert CloseRefusal.objects.get(month=date(2026, 6, 1)).attempts == 2

    MonthlyCharge.objects.create(contract=contract, month=MAY, amount=amount)
    assert tasks.close_missed_contracts() == 1
    assert not CloseRefusal.objects.exists()
    assert PenaltyStatement.objects.filter(contract=contract).count() == 5  # February to June


def test_a_month_the_contract_did_not_serve_is_refused_and_not_kept():
    contract = seed_scenario(scenario_json("ex09_multiplier"))  # from February 2026

    closed = close_batch([contract], "2026-01")

    assert closed.refused == {
        contract.pk: f"{contract.reference} did not serve January 2026 (service from Feb. 1, 2026 to "
        f"{long_date(contract.end_date)}): there is nothing to close."
    }
    assert contract.end_date.isoformat() not in closed.refused[contract.pk]
    with translation.override("fr"):
        french = close_batch([contract], "2026-01").refused[contract.pk]
    assert french.startswith(
        f"{contract.reference} n’était pas en service en janvier 2026 (service du 1er février 2026 au "
    )
    assert not CloseRefusal.objects.exists()


def test_a_contract_terminated_before_it_ran_serves_no_month():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    type(contract).objects.filter(pk=contract.pk).update(status="terminated", terminated_on=None)

    closed = close_batch([contract], "2026-01")

    assert "did not serve January 2026" in closed.refused[contract.pk]
    assert not CloseRefusal.objects.exists()
    assert not PenaltyStatement.objects.filter(contract=contract).exists()


def test_a_refusal_of_a_month_after_the_last_day_of_service_goes_at_its_next_attempt():
    contract = seed_scenario(scenario_json("ex09_multiplier"))
    close_batch([contract], "2026-06")
    MonthlyCharge.objects.filter(contract=contract, month=date(2026, 7, 1)).delete()
    close_batch([contract], "2026-07")
    assert CloseRefusal.objects.filter(contract=contract, month=date(2026, 7, 1)).exists()
    type(contract).objects.filter(pk=contract.pk).update(status="terminated", terminated_on=date(2026, 6, 30))

    closed = close_batch([contract], "2026-07")

    assert "did not serve July 2026 (service from Feb. 1, 2026 to June 30, 2026)" in closed.refused[contract.pk]
    assert not CloseRefusal.objects.exists()
    assert not PenaltyStatement.objects.filter(contract=contract, month=date(2026, 7, 1)).exists()


# Where people see it ----------------------------------------------------------------------------------


@pytest.fixture
def refused_contract():
    contract, _amount = without_may_charges()
    close_batch([contract], "2026-07")
    return contract


def page(client, user, path: str, language: str = "en") -> str:
    client.force_login(user)
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_procurement_and_the_contracts_owner_see_the_refusal_on_their_home_page(client, refused_contract):
    for user in (UserFactory(procurement=True), refused_contract.owner):
        html = page(client, user, reverse("accounts:home"))
        assert 'data-testid="close-refusals"' in html
        assert "has no monthly charges for May 2026: record them before the close." in html
        assert "July 2026" in html

    html = page(client, UserFactory(procurement=True), reverse("accounts:home"), language="fr")
    assert "Relevés que la clôture n’a pas pu calculer" in html
    assert "n’a pas de facturation mensuelle pour mai 2026" in html


@pytest.mark.parametrize(
    "make_user",
    [
        lambda contract: UserFactory(),  # another vendor manager
        lambda contract: VendorUserFactory(vendor=contract.vendor),
        lambda contract: UserFactory(auditor=True),
        lambda contract: UserFactory(committee_member=True),
    ],
    ids=["other-vendor-manager", "vendor-user", "auditor", "committee-member"],
)
def test_others_are_not_shown_the_refusal(client, refused_contract, make_user):
    html = page(client, make_user(refused_contract), reverse("accounts:home"))
    assert 'data-testid="close-refusals"' not in html
    assert "no monthly charges" not in html


def test_the_contract_page_tells_its_owner_which_statement_could_not_be_computed_and_why(client, refused_contract):
    html = page(client, refused_contract.owner, refused_contract.get_absolute_url())
    assert 'data-testid="close-refusal"' in html
    assert "The close of July 2026 was refused." in html
    assert "has no monthly charges for May 2026" in html
    html = page(client, refused_contract.owner, refused_contract.get_absolute_url(), language="fr")
    assert "n’a pas de facturation mensuelle pour mai 2026" in html


def test_procurement_and_the_owner_are_told_once_per_refusal_in_their_language(refused_contract):
    buyer = UserFactory(procurement=True, language="fr")
    owner = refused_contract.owner
    today = datetime.date(2027, 6, 2)

    notices.record_due_notifications(today=today)
    close_batch([refused_contract], "2026-07")  # refused again the next day: not news
    notices.record_due_notifications(today=today)

    told = Notification.objects.filter(kind=NotificationKind.CLOSE_REFUSED)
    assert sorted(told.values_list("user_id", flat=True)) == sorted([buyer.pk, owner.pk])
    french = told.get(user=buyer)
    assert french.subject == f"Relevé {refused_contract.reference} juillet 2026 non calculé"
    assert told.get(user=owner).subject == f"Statement {refused_contract.reference} July 2026 not computed"
    assert "n’a pas de facturation mensuelle pour mai 2026" in french.body
    assert french.link.endswith(refused_contract.get_absolute_url())
    assert "has no monthly charges for May 2026" in told.get(user=owner).body

    # Another month refused: told again.
    close_batch([refused_contract], "2026-08")
    notices.record_due_notifications(today=today)
    assert told.filter(user=buyer).count() == 2


# Through the API ----------------------------------------------------------------------------------------


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_lists_a_refused_close_with_its_reason_in_the_requests_language(refused_contract):
    client = api_client(UserFactory(procurement=True))

    response = client.get("/api/v1/close-refusals/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 200
    [row] = response.json()["results"]
    refusal = CloseRefusal.objects.get()
    assert row["id"] == refusal.pk
    assert row["contract"] == refused_contract.pk
    assert row["contract_reference"] == refused_contract.reference
    assert row["month"] == "2026-07-01"
    assert row["code"] == CloseRefusalCode.NO_CHARGES
    assert row["attempts"] == 1
    assert (
        row["message"]
        == f"{refused_contract.reference} has no monthly charges for May 2026: record them before the close."
    )
    assert row["localized_message"] == (
        f"{refused_contract.reference} n’a pas de facturation mensuelle pour mai 2026\u00a0: "
        "enregistrez-la avant la clôture."
    )
    detail = client.get(f"/api/v1/close-refusals/{refusal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert detail.status_code == 200
    assert detail.json()["localized_message"] == row["message"]


def test_a_vendor_user_of_the_contracts_vendor_sees_no_refused_close_through_the_api(refused_contract):
    client = api_client(VendorUserFactory(vendor=refused_contract.vendor))
    refusal = CloseRefusal.objects.get()

    listed = client.get("/api/v1/close-refusals/")
    assert listed.status_code == 200
    assert listed.json()["count"] == 0
    assert listed.json()["results"] == []
    detail = client.get(f"/api/v1/close-refusals/{refusal.pk}/")
    assert detail.status_code == 404
    assert detail.json() == {"type": "not_found", "detail": "Not found."}


def test_the_api_filters_refused_closes_by_contract_month_and_code(refused_contract):
    other = CloseRefusalFactory(code=CloseRefusalCode.NOT_EVALUABLE)
    client = api_client(UserFactory(procurement=True))

    def ids(**filters) -> set[int]:
        response = client.get("/api/v1/close-refusals/", filters)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    mine = CloseRefusal.objects.get(contract=refused_contract).pk
    assert ids() == {mine, other.pk}
    assert ids(contract=refused_contract.pk) == {mine}
    assert ids(contract=other.contract_id) == {other.pk}
    assert ids(month="2026-07") == {mine}
    assert ids(code=CloseRefusalCode.NOT_EVALUABLE) == {other.pk}
