"""Signing in and out, the home page (what the signed-in user's role can do), and the user's API token."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language
from rest_framework.authtoken.models import Token

from accounts.context_processors import navigation_items
from accounts.scoping import restrict
from accounts.services import create_api_token, revoke_api_token
from contracts.models import Contract
from contracts.selectors import notice_deadlines_within
from notifications.selectors import unread_notifications
from sla_tracker.choices import StatementStatus
from sla_tracker.models import PenaltyStatement
from sla_tracker.views import close_refusals, differences_waiting
from sla_tracker.views_exclusions import exclusions_awaiting_decision

ATTENTION_LIMIT = 10
NOTICE_HORIZON_DAYS = 90
# Enough of the token to tell which one a machine holds; the rest is shown once, when it is created.
TOKEN_PREFIX_LENGTH = 8
NEW_TOKEN_SESSION_KEY = "new_api_token"  # noqa: S105 - a session key name, not a secret


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    """The role's sections, the user's unread notices, and the statements waiting for someone, to
    those who act on them: procurement reviews, vendor managers submit and follow disputes, vendor
    users may dispute (auditors and committee members read statements but have nothing to do)."""
    user = request.user
    waiting = PenaltyStatement.objects.none()
    if user.is_vendor_user or user.has_perm("sla_tracker.change_penaltystatement"):
        waiting = (
            restrict(PenaltyStatement.objects.all(), user)
            .filter(status__in=[StatementStatus.IN_REVIEW, StatementStatus.DISPUTED])
            .select_related("contract__vendor")
            .order_by("-month", "contract__reference")[:ATTENTION_LIMIT]
        )
    deadlines = []
    if not user.is_vendor_user and user.has_perm("contracts.view_contract"):
        today = timezone.localdate()
        deadlines = notice_deadlines_within(
            days=NOTICE_HORIZON_DAYS, today=today, contracts=restrict(Contract.objects.all(), user)
        )[:ATTENTION_LIMIT]
        for contract in deadlines:
            contract.notice_days_left = contract.next_renewal.days_left(today)
    sections = [item for item in navigation_items(request.user) if item["key"] != "admin"]
    notifications = unread_notifications(user=request.user)[:ATTENTION_LIMIT]
    # Procurement's (and administrators') exclusion proposals to decide, oldest first.
    awaiting = exclusions_awaiting_decision(user)
    exclusions_awaiting = list(awaiting[:ATTENTION_LIMIT])
    awaiting_total = awaiting.count() if len(exclusions_awaiting) == ATTENTION_LIMIT else len(exclusions_awaiting)
    return render(
        request,
        "accounts/home.html",
        {
            "sections": sections,
            "waiting": waiting,
            "notifications": notifications,
            "deadlines": deadlines,
            "notice_horizon_days": NOTICE_HORIZON_DAYS,
            "exclusions_awaiting": exclusions_awaiting,
            "exclusions_awaiting_total": awaiting_total,
            # Corrections of approved months not carried yet: money nobody must forget.
            "differences_waiting": differences_waiting(user),
            # Months the close refused (e.g. charges not recorded): credits nobody would claim otherwise. All of
            # them: each is money, and they are few.
            "close_refusals": close_refusals(user),
        },
    )


# The API token ---------------------------------------------------------------------------------------
# A user has at most one token and reaches only their own: no URL names a token, so another user's
# token cannot be addressed at all, and revoking when one has none is a 404.


def _has_token(user) -> bool:
    return Token.objects.filter(user=user).exists()


@login_required
@require_GET
def api_token(request):
    """The user's token: when it was created and how it starts, never the whole secret."""
    token = Token.objects.filter(user=request.user).first()
    return render(
        request,
        "accounts/api_token.html",
        {"token": token, "prefix": token.key[:TOKEN_PREFIX_LENGTH] if token else "", "active_section": "api-token"},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token_create(request):
    """Create the token and show its secret, this once. Replacing a token is confirmed first (GET)."""
    if request.method == "GET":
        if not _has_token(request.user):
            return redirect("accounts:api-token")
        return render(
            request,
            "accounts/api_token_confirm.html",
            {
                "title": _("Replace your API token"),
                "explanation": _(
                    "A new token is created and shown once. Your current token stops working at once: "
                    "every script or machine using it must be given the new one."
                ),
                "button": _("Replace the token"),
                "action": reverse("accounts:api-token-create"),
                "active_section": "api-token",
            },
        )
    # Post/redirect/get: reloading the page that shows the secret must not create another token.
    request.session[NEW_TOKEN_SESSION_KEY] = create_api_token(user=request.user).key
    return redirect("accounts:api-token-created")


@never_cache
@login_required
@require_GET
def api_token_created(request):
    """The new token's secret, shown this once (it leaves the session as it is shown)."""
    key = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    token = Token.objects.filter(user=request.user, key=key).first() if key else None
    if token is None:
        return redirect("accounts:api-token")
    return render(
        request,
        "accounts/api_token_created.html",
        {
            "token": token,
            "profile_url": request.build_absolute_uri(reverse("api:me")),
            "active_section": "api-token",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_token_revoke(request):
    """Revoke the token, after a confirmation (GET); a 404 when the user has none."""
    if request.method == "POST":
        if not revoke_api_token(user=request.user):
            raise Http404
        messages.success(request, _("Your API token was revoked: requests that send it are refused."))
        return redirect("accounts:api-token")
    if not _has_token(request.user):
        raise Http404
    return render(
        request,
        "accounts/api_token_confirm.html",
        {
            "title": _("Revoke your API token"),
            "explanation": _("Requests that send this token are refused from now on. You can create a new one later."),
            "button": _("Revoke the token"),
            "action": reverse("accounts:api-token-revoke"),
            "active_section": "api-token",
        },
    )


@require_POST
def set_language(request):
    """The language switcher: Django's (the cookie, then back to the page); a signed-in user's choice is also
    stored as their language, which their pages, notices and e-mails then use on every device."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES) and request.user.language != language:
        request.user.language = language
        request.user.save(update_fields=["language"])
    return response
