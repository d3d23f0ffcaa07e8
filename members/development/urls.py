from django.urls import path

from members.development import views

app_name = "development"

urlpatterns = [
    path("", views.development_index, name="index"),
    path("org/<int:pk>/", views.development_pipeline_page, name="pipeline"),
    path("org/<int:pk>/new/", views.development_applicant_new, name="applicant-new"),
    path("member/<int:pk>/", views.development_person, name="person"),
    path("step/<int:pk>/attachment/", views.development_attachment, name="attachment"),
]
