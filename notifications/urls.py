from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.notification_open, name="open"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("read-all/", views.notification_read_all, name="read-all"),
    path("settings/", views.preferences, name="preferences"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rules, name="rules-org"),
    path("rules/<int:pk>/webhook/", views.webhook_edit, name="webhook"),
    path("rules/<int:pk>/deliveries/", views.delivery_report, name="deliveries"),
    path("rules/<int:pk>/addresses/", views.address_import, name="addresses"),
    path("rules/<int:pk>/credentials/", views.credentials_edit, name="credentials"),
    path("rules/<int:pk>/addresses/template.xlsx", views.address_template, name="addresses-template"),
    path("rules/<int:pk>/<slug:code>/", views.rule_edit, name="rule-edit"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/new/", views.notice_create, name="notice-create"),
    path("notices/<int:pk>/", views.notice_detail, name="notice-detail"),
    path("notices/<int:pk>/read/", views.notice_read, name="notice-read"),
]
