"""The demo's governance record reads true on past dashboards: action items are raised in their meeting."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import transaction

from governance.models import ActionItem

TODAY = datetime.date(2026, 11, 26)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", today=TODAY.isoformat(), stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def test_demo_action_items_are_created_in_their_meeting_and_closed_after(seeded):
    items = list(ActionItem.objects.select_related("meeting", "finding__audit"))

    for item in items:
        origin = item.meeting.scheduled_for if item.meeting else item.finding.audit.created_at
        assert origin <= item.created_at < origin + datetime.timedelta(days=90), item
        assert item.closed_at is None or item.closed_at > item.created_at, item
        assert item.history.earliest().history_date == item.created_at
    assert any(item.meeting for item in items)


def test_seeding_again_leaves_the_action_items_dates_as_they_were(seeded):
    before = list(ActionItem.objects.order_by("pk").values_list("pk", "created_at"))

    call_command("seed_demo", today=TODAY.isoformat(), stdout=io.StringIO())

    assert list(ActionItem.objects.order_by("pk").values_list("pk", "created_at")) == before
