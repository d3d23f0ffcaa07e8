from django.urls import path

from members import views
from members.discipline.views import member_discipline
from members.statistics.views import party_statistics_page

app_name = "members"

urlpatterns = [
    path("", views.member_list_page, name="list"),
    path("export.xlsx", views.member_export, name="export"),
    path("new/", views.member_create, name="create"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/reveal/", views.member_reveal, name="reveal"),
    path("<int:pk>/discipline/", member_discipline, name="discipline"),
    path("<int:pk>/transfer/", views.transfer_new, name="transfer-new"),
    path("transfers/", views.transfer_list_page, name="transfers"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer-detail"),
    path("import/", views.import_upload, name="import"),
    path("import/template.xlsx", views.import_template, name="import-template"),
    path("import/<int:pk>/", views.import_batch, name="import-batch"),
    path("statistics/<int:pk>/", party_statistics_page, name="party-statistics"),
    path("me/", views.me, name="me"),
    path("me/download/", views.me_download, name="me-download"),
]
