"""Root URLs: the web pages, the admin, the REST API with its schema and docs, and the health check."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as accounts_views
from config import api_errors
from config.health import healthz

admin.site.site_header = "BPO contract governance"
admin.site.site_title = "BPO tracker"
admin.site.index_title = "Back office"

# JSON under /api/, the site's page elsewhere.
handler500 = "config.api_errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", api_errors.not_found),  # last of the API: every address no endpoint answers
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", healthz, name="healthz"),
    path("notifications/", include("notifications.urls")),
    path("contracts/", include("contracts.urls")),
    path("penalties/", include("sla_tracker.urls")),
    path("committees/", include("governance.urls")),
    path("audits/", include("audits.urls")),
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    path("", include("accounts.urls")),
]
