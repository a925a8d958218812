"""The contract register and a contract's page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AmendmentFactory,
    AuditFactory,
    AuditRightFactory,
    CommitteeFactory,
    ContractFactory,
    ContractScopeFactory,
    MonthlyChargeFactory,
    PenaltyRegimeFactory,
    ServiceLevelVersionFactory,
    UserFactory,
    VendorFactory,
    VendorUserFactory,
)

pytestmark = pytest.mark.django_db

REGISTER = reverse("contracts:list")


def full_contract(**fields):
    contract = ContractFactory(**fields)
    ContractScopeFactory(contract=contract)
    MonthlyChargeFactory(contract=contract)
    PenaltyRegimeFactory(contract=contract)
    amendment = AmendmentFactory(contract=contract, title="Chat target raised")
    version = ServiceLevelVersionFactory(service_level__contract=contract)
    ServiceLevelVersionFactory(
        service_level=version.service_level, valid_from=amendment.effective_from, amendment=amendment
    )
    CommitteeFactory(contract=contract, name=f"{contract.reference} service review")
    AuditFactory(audit_right=AuditRightFactory(contract=contract))
    return contract


def test_the_register_searches_and_filters(client, procurement):
    alpha = ContractFactory(title="Voice overflow", vendor=VendorFactory(name="Alpha BPO"))
    beta = ContractFactory(title="Chat care", currency="GBP")
    client.force_login(procurement)

    by_text = client.get(REGISTER, {"q": "overflow"}).context["contracts"]
    by_vendor = client.get(REGISTER, {"vendor": alpha.vendor_id}).context["contracts"]
    by_currency = client.get(REGISTER, {"currency": "GBP"}).context["contracts"]

    assert list(by_text) == [alpha]
    assert list(by_vendor) == [alpha]
    assert list(by_currency) == [beta]


def test_a_vendor_manager_sees_only_their_contracts(client):
    mine = ContractFactory()
    other = ContractFactory()
    client.force_login(mine.owner)

    assert list(client.get(REGISTER).context["contracts"]) == [mine]
    assert client.get(reverse("contracts:detail", args=[other.pk])).status_code == 404


def test_vendor_users_have_no_contract_register(client):
    client.force_login(VendorUserFactory())

    assert client.get(REGISTER).status_code == 403


def test_the_contract_page_shows_scope_charges_terms_amendments_committees_and_audits(client, procurement):
    contract = full_contract()
    client.force_login(procurement)

    response = client.get(reverse("contracts:detail", args=[contract.pk]))

    page = response.content.decode()
    assert "Voice" in page
    assert "€250,000.00" in page
    assert "Chat target raised" in page
    assert f"{contract.reference} service review" in page
    committee = contract.committees.get()
    assert f'href="{reverse("governance:committee", args=[committee.pk])}">{committee.name}</a>' in page
    assert "1 finding" in page or "0 findings" in page
    audit = contract.audit_rights.get().audits.get()
    assert reverse("audits:detail", args=[audit.pk]) in page  # the audit's own page
    audits = page.split(reverse("audits:detail", args=[audit.pk]))[0].rsplit("<table", 1)[1]
    assert '<th scope="col">Reference</th>' in audits and '<th scope="col">Findings</th>' in audits
    level = response.context["levels"][0]
    assert len(level.history) == 2
    assert level.current_terms == level.history[-1]
    # 12 % of the €250,000.00 charges at risk; the level's allocation of 20 % of it.
    assert "12 %</strong> of the month's charges = <strong>€30,000.00</strong>" in page
    assert "Allocation of the at-risk amount · 20 % = €6,000.00" in page
    # The terms' history writes its months as the rest of the page, in the reader's language.
    assert "<div>January 2025: ≥" in page and "<div>July 2025: ≥" in page
    assert "2025-07:" not in page


def test_the_contract_pages_terms_history_names_its_months_in_french(client, procurement):
    contract = full_contract()
    client.force_login(procurement)

    page = client.get(reverse("contracts:detail", args=[contract.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "<div>janvier 2025\u00a0: ≥" in page and "<div>juillet 2025\u00a0: ≥" in page


def test_the_contract_page_shows_each_audit_rights_use_this_contract_year(client, procurement, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: datetime.date(2025, 10, 1))
    contract = ContractFactory()
    right = AuditRightFactory(contract=contract, audits_per_year=2)
    AuditFactory(audit_right=right, notice_date=None)
    AuditFactory(
        audit_right=right,
        reference="AUD-CAUSE",
        fieldwork_start=datetime.date(2025, 9, 1),
        fieldwork_end=datetime.date(2025, 9, 5),
        for_cause=True,
        override_reason="Security incident",
        overridden_by=UserFactory(administrator=True),
    )
    client.force_login(procurement)

    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()

    assert "Contract year 01/01/2025 – 12/31/2025: 1 audit used of 2 allowed · 1 audit for cause, not counted" in page
    assert page.count('data-testid="for-cause"') == 1


def test_the_register_and_contract_page_run_a_fixed_number_of_queries(client, count_queries):
    client.force_login(UserFactory(procurement=True))
    first = full_contract()
    register_one = count_queries(client, REGISTER)
    page_one = count_queries(client, reverse("contracts:detail", args=[first.pk]))
    for _ in range(4):
        full_contract()
    big = full_contract()
    for _ in range(4):
        ServiceLevelVersionFactory(service_level__contract=big)
        AuditFactory(audit_right=AuditRightFactory(contract=big))  # each right's allowance in the same query

    assert count_queries(client, REGISTER) == register_one
    assert count_queries(client, reverse("contracts:detail", args=[big.pk])) == page_one


def test_the_register_shows_each_running_contracts_next_notice_deadline(client, procurement):
    from django.utils import formats

    from contracts.choices import ContractStatus
    from contracts.selectors import with_next_notice_deadline

    running = ContractFactory(reference="RUN-1", status=ContractStatus.ACTIVE)
    ContractFactory(reference="DRAFT-1", status=ContractStatus.DRAFT)
    (expected,) = with_next_notice_deadline([running])
    client.force_login(procurement)

    page = client.get(REGISTER)

    deadline = formats.date_format(expected.next_renewal.notice_deadline, "SHORT_DATE_FORMAT")
    assert deadline.encode() in page.content


def test_the_contract_page_says_the_next_decision_its_dates_and_the_days_left(client, procurement):
    import datetime

    from django.utils import formats, timezone

    from contracts.choices import ContractStatus, RenewalType

    today = timezone.localdate()
    contract = ContractFactory(
        status=ContractStatus.ACTIVE,
        start_date=today.replace(day=1) - datetime.timedelta(days=365),
        end_date=today + datetime.timedelta(days=200),
        renewal_type=RenewalType.TACIT,
        notice_period=3,
    )
    client.force_login(procurement)

    page = client.get(reverse("contracts:detail", args=[contract.pk]))

    window = page.context["contract"].next_renewal
    assert window.term_end == contract.end_date
    shown = page.content.decode()
    for day in (window.term_end, window.decision_due, window.notice_deadline):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") in shown
    days = (window.notice_deadline - today).days
    assert f"{days} days left" in shown
    ended = ContractFactory(status=ContractStatus.EXPIRED)
    assert (
        'data-testid="next-decision"' not in client.get(reverse("contracts:detail", args=[ended.pk])).content.decode()
    )


def decision_url(contract, name):
    return reverse("contracts:decision", args=[contract.pk, name])


def test_the_vendor_manager_renews_from_the_contract_page_and_the_decision_is_listed(client):
    from contracts.models import RenewalDecision

    contract = ContractFactory()
    end = contract.end_date
    client.force_login(contract.owner)

    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    confirmation = client.get(decision_url(contract, "renew"))
    assert confirmation.status_code == 200
    assert not RenewalDecision.objects.exists()  # the confirmation step changes nothing
    done = client.post(decision_url(contract, "renew"), {"note": "Quality up this year"})

    assert decision_url(contract, "renew") in page and decision_url(contract, "give-notice") in page
    assert done.status_code == 302
    contract.refresh_from_db()
    assert contract.end_date > end
    decision = RenewalDecision.objects.get(contract=contract)
    assert (decision.decided_by, decision.note) == (contract.owner, "Quality up this year")
    listed = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert "Quality up this year" in listed


def test_a_refused_decision_is_shown_on_the_form_and_nothing_is_written(client):
    from contracts.choices import RenewalType
    from contracts.models import RenewalDecision

    contract = ContractFactory(renewal_type=RenewalType.NONE, renewal_term_months=None, max_renewals=None)
    client.force_login(contract.owner)

    response = client.post(decision_url(contract, "renew"), {"note": ""})

    assert response.status_code == 200
    assert "This contract has no renewal clause." in response.content.decode()
    assert not RenewalDecision.objects.exists()


def test_procurement_reads_contracts_but_does_not_decide_and_others_get_404(client, procurement):
    from contracts.choices import ContractStatus

    contract, other = ContractFactory(), ContractFactory()
    client.force_login(procurement)

    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    refused = client.post(decision_url(contract, "give-notice"))
    client.force_login(contract.owner)
    hidden = client.post(decision_url(other, "give-notice"))
    unknown = client.get(decision_url(contract, "terminate"))

    assert 'data-testid="decision-renew"' not in page
    assert refused.status_code == 403
    assert hidden.status_code == 404
    assert unknown.status_code == 404
    contract.refresh_from_db()
    other.refresh_from_db()
    assert contract.status == other.status == ContractStatus.ACTIVE


def test_the_register_pages_its_contracts_and_keeps_the_filters(client, procurement, monkeypatch):
    from contracts import views

    monkeypatch.setattr(views, "CONTRACT_PAGE_SIZE", 2)
    overflow = sorted(
        (ContractFactory(title=f"Voice overflow {n}") for n in range(3)), key=lambda contract: contract.reference
    )
    ContractFactory(title="Chat care")
    client.force_login(procurement)

    first = client.get(REGISTER, {"q": "overflow"})
    second = client.get(REGISTER, {"q": "overflow", "page": 2})

    assert list(first.context["contracts"]) == overflow[:2]
    assert list(second.context["contracts"]) == overflow[2:]
    assert "1–2 of 3" in first.content.decode()
    assert "?q=overflow&amp;page=2" in first.content.decode()
    assert overflow[2].reference in second.content.decode()


def _ending_in(days: int, reference: str):
    """An active tacit one-year contract with 3 months' notice whose notice deadline is about ``days`` days
    from today (in the past when negative); ``expected_deadline`` holds it."""
    import datetime

    from django.utils import timezone

    from contracts.dates import add_months, notice_deadline

    today = timezone.localdate()
    # A one-year term whose notice deadline (3 months before its end) is about `days` from today.
    end = add_months(today + datetime.timedelta(days=days), 3)
    start = add_months(end + datetime.timedelta(days=1), -12)
    contract = ContractFactory(
        reference=reference, start_date=start, initial_term_months=12, end_date=end, notice_period=3, max_renewals=None
    )
    contract.expected_deadline = notice_deadline(end, 3, "months", calendar=contract.business_calendar)
    return contract


def test_the_register_lists_the_contracts_whose_notice_deadline_is_near_soonest_first(client, procurement):
    late = _ending_in(200, "LATE")
    soon = _ending_in(20, "SOON")
    middle = _ending_in(60, "MIDDLE")
    client.force_login(procurement)

    within = client.get(REGISTER, {"notice_within": "90", "order": "notice"})
    ordered = client.get(REGISTER, {"order": "notice"})

    assert [c.reference for c in within.context["contracts"]] == ["SOON", "MIDDLE"]
    assert [c.reference for c in ordered.context["contracts"]] == ["SOON", "MIDDLE", "LATE"]
    assert [c.next_renewal.notice_deadline for c in ordered.context["contracts"]] == [
        soon.expected_deadline,
        middle.expected_deadline,
        late.expected_deadline,
    ]
    assert [c.reference for c in client.get(REGISTER, {"notice_within": "30"}).context["contracts"]] == ["SOON"]


def test_the_home_page_lists_the_notice_deadlines_of_the_next_90_days_in_the_users_scope(client, procurement):
    manager = UserFactory()
    mine = _ending_in(30, "MINE")
    mine.owner = manager
    mine.save()
    _ending_in(40, "THEIRS")
    _ending_in(120, "LATER")

    client.force_login(manager)
    own = client.get(reverse("accounts:home"))
    client.force_login(procurement)
    everyone = client.get(reverse("accounts:home"))

    assert [c.reference for c in own.context["deadlines"]] == ["MINE"]
    assert [c.reference for c in everyone.context["deadlines"]] == ["MINE", "THEIRS"]
    assert 'data-testid="notice-deadlines"' in everyone.content.decode()


def test_the_give_notice_confirmation_says_when_the_contract_would_end(client):
    from django.utils import formats

    from contracts.dates import window_for_term

    passed = _ending_in(-10, "PASSED")  # the notice deadline passed ten days ago: the term renews first
    running = _ending_in(20, "RUNNING")
    renewed_end = window_for_term(passed.terms, passed.end_date).renewed_term_end
    client.force_login(passed.owner)

    page = client.get(decision_url(passed, "give-notice")).content.decode()
    client.force_login(running.owner)
    before_deadline = client.get(decision_url(running, "give-notice")).content.decode()

    assert formats.date_format(passed.expected_deadline, "SHORT_DATE_FORMAT") in page
    assert formats.date_format(renewed_end, "SHORT_DATE_FORMAT") in page
    assert "that term renews" in page
    ends = formats.date_format(running.end_date, "SHORT_DATE_FORMAT")
    assert f"Notice given now ends the contract on {ends}." in before_deadline
    assert "that term renews" not in before_deadline


@pytest.mark.parametrize(("days_to_deadline", "overdue"), [(10, True), (120, False)])
def test_a_passed_decision_date_stands_out_while_notice_may_still_be_given(
    client, procurement, days_to_deadline, overdue
):
    import datetime

    from django.utils import timezone

    from contracts.choices import ContractStatus, RenewalType

    today = timezone.localdate()
    # Notice of 30 days and a decision 60 days before the deadline: 10 days before the deadline, the decision
    # date has passed while notice may still be given.
    contract = ContractFactory(
        status=ContractStatus.ACTIVE,
        start_date=today.replace(day=1) - datetime.timedelta(days=365),
        end_date=today + datetime.timedelta(days=30 + days_to_deadline),
        renewal_type=RenewalType.TACIT,
        notice_period=30,
        notice_period_unit="days",
        decision_buffer_days=60,
    )
    client.force_login(procurement)

    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()

    assert ('data-testid="decision-overdue"' in page) == overdue


@pytest.mark.parametrize(
    ("period", "unit", "english", "french"),
    [
        (1, "months", "1 month", "1 mois"),
        (6, "months", "6 months", "6 mois"),
        (1, "days", "1 calendar day", "1 jour calendaire"),
    ],
)
def test_the_notice_period_reads_as_written(client, procurement, period, unit, english, french):
    """QA: "1 months"."""
    contract = ContractFactory(notice_period=period, notice_period_unit=unit)
    client.force_login(procurement)
    url = reverse("contracts:detail", args=[contract.pk])

    assert f'<dd class="col-sm-7">{english}</dd>' in client.get(url).content.decode()
    assert f'<dd class="col-sm-7">{french}</dd>' in client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()


@pytest.mark.parametrize(
    ("country", "subdivision", "english"),
    [
        ("", "", "10 business days (Monday to Friday, no holiday calendar)"),
        ("FR", "", "10 business days (FR holiday calendar)"),
        ("DE", "BY", "10 business days (DE-BY holiday calendar)"),
    ],
)
def test_a_notice_period_in_business_days_names_its_calendar_where_its_deadline_is_shown(
    client, procurement, country, subdivision, english
):
    from django.utils import timezone

    contract = ContractFactory(
        notice_period=10,
        notice_period_unit="business_days",
        calendar_country=country,
        calendar_subdivision=subdivision,
        start_date=timezone.localdate().replace(day=1),
        initial_term_months=3,
    )
    client.force_login(procurement)

    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    register = client.get(REGISTER).content.decode()
    home = client.get(reverse("accounts:home")).content.decode()

    assert f'<dd class="col-sm-7">{english}</dd>' in page
    basis = f'<div class="small text-body-secondary text-wrap" data-testid="notice-basis">{english}</div>'
    assert basis in register
    assert basis in home  # the term ends within three months: its deadline is among the next 90 days'


def test_a_tacit_contract_past_its_recorded_end_shows_the_term_tacit_renewal_made_and_renews_the_next(
    client, monkeypatch
):
    import datetime

    from django.utils import formats, timezone

    from contracts.models import RenewalDecision

    # The factories' contract: its term ends on 31 December 2027, tacit 12-month renewals; no renewal recorded.
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: datetime.date(2028, 3, 1))
    contract = ContractFactory()
    client.force_login(contract.owner)

    def short(day):
        return formats.date_format(day, "SHORT_DATE_FORMAT")

    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    register = client.get(REGISTER).content.decode()
    confirmation = client.get(decision_url(contract, "renew")).content.decode()

    assert f"{short(contract.start_date)} – {short(datetime.date(2028, 12, 31))}" in page
    assert f"Renewed tacitly: the recorded end of term, {short(datetime.date(2027, 12, 31))}, passed" in page
    assert f"– {short(datetime.date(2028, 12, 31))}" in register and "renewed tacitly" in register
    assert f"End of current term: {short(datetime.date(2028, 12, 31))}" in confirmation
    assert (
        f"Renewing now renews the term ending {short(datetime.date(2028, 12, 31))}: the contract then runs until "
        f"{short(datetime.date(2029, 12, 31))}." in confirmation
    )
    client.post(decision_url(contract, "renew"), {"note": ""})
    contract.refresh_from_db()
    decision = RenewalDecision.objects.get(contract=contract)
    assert (decision.for_term_ending, contract.end_date) == (datetime.date(2028, 12, 31), datetime.date(2029, 12, 31))
    renewed = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="renewed-tacitly"' not in renewed


def test_the_renew_confirmation_says_why_a_contract_cannot_renew(client):
    from contracts.choices import RenewalType

    contract = ContractFactory(renewal_type=RenewalType.NONE, renewal_term_months=None, max_renewals=None)
    client.force_login(contract.owner)

    confirmation = client.get(decision_url(contract, "renew")).content.decode()

    assert "This contract has no renewal clause." in confirmation
    assert 'data-testid="renewal-offer"' not in confirmation


@pytest.mark.parametrize(("today", "shown"), [(28, "2 days left"), (29, "1 day left"), (30, "due today")])
def test_the_days_left_to_the_notice_deadline_read_due_today_on_the_day(client, procurement, monkeypatch, today, shown):
    import datetime

    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: datetime.date(2027, 6, today))
    contract = ContractFactory()  # notice deadline 2027-06-30
    client.force_login(procurement)

    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    register = client.get(REGISTER).content.decode()
    home = client.get(reverse("accounts:home")).content.decode()

    for text in (page, register, home):
        assert shown in text
        assert "0 days left" not in text and "1 days left" not in text
