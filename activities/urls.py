from django.urls import path

from activities.elections import views as election_views
from activities.views import calendar as calendar_views
from activities.views import compliance as compliance_views
from activities.views import follow_ups as follow_ups_views
from activities.views import meeting_form as meeting_form_views
from activities.views import meetings as meetings_views
from activities.views import plans as plans_views
from activities.views import study as study_views
from activities.views import talks as talks_views

app_name = "activities"

urlpatterns = [
    path("", compliance_views.index, name="index"),
    path("compliance/", compliance_views.compliance_home, name="compliance_home"),
    path("org/<int:pk>/meetings/", meetings_views.meetings, name="meetings"),
    path("org/<int:pk>/meetings/new/", meeting_form_views.meeting_new, name="meeting_new"),
    path("org/<int:pk>/compliance/", compliance_views.compliance, name="compliance"),
    path("org/<int:pk>/rollup/", compliance_views.rollup, name="rollup"),
    path("org/<int:pk>/waive/", compliance_views.waive, name="waive"),
    path("org/<int:pk>/rules/", compliance_views.rules, name="rules"),
    path("org/<int:pk>/follow-ups/", follow_ups_views.follow_ups, name="follow_ups"),
    path("org/<int:pk>/talks/", talks_views.talks, name="talks"),
    path("org/<int:pk>/study/", study_views.study, name="study"),
    path("org/<int:pk>/committee-study/", study_views.committee_study, name="committee_study"),
    path("org/<int:pk>/plans/", plans_views.plans, name="plans"),
    path("meetings/<int:pk>/", meetings_views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", meeting_form_views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/delete/", meetings_views.meeting_delete, name="meeting_delete"),
    path("meetings/<int:pk>/attachments/", meetings_views.attachment_upload, name="attachment_upload"),
    path("meetings/<int:pk>/appraisal/", talks_views.appraisal, name="appraisal"),
    path("attachments/<int:pk>/download/", meetings_views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/delete/", meetings_views.attachment_remove, name="attachment_delete"),
    path("follow-ups/<int:pk>/update/", follow_ups_views.follow_up_update, name="follow_up_update"),
    path("study-records/<int:pk>/delete/", study_views.study_record_remove, name="study_record_delete"),
    path("my/study/", study_views.my_study_page, name="my_study"),
    path("elections/", election_views.election_index, name="elections"),
    path("org/<int:pk>/election/", election_views.election_open, name="election_open"),
    path("elections/<int:pk>/", election_views.election_detail, name="election"),
    path("elections/<int:pk>/<str:kind>.pdf", election_views.election_pdf, name="election_pdf"),
    path("calendar/", calendar_views.calendar_page, name="calendar"),
    path("calendar/feed/", calendar_views.calendar_feed, name="calendar_feed"),
    # Public by token on purpose (calendar apps cannot log in); wrong or revoked token → 404.
    path("calendar/feed/<str:token>.ics", calendar_views.calendar_feed_ics, name="feed"),
]
