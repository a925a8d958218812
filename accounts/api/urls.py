"""The current user's endpoints (plain paths: they are not collections)."""

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("me/", views.ProfileView.as_view(), name="me"),
    path("me/token/", views.MyTokenView.as_view(), name="me-token"),
    path("auth/token/", views.ObtainTokenView.as_view(), name="auth-token"),
]
