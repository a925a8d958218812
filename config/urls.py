"""Root URLs: the admin, the REST API with its schema and docs, and the health check."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz

admin.site.site_header = "BPO contract governance"
admin.site.site_title = "BPO tracker"
admin.site.index_title = "Back office"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", healthz, name="healthz"),
    path("notifications/", include("notifications.urls")),
    # The back office is the only web interface so far; the role pages come with the web issue.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
]
