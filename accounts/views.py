"""Signing in and out, and the home page: what the signed-in user's role can do."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.context_processors import navigation_items
from accounts.scoping import restrict
from notifications.selectors import unread_notifications
from sla_tracker.choices import StatementStatus
from sla_tracker.models import PenaltyStatement

ATTENTION_LIMIT = 10


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    """The role's sections, the user's unread notices, and the statements waiting for someone."""
    waiting = (
        restrict(PenaltyStatement.objects.all(), request.user)
        .filter(status__in=[StatementStatus.IN_REVIEW, StatementStatus.DISPUTED])
        .select_related("contract__vendor")
        .order_by("-month", "contract__reference")[:ATTENTION_LIMIT]
    )
    sections = [item for item in navigation_items(request.user) if item["key"] != "admin"]
    notifications = unread_notifications(user=request.user)[:ATTENTION_LIMIT]
    return render(
        request,
        "accounts/home.html",
        {"sections": sections, "waiting": waiting, "notifications": notifications},
    )
