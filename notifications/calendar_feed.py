"""What a user's calendar feed lists: their committees' meetings, the due dates they own, the
notice deadlines of their contracts and the audits they are assigned to."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from audits.choices import AuditStatus, FindingStatus
from audits.models import Audit, Finding
from config.formats import long_date
from contracts.choices import RenewalType
from contracts.models import Contract
from contracts.selectors import RUNNING_STATUSES, with_next_notice_deadline
from governance.choices import MeetingStatus
from governance.models import Meeting
from governance.selectors import open_action_items
from notifications.ical import Event
from notifications.services import absolute, page_url, site_url

MEETING_LENGTH = datetime.timedelta(hours=1)
ONE_DAY = datetime.timedelta(days=1)


def _uid(kind: str, pk: int, suffix: str = "") -> str:
    host = urlsplit(site_url()).hostname or "localhost"
    return f"{kind}-{pk}{suffix}@{host}"


def _all_day(uid: str, summary: str, day: datetime.date, path: str, description: str = "") -> Event:
    return Event(uid=uid, summary=summary, start=day, end=day + ONE_DAY, url=absolute(path), description=description)


def user_events(user, *, today: datetime.date | None = None) -> list[Event]:
    today = today or timezone.localdate()
    events: list[Event] = []
    meetings = (
        Meeting.objects.filter(committee__members__user=user, corrects__isnull=True)
        .exclude(status=MeetingStatus.CANCELLED)
        .select_related("committee")
        .distinct()
        .order_by("scheduled_for")
    )
    for meeting in meetings:
        events.append(
            Event(
                uid=_uid("meeting", meeting.pk),
                summary=str(meeting.committee),
                start=meeting.scheduled_for,
                end=meeting.scheduled_for + MEETING_LENGTH,
                location=meeting.location,
                url=absolute(page_url(meeting)),
            )
        )
    for item in open_action_items().filter(owner=user).order_by("due_date", "pk"):
        events.append(
            _all_day(
                _uid("action", item.pk),
                _("Action due: %(title)s") % {"title": item.title},
                item.due_date,
                page_url(item),
            )
        )
    findings = Finding.objects.exclude(status__in=FindingStatus.settled_values()).select_related("audit__audit_right")
    if user.role == Role.VENDOR_USER:
        findings = findings.filter(addressed_to_vendor=True, audit__audit_right__contract__vendor_id=user.vendor_id)
    else:
        findings = findings.filter(owner=user)
    for finding in findings.order_by("due_date", "pk"):
        events.append(
            _all_day(
                _uid("finding", finding.pk),
                _("Remediation due: %(finding)s %(title)s")
                % {"finding": f"{finding.audit.reference}-{finding.number}", "title": finding.title},
                finding.due_date,
                page_url(finding),
            )
        )
    if user.role != Role.VENDOR_USER:
        contracts = Contract.objects.filter(status__in=RUNNING_STATUSES)
        if user.role != Role.PROCUREMENT:
            contracts = contracts.filter(owner=user)
        for contract in with_next_notice_deadline(contracts.order_by("reference"), today=today):
            window = contract.next_renewal
            if window is None:
                continue
            path = contract.get_absolute_url()
            if contract.renewal_type == RenewalType.TACIT:
                outcome = _("Term ends %(end)s; renews until %(renewed)s without notice.")
            else:  # renewed only by agreement
                outcome = _("Term ends %(end)s; without an agreement to renew it, the contract ends then.")
            description = " ".join(
                (
                    outcome
                    % {
                        "end": long_date(window.term_end),
                        "renewed": long_date(window.renewed_term_end),
                    },
                    _("Notice period: %(notice)s.") % {"notice": contract.notice_period_text},
                )
            )
            events.append(
                _all_day(
                    _uid("notice", contract.pk, f"-{window.term_end}"),
                    _("Notice deadline: %(contract)s") % {"contract": contract.reference},
                    window.notice_deadline,
                    path,
                    description,
                )
            )
            events.append(
                _all_day(
                    _uid("decision", contract.pk, f"-{window.term_end}"),
                    _("Renewal decision due: %(contract)s") % {"contract": contract.reference},
                    window.decision_due,
                    path,
                    description,
                )
            )
        audits = (
            Audit.objects.filter(Q(audit_right__contract__auditors=user) | Q(lead_auditor=user))
            .exclude(status=AuditStatus.CANCELLED)
            .select_related("audit_right__contract")
            .distinct()
            .order_by("fieldwork_start")
        )
        for audit in audits:
            events.append(
                Event(
                    uid=_uid("audit", audit.pk),
                    summary=_("Audit fieldwork: %(audit)s (%(contract)s)")
                    % {"audit": audit.reference, "contract": audit.audit_right.contract.reference},
                    start=audit.fieldwork_start,
                    end=audit.fieldwork_end + ONE_DAY,
                    url=absolute(page_url(audit)),
                )
            )
    return events
