"""The API token page in a real browser: reached from the user menu, a token is created and copied,
authenticates against the API, and is revoked after a confirmation.

Same set-up as tests/web/test_browser.py (the machine's Chromium, skipped with the reason where
there is none, never in CI); screenshots go to test-artifacts/browser/.
"""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import VendorUserFactory
from tests.web.test_browser import browser, shot, sign_in  # noqa: F401 - fixtures and helpers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, locale="en-GB", permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_a_vendor_user_creates_copies_and_revokes_their_api_token(page, live_server):
    user = VendorUserFactory(username="vendor.scripts")

    sign_in(page, live_server, user)
    page.click("[data-testid=user-menu]")
    page.click("text=API token")
    page.wait_for_selector("[data-testid=no-api-token]")
    page.click("[data-testid=api-token-create]")
    secret = page.input_value("[data-testid=new-api-token]")
    assert secret == Token.objects.get(user=user).key
    page.click("button[data-copy]")
    page.wait_for_selector("button[data-copy]:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shot(page, "api-token-created")
    me = APIClient(HTTP_AUTHORIZATION=f"Token {secret}").get("/api/v1/me/")
    assert me.json()["username"] == "vendor.scripts"

    page.click("text=Done")
    assert page.inner_text("[data-testid=api-token-prefix]") == f"{secret[:8]}…"
    assert secret not in page.content()
    page.click("[data-testid=api-token-revoke]")
    shot(page, "api-token-revoke-confirmation")
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".alert-success")
    page.wait_for_selector("[data-testid=no-api-token]")
    assert APIClient(HTTP_AUTHORIZATION=f"Token {secret}").get("/api/v1/me/").status_code == 401


def test_the_api_docs_render_from_the_apps_own_files_without_the_internet(page, live_server):
    """Swagger UI comes from drf-spectacular-sidecar's static files: no request leaves the app."""
    outside = []

    def only_the_app(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    page.goto(f"{live_server.url}/api/docs/")
    title = page.wait_for_selector(".swagger-ui .info .title")
    assert "BPO contract governance tracker API" in title.inner_text()
    page.wait_for_selector("[data-path='/api/v1/action-items/']")  # the first path (Swagger UI renders them in turn)
    shot(page, "api-docs")
    assert outside == []
