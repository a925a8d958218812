from django.urls import path

from audits import views

app_name = "audits"

urlpatterns = [
    path("", views.audit_list, name="list"),
    path("<int:pk>/", views.audit_detail, name="detail"),
    path("<int:pk>/findings/new/", views.record_finding, name="record-finding"),
    path("<int:pk>/<slug:action>/", views.audit_action, name="action"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path("findings/<int:pk>/<slug:action>/", views.finding_action, name="finding-action"),
    path("plan/", views.choose_audit_right, name="plan-choose"),
    path("rights/<int:pk>/plan/", views.plan_audit, name="plan"),
]
