from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("account/api-token/", views.api_token, name="api-token"),
    path("account/api-token/new/", views.api_token_create, name="api-token-create"),
    path("account/api-token/created/", views.api_token_created, name="api-token-created"),
    path("account/api-token/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
