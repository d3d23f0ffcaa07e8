from django.urls import path

from organizations import views

app_name = "organizations"

urlpatterns = [
    path("", views.organization_tree, name="tree"),
    path("new/", views.organization_create, name="create"),
    path("<int:pk>/", views.organization_page, name="detail"),
    path("<int:pk>/edit/", views.organization_edit, name="edit"),
]
