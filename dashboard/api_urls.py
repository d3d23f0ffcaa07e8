"""Dashboard API routes, included in config/api_router.py before the router (no clash with the
organization viewset's detail routes)."""

from django.urls import path

from dashboard import api

urlpatterns = [
    path("organizations/<int:pk>/dashboard/", api.DashboardView.as_view(), name="api-dashboard"),
    path("organizations/<int:pk>/dashboard/members/", api.DashboardMembersView.as_view(), name="api-dashboard-members"),
    path(
        "organizations/<int:pk>/dashboard/organizations/",
        api.DashboardOrganizationsView.as_view(),
        name="api-dashboard-organizations",
    ),
]
