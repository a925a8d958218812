"""The one REST router under /api/v1/; each app registers its viewsets in its api/urls.py."""

from importlib import import_module

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

# Each app's api.urls module registers its viewsets on `router` when imported.
for _module in ("sla_tracker.api.urls",):
    import_module(_module)

app_name = "api"
urlpatterns = router.urls
