"""The daily notifications: which items are due, for whom, recorded once and e-mailed once.

``record_due_notifications`` turns the due items into Notification rows; the (user, key) unique
constraint makes a second run record nothing new. ``send_pending_emails`` claims each unsent row
with a compare-and-set UPDATE (``emailed_at`` from NULL to now) and sends only if it won the
claim, so two runs, or two workers, never send one notification twice. A failed send releases the
claim for the next run.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.choices import Role
from accounts.models import User
from accounts.templatetags.ui import money
from audits.selectors import audits_with_notice_to_send, findings_due
from config.formats import long_date, month_name
from contracts.choices import RenewalType
from contracts.models import Contract
from contracts.months import add_months, first_of_month, last_day_of_month
from contracts.selectors import contracts_served_during, notice_deadlines_within
from governance.choices import MemberRole
from governance.models import CommitteeMember
from governance.selectors import action_items_due_within, committees_with_compliance, overdue_action_items
from notifications.choices import NotificationKind
from notifications.models import CalendarFeed, Notification, new_feed_token
from sla_tracker.choices import DisputeStatus, StatementAction, StatementStatus
from sla_tracker.models import (
    AdjustmentDispute,
    CloseRefusal,
    LineDispute,
    Measurement,
    PenaltyStatement,
    StatementEvent,
)

logger = logging.getLogger(__name__)
ACTION_DUE_SOON_DAYS = 7
RECENT_DECISION_DAYS = 14  # approvals and dispute resolutions older than this are not news any more
NOTICE_DEADLINE_THRESHOLDS = (7, 30, 90)

# An amount written as the pages write it, in each recipient's language (DueItem.render).
money_in_their_language = lazy(money, str)
# A month ("October 2026", "octobre 2026") and a day ("Oct. 8, 2026", "8 octobre 2026") as the pages write them, in
# each recipient's language; the keys keep the ISO forms (they are not read by people).
month_in_their_language = lazy(month_name, str)
day_in_their_language = lazy(long_date, str)


def site_url() -> str:
    return settings.SITE_URL


def absolute(path: str) -> str:
    return f"{site_url()}{path}"


def page_url(obj) -> str:
    """The web page where the recipient acts on `obj` (every role, vendor users included, can open it)."""
    label = obj._meta.label
    if label == "sla_tracker.PenaltyStatement":
        return reverse("sla_tracker:statement", args=[obj.pk])
    if label == "governance.Meeting":
        return reverse("governance:meeting", args=[obj.pk])
    if label == "governance.Committee":
        return reverse("governance:committee", args=[obj.pk])
    if label == "governance.ActionItem":
        if obj.meeting_id:
            return reverse("governance:meeting", args=[obj.meeting_id])
        return reverse("sla_tracker:my-action-items")
    if label == "audits.Audit":
        return reverse("audits:detail", args=[obj.pk])
    if label == "audits.Finding":  # the vendor's users answer it there; the customer's side is sent to its audit
        return reverse("audits:finding", args=[obj.pk])
    return obj.get_absolute_url()


@dataclass(frozen=True)
class DueItem:
    """One thing to tell some users; subject and body are translated in each recipient's language."""

    key: str
    kind: str
    subject: str
    body: str
    path: str
    params: dict = field(default_factory=dict)
    recipients: tuple[User, ...] = ()

    def render(self, user: User) -> tuple[str, str]:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            return str(self.subject) % self.params, str(self.body) % self.params


def _users(users: Iterable[User | None]) -> tuple[User, ...]:
    unique = {user.pk: user for user in users if user is not None and user.is_active}
    return tuple(unique[pk] for pk in sorted(unique))


def procurement_users() -> list[User]:
    return list(User.objects.filter(role=Role.PROCUREMENT, is_active=True).order_by("pk"))


def vendor_users(vendor_id: int) -> list[User]:
    return list(User.objects.filter(role=Role.VENDOR_USER, vendor_id=vendor_id, is_active=True).order_by("pk"))


# Due items, one generator per rule -----------------------------------------------------------------


def statements_in_review(today: datetime.date) -> Iterator[DueItem]:
    procurement = _users(procurement_users())
    for statement in PenaltyStatement.objects.filter(status=StatementStatus.IN_REVIEW).select_related("contract"):
        submitted = statement.submitted_at.strftime("%Y%m%d%H%M%S") if statement.submitted_at else "-"
        yield DueItem(
            key=f"statement_in_review:{statement.pk}:{submitted}",
            kind=NotificationKind.STATEMENT_IN_REVIEW,
            subject=_("Statement %(contract)s %(month)s is ready for review"),
            body=_("The penalty statement of %(contract)s for %(month)s (credits %(credits)s) awaits your review."),
            path=page_url(statement),
            params={
                "contract": statement.contract.reference,
                "month": month_in_their_language(statement.month),
                "credits": money_in_their_language(statement.credits, statement.currency),
            },
            recipients=procurement,
        )


@dataclass(frozen=True)
class DisputeNotices:
    """What the notices of one kind of dispute say (a line's names its service level, an adjustment's also
    the month it corrects), under keys of its own, so that each dispute is told once."""

    disputes: Callable[[], Any]  # the kind's disputes, with what the notices read
    params: Callable[[Any], dict]  # what the texts name of a dispute beside its statement
    raised_key: str
    raised_body: Any
    resolved_key: str
    resolved_subject: Any
    resolved_body: Any


DISPUTE_NOTICES = (
    DisputeNotices(
        disputes=lambda: LineDispute.objects.select_related(
            "line__statement__contract", "line__service_level", "raised_by"
        ),
        params=lambda dispute: {"service_level": dispute.line.service_level.code},
        raised_key="statement_disputed",
        raised_body=_(
            "The vendor disputes %(service_level)s in the statement of %(contract)s for %(month)s: %(reason)s"
        ),
        resolved_key="dispute_resolved",
        resolved_subject=_("Dispute of %(service_level)s in %(contract)s %(month)s: %(outcome)s"),
        resolved_body=_(
            "Procurement resolved the dispute of %(service_level)s in the statement of %(contract)s for "
            "%(month)s (%(outcome)s): %(resolution)s"
        ),
    ),
    DisputeNotices(
        disputes=lambda: AdjustmentDispute.objects.select_related(
            "adjustment__statement__contract", "adjustment__service_level", "adjustment__origin", "raised_by"
        ),
        params=lambda dispute: {
            "service_level": dispute.adjustment.service_level.code,
            "origin": month_in_their_language(dispute.adjustment.origin.month),
        },
        raised_key="adjustment_disputed",
        raised_body=_(
            "The vendor disputes the %(service_level)s adjustment for %(origin)s in the statement of %(contract)s "
            "for %(month)s: %(reason)s"
        ),
        resolved_key="adjustment_dispute_resolved",
        resolved_subject=_(
            "Dispute of the %(service_level)s adjustment for %(origin)s in %(contract)s %(month)s: %(outcome)s"
        ),
        resolved_body=_(
            "Procurement resolved the dispute of the %(service_level)s adjustment for %(origin)s in the statement "
            "of %(contract)s for %(month)s (%(outcome)s): %(resolution)s"
        ),
    ),
)


def statements_disputed(today: datetime.date) -> Iterator[DueItem]:
    """Procurement learns of each open dispute, of a line or of an adjustment."""
    procurement = _users(procurement_users())
    for notices in DISPUTE_NOTICES:
        for dispute in notices.disputes().filter(status=DisputeStatus.OPEN):
            statement = dispute.statement
            yield DueItem(
                key=f"{notices.raised_key}:{dispute.pk}",
                kind=NotificationKind.STATEMENT_DISPUTED,
                subject=_("Statement %(contract)s %(month)s is disputed"),
                body=notices.raised_body,
                path=page_url(statement),
                params={
                    "contract": statement.contract.reference,
                    "month": month_in_their_language(statement.month),
                    **notices.params(dispute),
                    "reason": dispute.reason,
                },
                recipients=procurement,
            )


def _decided_since(today: datetime.date) -> datetime.datetime:
    """The start of the days in which a decision is still news (RECENT_DECISION_DAYS)."""
    day = today - datetime.timedelta(days=RECENT_DECISION_DAYS)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def statements_approved(today: datetime.date) -> Iterator[DueItem]:
    """The vendor's users and the contract's owner learn that a statement is approved: its credits are
    final and go to the next invoice (a reopened and approved again statement is told again)."""
    statements = PenaltyStatement.objects.filter(
        status__in=(StatementStatus.APPROVED, StatementStatus.INVOICED), approved_at__gte=_decided_since(today)
    ).select_related("contract__owner")
    users_of = functools.cache(vendor_users)  # one query per vendor, not per statement
    for statement in statements:
        contract = statement.contract
        yield DueItem(
            key=f"statement_approved:{statement.pk}:{statement.approved_at:%Y%m%d%H%M%S}",
            kind=NotificationKind.STATEMENT_APPROVED,
            subject=_("Statement %(contract)s %(month)s is approved"),
            body=_(
                "The penalty statement of %(contract)s for %(month)s is approved: credits %(credits)s, net %(net)s."
            ),
            path=page_url(statement),
            params={
                "contract": contract.reference,
                "month": month_in_their_language(statement.month),
                "credits": money_in_their_language(statement.credits, statement.currency),
                "net": money_in_their_language(statement.net, statement.currency),
            },
            recipients=_users([*users_of(contract.vendor_id), contract.owner]),
        )


def disputes_resolved(today: datetime.date) -> Iterator[DueItem]:
    """The vendor's users (the one who raised it among them) learn how procurement resolved a dispute, of a line
    or of an adjustment."""
    users_of = functools.cache(vendor_users)  # one query per vendor, not per dispute
    for notices in DISPUTE_NOTICES:
        disputes = notices.disputes().filter(
            status__in=(DisputeStatus.ACCEPTED, DisputeStatus.REJECTED), resolved_at__gte=_decided_since(today)
        )
        for dispute in disputes:
            statement = dispute.statement
            yield DueItem(
                key=f"{notices.resolved_key}:{dispute.pk}",
                kind=NotificationKind.DISPUTE_RESOLVED,
                subject=notices.resolved_subject,
                body=notices.resolved_body,
                path=page_url(statement),
                params={
                    "contract": statement.contract.reference,
                    "month": month_in_their_language(statement.month),
                    **notices.params(dispute),
                    "outcome": DisputeStatus(dispute.status).label,
                    "resolution": dispute.resolution,
                },
                recipients=_users([dispute.raised_by, *users_of(statement.contract.vendor_id)]),
            )


def kpi_data_missing(today: datetime.date) -> Iterator[DueItem]:
    """Contracts served last month (an expired or terminated contract's last month too) with fewer distinct
    days of data than their days of service that month (a whole-month value counts as complete). One
    aggregate query for all contracts."""
    month = add_months(first_of_month(today), -1)
    month_end = last_day_of_month(month)
    contracts = list(contracts_served_during(month).select_related("owner").order_by("pk"))
    coverage = {
        row["contract_id"]: row
        for row in Measurement.objects.filter(month=month, contract__in=contracts)
        .order_by()
        .values("contract_id")
        .annotate(days=Count("day", distinct=True), whole_month=Count("pk", filter=Q(day__isnull=True)))
    }
    vendor_ids = {c.vendor_id for c in contracts if c.vendor_self_reporting}
    vendor_people: dict[int, list[User]] = {vid: [] for vid in vendor_ids}
    for user in User.objects.filter(role=Role.VENDOR_USER, vendor_id__in=vendor_ids, is_active=True).order_by("pk"):
        vendor_people[user.vendor_id].append(user)
    for contract in contracts:
        expected = (min(month_end, contract.last_day_of_service) - max(month, contract.start_date)).days + 1
        row = coverage.get(contract.pk, {"days": 0, "whole_month": 0})
        if row["whole_month"] or row["days"] >= expected:
            continue
        recipients = [
            contract.owner,
            *(vendor_people.get(contract.vendor_id, []) if contract.vendor_self_reporting else []),
        ]
        yield DueItem(
            key=f"kpi_data_missing:{contract.pk}:{month:%Y-%m}",
            kind=NotificationKind.KPI_DATA_MISSING,
            subject=_("KPI data missing for %(contract)s in %(month)s"),
            body=_(
                "%(contract)s has data for %(days)s of the %(expected)s days of %(month)s. Upload the missing days."
            ),
            # The month's grid, which shows the days missing and which the vendor's users may open (not the
            # contract's page: that is the customer's register).
            path=reverse("sla_tracker:kpi-grid", args=[contract.pk, f"{month:%Y-%m}"]),
            params={
                "contract": contract.reference,
                "month": month_in_their_language(month),
                "days": row["days"],
                "expected": expected,
            },
            recipients=_users(recipients),
        )


def closes_refused(today: datetime.date) -> Iterator[DueItem]:
    """Months the close could not compute (sla_tracker.models.CloseRefusal), to procurement and the contract's
    owner: once per refusal (a month refused again each day is not news; refused again after it closed is)."""
    procurement = procurement_users()
    for refusal in CloseRefusal.objects.select_related("contract__owner").order_by("month", "contract_id"):
        yield DueItem(
            key=f"close_refused:{refusal.contract_id}:{refusal.month:%Y-%m}:{refusal.first_refused_at:%Y%m%d%H%M%S}",
            kind=NotificationKind.CLOSE_REFUSED,
            subject=_("Statement %(contract)s %(month)s not computed"),
            body=_("The close could not compute the statement of %(contract)s for %(month)s: %(reason)s"),
            path=refusal.contract.get_absolute_url(),
            params={
                "contract": refusal.contract.reference,
                "month": month_in_their_language(refusal.month),
                # Written in each recipient's language when the notice is rendered for them.
                "reason": lazy(lambda refusal=refusal: refusal.readable_message, str)(),
            },
            recipients=_users([refusal.contract.owner, *procurement]),
        )


def waivers_withdrawn(today: datetime.date) -> Iterator[DueItem]:
    """Waivers a recomputation withdrew (its line's credit rose above what the waiver gave up, so the line's credit
    counts again: sla_tracker.services._lift_waiver), to procurement and the contract's owner, once each, while news.
    A waiver withdrawn by hand (an event without these amounts) is its author's own decision."""
    procurement = procurement_users()
    events = (
        StatementEvent.objects.filter(
            action=StatementAction.LINE_WAIVER_WITHDRAWN,
            data__has_key="waived_credit",
            created_at__gte=_decided_since(today),
        )
        .select_related("statement__contract__owner", "line__service_level")
        .order_by("id")
    )
    for event in events:
        statement = event.statement
        yield DueItem(
            key=f"waiver_withdrawn:{event.pk}",
            kind=NotificationKind.WAIVER_WITHDRAWN,
            subject=_("A waiver of statement %(contract)s %(month)s was withdrawn"),
            body=_(
                "The credit of %(service_level)s rose from %(waived)s to %(credit)s on recomputation, more than its "
                "waiver gave up: the line's credit counts again. Waive the line again to give up more."
            ),
            path=page_url(statement),
            params={
                "contract": statement.contract.reference,
                "month": month_in_their_language(statement.month),
                "service_level": event.line.service_level.code if event.line else "—",  # a line removed since
                "waived": money_in_their_language(event.data["waived_credit"], statement.currency),
                "credit": money_in_their_language(event.data["credit"], statement.currency),
            },
            recipients=_users([statement.contract.owner, *procurement]),
        )


def action_items(today: datetime.date) -> Iterator[DueItem]:
    for item in action_items_due_within(days=ACTION_DUE_SOON_DAYS, today=today).filter(owner__isnull=False):
        yield DueItem(
            key=f"action_due_soon:{item.pk}:{item.due_date}",
            kind=NotificationKind.ACTION_DUE_SOON,
            subject=_("Action due on %(due)s: %(title)s"),
            body=_("Your action item “%(title)s” is due on %(due)s."),
            path=page_url(item),
            params={"title": item.title, "due": day_in_their_language(item.due_date)},
            recipients=_users([item.owner]),
        )
    for item in overdue_action_items(today=today).filter(owner__isnull=False):
        yield DueItem(
            key=f"action_overdue:{item.pk}:{item.due_date}",
            kind=NotificationKind.ACTION_OVERDUE,
            subject=_("Action overdue since %(due)s: %(title)s"),
            body=_("Your action item “%(title)s” was due on %(due)s and is still open."),
            path=page_url(item),
            params={"title": item.title, "due": day_in_their_language(item.due_date)},
            recipients=_users([item.owner]),
        )


def meetings_overdue(today: datetime.date) -> Iterator[DueItem]:
    overdue = [c for c in committees_with_compliance(today=today) if c.is_overdue]
    chairs = {
        member.committee_id: member.user
        for member in CommitteeMember.objects.filter(
            committee__in=overdue, role=MemberRole.CHAIR, user__isnull=False
        ).select_related("user")
    }
    for committee in overdue:
        if committee.pk not in chairs:
            continue
        yield DueItem(
            key=f"meeting_overdue:{committee.pk}:{committee.next_meeting_due}",
            kind=NotificationKind.MEETING_OVERDUE,
            subject=_("%(committee)s has not met since %(last)s")
            if committee.last_held_on
            else _("%(committee)s has not met yet"),
            body=_("%(committee)s must meet %(cadence)s; its next meeting was due on %(due)s."),
            path=page_url(committee),
            params={
                "committee": committee.name,
                "last": day_in_their_language(committee.last_held_on) if committee.last_held_on else "",
                "cadence": committee.get_cadence_display().lower(),
                "due": day_in_their_language(committee.next_meeting_due),
            },
            recipients=_users([chairs[committee.pk]]),
        )


def audit_notices(today: datetime.date) -> Iterator[DueItem]:
    audits = audits_with_notice_to_send(today=today)
    contract_ids = {audit.audit_right.contract_id for audit in audits}
    auditors: dict[int, list[User]] = {cid: [] for cid in contract_ids}
    through = Contract.auditors.through.objects.filter(contract_id__in=contract_ids).select_related("user")
    for row in through:
        auditors[row.contract_id].append(row.user)
    for audit in audits:
        yield DueItem(
            key=f"audit_notice_to_send:{audit.pk}:{audit.fieldwork_start}",
            kind=NotificationKind.AUDIT_NOTICE_TO_SEND,
            subject=_("Send the notice of audit %(audit)s by %(deadline)s"),
            body=_(
                "Fieldwork of audit %(audit)s starts on %(start)s; "
                "clause %(clause)s requires %(notice)s of notice, given by %(deadline)s."
            ),
            path=page_url(audit),
            params={
                "audit": audit.reference,
                "start": day_in_their_language(audit.fieldwork_start),
                "clause": audit.audit_right.clause_reference,
                "deadline": day_in_their_language(audit.notice_due_by),
                # Written in each recipient's language when the notice is rendered for them.
                "notice": lazy(lambda right=audit.audit_right: right.notice_text, str)(),
            },
            recipients=_users(auditors.get(audit.audit_right.contract_id, [])),
        )


def findings_remediation_due(today: datetime.date) -> Iterator[DueItem]:
    findings = list(findings_due(today=today))
    vendor_ids = {f.audit.audit_right.contract.vendor_id for f in findings if f.addressed_to_vendor}
    vendor_people: dict[int, list[User]] = {vid: [] for vid in vendor_ids}
    for user in User.objects.filter(role=Role.VENDOR_USER, vendor_id__in=vendor_ids, is_active=True).order_by("pk"):
        vendor_people[user.vendor_id].append(user)
    for finding in findings:
        vendor_id = finding.audit.audit_right.contract.vendor_id
        recipients = [finding.owner, *(vendor_people.get(vendor_id, []) if finding.addressed_to_vendor else [])]
        yield DueItem(
            key=f"finding_remediation_due:{finding.pk}:{finding.due_date}",
            kind=NotificationKind.FINDING_REMEDIATION_DUE,
            subject=_("Remediation of finding %(finding)s due on %(due)s"),
            body=_("Finding %(finding)s (%(severity)s), “%(title)s”, must be remediated by %(due)s."),
            path=page_url(finding),
            params={
                "finding": f"{finding.audit.reference}-{finding.number}",
                "severity": finding.get_severity_display(),
                "title": finding.title,
                "due": day_in_their_language(finding.due_date),
            },
            recipients=_users(recipients),
        )


def notice_deadlines(today: datetime.date) -> Iterator[DueItem]:
    """One notice per contract term and threshold: the tightest of 90, 30 and 7 days reached."""
    procurement = procurement_users()
    for contract in notice_deadlines_within(days=max(NOTICE_DEADLINE_THRESHOLDS), today=today):
        window = contract.next_renewal
        days_left = window.days_left(today)
        threshold = min(t for t in NOTICE_DEADLINE_THRESHOLDS if days_left <= t)
        yield DueItem(
            key=f"notice_deadline:{contract.pk}:{window.term_end}:{threshold}",
            kind=NotificationKind.NOTICE_DEADLINE,
            subject=_("Notice deadline of %(contract)s today (%(deadline)s)")
            if days_left == 0
            else ngettext_lazy(
                "Notice deadline of %(contract)s in %(days)s day (%(deadline)s)",
                "Notice deadline of %(contract)s in %(days)s days (%(deadline)s)",
                days_left,
            ),
            body=_(
                "The term of %(contract)s ends on %(end)s. Notice of %(notice)s must be given by %(deadline)s; "
                "the internal decision is due on %(decision)s. Without notice the contract renews until %(renewed)s."
            )
            if contract.renewal_type == RenewalType.TACIT
            else _(
                "The term of %(contract)s ends on %(end)s and is renewed only by agreement: without one, the "
                "contract ends then. Notice of %(notice)s must be given by %(deadline)s; the internal decision is due "
                "on %(decision)s. A renewal would run until %(renewed)s."
            ),
            path=contract.get_absolute_url(),
            params={
                "contract": contract.reference,
                "days": days_left,
                "deadline": day_in_their_language(window.notice_deadline),
                "end": day_in_their_language(window.term_end),
                "decision": day_in_their_language(window.decision_due),
                "renewed": day_in_their_language(window.renewed_term_end),
                "notice": lazy(lambda contract=contract: contract.notice_period_text, str)(),
            },
            recipients=_users([contract.owner, *procurement]),
        )


RULES = (
    statements_in_review,
    statements_disputed,
    statements_approved,
    disputes_resolved,
    kpi_data_missing,
    closes_refused,
    waivers_withdrawn,
    action_items,
    meetings_overdue,
    audit_notices,
    findings_remediation_due,
    notice_deadlines,
)


def due_items(*, today: datetime.date | None = None) -> list[DueItem]:
    today = today or timezone.localdate()
    return [item for rule in RULES for item in rule(today)]


def record_due_notifications(*, today: datetime.date | None = None) -> int:
    """Record a notification for every recipient of every due item not recorded before; returns
    how many were new."""
    items = due_items(today=today)
    keys = {item.key for item in items}
    existing = set(Notification.objects.filter(key__in=keys).values_list("user_id", "key"))
    new = []
    for item in items:
        for user in item.recipients:
            if (user.pk, item.key) in existing:
                continue
            subject, body = item.render(user)
            new.append(
                Notification(
                    user=user,
                    key=item.key,
                    kind=item.kind,
                    subject=subject[:250],
                    body=body,
                    link=absolute(item.path),
                )
            )
            existing.add((user.pk, item.key))
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def send_email(notification: Notification) -> None:
    user = notification.user
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {"notification": notification, "user": user, "site_url": site_url()}
        subject = " ".join(render_to_string("notifications/email/subject.txt", context).split())
        text = render_to_string("notifications/email/notification.txt", context)
        html = render_to_string("notifications/email/notification.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()


def send_pending_emails() -> int:
    """E-mail every notification not e-mailed yet (to users with an address); returns how many were sent."""
    pending = list(
        Notification.objects.filter(emailed_at__isnull=True, user__is_active=True)
        .exclude(user__email="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in pending:
        claimed = Notification.objects.filter(pk=pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
        if not claimed:
            continue
        notification = Notification.objects.select_related("user").get(pk=pk)
        try:
            send_email(notification)
        except OSError:
            Notification.objects.filter(pk=pk).update(emailed_at=None)
            logger.exception("notification %s not e-mailed; retried on the next run", pk)
            continue
        sent += 1
    return sent


def mark_read(*, notification: Notification, user: User) -> Notification:
    if notification.user_id != user.pk:
        raise PermissionError("A notification is read by its own user.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def calendar_feed_for(*, user) -> CalendarFeed:
    """The user's calendar feed, created on first use."""
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


def rotate_calendar_token(*, user) -> CalendarFeed:
    """Give the user a new secret feed address (the old one stops working)."""
    feed = calendar_feed_for(user=user)
    feed.token = new_feed_token()
    feed.save(update_fields=["token"])
    return feed
