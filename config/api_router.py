"""All API routes under /api/v1/."""

from django.urls import include, path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from organizations.api.views import OrganizationViewSet


class TokenObtainView(ObtainAuthToken):
    """POST username + password → {"token": "..."}. Public by design (it is the login)."""

    permission_classes = [AllowAny]
    renderer_classes = ObtainAuthToken.renderer_classes


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("organizations", OrganizationViewSet, basename="organization")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
