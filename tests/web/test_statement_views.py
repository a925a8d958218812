"""A statement's page and its actions: each calls one service, with a confirmation step, via POST."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook
from pypdf import PdfReader

from sla_tracker.choices import DisputeStatus, StatementAction, StatementStatus
from sla_tracker.models import (
    AdjustmentDispute,
    LineDispute,
    PenaltyStatement,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
)
from sla_tracker.services import (
    approve_statement,
    dispute_adjustment,
    dispute_line,
    mark_statement_invoiced,
    reopen_statement,
    resolve_dispute,
    waive_adjustment,
    waive_line,
)
from tests.factories import (
    AdjustmentDisputeFactory,
    ExclusionFactory,
    IncidentFactory,
    MeasurementFactory,
    PenaltyStatementFactory,
    StatementAdjustmentFactory,
    StatementEventFactory,
    StatementLineFactory,
    UserFactory,
    VendorUserFactory,
)
from tests.web.conftest import make_statement

pytestmark = pytest.mark.django_db


def detail(statement):
    return reverse("sla_tracker:statement", args=[statement.pk])


def action(statement, name):
    return reverse("sla_tracker:statement-action", args=[statement.pk, name])


def test_the_statement_page_shows_each_line_with_status_text_credit_and_explanation(client, procurement, statement):
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()

    assert 'data-status="default">Default</span>' in page
    assert 'data-status="met">Met</span>' in page
    assert "€1,500.00" in page
    assert "72.50 % &lt; 80 % target → default" in page
    assert "72.50" in page
    assert "≥ 80" in page


ROUNDED_NOTES = [
    {
        "template": "{value} {sign} {expected} {level} → met",
        "args": {
            "sign": "≤",
            "value": {
                "note": {
                    "template": "{value} → {rounded} rounded to 1 decimal",
                    "args": {"value": {"figure": "18.1493", "unit": ""}, "rounded": {"figure": "18.1", "unit": ""}},
                }
            },
            "expected": {"figure": "30", "unit": ""},
            "level": {"word": "target"},
        },
    }
]


def test_the_measured_column_gives_the_value_the_explanation_compares(client, procurement, statement):
    # 18.149320 read as "18.15" beside "18.1493 → 18.1 rounded to 1 decimal": 18.15 would round to 18.2.
    rounded, plain = statement.lines.order_by("pk")
    StatementLine.objects.filter(pk=rounded.pk).update(measured=Decimal("18.149320"), explanation_notes=ROUNDED_NOTES)
    below = [{**ROUNDED_NOTES[0], "args": {**ROUNDED_NOTES[0]["args"], "value": {"figure": "79.9977", "unit": "%"}}}]
    StatementLine.objects.filter(pk=plain.pk).update(measured=Decimal("79.997700"), explanation_notes=below)
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()
    pdf = client.get(reverse("sla_tracker:statement-export", args=[statement.pk, "pdf"])).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    french = client.get(detail(statement), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    lines = page.split('id="statement-lines"')[1].split("</table>")[0]
    assert '<td class="num">18.1493</td>' in lines and "18.15" not in lines
    assert '<td class="num">79.9977</td>' in lines and ">80<" not in lines  # not "80", which meets 80 %
    assert "18.1493" in text and "18.15" not in text
    assert '<td class="num">18,1493</td>' in french.split('id="statement-lines"')[1]


def test_a_line_without_notes_shows_its_measure_with_2_decimals(client, procurement, statement):
    StatementLine.objects.filter(statement=statement).update(explanation_notes=[])
    client.force_login(procurement)

    lines = client.get(detail(statement)).content.decode().split('id="statement-lines"')[1].split("</table>")[0]

    assert '<td class="num">72.50</td>' in lines and '<td class="num">85.00</td>' in lines


def test_a_line_without_notes_rounds_its_measure_half_up(client, procurement, statement):
    # 72.125 is 72.13 half-up, as every figure of the tracker is rounded; 72.12 would be rounding half to even.
    first = statement.lines.order_by("pk").first()
    StatementLine.objects.filter(pk=first.pk).update(explanation_notes=[], measured=Decimal("72.125000"))
    client.force_login(procurement)

    lines = client.get(detail(statement)).content.decode().split('id="statement-lines"')[1].split("</table>")[0]

    assert '<td class="num">72.13</td>' in lines and "72.12" not in lines


def test_the_statement_page_shows_history_completeness_exclusions_and_incidents(client, procurement, statement):
    line = statement.lines.select_related("service_level").first()
    ExclusionFactory(
        contract=statement.contract,
        start_date=statement.month,
        end_date=statement.month,
        approved=True,
        description="Carrier outage",
    )
    IncidentFactory(contract=statement.contract, occurred_on=statement.month, title="Telephony down")
    MeasurementFactory(contract=statement.contract, counter__code="answered", day=statement.month)
    client.force_login(procurement)

    response = client.get(detail(statement))

    page = response.content.decode()
    assert "Carrier outage" in page
    assert "Telephony down" in page
    assert "event 0" in page
    completeness = {counter.code: counter for counter in response.context["completeness"].counters}
    assert completeness["answered"].days_with_data == 1
    assert statement.month not in completeness["answered"].missing_days
    assert line.service_level.code in page


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_statement_page_gives_the_missing_days_as_ranges_as_the_kpi_workspace_does(
    client, procurement, statement, language
):
    for day in (1, 5):
        MeasurementFactory(contract=statement.contract, counter__code="answered", day=statement.month.replace(day=day))
    client.force_login(procurement)

    response = client.get(detail(statement), HTTP_ACCEPT_LANGUAGE=language)

    counter = next(item for item in response.context["completeness"].counters if item.code == "answered")
    assert counter.ranges == "2–4, 6–31"  # March: the workspace's ranges
    assert '<td data-testid="missing-days-answered">2–4, 6–31</td>' in response.content.decode()


def test_a_vendor_user_sees_the_completeness_of_a_statement_whose_data_the_customer_logs(client, statement):
    # The vendor's users do not read the values of a contract that is not self-reporting (accounts.scoping),
    # but the statement they read says which days have data, as it does for the customer.
    assert not statement.contract.vendor_self_reporting
    MeasurementFactory(contract=statement.contract, counter__code="answered", day=statement.month)
    client.force_login(VendorUserFactory(vendor=statement.contract.vendor))

    response = client.get(detail(statement))

    completeness = {counter.code: counter for counter in response.context["completeness"].counters}
    assert completeness["answered"].days_with_data == 1


def test_cap_reached_names_the_figures_it_was_decided_on_and_that_a_waiver_leaves_it(
    client, procurement, statement, monkeypatch
):
    """A waived line lowers the credits, not the fact that the credits computed reached the at-risk amount
    (the cap_reached_in_window termination trigger counts it)."""
    PenaltyStatement.objects.filter(pk=statement.pk).update(
        cap_reached=True, uncapped_credits=Decimal("9580.00"), at_risk_amount=Decimal("9580.00")
    )
    pdf_pages = []
    monkeypatch.setattr("config.pdf.render_pdf", lambda html, base_url: pdf_pages.append(html) or b"%PDF-1.7")
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()
    client.get(reverse("sla_tracker:statement-export", args=[statement.pk, "pdf"]))

    said = (
        "The credits computed before the monthly cap (€9,580.00) reached the at-risk amount (€9,580.00); "
        "a waiver does not change this."
    )
    # Written on the page, not in a tooltip (which a touch screen never shows).
    assert f'data-testid="cap-reached-note">{said}</div>' in page
    assert said in pdf_pages[0]


def test_a_vendor_user_gets_404_on_another_vendors_statement_and_its_exports(client, vendor_user, other_statement):
    client.force_login(vendor_user)

    assert client.get(detail(other_statement)).status_code == 404
    for fmt in ("xlsx", "csv", "pdf"):
        url = reverse("sla_tracker:statement-export", args=[other_statement.pk, fmt])
        assert client.get(url).status_code == 404
    line = other_statement.lines.first()
    assert client.post(reverse("sla_tracker:line-dispute", args=[line.pk]), {"reason": "x"}).status_code == 404


def test_a_vendor_user_does_not_see_a_draft_of_their_own_vendor(client, statement):
    draft = make_statement(contract=statement.contract, month=statement.month.replace(month=4), status="draft")
    client.force_login(VendorUserFactory(vendor=statement.contract.vendor))

    assert client.get(detail(statement)).status_code == 200
    assert client.get(detail(draft)).status_code == 404


def test_procurement_sees_every_vendors_statement(client, procurement, statement, other_statement):
    client.force_login(procurement)

    assert client.get(detail(statement)).status_code == 200
    assert client.get(detail(other_statement)).status_code == 200


def test_the_action_asks_for_confirmation_before_changing_anything(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(action(statement, "approve"))

    assert response.status_code == 200
    assert "Confirm" in response.content.decode()
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW


def test_procurement_approves_a_statement_in_review(client, procurement, statement):
    client.force_login(procurement)

    response = client.post(action(statement, "approve"))

    assert response.status_code == 302
    assert response.url == detail(statement)
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED
    assert statement.approved_by == procurement
    assert StatementEvent.objects.filter(statement=statement, action=StatementAction.APPROVED).exists()


def test_procurement_submits_a_draft(client, procurement):
    draft = make_statement(status=StatementStatus.DRAFT)
    client.force_login(procurement)

    client.post(action(draft, "submit"))

    draft.refresh_from_db()
    assert draft.status == StatementStatus.IN_REVIEW


def test_the_services_error_is_shown_when_the_action_is_not_allowed(client, procurement):
    draft = make_statement(status=StatementStatus.DRAFT)
    client.force_login(procurement)

    response = client.post(action(draft, "approve"))

    assert response.status_code == 200
    assert "only a statement that is in review can be approved" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == StatementStatus.DRAFT


def test_marking_invoiced_needs_the_invoice_reference(client, procurement):
    approved = make_statement(status=StatementStatus.IN_REVIEW)
    client.force_login(procurement)
    client.post(action(approved, "approve"))

    missing = client.post(action(approved, "invoice"), {"invoice_reference": ""})
    done = client.post(action(approved, "invoice"), {"invoice_reference": "CN-2025-0042"})

    assert missing.status_code == 200
    assert done.status_code == 302
    approved.refresh_from_db()
    assert approved.status == StatementStatus.INVOICED
    assert approved.invoice_reference == "CN-2025-0042"


def test_an_invoice_reference_longer_than_its_column_is_refused_on_the_page_and_by_the_service(client, procurement):
    approved = make_statement(status=StatementStatus.IN_REVIEW)
    client.force_login(procurement)
    client.post(action(approved, "approve"))

    refused = client.post(action(approved, "invoice"), {"invoice_reference": "CN-" + "9" * 98})
    with pytest.raises(ValidationError) as by_service:
        mark_statement_invoiced(statement_id=approved.pk, actor=procurement, invoice_reference="CN-" + "9" * 98)

    assert refused.status_code == 200
    assert "Ensure this value has at most 100 characters (it has 101)." in refused.content.decode()
    assert by_service.value.message_dict == {"invoice_reference": ["Keep the reference to at most 100 characters."]}
    approved.refresh_from_db()
    assert (approved.status, approved.invoice_reference) == (StatementStatus.APPROVED, "")
    assert client.post(action(approved, "invoice"), {"invoice_reference": "CN-" + "9" * 97}).status_code == 302


@pytest.mark.parametrize("kind", ["dispute", "waive", "reopen"])
def test_a_reason_is_bounded_and_a_longer_one_changes_nothing(procurement, vendor_user, statement, kind):
    line = statement.lines.get(credit__gt=0)
    if kind == "reopen":
        approve_statement(statement_id=statement.pk, actor=procurement)
    events = StatementEvent.objects.count()
    reason = "x" * 2_001

    with pytest.raises(ValidationError) as refused:
        if kind == "dispute":
            dispute_line(line_id=line.pk, actor=vendor_user, reason=reason)
        elif kind == "waive":
            waive_line(line_id=line.pk, actor=procurement, reason=reason)
        else:
            reopen_statement(statement_id=statement.pk, actor=procurement, reason=reason)

    assert refused.value.message_dict == {"reason": ["Keep the reason to at most 2000 characters."]}
    assert StatementEvent.objects.count() == events
    assert not LineDispute.objects.exists()
    line.refresh_from_db()
    statement.refresh_from_db()
    assert not line.waived
    assert statement.status == (StatementStatus.APPROVED if kind == "reopen" else StatementStatus.IN_REVIEW)


def test_a_resolution_is_bounded(client, procurement, vendor_user, statement):
    line = statement.lines.get(credit__gt=0)
    dispute = dispute_line(line_id=line.pk, actor=vendor_user, reason="Carrier outage")

    with pytest.raises(ValidationError) as refused:
        resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="x" * 2_001, accepted=False)

    assert refused.value.message_dict == {"resolution": ["Keep the resolution to at most 2000 characters."]}
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN


def test_a_reason_or_resolution_of_exactly_the_limit_is_accepted(procurement, vendor_user, statement):
    line = statement.lines.get(credit__gt=0)

    dispute = dispute_line(line_id=line.pk, actor=vendor_user, reason="x" * 2_000)
    resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="y" * 2_000, accepted=True)
    waive_line(line_id=line.pk, actor=procurement, reason="z" * 2_000)

    line.refresh_from_db()
    assert (len(line.disputes.get().resolution), len(line.waiver_reason)) == (2_000, 2_000)


def test_a_confirmation_whose_hidden_figures_were_tampered_with_says_so(client, procurement, statement):
    client.force_login(procurement)

    refused = client.post(action(statement, "approve"), {"net": "notanumber"})

    assert refused.status_code == 200
    assert "The figures this page showed could not be read back." in refused.content.decode()
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW


def test_procurement_waives_a_line_with_a_reason(client, procurement, statement):
    line = statement.lines.get(credit__gt=0)
    client.force_login(procurement)
    url = reverse("sla_tracker:line-waive", args=[line.pk])

    without_reason = client.post(url, {"reason": " "})
    response = client.post(url, {"reason": "Goodwill after the carrier outage"})

    assert without_reason.status_code == 200
    assert response.status_code == 302
    line.refresh_from_db()
    statement.refresh_from_db()
    assert line.waived
    assert str(statement.credits) == "0.00"
    # The €1,500.00 no longer credited is shown as waived, not as taken by a cap.
    page = client.get(reverse("sla_tracker:statement", args=[statement.pk])).content.decode()
    assert '<div class="small text-body-secondary" data-testid="waived-credits">€1,500.00 waived</div>' in page
    assert 'data-testid="before-caps"' not in page


def test_credits_reduced_by_a_cap_show_the_amount_before_the_caps(client, procurement):
    from decimal import Decimal

    from tests.web.conftest import make_statement

    capped = make_statement(currency="EUR")
    capped.uncapped_credits, capped.cap_reached = Decimal("2000.00"), True
    capped.save()
    client.force_login(procurement)

    page = client.get(reverse("sla_tracker:statement", args=[capped.pk])).content.decode()

    assert '<div class="small text-body-secondary" data-testid="before-caps">€2,000.00 before the caps</div>' in page
    assert 'data-testid="waived-credits"' not in page


def test_an_unknown_action_is_404(client, procurement, statement):
    client.force_login(procurement)

    assert client.get(action(statement, "delete")).status_code == 404


def test_a_vendor_user_cannot_approve_their_own_statement(client, vendor_user, statement):
    client.force_login(vendor_user)

    assert client.post(action(statement, "approve")).status_code == 403
    assert (
        client.post(reverse("sla_tracker:line-waive", args=[statement.lines.first().pk]), {"reason": "x"}).status_code
        == 403
    )


def test_the_vendor_manager_submits_but_only_procurement_approves_invoices_or_waives(client, statement):
    manager = statement.contract.owner
    draft = make_statement(
        status=StatementStatus.DRAFT,
        contract=statement.contract,
        month=statement.month.replace(year=statement.month.year - 1),
    )
    client.force_login(manager)

    page = client.get(detail(statement)).content.decode()
    refused = [
        client.post(action(statement, "approve")).status_code,
        client.get(action(statement, "approve")).status_code,
        client.post(reverse("sla_tracker:line-waive", args=[statement.lines.first().pk]), {"reason": "x"}).status_code,
    ]
    submitted = client.post(action(draft, "submit"))

    assert refused == [403, 403, 403]
    assert action(statement, "approve") not in page
    assert reverse("sla_tracker:line-waive", args=[statement.lines.first().pk]) not in page
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    assert submitted.status_code == 302
    draft.refresh_from_db()
    assert draft.status == StatementStatus.IN_REVIEW


def test_actions_need_the_csrf_token(procurement, statement):
    client = Client(enforce_csrf_checks=True)
    client.force_login(procurement)

    assert client.post(action(statement, "approve")).status_code == 403
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW


def test_a_vendor_user_disputes_a_line_with_a_reason_and_an_attachment(client, vendor_user, statement):
    line = statement.lines.get(credit__gt=0)
    client.force_login(vendor_user)
    url = reverse("sla_tracker:line-dispute", args=[line.pk])
    evidence = SimpleUploadedFile("acd-report.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")

    form = client.get(url)
    response = client.post(url, {"reason": "Carrier outage on the 14th", "evidence": evidence})

    assert form.status_code == 200
    assert response.status_code == 302
    dispute = LineDispute.objects.get(line=line)
    assert dispute.status == DisputeStatus.OPEN
    assert dispute.raised_by == vendor_user
    assert dispute.evidence.name.endswith(".pdf")
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    assert "Carrier outage on the 14th" in client.get(detail(statement)).content.decode()


@pytest.mark.parametrize(
    ("evidence", "error"),
    [
        (
            SimpleUploadedFile("call-recordings.pdf", b"%PDF-1.4" + b"\0" * 2048),
            "“call-recordings.pdf” is larger than 1.0\xa0KB, the most an evidence file may be.",
        ),
        (
            SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/pdf"),
            "“tool.exe” is not an accepted type of evidence. Accepted: .pdf, .png, .jpg, .jpeg, .xlsx, .csv, .txt, "
            ".eml, .msg.",
        ),
        (
            SimpleUploadedFile(
                "outage-report.pdf", b"<!doctype html><script>alert(1)</script>", content_type="application/pdf"
            ),
            "“outage-report.pdf” is not a real PDF file: its content does not match its extension.",
        ),
    ],
    ids=["too-large", "exe", "html-as-pdf"],
)
def test_refused_evidence_is_a_form_error_and_the_dispute_is_not_recorded(
    client, settings, vendor_user, statement, evidence, error
):
    settings.DISPUTE_EVIDENCE_MAX_BYTES = 1024
    line = statement.lines.get(credit__gt=0)
    client.force_login(vendor_user)
    events = StatementEvent.objects.filter(statement=statement).count()

    response = client.post(
        reverse("sla_tracker:line-dispute", args=[line.pk]), {"reason": "Carrier outage", "evidence": evidence}
    )

    assert response.status_code == 200
    assert error in response.context["form"].errors["evidence"][0]
    assert escape(error) in response.content.decode()
    assert not LineDispute.objects.exists()
    assert StatementEvent.objects.filter(statement=statement).count() == events
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    assert not default_storage.exists(f"disputes/{timezone.now():%Y/%m}/{evidence.name}")


def test_the_dispute_form_states_the_accepted_types_and_the_limit(client, settings, vendor_user, statement):
    settings.DISPUTE_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    client.force_login(vendor_user)

    page = client.get(reverse("sla_tracker:line-dispute", args=[statement.lines.first().pk])).content.decode()

    assert "Accepted: .pdf, .png, .jpg, .jpeg, .xlsx, .csv, .txt, .eml, .msg; at most 10.0\xa0MB." in page
    assert 'accept=".pdf,.png,.jpg,.jpeg,.xlsx,.csv,.txt,.eml,.msg"' in page


def test_a_second_dispute_on_the_same_line_shows_the_services_message(client, vendor_user, statement):
    line = statement.lines.get(credit__gt=0)
    client.force_login(vendor_user)
    url = reverse("sla_tracker:line-dispute", args=[line.pk])
    client.post(url, {"reason": "First"})

    response = client.post(url, {"reason": "Second"})

    assert response.status_code == 200
    assert "already has an open dispute" in response.content.decode()


def test_opening_the_dispute_of_a_line_of_a_statement_approved_since_says_why_on_the_statement(
    client, procurement, vendor_user, statement
):
    """A link from a page opened before the approval: no form to fill in that the service would then refuse."""
    line = statement.lines.get(credit__gt=0)
    approve_statement(statement_id=statement.pk, actor=procurement)
    client.force_login(vendor_user)

    response = client.get(reverse("sla_tracker:line-dispute", args=[line.pk]), follow=True)

    assert response.redirect_chain == [(detail(statement), 302)]
    assert [str(message) for message in response.context["messages"]] == [
        f"The {statement.contract.reference} statement of March 2025 is approved: it cannot be disputed."
    ]


def test_opening_the_dispute_of_a_line_already_disputed_says_so_on_the_statement(client, vendor_user, statement):
    line, _dispute = disputed(statement, vendor_user)
    client.force_login(vendor_user)

    response = client.get(reverse("sla_tracker:line-dispute", args=[line.pk]), follow=True)

    assert response.redirect_chain == [(detail(statement), 302)]
    assert [str(message) for message in response.context["messages"]] == [
        f"The {line.service_level.code} line already has an open dispute."
    ]
    assert LineDispute.objects.filter(line=line).count() == 1


def test_internal_users_do_not_file_disputes(client, procurement, statement):
    client.force_login(procurement)

    assert client.get(reverse("sla_tracker:line-dispute", args=[statement.lines.first().pk])).status_code == 403


def test_the_statement_page_runs_the_same_number_of_queries_for_1_and_5_lines(client, count_queries):
    client.force_login(UserFactory(procurement=True))
    small = make_statement(lines=1)
    large = make_statement(lines=5)
    StatementLineFactory.reset_sequence(100)

    assert count_queries(client, detail(small)) == count_queries(client, detail(large))


# Resolving disputes and reopening (procurement) ----------------------------------------------------------


def disputed(statement, vendor_user, reason="Carrier outage on the 14th"):
    """The statement's line with a credit, disputed by the vendor through the service: (line, dispute)."""
    line = statement.lines.get(credit__gt=0)
    return line, dispute_line(line_id=line.pk, actor=vendor_user, reason=reason)


def resolve_url(dispute, accepted):
    return reverse("sla_tracker:dispute-accept" if accepted else "sla_tracker:dispute-reject", args=[dispute.pk])


def approved(statement, actor):
    return approve_statement(statement_id=statement.pk, actor=actor)


@pytest.mark.parametrize(
    ("accepted", "status"), [(True, DisputeStatus.ACCEPTED), (False, DisputeStatus.REJECTED)], ids=["accept", "reject"]
)
def test_procurement_resolves_a_dispute_from_the_statement_page(
    client, procurement, vendor_user, statement, accepted, status
):
    line, dispute = disputed(statement, vendor_user)
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()
    form = client.get(resolve_url(dispute, accepted))
    response = client.post(resolve_url(dispute, accepted), {"resolution": "Outage confirmed by the carrier"})

    assert resolve_url(dispute, True) in page
    assert resolve_url(dispute, False) in page
    assert 'data-testid="open-disputes"' in page
    assert form.status_code == 200
    assert "Carrier outage on the 14th" in form.content.decode()
    assert response.status_code == 302
    assert response.url == detail(statement)
    dispute.refresh_from_db()
    assert dispute.status == status
    assert dispute.resolution == "Outage confirmed by the carrier"
    assert dispute.resolved_by == procurement
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    event = StatementEvent.objects.get(statement=statement, action=StatementAction.DISPUTE_RESOLVED)
    assert event.actor == procurement
    assert event.line == line
    assert event.note == f"{status.label}: Outage confirmed by the carrier"
    after = client.get(detail(statement)).content.decode()
    assert "Outage confirmed by the carrier" in after
    assert resolve_url(dispute, True) not in after
    assert ("The dispute was accepted." if accepted else "The dispute was rejected.") in after
    assert "No dispute is left open: the statement is back in review." in after


def test_accepting_with_the_box_ticked_waives_the_lines_credit(client, procurement, vendor_user, statement):
    line = statement.lines.filter(credit__gt=0).first()
    dispute = dispute_line(line_id=line.pk, actor=vendor_user, reason="Carrier outage on the 14th")
    statement.refresh_from_db()
    credits_before = statement.credits
    client.force_login(procurement)

    form = client.get(resolve_url(dispute, True)).content.decode()
    response = client.post(resolve_url(dispute, True), {"resolution": "The carrier confirmed it", "waive": "on"})

    assert 'name="waive"' in form
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.waived, line.waiver_reason, line.waived_by) == (True, "The carrier confirmed it", procurement)
    statement.refresh_from_db()
    assert statement.credits == credits_before - line.credit
    assert statement.status == StatementStatus.IN_REVIEW
    assert "The line&#x27;s credit is waived." in client.get(detail(statement)).content.decode()


def test_accepting_the_dispute_of_a_line_already_waived_offers_no_second_waiver(
    client, procurement, vendor_user, statement
):
    """The service refuses to waive a line twice: the page does not offer a box that would fail once ticked."""
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason="Goodwill")
    dispute = dispute_line(line_id=line.pk, actor=vendor_user, reason="The outage was the carrier's")
    client.force_login(procurement)

    accept = client.get(resolve_url(dispute, True))
    response = client.post(resolve_url(dispute, True), {"resolution": "Agreed", "waive": "on"})

    assert "waive" not in accept.context["form"].fields
    assert "the line&#x27;s credit is already waived" in accept.content.decode()
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.ACCEPTED


def test_a_link_to_resolve_a_dispute_resolved_since_says_so_on_the_statement(
    client, procurement, vendor_user, statement
):
    _, dispute = disputed(statement, vendor_user)
    resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="The data is right", accepted=False)
    client.force_login(procurement)

    response = client.get(resolve_url(dispute, True), follow=True)

    assert response.redirect_chain == [(detail(statement), 302)]
    assert "This dispute is already rejected." in response.content.decode()


def test_the_reject_page_offers_no_waiver(client, procurement, vendor_user, statement):
    _, dispute = disputed(statement, vendor_user)
    client.force_login(procurement)

    assert 'name="waive"' not in client.get(resolve_url(dispute, False)).content.decode()


def test_the_statement_stays_disputed_while_another_dispute_is_open(client, procurement, vendor_user, statement):
    first, second = statement.lines.order_by("pk")
    one = dispute_line(line_id=first.pk, actor=vendor_user, reason="First")
    dispute_line(line_id=second.pk, actor=vendor_user, reason="Second")
    client.force_login(procurement)

    client.post(resolve_url(one, False), {"resolution": "The data is right"})

    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    assert list(
        LineDispute.objects.filter(line__statement=statement).order_by("pk").values_list("status", flat=True)
    ) == [DisputeStatus.REJECTED, DisputeStatus.OPEN]
    assert resolve_url(one, True) not in client.get(detail(statement)).content.decode()


def test_a_resolution_needs_a_text_and_a_resolved_dispute_shows_the_services_message(
    client, procurement, vendor_user, statement
):
    _, dispute = disputed(statement, vendor_user)
    client.force_login(procurement)
    events = StatementEvent.objects.filter(statement=statement).count()

    blank = client.post(resolve_url(dispute, True), {"resolution": "  "})
    client.post(resolve_url(dispute, False), {"resolution": "Rejected"})
    again = client.post(resolve_url(dispute, True), {"resolution": "Changed my mind"})

    assert blank.status_code == 200
    assert "resolution" in blank.context["form"].errors
    assert again.status_code == 200
    assert "This dispute is already rejected." in again.content.decode()
    assert 'data-testid="action-error"' in again.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.REJECTED
    assert dispute.resolution == "Rejected"
    assert StatementEvent.objects.filter(statement=statement).count() == events + 1


@pytest.mark.parametrize("who", ["vendor_manager", "vendor_user"])
def test_only_procurement_resolves_disputes(client, vendor_user, statement, who):
    _, dispute = disputed(statement, vendor_user)
    client.force_login(statement.contract.owner if who == "vendor_manager" else vendor_user)
    events = StatementEvent.objects.filter(statement=statement).count()

    page = client.get(detail(statement)).content.decode()
    refused = [
        client.get(resolve_url(dispute, True)).status_code,
        client.post(resolve_url(dispute, True), {"resolution": "Accepted"}).status_code,
        client.post(resolve_url(dispute, False), {"resolution": "Rejected"}).status_code,
    ]

    assert refused == [403, 403, 403]
    assert resolve_url(dispute, True) not in page
    assert resolve_url(dispute, False) not in page
    assert 'data-testid="open-disputes"' not in page
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    assert StatementEvent.objects.filter(statement=statement).count() == events


def test_another_vendors_dispute_is_404_even_for_its_resolution(client, statement, other_statement):
    other_line = other_statement.lines.get(credit__gt=0)
    dispute = dispute_line(
        line_id=other_line.pk, actor=VendorUserFactory(vendor=other_statement.contract.vendor), reason="Outage"
    )
    client.force_login(VendorUserFactory(vendor=statement.contract.vendor))

    assert client.post(resolve_url(dispute, True), {"resolution": "x"}).status_code == 404


def test_procurement_reopens_an_approved_statement_with_a_reason(client, procurement, statement):
    approved(statement, procurement)
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()
    without_reason = client.post(action(statement, "reopen"), {"reason": " "})
    response = client.post(action(statement, "reopen"), {"reason": "Excluded days were missing"})

    assert action(statement, "reopen") in page
    assert without_reason.status_code == 200
    assert "reason" in without_reason.context["form"].errors
    assert response.status_code == 302
    assert response.url == detail(statement)
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    assert statement.approved_by is None
    event = StatementEvent.objects.get(statement=statement, action=StatementAction.REOPENED)
    assert (event.actor, event.note) == (procurement, "Excluded days were missing")
    assert action(statement, "reopen") not in client.get(detail(statement)).content.decode()


def test_an_invoiced_statement_offers_no_reopen_and_the_service_refuses_it(client, procurement, statement):
    approved(statement, procurement)
    mark_statement_invoiced(statement_id=statement.pk, actor=procurement, invoice_reference="CN-2025-0042")
    client.force_login(procurement)
    events = StatementEvent.objects.filter(statement=statement).count()

    page = client.get(detail(statement)).content.decode()
    response = client.post(action(statement, "reopen"), {"reason": "Late correction"})

    assert action(statement, "reopen") not in page
    assert response.status_code == 200
    assert (
        "is invoiced and cannot be reopened: a correction of its data, or an exclusion of its days"
        in response.content.decode()
    )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.INVOICED
    assert StatementEvent.objects.filter(statement=statement).count() == events


@pytest.mark.parametrize("who", ["vendor_manager", "vendor_user"])
def test_only_procurement_reopens(client, procurement, vendor_user, statement, who):
    approved(statement, procurement)
    client.force_login(statement.contract.owner if who == "vendor_manager" else vendor_user)

    page = client.get(detail(statement)).content.decode()
    refused = [
        client.get(action(statement, "reopen")).status_code,
        client.post(action(statement, "reopen"), {"reason": "Please"}).status_code,
    ]

    assert refused == [403, 403]
    assert action(statement, "reopen") not in page
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED
    assert not StatementEvent.objects.filter(statement=statement, action=StatementAction.REOPENED).exists()


def test_an_administrator_resolves_and_reopens_too(client, vendor_user, statement):
    administrator = UserFactory(administrator=True)
    _, dispute = disputed(statement, vendor_user)
    client.force_login(administrator)

    client.post(resolve_url(dispute, True), {"resolution": "Agreed"})
    approved(statement, administrator)
    client.post(action(statement, "reopen"), {"reason": "Recheck"})

    dispute.refresh_from_db()
    statement.refresh_from_db()
    assert dispute.status == DisputeStatus.ACCEPTED
    assert statement.status == StatementStatus.IN_REVIEW


def test_the_dispute_button_is_hidden_on_a_line_with_an_open_dispute(client, procurement, vendor_user, statement):
    line = statement.lines.get(credit__gt=0)
    button = f'data-testid="dispute-{line.service_level.code}"'
    client.force_login(vendor_user)
    before = client.get(detail(statement)).content.decode()
    _, dispute = disputed(statement, vendor_user)

    during = client.get(detail(statement)).content.decode()
    resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Rejected", accepted=False)
    after = client.get(detail(statement)).content.decode()

    assert button in before
    assert button not in during
    assert reverse("sla_tracker:line-dispute", args=[line.pk]) not in during
    assert button in after


def test_a_termination_right_is_shown_with_its_trigger_since_and_evidence(client, procurement, statement):
    statement.termination_rights = [
        {
            "type": "consecutive_defaults",
            "months": 3,
            "window": None,
            "since": "2025-03",
            "evidence": "CSL-1 in default in 2025-01, 2025-02, 2025-03",
        }
    ]
    statement.save()
    client.force_login(procurement)

    page = client.get(reverse("sla_tracker:statement", args=[statement.pk])).content.decode()

    assert 'data-testid="termination-rights"' in page
    assert "Same service level in default N consecutive months (N = 3) — available since March 2025" in page
    assert "CSL-1 in default in 2025-01, 2025-02, 2025-03" in page
    statement.termination_rights = []
    statement.save()
    assert (
        'data-testid="termination-rights"'
        not in client.get(reverse("sla_tracker:statement", args=[statement.pk])).content.decode()
    )


def test_the_close_event_shows_its_credits_and_net_as_money_in_the_readers_language(client, procurement):
    from tests.sla_tracker.test_close import close, scenario_json, seed_scenario

    statement = close(seed_scenario(scenario_json("ex01_plain_breach")), "2026-01")
    client.force_login(procurement)

    english = client.get(reverse("sla_tracker:statement", args=[statement.pk])).content.decode()
    french = client.get(
        reverse("sla_tracker:statement", args=[statement.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()

    assert "credits €14,400.00, net −€14,400.00" in english
    assert "pénalités 14\u00a0400,00\u00a0€, net −14\u00a0400,00\u00a0€" in french


# Approving what the page showed ---------------------------------------------------------------------------


def test_an_approval_confirmed_after_the_figures_changed_is_refused_and_shows_them_again(
    client, procurement, statement
):
    statement.input_fingerprint = "a" * 64
    statement.save()
    client.force_login(procurement)
    shown = client.get(action(statement, "approve"))
    form = shown.context["form"]
    posted = {name: form[name].value() for name in ("input_fingerprint", "net")}
    assert posted == {"input_fingerprint": "a" * 64, "net": Decimal("-1300.00")}
    assert '<input type="hidden" name="net" value="-1300.00"' in shown.content.decode()
    # Meanwhile the month's data change and the statement is recomputed.
    PenaltyStatement.objects.filter(pk=statement.pk).update(input_fingerprint="b" * 64, net=Decimal("-2800.00"))

    refused = client.post(action(statement, "approve"), posted)

    assert refused.status_code == 200
    page = refused.content.decode()
    assert (
        f"The {statement.contract.reference} statement of March 2025 changed since you opened it: its net was "
        "−€1,300.00 and is now −€2,800.00. Review the statement again before approving it."
    ) in page
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    again = {name: refused.context["form"][name].value() for name in ("input_fingerprint", "net")}
    assert again == {"input_fingerprint": "b" * 64, "net": "-2800.00"}
    assert client.post(action(statement, "approve"), again).status_code == 302
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED


# Corrections of approved months in the history --------------------------------------------------------------


def test_the_history_shows_the_amounts_of_a_difference_carried_withdrawn_or_waiting(client, procurement, statement):
    for action_name, data in (
        (StatementAction.RECOMPUTED, {"pending": {"CSL-1": "-5748.00"}}),
        (StatementAction.RECOMPUTED, {"carried_into": {"2025-04": {"CSL-1": "-5748.00"}}, "pending": {}}),
        (StatementAction.ADJUSTED, {"origin": "2025-01", "amounts": {"CSL-1": "5748.00", "CSL-2": "-12.50"}}),
        (StatementAction.ADJUSTED, {"origin": "2025-02", "withdrawn": {"CSL-1": "5748.00"}}),
        (
            StatementAction.RECOMPUTED,
            {"withdrawn_from": {"2025-05": {"CSL-1": "12.50"}}, "pending": {}, "after_change_of": "2024-12"},
        ),
    ):
        StatementEventFactory(statement=statement, action=action_name, note="the English record", data=data)
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()

    assert "Difference waiting for the next open statement: CSL-1 −€5,748.00" in page
    assert "Difference carried into April 2025: CSL-1 −€5,748.00" in page
    assert "Difference of January 2025 carried in: CSL-1 €5,748.00, CSL-2 −€12.50" in page
    assert "Correction of February 2025 withdrawn (that month was reopened and recomputed): CSL-1 €5,748.00" in page
    assert "Adjustment withdrawn from May 2025: CSL-1 €12.50" in page
    assert "Following a change of December 2024" in page
    french = client.get(detail(statement), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "avril 2025" in french and "janvier 2025" in french and "décembre 2024" in french
    history = french[french.index('id="statement-history"') :]
    assert not re.search(r"\b20\d\d-\d\d\b", history.split("</ul>")[0])  # no ISO month left in the history
    assert "the English record" not in page


# Exports list each adjustment -------------------------------------------------------------------------------


@pytest.fixture
def adjusted(statement):
    """The statement with one adjustment carried in: February 2025's CSL-1, approved then corrected."""
    line = statement.lines.select_related("service_level").first()
    february = PenaltyStatementFactory(contract=statement.contract, month=datetime.date(2025, 2, 1), approved=True)
    StatementAdjustmentFactory(
        statement=statement,
        origin=february,
        service_level=line.service_level,
        amount=Decimal("5748.00"),
        reason="CSL-1 2025-02: approved credit 5748.00, 0.00 after recomputation",
    )
    return statement, line.service_level.code


def test_the_statement_csv_lists_each_adjustment(client, procurement, adjusted):
    statement, code = adjusted
    client.force_login(procurement)

    response = client.get(reverse("sla_tracker:statement-export", args=[statement.pk, "csv"]))

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    title = rows.index(["Adjustments carried in"])
    assert rows[title + 1] == [
        "Month recomputed",
        "Service level",
        "Amount",
        "Amount waived",
        "Currency",
        "Reason",
        "Waiver",
        "Waived by",
        "Waived on",
    ]
    assert rows[title + 2] == [
        "2025-02",
        code,
        "5748.00",
        "",  # not waived
        "EUR",
        "CSL-1 2025-02: approved credit 5748.00, 0.00 after recomputation",
        "",
        "",
        "",
    ]
    assert len(rows) == title + 3


def test_the_statement_xlsx_lists_each_adjustment_with_a_date_and_a_number(client, procurement, adjusted):
    statement, code = adjusted
    client.force_login(procurement)

    response = client.get(reverse("sla_tracker:statement-export", args=[statement.pk, "xlsx"]))

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [row for row in sheet.iter_rows() if any(cell.value is not None for cell in row)]
    title = next(index for index, row in enumerate(rows) if row[0].value == "Adjustments carried in")
    assert [cell.value for cell in rows[title + 1][:7]] == [
        "Month recomputed",
        "Service level",
        "Amount",
        "Amount waived",
        "Currency",
        "Reason",
        "Waiver",
    ]
    month, level, amount, waived, currency = rows[title + 2][:5]
    assert (month.value, level.value, amount.value, waived.value, currency.value) == (
        datetime.datetime(2025, 2, 1),
        code,
        5748,
        None,
        "EUR",
    )
    assert (month.number_format, amount.number_format) == ("yyyy-mm", "#,##0.00")


def test_the_statement_links_to_the_months_daily_values_for_those_who_read_them(client, procurement, statement):
    grid = reverse("sla_tracker:kpi-grid", args=[statement.contract.pk, statement.month.strftime("%Y-%m")])

    client.force_login(procurement)
    read = client.get(detail(statement)).content.decode()
    client.force_login(VendorUserFactory(vendor=statement.contract.vendor))  # the contract is not self-reporting
    vendor = client.get(detail(statement)).content.decode()

    assert f'href="{grid}" data-testid="daily-values"' in read
    assert client.get(grid).status_code == 404
    assert 'data-testid="daily-values"' not in vendor


def test_every_line_may_be_disputed_on_the_page_as_in_the_api(client, vendor_user, statement):
    """A met line without credit still carries a measured value the history stands on (runs, earn-backs)."""
    met = statement.lines.get(credit=0)
    client.force_login(vendor_user)

    page = client.get(detail(statement)).content.decode()

    assert f'data-testid="dispute-{met.service_level.code}"' in page
    assert reverse("sla_tracker:line-dispute", args=[met.pk]) in page


def test_opening_the_approval_of_a_disputed_statement_says_why_on_the_statement(
    client, procurement, vendor_user, statement
):
    disputed(statement, vendor_user)
    client.force_login(procurement)

    response = client.get(action(statement, "approve"), follow=True)

    assert response.redirect_chain == [(detail(statement), 302)]
    assert [str(message) for message in response.context["messages"]] == [
        "The statement is disputed: “Approve” is not available."
    ]
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED


# Adjustments carried in: disputed, waived and resolved as lines are -----------------------------------------


@pytest.fixture
def carried(statement):
    """An adjustment of −€2,500.00 carried into the statement (February 2025 corrected after approval); the
    statement's totals count it."""
    february = PenaltyStatementFactory(contract=statement.contract, month=datetime.date(2025, 2, 1), approved=True)
    adjustment = StatementAdjustmentFactory(
        statement=statement,
        origin=february,
        service_level=statement.lines.first().service_level,
        amount=Decimal("-2500.00"),
        reason="CSL-1 2025-02: approved net 0.00, -2500.00 after recomputation",
        reason_data={"approved_net": "0.00", "recomputed_net": "-2500.00"},
    )
    statement.adjustments, statement.net = Decimal("-2500.00"), statement.net - Decimal("2500.00")
    statement.save()
    return adjustment


def adjustment_url(adjustment, name):
    return reverse(f"sla_tracker:adjustment-{name}", args=[adjustment.pk])


def adjustment_resolve_url(dispute, accepted):
    return reverse(
        "sla_tracker:adjustment-dispute-accept" if accepted else "sla_tracker:adjustment-dispute-reject",
        args=[dispute.pk],
    )


def test_a_vendor_user_disputes_an_adjustment_with_a_reason_and_an_attachment(client, vendor_user, statement, carried):
    client.force_login(vendor_user)
    page = client.get(detail(statement)).content.decode()
    evidence = SimpleUploadedFile("recomputation-check.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")

    form = client.get(adjustment_url(carried, "dispute")).content.decode()
    response = client.post(
        adjustment_url(carried, "dispute"), {"reason": "February's corrected counts are wrong", "evidence": evidence}
    )

    assert f'data-testid="dispute-adjustment-{carried.pk}"' in page
    assert adjustment_url(carried, "dispute") in page
    code, name = carried.service_level.code, carried.service_level.name
    assert f"{code} adjustment for February 2025</span> – {name}" in form
    assert "Approved net €0.00, −€2,500.00 once recomputed." in form
    assert response.status_code == 302
    dispute = AdjustmentDispute.objects.get(adjustment=carried)
    assert (dispute.status, dispute.raised_by, dispute.reason) == (
        DisputeStatus.OPEN,
        vendor_user,
        "February's corrected counts are wrong",
    )
    assert dispute.evidence.name.endswith(".pdf")
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    after = client.get(detail(statement)).content.decode()
    row = after[after.index(f'id="adjustment-{carried.pk}"') :]
    assert "February&#x27;s corrected counts are wrong" in row[: row.index("</tr>")]
    assert reverse("sla_tracker:adjustment-dispute-evidence", args=[dispute.pk]) in row
    assert f'data-testid="dispute-adjustment-{carried.pk}"' not in after  # one open dispute at a time
    history = after[after.index('id="statement-history"') :]
    assert f"Adjustment disputed · {carried.service_level.code} adjustment for February 2025" in history


@pytest.mark.parametrize(
    ("accepted", "status"), [(True, DisputeStatus.ACCEPTED), (False, DisputeStatus.REJECTED)], ids=["accept", "reject"]
)
def test_procurement_resolves_an_adjustments_dispute_from_the_statement_page(
    client, procurement, vendor_user, statement, carried, accepted, status
):
    dispute = dispute_adjustment(adjustment_id=carried.pk, actor=vendor_user, reason="Wrong counts")
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()
    form = client.get(adjustment_resolve_url(dispute, accepted)).content.decode()
    response = client.post(adjustment_resolve_url(dispute, accepted), {"resolution": "Checked with the vendor"})

    assert adjustment_resolve_url(dispute, True) in page and adjustment_resolve_url(dispute, False) in page
    assert "One dispute is open: accept or reject it below" in page
    assert "Wrong counts" in form
    assert ('name="waive"' in form) is accepted
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution, dispute.resolved_by) == (status, "Checked with the vendor", procurement)
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    event = StatementEvent.objects.get(statement=statement, action=StatementAction.DISPUTE_RESOLVED)
    assert (event.adjustment, event.actor) == (carried, procurement)
    after = client.get(detail(statement)).content.decode()
    assert "No dispute is left open: the statement is back in review." in after
    assert adjustment_resolve_url(dispute, True) not in after
    carried.refresh_from_db()
    assert carried.waived is False


def test_accepting_an_adjustments_dispute_with_the_box_ticked_waives_it(
    client, procurement, vendor_user, statement, carried
):
    dispute = dispute_adjustment(adjustment_id=carried.pk, actor=vendor_user, reason="Wrong counts")
    client.force_login(procurement)

    response = client.post(adjustment_resolve_url(dispute, True), {"resolution": "Agreed", "waive": "on"})

    assert response.status_code == 302
    carried.refresh_from_db()
    assert (carried.waived, carried.waiver_reason, carried.waived_by) == (True, "Agreed", procurement)
    statement.refresh_from_db()
    assert (statement.adjustments, statement.net, statement.status) == (
        Decimal("0.00"),
        Decimal("-1300.00"),
        StatementStatus.IN_REVIEW,
    )
    assert "The adjustment is waived." in client.get(detail(statement)).content.decode()


def test_an_adjustment_in_the_vendors_favour_offers_no_waiver_and_its_waiver_is_refused(
    client, procurement, statement, carried, vendor_user
):
    """A waiver is the customer giving up a credit it is owed: an adjustment in the vendor's favour has none."""
    StatementAdjustment.objects.filter(pk=carried.pk).update(amount=Decimal("14400.00"))
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()
    link = client.get(adjustment_url(carried, "waive"), follow=True)
    posted = client.post(adjustment_url(carried, "waive"), {"reason": "Goodwill"})

    assert f'data-testid="waive-adjustment-{carried.pk}"' not in page
    assert link.redirect_chain[-1][0] == detail(statement)
    assert "is in the vendor’s favour (€14,400.00): a waiver gives up a credit owed to the customer" in (
        link.content.decode()
    )
    assert posted.status_code == 200
    assert "a waiver gives up a credit owed to the customer" in posted.content.decode()
    carried.refresh_from_db()
    assert not carried.waived
    client.force_login(vendor_user)
    client.post(adjustment_url(carried, "dispute"), {"reason": "The amount is too small"})
    dispute = carried.disputes.get()
    client.force_login(procurement)
    accept = client.get(adjustment_resolve_url(dispute, accepted=True))
    assert "waive" not in accept.context["form"].fields
    assert "in the vendor’s favour, stays as carried" in accept.content.decode()


def test_accepting_the_dispute_of_an_adjustment_already_waived_offers_no_second_waiver(
    client, procurement, vendor_user, statement, carried
):
    waive_adjustment(adjustment_id=carried.pk, actor=procurement, reason="Goodwill")
    dispute = dispute_adjustment(adjustment_id=carried.pk, actor=vendor_user, reason="Wrong counts")
    client.force_login(procurement)

    accept = client.get(adjustment_resolve_url(dispute, True))
    response = client.post(adjustment_resolve_url(dispute, True), {"resolution": "Agreed", "waive": "on"})

    assert "waive" not in accept.context["form"].fields
    assert "the adjustment is already waived" in accept.content.decode()
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.ACCEPTED


def test_an_adjustment_in_the_customers_favour_offers_its_waiver(client, procurement, statement, carried):
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()

    assert carried.amount < 0
    assert f'data-testid="waive-adjustment-{carried.pk}"' in page


def test_procurement_waives_an_adjustment_and_the_page_shows_it_waived(client, procurement, statement, carried):
    client.force_login(procurement)
    page = client.get(detail(statement)).content.decode()

    form = client.get(adjustment_url(carried, "waive")).content.decode()
    blank = client.post(adjustment_url(carried, "waive"), {"reason": " "})
    response = client.post(adjustment_url(carried, "waive"), {"reason": "Goodwill after the migration"})

    assert f'data-testid="waive-adjustment-{carried.pk}"' in page
    assert "Waive an adjustment" in form and "Amount −€2,500.00" in form
    assert "reason" in blank.context["form"].errors
    assert response.status_code == 302
    after = client.get(detail(statement)).content.decode()
    row = after[after.index(f'id="adjustment-{carried.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="adjustment-amount">€0.00<div' in row
    assert '<div class="small text-body-secondary" data-testid="adjustment-waived">−€2,500.00 waived</div>' in row
    assert "Goodwill after the migration" in row
    assert f'data-testid="waive-adjustment-{carried.pk}"' not in after
    assert '<div class="fs-5" data-testid="total-adjustments">€0.00</div>' in after
    assert 'data-testid="waived-adjustments">−€2,500.00 waived</div>' in after
    assert '<div class="fs-5 fw-semibold" data-testid="total-net">−€1,300.00</div>' in after
    assert "The adjustment was waived: it no longer counts." in after


@pytest.mark.parametrize("who", ["vendor_manager", "vendor_user"])
def test_only_procurement_waives_adjustments_and_resolves_their_disputes(client, vendor_user, statement, carried, who):
    dispute = dispute_adjustment(adjustment_id=carried.pk, actor=vendor_user, reason="Wrong counts")
    client.force_login(statement.contract.owner if who == "vendor_manager" else vendor_user)

    page = client.get(detail(statement)).content.decode()
    refused = [
        client.get(adjustment_url(carried, "waive")).status_code,
        client.post(adjustment_url(carried, "waive"), {"reason": "Please"}).status_code,
        client.post(adjustment_resolve_url(dispute, True), {"resolution": "Agreed", "waive": "on"}).status_code,
    ]

    assert refused == [403, 403, 403]
    assert adjustment_url(carried, "waive") not in page
    assert adjustment_resolve_url(dispute, True) not in page
    carried.refresh_from_db()
    dispute.refresh_from_db()
    assert (carried.waived, dispute.status) == (False, DisputeStatus.OPEN)


def test_opening_the_dispute_of_an_adjustment_of_a_statement_invoiced_since_says_why_on_the_statement(
    client, procurement, vendor_user, statement, carried
):
    approve_statement(statement_id=statement.pk, actor=procurement)
    mark_statement_invoiced(statement_id=statement.pk, actor=procurement, invoice_reference="CN-2025-0042")
    client.force_login(vendor_user)

    response = client.get(adjustment_url(carried, "dispute"), follow=True)

    assert response.redirect_chain == [(detail(statement), 302)]
    assert [str(message) for message in response.context["messages"]] == [
        f"The {statement.contract.reference} statement of March 2025 is invoiced: it cannot be disputed."
    ]


def test_internal_users_do_not_dispute_adjustments(client, procurement, statement, carried):
    client.force_login(procurement)

    assert client.get(adjustment_url(carried, "dispute")).status_code == 403
    assert client.post(adjustment_url(carried, "dispute"), {"reason": "x"}).status_code == 403
    assert not AdjustmentDispute.objects.exists()


def test_another_vendors_user_gets_404_on_every_page_of_an_adjustment(client, statement, carried, other_statement):
    dispute = dispute_adjustment(
        adjustment_id=carried.pk,
        actor=VendorUserFactory(vendor=statement.contract.vendor),
        reason="Wrong counts",
        evidence=SimpleUploadedFile("counts.pdf", b"%PDF-1.4 counts"),
    )
    client.force_login(VendorUserFactory(vendor=other_statement.contract.vendor))

    answers = [
        client.get(adjustment_url(carried, "dispute")).status_code,
        client.post(adjustment_url(carried, "dispute"), {"reason": "Mine now"}).status_code,
        client.get(reverse("sla_tracker:adjustment-dispute-evidence", args=[dispute.pk])).status_code,
        client.post(adjustment_resolve_url(dispute, True), {"resolution": "x"}).status_code,
    ]

    assert answers == [404, 404, 404, 404]
    assert AdjustmentDispute.objects.count() == 1


def test_an_approved_statements_adjustment_offers_no_action_and_the_services_refuse(
    client, procurement, vendor_user, statement, carried
):
    approved(statement, procurement)

    client.force_login(vendor_user)
    vendor_page = client.get(detail(statement)).content.decode()
    disputed = client.post(adjustment_url(carried, "dispute"), {"reason": "Too late?"})
    client.force_login(procurement)
    procurement_page = client.get(detail(statement)).content.decode()
    waived = client.post(adjustment_url(carried, "waive"), {"reason": "Goodwill"})

    assert adjustment_url(carried, "dispute") not in vendor_page
    assert adjustment_url(carried, "waive") not in procurement_page
    assert disputed.status_code == waived.status_code == 200
    assert "is approved: it cannot be disputed" in disputed.content.decode()
    assert "is approved: reopen it before waiving an adjustment" in waived.content.decode()
    carried.refresh_from_db()
    assert not carried.waived and not AdjustmentDispute.objects.exists()


def test_the_statement_page_runs_the_same_number_of_queries_for_1_and_3_disputed_adjustments(client, count_queries):
    client.force_login(UserFactory(procurement=True))
    counts = []
    for adjustments in (1, 3):
        statement = make_statement()
        origin = PenaltyStatementFactory(contract=statement.contract, month=datetime.date(2025, 1, 1), approved=True)
        for _ in range(adjustments):
            adjustment = StatementAdjustmentFactory(statement=statement, origin=origin)
            AdjustmentDisputeFactory(adjustment=adjustment)
            StatementEventFactory(
                statement=statement, action=StatementAction.ADJUSTMENT_DISPUTED, adjustment=adjustment
            )
        counts.append(count_queries(client, detail(statement)))

    assert counts[0] == counts[1]


# Withdrawing a waiver before approval ------------------------------------------------------------------------


def withdraw_url(item):
    name = "line-withdraw-waiver" if isinstance(item, StatementLine) else "adjustment-withdraw-waiver"
    return reverse(f"sla_tracker:{name}", args=[item.pk])


def test_procurement_withdraws_a_lines_waiver_and_the_history_keeps_both(client, procurement, statement):
    line = statement.lines.select_related("service_level").get(credit__gt=0)
    code = line.service_level.code
    waive_line(line_id=line.pk, actor=procurement, reason="Goodwill after the carrier outage")
    client.force_login(procurement)
    page = client.get(detail(statement)).content.decode()

    form = client.get(withdraw_url(line)).content.decode()
    blank = client.post(withdraw_url(line), {"reason": " "})
    response = client.post(withdraw_url(line), {"reason": "Waived on the wrong line"}, follow=True)

    assert f'href="{withdraw_url(line)}" data-testid="withdraw-waiver-{code}"' in page
    assert "Withdraw a line&#x27;s waiver" in form and "Reason for withdrawing the waiver" in form
    assert "reason" in blank.context["form"].errors
    assert response.redirect_chain == [(detail(statement), 302)]
    assert [str(message) for message in response.context["messages"]] == [
        "The waiver was withdrawn: the line's credit counts again."
    ]
    line.refresh_from_db()
    statement.refresh_from_db()
    assert (line.waived, statement.credits, statement.net) == (False, Decimal("1500.00"), Decimal("-1300.00"))
    after = response.content.decode()
    assert '<div class="fs-5" data-testid="total-credits">€1,500.00</div>' in after
    assert 'data-testid="waived-credits"' not in after
    assert withdraw_url(line) not in after
    assert reverse("sla_tracker:line-waive", args=[line.pk]) in after  # it may be waived again
    history = after[after.index('id="statement-history"') :]
    assert f"Line waived · {code}" in history and "Goodwill after the carrier outage" in history
    assert f"Line waiver withdrawn · {code}" in history and "Waived on the wrong line" in history


def test_a_waiver_given_in_accepting_a_dispute_is_not_offered_for_withdrawal(
    client, procurement, vendor_user, statement
):
    line, dispute = disputed(statement, vendor_user)
    resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Agreed", accepted=True, waive=True)
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()
    opened = client.get(withdraw_url(line), follow=True)
    posted = client.post(withdraw_url(line), {"reason": "Waived by mistake"})

    assert withdraw_url(line) not in page
    assert opened.redirect_chain == [(detail(statement), 302)]
    refusal = (
        f"The {line.service_level.code} line was waived in accepting the vendor's dispute of it: the vendor was told "
        "so, and the waiver cannot be withdrawn."
    )
    assert [str(message) for message in opened.context["messages"]] == [refusal]
    assert posted.status_code == 200
    assert escape(refusal) in posted.content.decode()
    line.refresh_from_db()
    assert line.waived
    assert not StatementEvent.objects.filter(action=StatementAction.LINE_WAIVER_WITHDRAWN).exists()


def test_an_approved_statements_waiver_withdrawal_says_why_on_the_statement(client, procurement, statement):
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason="Goodwill")
    approved(statement, procurement)
    client.force_login(procurement)

    page = client.get(detail(statement)).content.decode()
    opened = client.get(withdraw_url(line), follow=True)
    posted = client.post(withdraw_url(line), {"reason": "Waived by mistake"})

    assert withdraw_url(line) not in page
    assert opened.redirect_chain == [(detail(statement), 302)]
    [message] = [str(message) for message in opened.context["messages"]]
    assert message.endswith("is approved: reopen it before withdrawing a waiver.")
    assert posted.status_code == 200
    assert "is approved: reopen it before withdrawing a waiver." in posted.content.decode()
    line.refresh_from_db()
    assert line.waived


def test_a_link_to_waive_a_line_of_an_approved_statement_says_why_on_the_statement(client, procurement, statement):
    line = statement.lines.get(credit__gt=0)
    approved(statement, procurement)
    client.force_login(procurement)

    opened = client.get(reverse("sla_tracker:line-waive", args=[line.pk]), follow=True)

    assert opened.redirect_chain == [(detail(statement), 302)]
    [message] = [str(message) for message in opened.context["messages"]]
    assert message == "The statement is approved: “Waive the credit” is not available."


def test_a_link_to_waive_a_line_or_an_adjustment_waived_since_says_so_on_the_statement(
    client, procurement, statement, carried
):
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason="Goodwill")
    waive_adjustment(adjustment_id=carried.pk, actor=procurement, reason="Goodwill")
    client.force_login(procurement)

    for url, refusal in (
        (reverse("sla_tracker:line-waive", args=[line.pk]), f"The {line.service_level.code} line is already waived."),
        (adjustment_url(carried, "waive"), f"The {carried.label} is already waived."),
    ):
        opened = client.get(url, follow=True)

        assert opened.redirect_chain == [(detail(statement), 302)]
        assert [str(message) for message in opened.context["messages"]] == [refusal]


@pytest.mark.parametrize("who", ["vendor_manager", "vendor_user"])
def test_only_procurement_withdraws_waivers(client, procurement, vendor_user, statement, carried, who):
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason="Goodwill")
    waive_adjustment(adjustment_id=carried.pk, actor=procurement, reason="Goodwill")
    client.force_login(statement.contract.owner if who == "vendor_manager" else vendor_user)

    page = client.get(detail(statement)).content.decode()
    refused = [
        client.get(withdraw_url(line)).status_code,
        client.post(withdraw_url(line), {"reason": "Please"}).status_code,
        client.get(withdraw_url(carried)).status_code,
        client.post(withdraw_url(carried), {"reason": "Please"}).status_code,
    ]

    assert refused == [403, 403, 403, 403]
    assert withdraw_url(line) not in page and withdraw_url(carried) not in page
    line.refresh_from_db()
    carried.refresh_from_db()
    assert line.waived and carried.waived


def test_another_vendors_user_gets_404_for_the_withdrawal_of_a_waiver(
    client, procurement, statement, carried, other_statement
):
    line = statement.lines.get(credit__gt=0)
    waive_line(line_id=line.pk, actor=procurement, reason="Goodwill")
    client.force_login(VendorUserFactory(vendor=other_statement.contract.vendor))

    answers = [
        client.get(withdraw_url(line)).status_code,
        client.post(withdraw_url(line), {"reason": "Mine now"}).status_code,
        client.post(withdraw_url(carried), {"reason": "Mine now"}).status_code,
    ]

    assert answers == [404, 404, 404]
    line.refresh_from_db()
    assert line.waived


def test_procurement_withdraws_an_adjustments_waiver_and_it_counts_again(client, procurement, statement, carried):
    waive_adjustment(adjustment_id=carried.pk, actor=procurement, reason="Goodwill after the migration")
    client.force_login(procurement)
    page = client.get(detail(statement)).content.decode()

    form = client.get(withdraw_url(carried)).content.decode()
    response = client.post(withdraw_url(carried), {"reason": "Not agreed yet"}, follow=True)

    assert f'data-testid="withdraw-adjustment-waiver-{carried.pk}"' in page
    assert "Withdraw an adjustment&#x27;s waiver" in form and "Amount −€2,500.00" in form
    assert [str(message) for message in response.context["messages"]] == [
        "The waiver was withdrawn: the adjustment counts again."
    ]
    carried.refresh_from_db()
    statement.refresh_from_db()
    assert (carried.waived, statement.adjustments, statement.net) == (False, Decimal("-2500.00"), Decimal("-3800.00"))
    after = response.content.decode()
    assert '<div class="fs-5" data-testid="total-adjustments">−€2,500.00</div>' in after
    assert '<div class="fs-5 fw-semibold" data-testid="total-net">−€3,800.00</div>' in after
    assert f'data-testid="withdraw-adjustment-waiver-{carried.pk}"' not in after
    history = after[after.index('id="statement-history"') :]
    assert "Adjustment waiver withdrawn · " + f"{carried.service_level.code} adjustment for February 2025" in history
