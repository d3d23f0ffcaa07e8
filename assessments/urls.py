from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("", views.index, name="index"),
    path("schemes/", views.scheme_list, name="scheme-list"),
    path("schemes/<int:pk>/", views.scheme_detail, name="scheme-detail"),
    path("schemes/<int:pk>/edit/", views.scheme_edit, name="scheme-edit"),
    path("ratings/", views.round_list, name="round-list"),
    path("rounds/<int:pk>/", views.round_detail, name="round-detail"),
    path("ratings/<int:pk>/", views.rating_detail, name="rating-detail"),
    path("publicity/", views.publicity, name="publicity"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence-download"),
    path("duty/", views.duty_list, name="duty-list"),
    path("duty/write/<int:org_pk>/", views.duty_edit, name="duty-edit"),
    path("duty/<int:pk>/", views.duty_detail, name="duty-detail"),
    path("reports/", views.report_list, name="report-list"),
    path("reports/<int:pk>/retry/", views.report_retry, name="report-retry"),
    path("reports/<int:pk>/<str:fmt>/", views.report_download, name="report-download"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("rectifications/", views.rectification_list, name="rectification-list"),
    path("rectifications/new/", views.rectification_new, name="rectification-new"),
    path("rectifications/<int:pk>/", views.rectification_detail, name="rectification-detail"),
]
