"""The one REST router under /api/v1/; each app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

app_name = "api"
urlpatterns = router.urls
