from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
