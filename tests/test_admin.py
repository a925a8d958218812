"""Every model registered in the back office: its list, add, change and history pages answer for an
administrator (the add page with a refusal where only a service writes the rows), a past version is
never restored, and the list's query count does not grow with its rows."""

import datetime
from decimal import Decimal

import factory
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from rest_framework.authtoken.models import Token, TokenProxy
from simple_history.admin import SimpleHistoryAdmin

from governance.models import CommitteeMember
from sla_tracker.models import (
    AdjustmentDispute,
    CloseRefusal,
    Exclusion,
    Incident,
    KpiUpload,
    LineDispute,
    Measurement,
    MeasurementChange,
    PenaltyStatement,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
)
from tests import factories
from tests.factories import (
    DECIDED_AT,
    CommitteeMemberFactory,
    ExclusionFactory,
    IncidentFactory,
    ServiceLevelFactory,
    UserFactory,
)

PROJECT_APPS = {"accounts", "contracts", "sla_tracker", "governance", "audits"}
REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


# Lists that read one more row per displayed row; each reason gives the fix to apply in the admin.
KNOWN_N_PLUS_ONE: dict[str, str] = {}


def _params(keep, known_failures=None) -> list:
    """One parameter per registered model, named after it, so a failure names the model."""
    known_failures = known_failures or {}
    return [
        pytest.param(
            model,
            model_admin,
            id=model._meta.label,
            marks=[pytest.mark.xfail(strict=True, reason=known_failures[model._meta.label])]
            if model._meta.label in known_failures
            else [],
        )
        for model, model_admin in REGISTERED
        if keep(model, model_admin)
    ]


ALL_ADMINS = _params(lambda model, model_admin: True)
PROJECT_ADMINS = _params(lambda model, model_admin: model._meta.app_label in PROJECT_APPS, KNOWN_N_PLUS_ONE)
HISTORY_ADMINS = _params(lambda model, model_admin: isinstance(model_admin, SimpleHistoryAdmin))


def _factories_by_model() -> dict:
    found = {}
    for value in vars(factories).values():
        if isinstance(value, type) and issubclass(value, factory.django.DjangoModelFactory) and value._meta.model:
            found.setdefault(value._meta.model, value)  # the first, most general factory of a model
    return found


def _periodic_task():
    interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    return PeriodicTask.objects.create(
        name=f"close month {interval.pk}", task="sla_tracker.close_month", interval=interval
    )


_SIGN_IN = {
    "username": "camille",
    "ip_address": "127.0.0.1",
    "user_agent": "pytest",
    "http_accept": "*/*",
    "path_info": "/sign-in/",
}

# Rows whose optional relations the list shows are filled in, so a missing select_related shows up.
MAKERS = {
    **_factories_by_model(),
    CommitteeMember: lambda: CommitteeMemberFactory(vendor_contact=True),
    Exclusion: lambda: ExclusionFactory(approved=True),
    Incident: lambda: IncidentFactory(selected_service_level=ServiceLevelFactory()),
    Group: lambda: Group.objects.create(name=f"Procurement {Group.objects.count()}"),
    TokenProxy: lambda: TokenProxy.objects.get(pk=Token.objects.create(user=UserFactory()).pk),
    PeriodicTask: _periodic_task,
    IntervalSchedule: lambda: IntervalSchedule.objects.create(every=15, period=IntervalSchedule.MINUTES),
    CrontabSchedule: lambda: CrontabSchedule.objects.create(minute="0", hour="6", day_of_month="2"),
    SolarSchedule: lambda: SolarSchedule.objects.create(
        event="sunrise", latitude=Decimal("33.573"), longitude=Decimal("-7.590")
    ),
    ClockedSchedule: lambda: ClockedSchedule.objects.create(clocked_time=DECIDED_AT + datetime.timedelta(days=1)),
    AccessAttempt: lambda: AccessAttempt.objects.create(
        failures_since_start=1, **_SIGN_IN, get_data="", post_data="username=camille"
    ),
    AccessLog: lambda: AccessLog.objects.create(**_SIGN_IN),
    AccessFailureLog: lambda: AccessFailureLog.objects.create(**_SIGN_IN),
}
READ_ONLY_ADMINS = {
    # django-axes' records of sign-ins: written by the sign-in guard, read-only in its admin.
    AccessAttempt,
    AccessLog,
    AccessFailureLog,
    # KPI data: written by the KPI import service (uploads, the month's grid, the API), which logs changes.
    KpiUpload,
    Measurement,
    MeasurementChange,
    # Statements: written by the monthly close and the statement services (statement page, API actions).
    PenaltyStatement,
    StatementLine,
    LineDispute,
    StatementAdjustment,
    AdjustmentDispute,
    StatementEvent,
    # Refused closes: kept by the monthly close until the month closes.
    CloseRefusal,
}


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def administrator_client(client, db):
    client.force_login(UserFactory(administrator=True))
    return client


def test_every_registered_model_has_a_way_to_make_a_row():
    assert [model._meta.label for model, _ in REGISTERED if model not in MAKERS] == []


@pytest.mark.parametrize(("model", "model_admin"), ALL_ADMINS)
def test_the_changelist_and_its_search_answer(administrator_client, model, model_admin):
    MAKERS[model]()

    assert administrator_client.get(_url(model, "changelist")).status_code == 200
    assert administrator_client.get(_url(model, "changelist"), {"q": "BPO"}).status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), ALL_ADMINS)
def test_the_change_page_of_an_existing_row_answers(administrator_client, model, model_admin):
    row = MAKERS[model]()

    response = administrator_client.get(_url(model, "change", row.pk))

    assert response.status_code == 200
    assert response.context["original"] == row


@pytest.mark.parametrize(("model", "model_admin"), ALL_ADMINS)
def test_the_add_page_answers(administrator_client, model, model_admin):
    expected = 403 if model in READ_ONLY_ADMINS else 200
    assert administrator_client.get(_url(model, "add")).status_code == expected


@pytest.mark.parametrize(("model", "model_admin"), HISTORY_ADMINS)
def test_the_history_of_a_row_and_a_past_version_answer(administrator_client, model, model_admin):
    row = MAKERS[model]()
    record = row.history.earliest()

    assert administrator_client.get(_url(model, "history", row.pk)).status_code == 200
    assert administrator_client.get(_url(model, "simple_history", row.pk, record.history_id)).status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), HISTORY_ADMINS)
def test_a_past_version_is_never_restored(administrator_client, model, model_admin):
    row = MAKERS[model]()
    record = row.history.earliest()

    response = administrator_client.post(_url(model, "simple_history", row.pk, record.history_id), {})

    assert response.status_code == 403
    assert row.history.count() == 1


@pytest.mark.parametrize(("model", "model_admin"), PROJECT_ADMINS)
def test_the_changelist_query_count_does_not_grow_with_its_rows(administrator_client, model, model_admin):
    MAKERS[model]()
    administrator_client.get(_url(model, "changelist"))  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as one_row:
        administrator_client.get(_url(model, "changelist"))

    MAKERS[model]()
    MAKERS[model]()
    with CaptureQueriesContext(connection) as three_rows:
        administrator_client.get(_url(model, "changelist"))

    assert len(three_rows) == len(one_row), [query["sql"] for query in three_rows.captured_queries]


@pytest.mark.parametrize(
    ("factory_class", "changelist"),
    [
        (factories.CloseRefusalFactory, "admin:sla_tracker_closerefusal_changelist"),
        (factories.MonthlyChargeFactory, "admin:contracts_monthlycharge_changelist"),
    ],
)
def test_month_columns_read_as_months_not_as_their_first_day(administrator_client, factory_class, changelist):
    factory_class(month=datetime.date(2025, 3, 1))

    page = administrator_client.get(reverse(changelist)).content.decode()

    assert '<td class="field-month_column">2025-03</td>' in page
