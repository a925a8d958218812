"""QA: refusals read as sentences: the number of audits in a contract year agrees with it, a taken reference is
said with a capital, a step refused names the audit's status and the one it needs."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from audits import services
from audits.choices import Auditor, AuditType
from tests.factories import AuditRightFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def plan(right, actor, *, reference: str, start: D):
    return services.plan_audit(
        audit_right=right,
        reference=reference,
        audit_type=AuditType.SLA_DATA,
        auditor_kind=Auditor.CUSTOMER,
        auditor_name="Internal audit",
        fieldwork_start=start,
        fieldwork_end=start + datetime.timedelta(days=4),
        actor=actor,
        today=D(2025, 3, 3),
    )


def test_the_audits_already_planned_in_a_year_are_counted_in_the_singular_and_the_plural():
    admin = UserFactory(administrator=True)
    right = AuditRightFactory(audits_per_year=2)  # contract years from 1 January 2025
    plan(right, admin, reference="AUD-1", start=D(2025, 5, 5))
    plan(right, admin, reference="AUD-2", start=D(2025, 6, 2))

    with pytest.raises(ValidationError) as refused:
        plan(right, admin, reference="AUD-3", start=D(2025, 7, 7))

    assert refused.value.message_dict["fieldwork_start"] == [
        "2 audits already planned or held in the contract year 01/01/2025 – 12/31/2025; the clause allows 2."
    ]


def test_a_reference_already_taken_is_refused_in_a_sentence_in_the_api_too():
    admin = UserFactory(administrator=True)
    right = AuditRightFactory(audits_per_year=5)
    plan(right, admin, reference="AUD-1", start=D(2025, 5, 5))
    api = APIClient()
    api.force_authenticate(admin)

    with pytest.raises(ValidationError) as refused:
        plan(right, admin, reference="AUD-1", start=D(2025, 6, 2))
    response = api.post(
        "/api/v1/audits/",
        {
            "audit_right": right.pk,
            "reference": "AUD-1",
            "audit_type": AuditType.SLA_DATA,
            "auditor_kind": Auditor.CUSTOMER,
            "auditor_name": "Internal audit",
            "fieldwork_start": "2030-06-03",
            "fieldwork_end": "2030-06-07",
        },
        format="json",
    )

    assert refused.value.message_dict["reference"] == ["An audit with this reference already exists."]
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["reference"] == ["An audit with this reference already exists."]


def test_a_step_refused_names_the_audits_status_and_the_one_it_needs():
    admin = UserFactory(administrator=True)
    audit = plan(AuditRightFactory(), admin, reference="AUD-1", start=D(2025, 5, 5))

    with pytest.raises(ValidationError) as refused:
        services.start_fieldwork(audit=audit, actor=admin, today=D(2025, 5, 5))

    assert refused.value.messages == ["The audit's status is Planned; this step needs the status Notified."]
