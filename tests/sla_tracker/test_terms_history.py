"""Every change to credit terms keeps its history, who and when, old and new values: tiers and multipliers
too (shown on their version's history page), whether changed in the admin or through the API. A save that
changes nothing writes no history row, and a history without a change reason shows none."""

import datetime
import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sla_tracker.models import CreditMultiplier, CreditTier
from tests.factories import (
    CreditMultiplierFactory,
    CreditTierFactory,
    ServiceLevelVersionFactory,
    TerminationTriggerFactory,
    UserFactory,
)
from tests.sla_tracker.test_terms_fixed import admin_form_data, change_url, inline_index, inline_prefix

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def administrator():
    return UserFactory(administrator=True, first_name="Alex", last_name="Admin")


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def version():
    """Tiered terms of a contract without statements (so they may change): below the 70 % target credits 10 %,
    × 1.5 from run 2."""
    version = ServiceLevelVersionFactory(
        valid_from=D(2025, 1, 1), tiers=True, expected=Decimal("70"), minimum=Decimal("60")
    )
    CreditTierFactory(version=version, lower=Decimal("0"), upper=Decimal("70"), pct=Decimal("10"))
    CreditMultiplierFactory(version=version, run=2, factor=Decimal("1.5"))
    return version


def history_url(row) -> str:
    return reverse(f"admin:{row._meta.app_label}_{row._meta.model_name}_history", args=[row.pk])


def post_inline_change(admin_client, version, row, field: str, value: str):
    page = admin_client.get(change_url(version))
    key = f"{inline_prefix(page, type(row))}-{inline_index(page, row)}-{field}"
    response = admin_client.post(change_url(version), admin_form_data(page) | {key: value})
    assert response.status_code == 302, response.context and response.context["errors"]
    return response


# Tiers and multipliers -------------------------------------------------------------------------------


def test_a_tier_changed_in_the_admin_keeps_its_old_value_and_who_changed_it(admin_client, administrator, version):
    tier = version.tiers.get()

    post_inline_change(admin_client, version, tier, "pct", "25")

    records = list(tier.history.order_by("history_id"))
    assert [(record.history_type, record.pct, record.history_user) for record in records] == [
        ("+", Decimal("10"), None),
        ("~", Decimal("25"), administrator),
    ]
    delta = records[1].diff_against(records[0])
    assert [(change.field, change.old, change.new) for change in delta.changes] == [
        ("pct", Decimal("10"), Decimal("25"))
    ]


def test_a_multiplier_added_and_one_deleted_in_the_admin_are_recorded_with_who(admin_client, administrator, version):
    old = version.multipliers.get()
    page = admin_client.get(change_url(version))
    prefix = inline_prefix(page, CreditMultiplier)
    data = admin_form_data(page) | {
        f"{prefix}-{inline_index(page, old)}-DELETE": "on",
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-1-version": str(version.pk),
        f"{prefix}-1-run": "3",
        f"{prefix}-1-factor": "2",
    }

    assert admin_client.post(change_url(version), data).status_code == 302

    new = version.multipliers.get()
    assert new.run == 3
    assert [(record.history_type, record.history_user) for record in new.history.all()] == [("+", administrator)]
    deleted = CreditMultiplier.history.filter(id=old.pk).latest()
    assert (deleted.history_type, deleted.history_user, deleted.factor) == ("-", administrator, Decimal("1.5"))


def test_the_versions_history_page_shows_its_tiers_and_multipliers_changes(admin_client, administrator, version):
    tier, multiplier = version.tiers.get(), version.multipliers.get()
    post_inline_change(admin_client, version, tier, "pct", "25")
    post_inline_change(admin_client, version, multiplier, "factor", "2")

    response = admin_client.get(history_url(version))

    assert response.status_code == 200
    parts = {str(part["title"]): part["records"] for part in response.context["part_histories"]}
    assert [(record.history_type, record.history_user, record.changes) for record in parts["credit tiers"]] == [
        ("~", administrator, [{"field": "% of charges", "old": "10.0000", "new": "25.0000"}]),
        ("+", None, []),
    ]
    assert parts["repeat-failure multipliers"][0].changes == [{"field": "Factor", "old": "1.500", "new": "2.000"}]
    html = response.content.decode()
    assert "<h2>Credit tiers</h2>" in html
    assert "<strong>% of charges:</strong> 10.0000&nbsp;&rarr;&nbsp;25.0000" in html
    assert "<td>Alex Admin</td>" in html


def test_the_history_of_terms_out_of_the_users_sight_is_not_shown(client, version):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(history_url(version)).status_code == 404


def test_a_version_changed_through_the_api_records_who_changed_what():
    version = ServiceLevelVersionFactory(valid_from=D(2025, 1, 1))
    manager = version.service_level.contract.owner
    api = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")

    response = api.patch(f"/api/v1/service-level-versions/{version.pk}/", {"expected": "85.0000"}, format="json")

    assert response.status_code == 200, response.content
    latest, first = version.history.all()[:2]
    assert latest.history_user == manager
    assert [(change.field, change.old, change.new) for change in latest.diff_against(first).changes] == [
        ("expected", Decimal("80"), Decimal("85"))
    ]


def test_the_tiers_and_multipliers_recorded_before_their_history_get_a_first_history_row(version):
    migration = importlib.import_module("sla_tracker.migrations.0007_credit_tier_and_multiplier_history")
    tier, multiplier = version.tiers.get(), version.multipliers.get()
    CreditTier.history.all().delete()
    CreditMultiplier.history.all().delete()

    migration.record_existing_tiers_and_multipliers(apps, None)

    tier_record, multiplier_record = tier.history.get(), multiplier.history.get()
    assert (
        tier_record.history_type,
        tier_record.version_id,
        tier_record.lower,
        tier_record.upper,
        tier_record.pct,
    ) == (
        "+",
        version.pk,
        Decimal("0"),
        Decimal("70"),
        Decimal("10"),
    )
    assert (multiplier_record.run, multiplier_record.factor) == (2, Decimal("1.5"))
    assert {tier_record.history_change_reason, multiplier_record.history_change_reason} == {
        "Recorded before its history was kept"
    }


# Saves that change nothing ---------------------------------------------------------------------------


def test_a_version_saved_unchanged_in_the_admin_writes_no_history_row(admin_client, version):
    page = admin_client.get(change_url(version))

    assert admin_client.post(change_url(version), admin_form_data(page)).status_code == 302

    assert version.history.count() == 1
    assert CreditTier.history.count() == CreditMultiplier.history.count() == 1


def test_a_trigger_saved_unchanged_in_the_admin_writes_no_history_row(admin_client):
    trigger = TerminationTriggerFactory()
    page = admin_client.get(change_url(trigger))

    assert admin_client.post(change_url(trigger), admin_form_data(page)).status_code == 302

    assert trigger.history.count() == 1


def test_terms_sent_back_unchanged_through_the_api_write_no_history_row(version):
    api = APIClient()
    api.force_authenticate(version.service_level.contract.owner)

    response = api.patch(f"/api/v1/service-level-versions/{version.pk}/", {"expected": "70.0000"}, format="json")

    assert response.status_code == 200, response.content
    assert version.history.count() == 1


def test_terms_saved_unchanged_write_no_history_row_and_a_change_writes_one(version):
    tier = version.tiers.get()

    tier.save()
    version.save()
    tier.pct = Decimal("12")
    tier.save()

    assert (version.history.count(), tier.history.count()) == (1, 2)


def test_a_history_without_a_change_reason_shows_none_rather_than_the_word_none(admin_client, administrator):
    trigger = TerminationTriggerFactory()
    trigger.history.update(history_user=administrator)

    response = admin_client.get(history_url(trigger))

    assert response.status_code == 200
    assert not re.search(r"<td>\s*None\s*</td>", response.content.decode())


def post_second_tier(admin_client, version, lower: str, upper: str):
    page = admin_client.get(change_url(version))
    prefix = inline_prefix(page, CreditTier)
    data = admin_form_data(page) | {
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-1-version": str(version.pk),
        f"{prefix}-1-lower": lower,
        f"{prefix}-1-upper": upper,
        f"{prefix}-1-pct": "5",
    }
    return admin_client.post(change_url(version), data)


@pytest.mark.parametrize(
    ("lower", "upper", "message"),
    [
        ("60", "80", "tier 2: overlaps tier 1 [0, 70)"),
        ("75", "90", "tier 2: leaves [70, 75) without a band after tier 1"),
    ],
)
def test_tiers_that_overlap_or_leave_a_gap_are_refused_in_the_admin(admin_client, version, lower, upper, message):
    """As in a scenario: a value in a gap would be a default that no band prices."""
    response = post_second_tier(admin_client, version, lower, upper)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert version.tiers.count() == 1


def test_tiers_that_meet_are_saved_in_the_admin(admin_client, version):
    assert post_second_tier(admin_client, version, "70", "80").status_code == 302
    assert sorted(version.tiers.values_list("lower", "upper")) == [(0, 70), (70, 80)]
