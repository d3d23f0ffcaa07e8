from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("<int:pk>/dashboard/", views.dashboard_page, name="page"),
    path("<int:pk>/dashboard/members/", views.member_list_page, name="members"),
    path("<int:pk>/dashboard/members/export.xlsx", views.member_export, name="members-export"),
    path("<int:pk>/dashboard/organizations/", views.org_list_page, name="orgs"),
    path("<int:pk>/dashboard/organizations/export.xlsx", views.org_export, name="orgs-export"),
]
