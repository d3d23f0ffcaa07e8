from django.urls import path

from members.dues import views

app_name = "dues"

urlpatterns = [
    path("", views.dues_index, name="index"),
    path("mine/", views.dues_mine, name="mine"),
    path("org/<int:pk>/", views.dues_org, name="org"),
    path("org/<int:pk>/record/", views.dues_record, name="record"),
    path("org/<int:pk>/arrears/", views.dues_arrears_page, name="arrears"),
    path("org/<int:pk>/year/", views.dues_year, name="year"),
    path("org/<int:pk>/export.xlsx", views.dues_export, name="export"),
    path("org/<int:pk>/fixings/", views.dues_fixings, name="fixings"),
    path("org/<int:pk>/import/", views.dues_import, name="import"),
    path("org/<int:pk>/import/template.xlsx", views.dues_import_template, name="import-template"),
    path("import/<int:pk>/", views.dues_import_batch, name="import-batch"),
    path("member/<int:pk>/", views.dues_member, name="member"),
    path("member/<int:pk>/fix/", views.dues_fix, name="fix"),
    path("member/<int:pk>/pay/", views.dues_member_pay, name="member-pay"),
    path("member/<int:pk>/approval/", views.dues_member_approval, name="member-approval"),
]
