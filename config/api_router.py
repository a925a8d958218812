"""The one REST router under /api/v1/.

Each app's api.urls module registers its viewsets on `router` when imported; a module may also
list plain `urlpatterns` (endpoints that are not collections, such as the current user's profile).
"""

from importlib import import_module

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

API_MODULES = (
    "accounts.api.urls",
    "contracts.api.urls",
    "sla_tracker.api.urls",
    "governance.api.urls",
    "audits.api.urls",
)

_extra_urlpatterns = []
for _module in API_MODULES:
    _extra_urlpatterns += getattr(import_module(_module), "urlpatterns", [])

app_name = "api"
urlpatterns = [*_extra_urlpatterns, *router.urls]
