from django.urls import path

from sla_tracker import views, views_exclusions, views_kpi, views_simulator

app_name = "sla_tracker"

urlpatterns = [
    path("", views.report, name="report"),
    path("export.<str:fmt>", views.report_export, name="report-export"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("statements/<int:pk>/export.<str:fmt>", views.statement_export, name="statement-export"),
    path("statements/<int:pk>/<slug:action>/", views.statement_action, name="statement-action"),
    path("lines/<int:pk>/waive/", views.waive, name="line-waive"),
    path("lines/<int:pk>/withdraw-waiver/", views.withdraw_waiver, name="line-withdraw-waiver"),
    path("lines/<int:pk>/dispute/", views.dispute, name="line-dispute"),
    path("disputes/<int:pk>/accept/", views.resolve, {"accepted": True}, name="dispute-accept"),
    path("disputes/<int:pk>/reject/", views.resolve, {"accepted": False}, name="dispute-reject"),
    path("disputes/<int:pk>/evidence/", views.dispute_evidence, name="dispute-evidence"),
    path("adjustments/<int:pk>/waive/", views.adjustment_waive, name="adjustment-waive"),
    path(
        "adjustments/<int:pk>/withdraw-waiver/",
        views.adjustment_withdraw_waiver,
        name="adjustment-withdraw-waiver",
    ),
    path("adjustments/<int:pk>/dispute/", views.adjustment_dispute, name="adjustment-dispute"),
    path(
        "adjustment-disputes/<int:pk>/accept/",
        views.adjustment_resolve,
        {"accepted": True},
        name="adjustment-dispute-accept",
    ),
    path(
        "adjustment-disputes/<int:pk>/reject/",
        views.adjustment_resolve,
        {"accepted": False},
        name="adjustment-dispute-reject",
    ),
    path(
        "adjustment-disputes/<int:pk>/evidence/",
        views.adjustment_dispute_evidence,
        name="adjustment-dispute-evidence",
    ),
    path("exclusions/", views_exclusions.exclusion_list, name="exclusions"),
    path("exclusions/propose/", views_exclusions.exclusion_propose, name="exclusion-propose"),
    path("exclusions/<int:pk>/", views_exclusions.exclusion_detail, name="exclusion"),
    path("exclusions/<int:pk>/<slug:decision>/", views_exclusions.exclusion_decision, name="exclusion-decision"),
    path("contracts/<int:pk>/<int:year>/", views.contract_year, name="contract-year"),
    path("contracts/<int:pk>/simulate/", views_simulator.simulate_contract, name="simulate"),
    path("kpi/", views_kpi.workspace, name="kpi-workspace"),
    path("kpi/contracts/<int:pk>/upload/", views_kpi.upload_new, name="kpi-upload-new"),
    path("kpi/contracts/<int:pk>/recompute/", views_kpi.recompute, name="kpi-recompute"),
    path(
        "kpi/contracts/<int:pk>/recompute/<str:month>/<uuid:task_id>/",
        views_kpi.recompute_status,
        name="kpi-recompute-status",
    ),
    path("kpi/contracts/<int:pk>/months/<str:month>/", views_kpi.month_grid, name="kpi-grid"),
    path("kpi/contracts/<int:pk>/months/<str:month>/history/", views_kpi.month_history, name="kpi-history"),
    path("kpi/uploads/<int:pk>/", views_kpi.upload_detail, name="kpi-upload"),
    path("kpi/uploads/<int:pk>/mapping/", views_kpi.upload_mapping, name="kpi-upload-mapping"),
    path("kpi/uploads/<int:pk>/import/", views_kpi.upload_import, name="kpi-upload-import"),
    path("kpi/uploads/<int:pk>/retry/", views_kpi.upload_retry, name="kpi-upload-retry"),
    path("kpi/uploads/<int:pk>/progress/", views_kpi.upload_progress, name="kpi-upload-progress"),
    path("my/action-items/", views_kpi.my_action_items, name="my-action-items"),
    path("my/findings/", views_kpi.vendor_findings, name="vendor-findings"),
]
