"""The daily notifications: who is told what, recorded once and e-mailed once."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from audits.choices import AuditStatus
from config.formats import month_name
from contracts.choices import ContractStatus, RenewalType
from governance.choices import MeetingStatus, MemberRole
from governance.models import ActionItem
from notifications import services
from notifications.choices import NotificationKind
from notifications.models import Notification
from notifications.selectors import recent_notifications, unread_notifications
from notifications.tasks import send_daily_notifications
from sla_tracker.choices import DisputeStatus, StatementStatus
from sla_tracker.models import AdjustmentDispute, LineDispute
from tests.factories import (
    ActionItemFactory,
    AdjustmentDisputeFactory,
    AuditFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    ContractFactory,
    FindingFactory,
    KpiCounterFactory,
    LineDisputeFactory,
    MeasurementFactory,
    MeetingFactory,
    PenaltyStatementFactory,
    UserFactory,
    VendorUserFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def month_in(language: str, month: datetime.date) -> str:
    """``month`` as the notices write it to a reader of ``language`` ("January 2025", "janvier 2025")."""
    with translation.override(language):
        return month_name(month)


def kinds_for(user) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def quiet_action(**kwargs):
    """An action item of a meeting whose contract raises no notice of its own."""
    return ActionItemFactory(meeting__committee__contract=quiet_contract(), **kwargs)


def run(today: datetime.date) -> dict:
    return send_daily_notifications.delay(today.isoformat()).get()


def quiet_contract(**kwargs):
    """A contract with no notice deadline in sight and no KPI data expected (explicit renewal long after)."""
    values = {"status": ContractStatus.DRAFT}
    values.update(kwargs)
    return ContractFactory(**values)


def test_each_notice_is_recorded_and_emailed_once_however_often_the_job_runs(settings):
    settings.SITE_URL = "https://tracker.example"
    procurement = UserFactory(procurement=True)
    owner = UserFactory()
    contract = quiet_contract(owner=owner)
    PenaltyStatementFactory(contract=contract, status=StatementStatus.IN_REVIEW)
    quiet_action(owner=owner, due_date=D(2025, 2, 14))

    first = run(D(2025, 2, 20))
    second = run(D(2025, 2, 20))

    assert first == {"recorded": 2, "sent": 2}
    assert second == {"recorded": 0, "sent": 0}
    assert len(mail.outbox) == 2
    assert kinds_for(procurement) == [NotificationKind.STATEMENT_IN_REVIEW]
    assert kinds_for(owner) == [NotificationKind.ACTION_OVERDUE]
    message = next(m for m in mail.outbox if m.to == [owner.email])
    assert message.subject == "[BPO tracker] Action overdue since Feb. 14, 2025: Send the CSL-1 recovery plan"
    action = ActionItem.objects.get(owner=owner)
    page = f"https://tracker.example/committees/meetings/{action.meeting_id}/"
    assert page in message.body
    assert page in message.alternatives[0][0]
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_the_next_day_an_action_already_notified_is_not_notified_again():
    owner = UserFactory()
    quiet_action(owner=owner, due_date=D(2025, 2, 14))
    run(D(2025, 2, 10))  # due in 4 days
    run(D(2025, 2, 11))
    run(D(2025, 2, 15))  # overdue
    run(D(2025, 2, 16))
    assert kinds_for(owner) == [NotificationKind.ACTION_DUE_SOON, NotificationKind.ACTION_OVERDUE]
    assert len(mail.outbox) == 2


def test_a_notice_of_missing_kpi_days_links_to_the_months_grid_which_its_recipients_may_open(client):
    """Not to the contract's page: a vendor's users may not open the customer's register."""
    counter = KpiCounterFactory(code="offered")
    reporting = ContractFactory(vendor_self_reporting=True, renewal_type="explicit")
    vendor_user = VendorUserFactory(vendor=reporting.vendor)
    MeasurementFactory(contract=reporting, counter=counter, day=D(2025, 2, 1))

    run(D(2025, 3, 3))

    grid = reverse("sla_tracker:kpi-grid", args=[reporting.pk, "2025-02"])
    for user in (vendor_user, reporting.owner):
        notification = Notification.objects.get(user=user, kind=NotificationKind.KPI_DATA_MISSING)
        assert notification.link == services.absolute(grid)
        client.force_login(user)
        assert client.get(grid).status_code == 200


def test_a_disputed_statement_is_told_to_procurement():
    procurement = UserFactory(procurement=True)
    other = UserFactory()
    LineDisputeFactory(line__statement__contract=quiet_contract(owner=other))
    run(D(2025, 2, 20))
    assert kinds_for(procurement) == [NotificationKind.STATEMENT_DISPUTED]
    assert kinds_for(other) == []


def test_missing_kpi_days_are_told_to_the_owner_and_to_vendor_users_of_self_reporting_contracts():
    counter = KpiCounterFactory(code="offered")
    reporting = ContractFactory(vendor_self_reporting=True, renewal_type="explicit")
    vendor_user = VendorUserFactory(vendor=reporting.vendor)
    for day in range(1, 28):  # 27 of February's 28 days
        MeasurementFactory(contract=reporting, counter=counter, day=D(2025, 2, day))
    complete = ContractFactory(renewal_type="explicit")
    for day in range(1, 29):
        MeasurementFactory(contract=complete, counter=counter, day=D(2025, 2, day))
    silent = ContractFactory(renewal_type="explicit")  # no data, vendor does not self-report
    silent_vendor_user = VendorUserFactory(vendor=silent.vendor)

    run(D(2025, 3, 3))

    assert kinds_for(reporting.owner) == [NotificationKind.KPI_DATA_MISSING]
    assert kinds_for(vendor_user) == [NotificationKind.KPI_DATA_MISSING]
    assert kinds_for(complete.owner) == []
    assert kinds_for(silent.owner) == [NotificationKind.KPI_DATA_MISSING]
    assert kinds_for(silent_vendor_user) == []
    assert "27 of the 28 days of February 2025" in Notification.objects.get(user=vendor_user).body
    assert (
        Notification.objects.get(user=vendor_user).subject
        == f"KPI data missing for {reporting.reference} in February 2025"
    )


def test_missing_kpi_days_are_told_to_a_french_reader_with_the_month_in_french():
    counter = KpiCounterFactory(code="offered")
    reporting = ContractFactory(vendor_self_reporting=True, renewal_type="explicit")
    vendor_user = VendorUserFactory(vendor=reporting.vendor, language="fr")
    for day in range(1, 28):
        MeasurementFactory(contract=reporting, counter=counter, day=D(2025, 2, day))

    run(D(2025, 3, 3))

    notice = Notification.objects.get(user=vendor_user)
    assert notice.subject == f"Données KPI manquantes pour {reporting.reference} en février 2025"
    assert "27 des 28 jours du mois (février 2025)" in notice.body


def test_an_overdue_meeting_is_told_to_the_committee_chair():
    committee = CommitteeFactory(contract=quiet_contract())
    chair = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR)
    member = CommitteeMemberFactory(committee=committee)
    MeetingFactory(
        committee=committee,
        scheduled_for=datetime.datetime(2025, 1, 31, 9, tzinfo=datetime.UTC),
        status=MeetingStatus.HELD,
    )
    run(D(2025, 2, 28))
    assert kinds_for(chair.user) == []
    run(D(2025, 3, 1))
    assert kinds_for(chair.user) == [NotificationKind.MEETING_OVERDUE]
    assert kinds_for(member.user) == []
    notice = Notification.objects.get(user=chair.user)
    assert notice.subject == f"{committee.name} has not met since Jan. 31, 2025"
    assert "2025-" not in notice.body


def test_a_committee_that_never_met_is_told_so_not_since_a_dash():
    committee = CommitteeFactory(contract=quiet_contract())
    chair = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR)

    run(D(2030, 1, 1))

    notice = Notification.objects.get(user=chair.user)
    assert notice.kind == NotificationKind.MEETING_OVERDUE
    assert notice.subject == f"{committee.name} has not met yet"


def test_an_overdue_meeting_is_told_to_a_french_chair_with_the_days_in_french():
    committee = CommitteeFactory(contract=quiet_contract())
    chair = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR, user__language="fr")
    MeetingFactory(
        committee=committee,
        scheduled_for=datetime.datetime(2025, 1, 31, 9, tzinfo=datetime.UTC),
        status=MeetingStatus.HELD,
    )
    run(D(2025, 3, 1))
    notice = Notification.objects.get(user=chair.user)
    assert notice.subject == f"{committee.name} ne s’est pas réuni depuis le 31 janvier 2025"
    assert "2025-" not in notice.body


def test_an_audit_notice_to_send_is_told_to_the_contracts_auditors():
    auditor = UserFactory(auditor=True)
    contract = quiet_contract(auditors=[auditor])
    AuditFactory(audit_right__contract=contract, notice_date=None)  # notice by 3 May for 2 June
    run(D(2025, 4, 25))
    assert kinds_for(auditor) == []
    run(D(2025, 4, 26))
    assert kinds_for(auditor) == [NotificationKind.AUDIT_NOTICE_TO_SEND]


def test_a_finding_due_is_told_to_its_owner_and_to_vendor_users_when_addressed_to_the_vendor():
    owner = UserFactory(auditor=True)
    contract = quiet_contract()
    vendor_user = VendorUserFactory(vendor=contract.vendor)
    audit = AuditFactory(audit_right__contract=contract, status=AuditStatus.REPORTED)
    addressed = FindingFactory(audit=audit, owner=owner, due_date=D(2025, 8, 5))
    FindingFactory(audit=audit, owner=owner, due_date=D(2025, 8, 6), addressed_to_vendor=False)
    run(D(2025, 8, 1))
    assert kinds_for(owner) == [NotificationKind.FINDING_REMEDIATION_DUE] * 2
    assert kinds_for(vendor_user) == [NotificationKind.FINDING_REMEDIATION_DUE]
    # The link leads to the finding's page, which the vendor's users answer on (and the customer's side
    # is sent on to the finding's row of its audit).
    notice = Notification.objects.get(user=vendor_user)
    assert notice.link.endswith(reverse("audits:finding", args=[addressed.pk]))
    assert notice.subject.endswith("due on Aug. 5, 2025") and "must be remediated by Aug. 5, 2025." in notice.body
    key = f"finding_remediation_due:{addressed.pk}:"
    item = next(item for item in services.findings_remediation_due(D(2025, 8, 1)) if item.key.startswith(key))
    subject, _body = item.render(UserFactory(language="fr"))  # each recipient reads it in their own language
    assert subject.endswith("à échéance le 5 août 2025")


def test_the_notice_reminders_give_the_deadline_and_the_calendar_of_a_business_day_notice():
    """A French contract: 1 May, 8 May and Ascension 2026 are not business days. Its term ending on 15 May 2026
    and an audit whose fieldwork starts that day both need ten business days' notice, by 28 April."""
    auditor = UserFactory(auditor=True)
    contract = ContractFactory(
        start_date=D(2025, 5, 16),
        initial_term_months=12,
        notice_period=10,
        notice_period_unit="business_days",
        calendar_country="FR",
        auditors=[auditor],
    )
    AuditFactory(
        audit_right__contract=contract,
        audit_right__notice=10,
        audit_right__notice_unit="business_days",
        audit_right__clause_reference="§ 9",
        notice_date=None,
        fieldwork_start=D(2026, 5, 15),
        fieldwork_end=D(2026, 5, 15),
    )

    run(D(2026, 4, 27))

    audit_notice = Notification.objects.get(user=auditor, kind=NotificationKind.AUDIT_NOTICE_TO_SEND)
    assert audit_notice.body.endswith(
        "clause § 9 requires 10 business days (FR holiday calendar) of notice, given by April 28, 2026."
    )
    deadline = Notification.objects.get(user=contract.owner, kind=NotificationKind.NOTICE_DEADLINE)
    assert deadline.subject == f"Notice deadline of {contract.reference} in 1 day (April 28, 2026)"
    assert "Notice of 10 business days (FR holiday calendar) must be given by April 28, 2026;" in deadline.body


def test_an_audit_notice_links_to_the_audits_page():
    auditor = UserFactory(auditor=True)
    audit = AuditFactory(audit_right__contract=quiet_contract(auditors=[auditor]), notice_date=None)
    run(D(2025, 4, 26))
    assert Notification.objects.get(user=auditor).link.endswith(reverse("audits:detail", args=[audit.pk]))


def test_notice_deadlines_are_told_at_90_30_and_7_days_to_the_owner_and_procurement():
    procurement = UserFactory(procurement=True)
    contract = ContractFactory()  # notice deadline 2027-06-30
    keys = []
    for today in (D(2027, 3, 1), D(2027, 4, 1), D(2027, 4, 2), D(2027, 6, 1), D(2027, 6, 24), D(2027, 6, 30)):
        run(today)
        notices = Notification.objects.filter(user=contract.owner, kind=NotificationKind.NOTICE_DEADLINE)
        keys.append(sorted(notices.values_list("key", flat=True)))
    prefix = f"notice_deadline:{contract.pk}:2027-12-31"
    assert keys[0] == []
    assert keys[1] == [f"{prefix}:90"]
    assert keys[2] == keys[1]
    assert keys[3] == [f"{prefix}:30", f"{prefix}:90"]
    assert keys[5] == [f"{prefix}:30", f"{prefix}:7", f"{prefix}:90"]
    assert kinds_for(procurement) == [NotificationKind.NOTICE_DEADLINE] * 3


@pytest.mark.parametrize(
    ("today", "subject"),
    [
        (D(2027, 6, 23), "Notice deadline of {reference} in 7 days (June 30, 2027)"),
        (D(2027, 6, 29), "Notice deadline of {reference} in 1 day (June 30, 2027)"),
        (D(2027, 6, 30), "Notice deadline of {reference} today (June 30, 2027)"),
    ],
)
def test_a_notice_deadline_subject_says_today_on_the_day_and_one_day_in_the_singular(today, subject):
    contract = ContractFactory()  # notice deadline 2027-06-30

    run(today)

    notice = Notification.objects.get(user=contract.owner, kind=NotificationKind.NOTICE_DEADLINE)
    assert notice.subject == subject.format(reference=contract.reference)


@pytest.mark.parametrize(
    ("renewal_type", "outcome"),
    [
        (RenewalType.TACIT, "Without notice the contract renews until Dec. 31, 2028."),
        (RenewalType.EXPLICIT, "is renewed only by agreement: without one, the contract ends then."),
    ],
)
def test_a_notice_deadline_says_what_happens_without_notice_by_the_contracts_renewal(renewal_type, outcome):
    """A contract renewed only by agreement ends with its term: it must not be announced as renewing itself."""
    contract = ContractFactory(renewal_type=renewal_type)  # term ends 2027-12-31, notice by 2027-06-30

    run(D(2027, 4, 1))

    body = Notification.objects.get(user=contract.owner, kind=NotificationKind.NOTICE_DEADLINE).body
    assert body.startswith(f"The term of {contract.reference} ends on Dec. 31, 2027")
    assert outcome in body
    assert "the internal decision is due on" in body
    if renewal_type == RenewalType.EXPLICIT:
        assert "renews until" not in body


def test_a_french_reader_gets_the_notice_deadlines_days_in_french():
    contract = ContractFactory(owner=UserFactory(language="fr"))  # term ends 2027-12-31, notice by 2027-06-30

    run(D(2027, 6, 29))

    notice = Notification.objects.get(user=contract.owner, kind=NotificationKind.NOTICE_DEADLINE)
    assert notice.subject == f"Date limite de préavis de {contract.reference} dans 1 jour (30 juin 2027)"
    assert "31 décembre 2027" in notice.body and "31 décembre 2028" in notice.body
    assert "2027-" not in notice.body


def test_a_failed_email_is_released_for_the_next_run(monkeypatch):
    owner = UserFactory()
    quiet_action(owner=owner, due_date=D(2025, 2, 14))

    def refuse(notification):
        raise OSError("SMTP down")

    monkeypatch.setattr(services, "send_email", refuse)
    assert run(D(2025, 2, 20)) == {"recorded": 1, "sent": 0}
    assert Notification.objects.get().emailed_at is None
    monkeypatch.undo()
    assert run(D(2025, 2, 20)) == {"recorded": 0, "sent": 1}
    assert len(mail.outbox) == 1


def test_a_notification_is_recorded_in_the_users_language():
    owner = UserFactory(language="fr")
    quiet_action(owner=owner, due_date=D(2025, 2, 14))
    run(D(2025, 2, 20))
    assert Notification.objects.get(user=owner).subject.startswith("Action en retard depuis le 14 février 2025")


@pytest.mark.parametrize(("language", "html_lang"), [("en-gb", "en-gb"), ("fr", "fr"), ("", "en")])
def test_each_recipient_gets_the_notice_and_its_email_in_their_language_british_english_as_english(language, html_lang):
    owner = UserFactory(language=language)
    vendor_user = VendorUserFactory(language="fr")
    contract = quiet_contract(owner=owner, vendor=vendor_user.vendor)
    PenaltyStatementFactory(
        contract=contract,
        month=D(2025, 1, 1),
        approved=True,
        uncapped_credits=Decimal("1500.00"),
        credits=Decimal("1500.00"),
    )

    run(D(2025, 2, 6))

    notice = Notification.objects.get(user=owner)
    if language == "fr":
        assert notice.subject == f"Le relevé {contract.reference} janvier 2025 est approuvé"
        assert "pénalités 1\u00a0500,00\u00a0€" in notice.body
    else:  # British English reads the English words and amounts
        assert notice.subject == f"Statement {contract.reference} January 2025 is approved"
        assert "credits €1,500.00" in notice.body
    message = next(m for m in mail.outbox if m.to == [owner.email])
    assert f'<html lang="{html_lang}">' in message.alternatives[0][0]
    french = next(m for m in mail.outbox if m.to == [vendor_user.email])
    assert '<html lang="fr">' in french.alternatives[0][0]


def test_home_page_selectors_and_marking_read():
    owner = UserFactory()
    quiet_action(owner=owner, due_date=D(2025, 2, 14), title="First")
    quiet_action(owner=owner, due_date=D(2025, 2, 13), title="Second")
    run(D(2025, 2, 20))
    unread = list(unread_notifications(user=owner))
    assert len(unread) == 2
    services.mark_read(notification=unread[0], user=owner)
    assert len(unread_notifications(user=owner)) == 1
    assert len(recent_notifications(user=owner)) == 2
    with pytest.raises(PermissionError):
        services.mark_read(notification=unread[1], user=UserFactory())


def test_the_statement_notice_names_the_credits():
    UserFactory(procurement=True)
    PenaltyStatementFactory(
        contract=quiet_contract(),
        status=StatementStatus.IN_REVIEW,
        uncapped_credits=Decimal("1500.00"),
        credits=Decimal("1500.00"),
        month=D(2025, 1, 1),
    )
    run(D(2025, 2, 20))
    assert "credits €1,500.00" in Notification.objects.get().body


def test_an_approved_statement_is_told_to_the_vendors_users_and_the_owner_for_two_weeks(settings):
    contract = quiet_contract()
    vendor_user = VendorUserFactory(vendor=contract.vendor, language="fr")
    other_vendor_user = VendorUserFactory()
    statement = PenaltyStatementFactory(  # approved on 2025-02-05
        contract=contract,
        approved=True,
        uncapped_credits=Decimal("1500.00"),
        credits=Decimal("1500.00"),
        net=Decimal("-1500.00"),
    )

    run(D(2025, 2, 20))  # more than 14 days later: not news any more
    assert kinds_for(vendor_user) == []
    run(D(2025, 2, 6))
    run(D(2025, 2, 7))

    assert kinds_for(vendor_user) == [NotificationKind.STATEMENT_APPROVED]
    assert kinds_for(contract.owner) == [NotificationKind.STATEMENT_APPROVED]
    assert kinds_for(other_vendor_user) == []
    notice = Notification.objects.get(user=vendor_user)
    assert notice.subject == f"Le relevé {contract.reference} {month_in('fr', statement.month)} est approuvé"
    # The amounts as the pages write them in the recipient's language.
    assert "1\u00a0500,00\u00a0€" in notice.body and "net −1\u00a0500,00\u00a0€" in notice.body
    owners = Notification.objects.get(user=contract.owner)
    assert "credits €1,500.00, net −€1,500.00" in owners.body
    assert notice.link.endswith(reverse("sla_tracker:statement", args=[statement.pk]))


def test_a_resolved_dispute_is_told_to_the_vendors_users_with_the_outcome_and_resolution():
    contract = quiet_contract()
    statement = PenaltyStatementFactory(contract=contract, status=StatementStatus.IN_REVIEW)
    dispute = LineDisputeFactory(line__statement=statement)
    colleague = VendorUserFactory(vendor=contract.vendor)
    procurement = UserFactory(procurement=True)
    resolved_at = datetime.datetime(2025, 3, 3, 9, tzinfo=datetime.UTC)
    LineDispute.objects.filter(pk=dispute.pk).update(
        status=DisputeStatus.ACCEPTED, resolution="Carrier outage confirmed.", resolved_by=procurement,
        resolved_at=resolved_at,
    )  # fmt: skip

    run(D(2025, 3, 3))

    assert kinds_for(dispute.raised_by) == [NotificationKind.DISPUTE_RESOLVED]
    assert kinds_for(colleague) == [NotificationKind.DISPUTE_RESOLVED]
    assert NotificationKind.DISPUTE_RESOLVED not in kinds_for(procurement)
    notice = Notification.objects.get(user=dispute.raised_by)
    month = month_in("en", statement.month)
    assert notice.subject == f"Dispute of {dispute.line.service_level.code} in {contract.reference} {month}: Accepted"
    assert notice.body.endswith("(Accepted): Carrier outage confirmed.")


def test_a_disputed_adjustment_is_told_to_procurement_beside_a_disputed_line_of_the_same_id():
    procurement = UserFactory(procurement=True)
    line_dispute = LineDisputeFactory(line__statement__contract=quiet_contract())
    dispute = AdjustmentDisputeFactory(adjustment__origin__contract=quiet_contract(), reason="Wrong carrier file.")
    AdjustmentDispute.objects.filter(pk=dispute.pk).update(id=line_dispute.pk)  # each kind keeps its own notices
    dispute = AdjustmentDispute.objects.get(pk=line_dispute.pk)
    adjustment, statement = dispute.adjustment, dispute.adjustment.statement

    run(D(2025, 2, 20))

    assert kinds_for(procurement) == [NotificationKind.STATEMENT_DISPUTED, NotificationKind.STATEMENT_DISPUTED]
    notice = Notification.objects.get(user=procurement, key=f"adjustment_disputed:{dispute.pk}")
    month, origin = month_in("en", statement.month), month_in("en", adjustment.origin.month)
    assert notice.subject == f"Statement {statement.contract.reference} {month} is disputed"
    assert notice.body == (
        f"The vendor disputes the {adjustment.service_level.code} adjustment for {origin} in "
        f"the statement of {statement.contract.reference} for {month}: Wrong carrier file."
    )
    assert notice.link.endswith(reverse("sla_tracker:statement", args=[statement.pk]))


def test_a_resolved_adjustment_dispute_is_told_to_the_vendors_users_with_the_outcome_and_resolution():
    dispute = AdjustmentDisputeFactory(adjustment__origin__contract=quiet_contract())
    adjustment, statement = dispute.adjustment, dispute.adjustment.statement
    colleague = VendorUserFactory(vendor=statement.contract.vendor)
    AdjustmentDispute.objects.filter(pk=dispute.pk).update(
        status=DisputeStatus.REJECTED, resolution="The correction stands.", resolved_by=UserFactory(procurement=True),
        resolved_at=datetime.datetime(2025, 3, 3, 9, tzinfo=datetime.UTC),
    )  # fmt: skip

    run(D(2025, 3, 3))

    assert kinds_for(dispute.raised_by) == kinds_for(colleague) == [NotificationKind.DISPUTE_RESOLVED]
    notice = Notification.objects.get(user=colleague)
    origin = month_in("en", adjustment.origin.month)
    assert notice.subject == (
        f"Dispute of the {adjustment.service_level.code} adjustment for {origin} in {statement.contract.reference} "
        f"{month_in('en', statement.month)}: Rejected"
    )
    assert notice.body.endswith("(Rejected): The correction stands.")
    assert notice.key == f"adjustment_dispute_resolved:{dispute.pk}"
