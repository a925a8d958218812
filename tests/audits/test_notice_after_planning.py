"""QA: a notice dated before the audit was planned was accepted, and the days of notice it claimed let its fieldwork
be moved earlier than the notice really sent allowed. The notice is dated from the day the audit was planned."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from audits import services
from audits.choices import Auditor, AuditStatus, AuditType
from audits.models import Audit
from tests.factories import AuditRightFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date
PLANNED_ON = D(2025, 5, 20)


@pytest.fixture
def auditor():
    return UserFactory(auditor=True)


def planned(auditor) -> Audit:
    """An audit on 30 days' notice, planned on 20 May 2025 for fieldwork from 1 July."""
    start = D(2025, 7, 1)
    return services.plan_audit(
        audit_right=AuditRightFactory(),
        reference="AUD-7",
        audit_type=AuditType.SLA_DATA,
        auditor_kind=Auditor.CUSTOMER,
        auditor_name="Internal audit",
        fieldwork_start=start,
        fieldwork_end=start + datetime.timedelta(days=4),
        actor=auditor,
        today=PLANNED_ON,
    )


def test_an_audit_keeps_the_day_it_was_planned(auditor):
    assert planned(auditor).planned_on == PLANNED_ON


def test_a_notice_dated_before_the_audit_was_planned_is_refused(auditor):
    audit = planned(auditor)

    with pytest.raises(ValidationError) as refused:
        services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor, today=D(2025, 5, 21))

    assert list(refused.value.message_dict) == ["notice_date"]
    assert "The notice cannot predate the audit, which was planned on" in refused.value.message_dict["notice_date"][0]
    audit.refresh_from_db()
    assert (audit.status, audit.notice_date) == (AuditStatus.PLANNED, None)


def test_a_notice_sent_on_the_day_the_audit_was_planned_is_recorded(auditor):
    audit = services.notify_audit(audit=planned(auditor), notice_date=PLANNED_ON, actor=auditor, today=PLANNED_ON)

    assert (audit.status, audit.notice_date) == (AuditStatus.NOTIFIED, PLANNED_ON)


def test_fieldwork_moved_earlier_is_checked_against_the_notice_really_sent(auditor):
    """Sent on 20 May (no earlier date can be recorded), the notice of 30 days allows fieldwork from 19 June."""
    audit = services.notify_audit(audit=planned(auditor), notice_date=PLANNED_ON, actor=auditor, today=PLANNED_ON)

    with pytest.raises(ValidationError) as refused:
        services.reschedule_audit(
            audit=audit,
            fieldwork_start=D(2025, 6, 10),
            fieldwork_end=D(2025, 6, 12),
            reason="Earlier",
            actor=auditor,
            today=D(2025, 5, 25),
        )

    assert "Notice of 21 calendar days" in refused.value.message_dict["fieldwork_start"][0]
    audit.refresh_from_db()
    assert audit.fieldwork_start == D(2025, 7, 1)


def test_the_api_refuses_a_notice_dated_before_the_audit_was_planned(auditor, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: PLANNED_ON)
    audit = planned(auditor)
    api = APIClient()
    api.force_authenticate(UserFactory(administrator=True))

    response = api.post(f"/api/v1/audits/{audit.pk}/notify/", {"notice_date": "2025-05-02"}, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["notice_date"]
    assert "planned on" in response.json()["errors"]["notice_date"][0]
    assert Audit.objects.get(pk=audit.pk).status == AuditStatus.PLANNED
