from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from accounts.views import LogoutView
from core.health.views import healthz, readyz
from dashboard.workbench import views as workbench_views

urlpatterns = [
    path("", workbench_views.workbench, name="home"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),  # also ends the user's API tokens
    path("organizations/", include("organizations.urls")),
    path("activities/", include("activities.urls")),
    path("organizations/", include("dashboard.urls")),
    path("notifications/", include("notifications.urls")),
    path("members/", include("members.urls")),
    path("assessments/", include("assessments.urls")),
    path("dues/", include("members.dues.urls")),
    path("development/", include("members.development.urls")),
    path("account/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("api/v1/", include("config.api_router")),
    path(
        "api/v1/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="api-schema",
    ),
    path(
        "api/v1/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[IsAuthenticated]),
        name="api-docs",
    ),
    path("django-admin/", admin.site.urls),
]

# Under /api/ an unknown path or an uncaught error answers JSON (503 when the database is down),
# with the request id; elsewhere the HTML pages.
handler404 = "core.api.errors.page_not_found"
handler500 = "core.api.errors.server_error"
