from django.urls import path

from governance import views

app_name = "governance"

urlpatterns = [
    path("", views.committee_list, name="list"),
    path("<int:pk>/", views.committee_detail, name="committee"),
    path("meetings/<int:pk>/", views.meeting_dashboard, name="meeting"),
    path("meetings/<int:pk>/pack.pdf", views.meeting_pack, name="meeting-pack"),
    path("meetings/<int:pk>/<slug:action>/", views.meeting_action, name="meeting-action"),
    path("action-items/<int:pk>/start/", views.change_action, {"change": "start"}, name="action-start"),
    path("action-items/<int:pk>/close/", views.change_action, {"change": "close"}, name="action-close"),
    path("action-items/<int:pk>/cancel/", views.change_action, {"change": "cancel"}, name="action-cancel"),
    path("action-items/<int:pk>/reopen/", views.change_action, {"change": "reopen"}, name="action-reopen"),
]
