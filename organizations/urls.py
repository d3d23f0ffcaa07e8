from django.urls import path

from organizations import views

app_name = "organizations"

urlpatterns = [
    path("", views.organization_tree, name="tree"),
    path("new/", views.organization_create, name="create"),
    path("<int:pk>/", views.organization_page, name="detail"),
    path("<int:pk>/edit/", views.organization_edit, name="edit"),
    path("<int:pk>/terms/new/", views.term_start, name="term-start"),
    path("<int:pk>/terms/extend/", views.term_extend, name="term-extend"),
    path("<int:pk>/positions/new/", views.position_assign, name="position-assign"),
    path("<int:pk>/positions/<int:position_id>/end/", views.position_end, name="position-end"),
]
