from django.urls import path

from assessments.views import (
    duty,
    evidence,
    index,
    ledger,
    official,
    publicity,
    ratings,
    rectification,
    reports,
    schemes,
)

app_name = "assessments"

urlpatterns = [
    path("", index.index, name="index"),
    path("schemes/", schemes.scheme_list, name="scheme-list"),
    path("schemes/<int:pk>/", schemes.scheme_detail, name="scheme-detail"),
    path("schemes/<int:pk>/edit/", schemes.scheme_edit, name="scheme-edit"),
    path("ratings/", ratings.round_list, name="round-list"),
    path("rounds/<int:pk>/", ratings.round_detail, name="round-detail"),
    path("ratings/<int:pk>/", ratings.rating_detail, name="rating-detail"),
    path("publicity/", publicity.publicity, name="publicity"),
    path("evidence/<int:pk>/", evidence.evidence_download, name="evidence-download"),
    path("duty/", duty.duty_list, name="duty-list"),
    path("duty/write/<int:org_pk>/", duty.duty_edit, name="duty-edit"),
    path("duty/<int:pk>/", duty.duty_detail, name="duty-detail"),
    path("reports/", reports.report_list, name="report-list"),
    path("reports/<int:pk>/", official.report_detail, name="report-detail"),
    path("reports/<int:pk>/retry/", reports.report_retry, name="report-retry"),
    path("report-heading/<int:org_pk>/", official.report_heading_edit, name="report-heading"),
    path("reports/<int:pk>/<str:fmt>/", reports.report_download, name="report-download"),
    path("batches/<int:pk>/", reports.batch_detail, name="batch-detail"),
    path("ledgers/new/<int:org_pk>/", ledger.ledger_batch_new, name="ledger-batch-new"),
    path("ledgers/<int:pk>/", ledger.ledger_batch_detail, name="ledger-batch"),
    path("ledgers/<int:pk>/download/", ledger.ledger_batch_download, name="ledger-batch-download"),
    path("ledgers/meetings/<int:pk>/print/", ledger.meeting_record_print, name="meeting-record-print"),
    path("rectifications/", rectification.rectification_list, name="rectification-list"),
    path("rectifications/new/", rectification.rectification_new, name="rectification-new"),
    path("rectifications/<int:pk>/", rectification.rectification_detail, name="rectification-detail"),
]
