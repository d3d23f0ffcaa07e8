"""All API routes under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api import (  # POST username + password (+ otp) → token (public: it is the login); its end
    LogoutAllView,
    LogoutView,
    TokenDetailView,
    TokenListView,
    TokenObtainView,
)
from activities.api.views import (
    AttachmentViewSet,
    FollowUpViewSet,
    MeetingViewSet,
    OrganizationComplianceView,
    PlanViewSet,
    StudyPointsViewSet,
    StudyRecordViewSet,
    TalkViewSet,
)
from activities.elections.api import ElectionViewSet
from assessments.api.views import (
    DutyReportViewSet,
    InspectionReportViewSet,
    MetricListApi,
    RatingViewSet,
    RectificationViewSet,
    ReportBatchViewSet,
    ReportHeadingViewSet,
    RoundViewSet,
    SchemeViewSet,
)
from assessments.ledger.api import LedgerApi
from members.api.views import MemberViewSet, TransferViewSet
from members.development.api import DevelopmentPipelineView, DevelopmentStepViewSet
from members.discipline.api import MemberRightsSuspensionsView, MemberSanctionsView, MemberStatusChangesView
from members.dues.api import (
    DuesApprovalViewSet,
    DuesCollectionView,
    DuesFixingViewSet,
    DuesLedgerViewSet,
    DuesPaymentViewSet,
    DuesRollupView,
    DuesStandardView,
)
from members.statistics.api import PartyStatisticsView
from notifications.api.views import (
    ChannelAddressImportView,
    NoticeViewSet,
    NotificationViewSet,
    PreferenceView,
    ReminderSettingsView,
)
from organizations.api.views import OrganizationViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("notices", NoticeViewSet, basename="notice")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("talks", TalkViewSet, basename="talk")
router.register("study-records", StudyRecordViewSet, basename="study-record")
router.register("study-points", StudyPointsViewSet, basename="study-points")
router.register("plans", PlanViewSet, basename="plan")
router.register("elections", ElectionViewSet, basename="election")
router.register("members", MemberViewSet, basename="member")
router.register("transfers", TransferViewSet, basename="transfer")
router.register("dues/ledger", DuesLedgerViewSet, basename="dues-ledger")
router.register("dues/payments", DuesPaymentViewSet, basename="dues-payment")
router.register("dues/fixings", DuesFixingViewSet, basename="dues-fixing")
router.register("dues/approvals", DuesApprovalViewSet, basename="dues-approval")
router.register("development/steps", DevelopmentStepViewSet, basename="development-step")
router.register("assessment-schemes", SchemeViewSet, basename="assessment-scheme")
router.register("assessment-rounds", RoundViewSet, basename="assessment-round")
router.register("ratings", RatingViewSet, basename="rating")
router.register("duty-reports", DutyReportViewSet, basename="duty-report")
router.register("inspection-reports", InspectionReportViewSet, basename="inspection-report")
router.register("report-batches", ReportBatchViewSet, basename="report-batch")
router.register("report-headings", ReportHeadingViewSet, basename="report-heading")
router.register("rectifications", RectificationViewSet, basename="rectification")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="api-logout-all"),
    path("auth/tokens/", TokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<str:prefix>/", TokenDetailView.as_view(), name="api-token-detail"),
    path("reminder-settings/", ReminderSettingsView.as_view(), name="reminder-settings"),
    path("channel-addresses/import/", ChannelAddressImportView.as_view(), name="channel-address-import"),
    path("notification-preferences/", PreferenceView.as_view(), name="notification-preferences"),
    path("", include("dashboard.api_urls")),  # before the router: no clash with its routes
    path("assessment-metrics/", MetricListApi.as_view(), name="api-assessment-metrics"),
    path("dues/standard/", DuesStandardView.as_view(), name="api-dues-standard"),
    path("dues/collection/", DuesCollectionView.as_view(), name="api-dues-collection"),
    path("dues/rollup/", DuesRollupView.as_view(), name="api-dues-rollup"),
    path("development/pipeline/", DevelopmentPipelineView.as_view(), name="api-development-pipeline"),
    # Before the router include: a separate path, so it cannot clash with the organization viewset.
    path(
        "organizations/<int:pk>/compliance/", OrganizationComplianceView.as_view(), name="api-organization-compliance"
    ),
    path(
        "organizations/<int:pk>/party-statistics/",
        PartyStatisticsView.as_view(),
        name="api-organization-party-statistics",
    ),
    path("members/<int:pk>/sanctions/", MemberSanctionsView.as_view(), name="api-member-sanctions"),
    path(
        "members/<int:pk>/rights-suspensions/",
        MemberRightsSuspensionsView.as_view(),
        name="api-member-rights-suspensions",
    ),
    path("members/<int:pk>/status-changes/", MemberStatusChangesView.as_view(), name="api-member-status-changes"),
    path("organizations/<int:pk>/ledger/", LedgerApi.as_view(), name="api-organization-ledger"),
    path("", include(router.urls)),
]
