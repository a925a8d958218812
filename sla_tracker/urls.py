from django.urls import path

from sla_tracker import views

app_name = "sla_tracker"

urlpatterns = [
    path("", views.report, name="report"),
    path("export.<str:fmt>", views.report_export, name="report-export"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("statements/<int:pk>/export.<str:fmt>", views.statement_export, name="statement-export"),
    path("statements/<int:pk>/<slug:action>/", views.statement_action, name="statement-action"),
    path("lines/<int:pk>/waive/", views.waive, name="line-waive"),
    path("lines/<int:pk>/dispute/", views.dispute, name="line-dispute"),
    path("contracts/<int:pk>/<int:year>/", views.contract_year, name="contract-year"),
]
