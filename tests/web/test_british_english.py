"""British English ("en-gb"): the English words with dates written and read the British way (1 Apr 2025,
04/03/2025 for 4 March, 01/02/2025 typed is 1 February), beside American English ("en", the default) and French."""

import datetime
import io

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from contracts.choices import Currency
from governance.choices import MeetingStatus, MemberRole
from tests.factories import (
    CommitteeFactory,
    CommitteeMemberFactory,
    ExclusionFactory,
    IncidentFactory,
    MeetingFactory,
    UserFactory,
)
from tests.web.conftest import MONTH, make_statement

pytestmark = pytest.mark.django_db


def speaking(client, language: str):
    """``client`` with the language the switcher sets (its cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


# Choosing it ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "language"),
    [
        ("en-GB,en;q=0.9", "en-gb"),
        ("en-gb", "en-gb"),
        ("en-US,en;q=0.9", "en"),
        ("en", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
    ],
)
def test_the_browsers_language_chooses_british_english_on_the_sign_in_page(client, accept, language):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE=accept)

    assert response.status_code == 200
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in response.content.decode()


def test_the_switcher_names_each_language_and_sets_british_english(client):
    client.force_login(UserFactory(procurement=True))

    before = client.get(reverse("accounts:home")).content.decode()
    response = client.post(reverse("set_language"), {"language": "en-gb", "next": reverse("accounts:home")})
    after = client.get(reverse("accounts:home")).content.decode()

    assert '<option value="en" selected lang="en">English (US)</option>' in before
    assert '<option value="en-gb" lang="en-gb">English (UK)</option>' in before
    assert '<option value="fr" lang="fr">Français</option>' in before
    assert response.status_code == 302
    assert '<html lang="en-gb">' in after
    assert '<option value="en-gb" selected lang="en-gb">English (UK)</option>' in after


def test_a_user_stores_british_english_through_the_api():
    user = UserFactory(language="en")
    api = APIClient()
    api.force_authenticate(user)

    response = api.patch("/api/v1/me/", {"language": "en-gb"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["language"] == "en-gb"
    user.refresh_from_db()
    assert user.language == "en-gb"
    assert api.get("/api/v1/me/").json()["language"] == "en-gb"
    assert api.patch("/api/v1/me/", {"language": "de"}, format="json").status_code == 400


def test_the_back_office_offers_british_english_for_a_users_language(client):
    client.force_login(UserFactory(administrator=True, is_staff=True))
    user = UserFactory(language="en-gb")

    page = client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()

    assert '<option value="en-gb" selected>English (United Kingdom)</option>' in page
    assert '<option value="en">English (United States)</option>' in page


# Dates written ----------------------------------------------------------------------------------------------


@pytest.fixture
def statement():
    """A March 2025 statement in CHF with an incident on 4 March."""
    statement = make_statement(currency=Currency.CHF)
    IncidentFactory(contract=statement.contract, occurred_on=MONTH.replace(day=4), title="Telephony down")
    return statement


@pytest.mark.parametrize(
    ("language", "day", "amount"),
    [
        ("en-gb", "04/03/2025 · Telephony down", "CHF\u00a01,500.00"),
        ("en", "03/04/2025 · Telephony down", "CHF\u00a01,500.00"),
        ("fr", "04/03/2025 · Telephony down", "1\u00a0500,00\u00a0CHF"),
    ],
)
def test_the_statement_page_writes_dates_in_the_readers_variant_and_money_alike_in_both_englishes(
    client, procurement, statement, language, day, amount
):
    speaking(client, language).force_login(procurement)

    page = client.get(reverse("sla_tracker:statement", args=[statement.pk])).content.decode()

    assert f'<html lang="{language}">' in page
    assert day in page
    assert amount in page


def test_the_statement_pdf_of_a_british_reader_writes_dates_the_british_way(client, procurement, statement):
    pypdf = pytest.importorskip("pypdf")
    speaking(client, "en-gb").force_login(procurement)

    response = client.get(reverse("sla_tracker:statement-export", args=[statement.pk, "pdf"]))

    text = " ".join(
        "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages).split()
    )
    assert "04/03/2025 Telephony down" in text
    assert "03/04/2025" not in text
    assert "CHF 1,500.00" in text  # (the no-break space after CHF is a space once the text is split)


def test_a_british_readers_csv_export_is_the_american_ones_commas_decimal_points_and_iso_dates(
    client, procurement, statement
):
    client.force_login(procurement)
    url = reverse("sla_tracker:statement-export", args=[statement.pk, "csv"])

    american = speaking(client, "en").get(url).content.decode("utf-8-sig")
    british = speaking(client, "en-gb").get(url).content.decode("utf-8-sig")

    assert british == american
    assert "1500.00" in british and "2025-03" in british and ";" not in british.splitlines()[0]


@pytest.fixture
def meeting():
    """A meeting held at 09:30 in Paris on 1 April 2025 (the first of a month), after one on 10 March."""
    statement = make_statement()
    committee = CommitteeFactory(contract=statement.contract, name="Acme service review")
    chair = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR).user
    MeetingFactory(
        committee=committee,
        scheduled_for=datetime.datetime(2025, 3, 10, 9, tzinfo=datetime.UTC),
        status=MeetingStatus.HELD,
    )
    meeting = MeetingFactory(
        committee=committee,
        scheduled_for=datetime.datetime(2025, 4, 1, 7, 30, tzinfo=datetime.UTC),
        status=MeetingStatus.HELD,
    )
    return meeting, chair


@pytest.mark.parametrize(
    ("language", "when", "previous"),
    [
        ("en-gb", "1 Apr 2025, 9:30 a.m.", "10/03/2025"),
        ("en", "April 1, 2025, 9:30 a.m.", "03/10/2025"),
        ("fr", "1er avril 2025 09:30", "10/03/2025"),
    ],
)
def test_the_meeting_page_writes_its_day_and_the_previous_meetings_in_the_readers_variant(
    client, meeting, language, when, previous
):
    meeting, chair = meeting
    speaking(client, language).force_login(chair)

    page = client.get(reverse("governance:meeting", args=[meeting.pk])).content.decode()

    heading = page.split("<h1")[1].split("</h1>")[0]
    assert when in heading
    assert previous in page.split("</h1>")[1].split("</div>")[0]  # "previous meeting held on …"


# Dates read -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "from_february"), [("en-gb", True), ("fr", True), ("en", False)])
def test_a_date_typed_in_a_form_is_read_day_first_in_british_english(client, procurement, language, from_february):
    """The inputs are <input type="date"> (the browser sends ISO dates), but the form reads a typed date too, as the
    interface's language writes it: 01/02/2025 is 1 February in British English, 2 January in American English."""
    january = ExclusionFactory(start_date=datetime.date(2025, 1, 20), end_date=datetime.date(2025, 1, 21))
    february = ExclusionFactory(start_date=datetime.date(2025, 2, 10), end_date=datetime.date(2025, 2, 11))
    speaking(client, language).force_login(procurement)

    response = client.get(reverse("sla_tracker:exclusions"), {"day_from": "01/02/2025"})

    assert response.context["form"].cleaned_data["day_from"] == (
        datetime.date(2025, 2, 1) if from_february else datetime.date(2025, 1, 2)
    )
    listed = {exclusion.pk for exclusion in response.context["page"]}
    assert listed == ({february.pk} if from_february else {january.pk, february.pk})
