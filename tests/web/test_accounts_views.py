"""Signing in and out, the home page of each role, and the language switcher."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD, UserFactory, VendorUserFactory

pytestmark = pytest.mark.django_db


def test_an_anonymous_visitor_is_sent_to_the_sign_in_page(client):
    response = client.get(reverse("accounts:home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_user_signs_in_with_their_password_and_lands_on_the_home_page(client):
    user = UserFactory(procurement=True)

    response = client.post(reverse("accounts:login"), {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("accounts:home")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_a_wrong_password_shows_the_form_again_with_an_error(client):
    user = UserFactory()

    response = client.post(reverse("accounts:login"), {"username": user.username, "password": "wrong"})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert b"alert-danger" in response.content


def test_signing_out_is_a_post_and_ends_the_session(client):
    client.force_login(UserFactory())

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_the_header_always_shows_the_current_user_and_role(client):
    user = UserFactory(procurement=True, first_name="Marc", last_name="Dubois")
    client.force_login(user)

    page = client.get(reverse("accounts:home")).content.decode()

    assert "Marc Dubois" in page
    assert 'data-testid="current-role">Procurement' in page


def test_procurement_home_links_to_the_penalty_report_and_the_contracts(client):
    client.force_login(UserFactory(procurement=True))

    page = client.get(reverse("accounts:home")).content.decode()

    assert reverse("sla_tracker:report") in page
    assert reverse("contracts:list") in page
    assert "Penalty report" in page
    # Procurement reads the KPI data behind the statements and decides exclusions.
    assert reverse("sla_tracker:kpi-workspace") in page
    assert reverse("sla_tracker:exclusions") in page


def test_a_vendor_user_home_offers_their_statements_and_not_the_contract_register(client):
    client.force_login(VendorUserFactory())

    page = client.get(reverse("accounts:home")).content.decode()

    assert "My statements" in page
    assert reverse("contracts:list") not in page


def test_the_back_office_link_shows_only_for_staff(client):
    client.force_login(UserFactory(administrator=True))
    assert reverse("admin:index") in client.get(reverse("accounts:home")).content.decode()

    client.force_login(UserFactory(procurement=True))
    assert reverse("admin:index") not in client.get(reverse("accounts:home")).content.decode()


def test_the_language_switcher_sets_french(client):
    client.force_login(UserFactory(procurement=True))

    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("accounts:home")})
    page = client.get(reverse("accounts:home")).content.decode()

    assert response.status_code == 302
    assert '<html lang="fr">' in page
    assert 'value="fr" selected' in page


def test_the_admin_stays_at_admin(client):
    client.force_login(UserFactory(administrator=True))

    assert client.get(reverse("admin:index")).status_code == 200


def test_the_home_page_lists_the_users_unread_notices_and_not_others(client):
    from tests.factories import NotificationFactory

    user = UserFactory()
    NotificationFactory(user=user, subject="Statement DEMO-A 2026-09 ready for review")
    NotificationFactory(subject="Someone else's notice")
    client.force_login(user)

    page = client.get(reverse("accounts:home"))

    assert b"Statement DEMO-A 2026-09 ready for review" in page.content
    assert b"Someone else" not in page.content


# The API token page -------------------------------------------------------------------------------------

API_TOKEN = reverse("accounts:api-token")
CREATE_TOKEN = reverse("accounts:api-token-create")
REVOKE_TOKEN = reverse("accounts:api-token-revoke")


def api_get(token: str, path: str = "/api/v1/me/"):
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}").get(path)


@pytest.mark.parametrize("url", [API_TOKEN, CREATE_TOKEN, REVOKE_TOKEN])
def test_an_anonymous_visitor_is_sent_to_sign_in_from_the_token_pages(client, url):
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))
    assert not Token.objects.exists()


@pytest.mark.parametrize("make_user", [UserFactory, VendorUserFactory], ids=["internal", "vendor-user"])
def test_the_user_menu_links_to_the_token_page(client, make_user):
    client.force_login(make_user())

    page = client.get(reverse("accounts:home")).content.decode()

    assert f'href="{API_TOKEN}"' in page


def test_the_page_shows_only_the_start_of_the_users_own_token(client):
    user = UserFactory()
    own = Token.objects.create(user=user)
    other = Token.objects.create(user=UserFactory())
    client.force_login(user)

    page = client.get(API_TOKEN).content.decode()

    assert f'<code data-testid="api-token-prefix">{own.key[:8]}…</code>' in page
    assert own.key not in page
    assert other.key[:8] not in page


def test_without_a_token_the_page_offers_to_create_one(client):
    client.force_login(UserFactory())

    page = client.get(API_TOKEN).content.decode()

    assert 'data-testid="no-api-token"' in page
    assert f'action="{CREATE_TOKEN}"' in page


@pytest.mark.parametrize("make_user", [UserFactory, VendorUserFactory], ids=["internal", "vendor-user"])
def test_a_created_token_is_shown_once_and_authenticates_against_the_api(client, make_user):
    user = make_user(username="scripted")
    client.force_login(user)

    posted = client.post(CREATE_TOKEN)
    created = client.get(posted.url)
    reloaded = client.get(posted.url)

    token = Token.objects.get(user=user)
    assert posted.status_code == 302
    assert posted.url == reverse("accounts:api-token-created")
    assert created.status_code == 200
    assert f'value="{token.key}"' in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert reloaded.status_code == 302  # shown once: a reload shows the token page, creates nothing
    assert reloaded.url == API_TOKEN
    assert Token.objects.filter(user=user).count() == 1
    me = api_get(token.key)
    assert me.status_code == 200
    assert me.json()["username"] == "scripted"
    assert token.key not in client.get(API_TOKEN).content.decode()


def test_replacing_the_token_is_confirmed_first_and_the_old_one_stops_working(client):
    user = UserFactory()
    old = Token.objects.create(user=user)
    client.force_login(user)

    confirmation = client.get(CREATE_TOKEN)
    assert confirmation.status_code == 200
    assert "Your current token stops working" in confirmation.content.decode()
    assert api_get(old.key).status_code == 200

    client.post(CREATE_TOKEN)

    new = Token.objects.get(user=user)
    assert new.key != old.key
    assert api_get(old.key).status_code == 401
    assert api_get(new.key).status_code == 200


def test_revoking_is_confirmed_first_and_the_token_then_stops_working(client):
    user = UserFactory()
    client.force_login(user)
    client.post(CREATE_TOKEN)
    token = Token.objects.get(user=user).key

    confirmation = client.get(REVOKE_TOKEN)
    assert confirmation.status_code == 200
    assert api_get(token).status_code == 200
    response = client.post(REVOKE_TOKEN, follow=True)

    assert response.redirect_chain == [(API_TOKEN, 302)]
    assert "Your API token was revoked" in response.content.decode()
    assert api_get(token).status_code == 401
    assert not Token.objects.filter(user=user).exists()


def test_a_user_cannot_revoke_another_users_token(client):
    owner_token = Token.objects.create(user=UserFactory())
    client.force_login(UserFactory())

    assert client.get(REVOKE_TOKEN).status_code == 404
    assert client.post(REVOKE_TOKEN).status_code == 404
    assert api_get(owner_token.key).status_code == 200


def test_creating_and_revoking_need_the_csrf_token():
    user = UserFactory()
    token = Token.objects.create(user=user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.post(REVOKE_TOKEN).status_code == 403
    assert client.post(CREATE_TOKEN).status_code == 403
    assert Token.objects.get(user=user) == token


def test_the_token_page_takes_a_fixed_number_of_queries(client, django_assert_num_queries):
    user = UserFactory()
    Token.objects.create(user=user)
    client.force_login(user)

    # The session, the user, the token, and the user's and groups' permissions for the navigation.
    with django_assert_num_queries(5):
        assert client.get(API_TOKEN).status_code == 200


@pytest.mark.parametrize(
    ("role", "listed"),
    [("procurement", True), ("vendor_manager", True), ("auditor", False), ("committee_member", False)],
)
def test_statements_waiting_for_review_are_listed_for_those_who_act_on_them(client, role, listed):
    from accounts.choices import Role
    from sla_tracker.choices import StatementStatus
    from tests.factories import CommitteeMemberFactory, PenaltyStatementFactory

    statement = PenaltyStatementFactory(status=StatementStatus.IN_REVIEW)
    contract, user = statement.contract, UserFactory(role=Role(role))
    # Each user's way to the contract: its owner, its auditor, a seat on its committee.
    if role == "vendor_manager":
        contract.owner = user
        contract.save()
    elif role == "auditor":
        contract.auditors.add(user)
    elif role == "committee_member":
        CommitteeMemberFactory(committee__contract=contract, committee__vendor=None, user=user)
    client.force_login(user)
    assert client.get(reverse("sla_tracker:statement", args=[statement.pk])).status_code == 200  # they may read it

    waiting = list(client.get(reverse("accounts:home")).context["waiting"])

    assert waiting == ([statement] if listed else [])


def test_the_pages_are_in_the_users_stored_language_whatever_the_browser_asks(client):
    client.force_login(UserFactory(procurement=True, language="fr"))

    page = client.get(reverse("accounts:home"), headers={"accept-language": "en-US"}).content.decode()

    assert '<html lang="fr">' in page
    assert 'value="fr" selected' in page


def test_a_user_without_a_stored_language_follows_the_browser(client):
    client.force_login(UserFactory(procurement=True, language=""))

    page = client.get(reverse("accounts:home"), headers={"accept-language": "fr"}).content.decode()

    assert '<html lang="fr">' in page


def test_the_switcher_stores_the_signed_in_users_choice(client):
    user = UserFactory(procurement=True, language="fr")
    client.force_login(user)

    client.post(reverse("set_language"), {"language": "en-gb", "next": reverse("accounts:home")})
    user.refresh_from_db()
    # Another device: no cookie, a French browser.
    client.cookies.clear()
    client.force_login(user)
    page = client.get(reverse("accounts:home"), headers={"accept-language": "fr"}).content.decode()

    assert user.language == "en-gb"
    assert '<html lang="en-gb">' in page


def test_the_switcher_ignores_a_language_the_app_does_not_offer(client):
    user = UserFactory(procurement=True, language="fr")
    client.force_login(user)

    client.post(reverse("set_language"), {"language": "de", "next": reverse("accounts:home")})
    user.refresh_from_db()

    assert user.language == "fr"


def test_the_api_answers_in_the_requests_language_not_the_stored_one(client):
    client.force_login(UserFactory(procurement=True, language="fr"))

    response = client.get("/api/v1/penalty-statements/?nonsense=1", headers={"accept-language": "en"})

    assert response.status_code == 400
    assert response.headers["Content-Language"] == "en"
