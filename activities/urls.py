from django.urls import path

from activities import views

app_name = "activities"

urlpatterns = [
    path("", views.index, name="index"),
    path("compliance/", views.compliance_home, name="compliance_home"),
    path("org/<int:pk>/meetings/", views.meetings, name="meetings"),
    path("org/<int:pk>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("org/<int:pk>/compliance/", views.compliance, name="compliance"),
    path("org/<int:pk>/rollup/", views.rollup, name="rollup"),
    path("org/<int:pk>/waive/", views.waive, name="waive"),
    path("org/<int:pk>/rules/", views.rules, name="rules"),
    path("org/<int:pk>/follow-ups/", views.follow_ups, name="follow_ups"),
    path("org/<int:pk>/talks/", views.talks, name="talks"),
    path("org/<int:pk>/study/", views.study, name="study"),
    path("org/<int:pk>/committee-study/", views.committee_study, name="committee_study"),
    path("org/<int:pk>/plans/", views.plans, name="plans"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/delete/", views.meeting_delete, name="meeting_delete"),
    path("meetings/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("meetings/<int:pk>/appraisal/", views.appraisal, name="appraisal"),
    path("attachments/<int:pk>/download/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.attachment_remove, name="attachment_delete"),
    path("follow-ups/<int:pk>/update/", views.follow_up_update, name="follow_up_update"),
    path("study-records/<int:pk>/delete/", views.study_record_remove, name="study_record_delete"),
    path("my/study/", views.my_study_page, name="my_study"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/feed/", views.calendar_feed, name="calendar_feed"),
    # Public by token on purpose (calendar apps cannot log in); wrong or revoked token → 404.
    path("calendar/feed/<str:token>.ics", views.calendar_feed_ics, name="feed"),
]
