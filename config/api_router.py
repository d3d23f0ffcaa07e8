"""All API routes under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api import TokenObtainView  # POST username + password (+ otp) → token; public: it is the login
from members.api.views import MemberViewSet, TransferViewSet
from organizations.api.views import OrganizationViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("members", MemberViewSet, basename="member")
router.register("transfers", TransferViewSet, basename="transfer")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("", include("organizations.dashboard.api_urls")),  # before the router: no clash with its routes
    path("", include(router.urls)),
]
