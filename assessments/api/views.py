"""Assessments API: thin views over selectors and services, every object through the gate.

Foreign objects are 404 (``get_for_user``), refused actions 403, bad input 400 with Chinese
field errors (service ``ValidationError``s are mapped by the project's exception handler).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments import selectors
from assessments.api import serializers as s
from assessments.api.filters import (
    DutyReportFilterSet,
    InspectionReportFilterSet,
    RatingFilterSet,
    RectificationFilterSet,
    RoundFilterSet,
    SchemeFilterSet,
)
from assessments.choices import ReportStatus
from assessments.metrics import METRICS, metric_available
from assessments.models import (
    AssessmentRound,
    AssessmentScheme,
    DutyQuestion,
    DutyReport,
    InspectionReport,
    Rating,
    RatingEntry,
    RectificationItem,
    ReportBatch,
    ReportHeading,
)
from assessments.services.duty import duty_report_appraise, duty_report_save, duty_report_submit
from assessments.services.official import report_findings_confirm, report_heading_save
from assessments.services.ratings import (
    rating_comment,
    rating_direct,
    rating_finalize,
    rating_refresh_computed,
    rating_return,
    rating_review,
    rating_self_score,
    rating_start_publicity,
    rating_submit,
    round_open,
)
from assessments.services.rectification import (
    rectification_create,
    rectification_sign_off,
    rectification_submit,
    rectification_update,
)
from assessments.services.reports import (
    inspection_report_retry,
    is_subtree_admin,
    report_batch_request,
    report_file_path,
)
from assessments.services.schemes import scheme_activate, scheme_new_version, scheme_save, scheme_structure
from audit.services import audit_log
from core.access import CHANGE, VIEW, get_for_user
from core.api.filters import validated_filterset
from core.api.mixins import GatedViewMixin, StrictQueryParamsMixin
from core.api.versioning import IF_MATCH_PARAMETER, PRECONDITION_RESPONSES, versioned_edit, with_etag
from core.numbers import is_number
from organizations.models import Organization


def _org(request: Request, pk: Any, action: str = VIEW) -> Organization:
    return get_for_user(Organization, request.user, action, pk=pk)


def _input(serializer_class: Any, request: Request) -> Any:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer


class MetricListApi(StrictQueryParamsMixin, APIView):
    """系统指标（方案中“系统计算”指标可引用的指标代码）。"""

    @extend_schema(responses={200: s.MetricOutput(many=True)})
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "code": m.code,
                    "label": m.label,
                    "kind": m.kind,
                    "description": m.description,
                    "source": m.source,
                    "available": metric_available(m.code),
                }
                for m in METRICS.values()
            ]
        )


class SchemeViewSet(GatedViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """星级评定方案：列表、详情（含结构）、新建、修改草稿、启用、复制为新版本。"""

    gated_model = AssessmentScheme
    serializer_class = s.SchemeOutput
    queryset = AssessmentScheme.objects.none()  # the list's model for the schema; rows come from the selector
    filterset_class = SchemeFilterSet

    def get_queryset(self) -> Any:
        return selectors.scheme_list(user=self.request.user)

    def _scheme(self, action: str = VIEW) -> AssessmentScheme:
        return get_for_user(
            AssessmentScheme.objects.select_related("organization"), self.request.user, action, pk=self.kwargs["pk"]
        )

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        scheme = self._scheme()
        return with_etag(Response({**s.SchemeOutput(scheme).data, "structure": scheme_structure(scheme)}), scheme)

    @extend_schema(request=s.SchemeInput, responses={201: s.SchemeOutput})
    def create(self, request: Request) -> Response:
        data = _input(s.SchemeInput, request)
        org_id = data.validated_data.get("organization")
        if org_id is None:
            raise ValidationError({"organization": "请指定制定方案的党组织"})
        org = _org(request, org_id, CHANGE)
        scheme = scheme_save(organization=org, data=data.structure(), user=request.user)
        return Response(s.SchemeOutput(scheme).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.SchemeInput, responses={200: s.SchemeOutput})
    def update(self, request: Request, pk: Any = None) -> Response:
        scheme = self._scheme(CHANGE)
        with versioned_edit(request, scheme):  # If-Match: 428 without, 412 when stale (#17.3)
            data = _input(s.SchemeInput, request)
            scheme = scheme_save(
                organization=scheme.organization, data=data.structure(), scheme=scheme, user=request.user
            )
        return with_etag(Response(s.SchemeOutput(scheme).data), scheme)

    @extend_schema(request=None, responses={200: s.SchemeOutput})
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: Any = None) -> Response:
        scheme = scheme_activate(scheme=self._scheme(CHANGE), user=request.user)
        return Response(s.SchemeOutput(scheme).data)

    @extend_schema(request=s.NewVersionInput, responses={201: s.SchemeOutput})
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request: Request, pk: Any = None) -> Response:
        scheme = self._scheme(VIEW)
        data = _input(s.NewVersionInput, request).validated_data
        org = _org(request, data["organization"], CHANGE)
        new = scheme_new_version(scheme=scheme, organization=org, year=data.get("year"), user=request.user)
        return Response(s.SchemeOutput(new).data, status=status.HTTP_201_CREATED)


class RoundViewSet(GatedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """星级评定批次：列表、详情、开启评定（预填系统得分）、荣誉直接评定。"""

    gated_model = AssessmentRound
    serializer_class = s.RoundOutput
    queryset = AssessmentRound.objects.none()  # the list's model for the schema; rows come from the selector
    filterset_class = RoundFilterSet

    def get_queryset(self) -> Any:
        return selectors.round_list(user=self.request.user)

    @extend_schema(request=s.RoundInput, responses={201: s.RoundOutput})
    def create(self, request: Request) -> Response:
        data = _input(s.RoundInput, request).validated_data
        org = _org(request, data["organization"], CHANGE)
        scheme = get_for_user(AssessmentScheme, request.user, VIEW, pk=data["scheme"])
        round_ = round_open(
            organization=org,
            scheme=scheme,
            year=data["year"],
            user=request.user,
            publicity_days=data.get("publicity_days"),
            self_assessment_due=data.get("self_assessment_due"),
            enforce_quotas=data.get("enforce_quotas", True),
        )
        return Response(s.RoundOutput(round_).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DirectInput, responses={200: s.RatingOutput})
    @action(detail=True, methods=["post"])
    def direct(self, request: Request, pk: Any = None) -> Response:
        round_ = get_for_user(AssessmentRound, request.user, VIEW, pk=pk)
        data = _input(s.DirectInput, request).validated_data
        org = _org(request, data["organization"])
        rating = rating_direct(
            round_=round_, organization=org, stars=data["stars"], reason=data["reason"], user=request.user
        )
        return Response(s.RatingOutput(rating).data)


class RatingViewSet(GatedViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """星级评定：列表、详情（含各指标得分）、自评、提交、退回、审核、公示、公示意见、确定星级、过程记录。"""

    gated_model = Rating
    serializer_class = s.RatingOutput
    queryset = Rating.objects.none()  # the list's model for the schema; rows come from the selector
    filterset_class = RatingFilterSet

    def get_queryset(self) -> Any:
        return selectors.rating_list(user=self.request.user, **validated_filterset(self).selector_kwargs())

    def _rating(self) -> Rating:
        qs = Rating.objects.select_related("organization", "round__organization", "round__scheme")
        return get_for_user(qs, self.request.user, VIEW, pk=self.kwargs["pk"])

    def _detail(self, rating: Rating) -> Response:
        rating = (
            Rating.objects.select_related("organization", "round__organization")
            .prefetch_related(
                Prefetch(
                    "entries",
                    queryset=RatingEntry.objects.select_related("indicator__section").order_by(
                        "indicator__section__order", "indicator__order"
                    ),
                )
            )
            .get(pk=rating.pk)
        )
        return with_etag(Response(s.RatingDetailOutput(rating).data), rating)

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return self._detail(self._rating())

    @extend_schema(
        request=s.ScoresInput,
        parameters=[IF_MATCH_PARAMETER],
        responses={200: s.RatingDetailOutput, **PRECONDITION_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="self-score")
    def self_score(self, request: Request, pk: Any = None) -> Response:
        rating = self._rating()
        scores = _input(s.ScoresInput, request).as_mapping(review=False)
        with versioned_edit(request, rating):  # If-Match: 428 without, 412 when stale (#17.3)
            rating = rating_self_score(rating=rating, user=request.user, scores=scores)
        return self._detail(rating)

    @extend_schema(request=None, responses={200: s.RatingDetailOutput})
    @action(detail=True, methods=["post"])
    def refresh(self, request: Request, pk: Any = None) -> Response:
        return self._detail(rating_refresh_computed(rating=self._rating(), user=request.user))

    @extend_schema(request=None, responses={200: s.RatingOutput})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: Any = None) -> Response:
        return Response(s.RatingOutput(rating_submit(rating=self._rating(), user=request.user)).data)

    @extend_schema(request=s.ReasonInput, responses={200: s.RatingOutput})
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: Any = None) -> Response:
        rating = self._rating()
        reason = _input(s.ReasonInput, request).validated_data["reason"]
        return Response(s.RatingOutput(rating_return(rating=rating, user=request.user, reason=reason)).data)

    @extend_schema(
        request=s.ScoresInput,
        parameters=[IF_MATCH_PARAMETER],
        responses={200: s.RatingDetailOutput, **PRECONDITION_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: Any = None) -> Response:
        rating = self._rating()
        scores = _input(s.ScoresInput, request).as_mapping(review=True)
        with versioned_edit(request, rating):  # If-Match: 428 without, 412 when stale (#17.3)
            rating = rating_review(rating=rating, user=request.user, scores=scores)
        return self._detail(rating)

    @extend_schema(request=s.PublicityInput, responses={200: s.RatingOutput})
    @action(detail=True, methods=["post"], url_path="start-publicity")
    def start_publicity(self, request: Request, pk: Any = None) -> Response:
        rating = self._rating()
        start = _input(s.PublicityInput, request).validated_data.get("start")
        return Response(s.RatingOutput(rating_start_publicity(rating=rating, user=request.user, start=start)).data)

    @extend_schema(request=None, responses={200: s.RatingOutput})
    @action(detail=True, methods=["post"])
    def finalize(self, request: Request, pk: Any = None) -> Response:
        return Response(s.RatingOutput(rating_finalize(rating=self._rating(), user=request.user)).data)

    @extend_schema(request=s.CommentInput, responses={200: s.CommentOutput(many=True)})
    @action(detail=True, methods=["get", "post"])
    def comments(self, request: Request, pk: Any = None) -> Response:
        rating = self._rating()
        if request.method == "POST":
            text = _input(s.CommentInput, request).validated_data["text"]
            comment = rating_comment(rating=rating, user=request.user, text=text)
            return Response(s.CommentOutput(comment).data, status=status.HTTP_201_CREATED)
        return Response(s.CommentOutput(rating.comments.order_by("pk"), many=True).data)

    @extend_schema(responses={200: s.StepOutput(many=True)})
    @action(detail=True, methods=["get"])
    def steps(self, request: Request, pk: Any = None) -> Response:
        return Response(s.StepOutput(self._rating().steps.order_by("pk"), many=True).data)


class DutyReportViewSet(GatedViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """书记述职评议：列表、详情、填写/修改、提交、评议（含 1–2 道必答题）。"""

    gated_model = DutyReport
    serializer_class = s.DutyReportOutput
    queryset = DutyReport.objects.none()  # the list's model for the schema; rows come from the selector
    filterset_class = DutyReportFilterSet

    def get_queryset(self) -> Any:
        qs = selectors.duty_report_list(user=self.request.user, **validated_filterset(self).selector_kwargs())
        return qs.prefetch_related(Prefetch("questions", queryset=DutyQuestion.objects.order_by("pk")))

    def _report(self) -> DutyReport:
        return get_for_user(
            DutyReport.objects.select_related("organization"), self.request.user, VIEW, pk=self.kwargs["pk"]
        )

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return Response(s.DutyReportOutput(self._report()).data)

    @extend_schema(request=s.DutyReportInput, responses={200: s.DutyReportOutput})
    def create(self, request: Request) -> Response:
        data = _input(s.DutyReportInput, request).validated_data
        org = _org(request, data["organization"])
        answers = {}
        for key, value in (data.get("answers") or {}).items():
            if not is_number(key):
                raise ValidationError({"answers": "必答题编号应为整数"})
            answers[int(key)] = value
        report = duty_report_save(
            organization=org,
            year=data["year"],
            user=request.user,
            secretary_name=data["secretary_name"],
            text=data["text"],
            answers=answers,
        )
        return Response(s.DutyReportOutput(report).data)

    @extend_schema(request=None, responses={200: s.DutyReportOutput})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: Any = None) -> Response:
        return Response(s.DutyReportOutput(duty_report_submit(report=self._report(), user=request.user)).data)

    @extend_schema(request=s.AppraiseInput, responses={200: s.DutyReportOutput})
    @action(detail=True, methods=["post"])
    def appraise(self, request: Request, pk: Any = None) -> Response:
        report = self._report()
        data = _input(s.AppraiseInput, request).validated_data
        counts = {key: data.get(f"count_{key}") for key in ("good", "fairly_good", "average", "poor")}
        report = duty_report_appraise(
            report=report,
            user=request.user,
            counts=counts,
            score=data.get("score"),
            note=data.get("note", ""),
            questions=data["questions"],
        )
        return Response(s.DutyReportOutput(report).data)


class InspectionReportViewSet(GatedViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """季度督查报告：列表、详情、下载 PDF/XLSX（审计）、失败重试。"""

    gated_model = InspectionReport
    serializer_class = s.ReportOutput
    queryset = InspectionReport.objects.none()  # the list's model for the schema; rows come from the selector
    filterset_class = InspectionReportFilterSet

    def get_queryset(self) -> Any:
        return selectors.report_list(user=self.request.user, **validated_filterset(self).selector_kwargs())

    def _report(self) -> InspectionReport:
        return get_for_user(
            InspectionReport.objects.select_related("organization"), self.request.user, VIEW, pk=self.kwargs["pk"]
        )

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return Response(s.ReportOutput(self._report()).data)

    def _download(self, fmt: str) -> FileResponse:
        report = self._report()
        return report_download_response(report, fmt, self.request)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: Any = None) -> FileResponse:
        return self._download("pdf")

    @extend_schema(responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes})
    @action(detail=True, methods=["get"])
    def xlsx(self, request: Request, pk: Any = None) -> FileResponse:
        return self._download("xlsx")

    @extend_schema(request=None, responses={200: s.ReportOutput})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: Any = None) -> Response:
        return Response(s.ReportOutput(inspection_report_retry(report=self._report(), user=request.user)).data)

    @extend_schema(request=s.FindingsConfirmInput, responses={200: s.RectificationOutput(many=True)})
    @action(detail=True, methods=["post"], url_path="confirm-findings")
    def confirm_findings(self, request: Request, pk: Any = None) -> Response:
        """确认问题清单中的问题（序号），为所涉组织生成整改事项；已确认的不重复生成。"""
        report = self._report()
        if not is_subtree_admin(request.user, report.organization):  # refused before the input is read
            raise PermissionDenied("只有组织部门（org_admin）可以确认问题清单")
        data = _input(s.FindingsConfirmInput, request).validated_data
        items = report_findings_confirm(
            report=report, user=request.user, indexes=data["findings"], deadline=data.get("deadline")
        )
        return Response(s.RectificationOutput(items, many=True).data)


class ReportHeadingViewSet(GatedViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """督查报告发文设置（发文机关标志、文号格式、主送、落款）：列表；POST 按组织新建或修改。"""

    gated_model = ReportHeading
    serializer_class = s.ReportHeadingOutput

    def get_queryset(self) -> Any:
        return selectors.report_heading_list(user=self.request.user)

    @extend_schema(request=s.ReportHeadingInput, responses={200: s.ReportHeadingOutput})
    def create(self, request: Request) -> Response:
        data = dict(_input(s.ReportHeadingInput, request).validated_data)
        org = _org(request, data.pop("organization"))
        return Response(s.ReportHeadingOutput(report_heading_save(organization=org, user=request.user, **data)).data)


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_download_response(report: InspectionReport, fmt: str, request: Any) -> FileResponse:
    """Serve a stored report as an attachment, audited as an export. 404 unless it is done."""
    if report.status != ReportStatus.DONE:
        raise Http404("报告尚未生成")
    path = report_file_path(report, fmt)
    if not path.is_file():
        raise Http404("报告文件不存在")
    audit_log(
        event="inspection_report_download",
        user=request.user,
        obj=report,
        organization=report.organization,
        detail={"format": fmt, "year": report.year, "quarter": report.quarter, "kind": report.kind},
    )
    filename = f"{report.organization.name}-{report.year}年第{report.quarter}季度{report.get_kind_display()}.{fmt}"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=CONTENT_TYPES[fmt])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


class ReportBatchViewSet(GatedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """报告生成批次：列表、进度（done/total）、请求生成某季度下级全部组织的报告。"""

    gated_model = ReportBatch
    serializer_class = s.BatchOutput

    def get_queryset(self) -> Any:
        return selectors.batch_list(user=self.request.user)

    @extend_schema(request=s.BatchInput, responses={202: s.BatchOutput})
    def create(self, request: Request) -> Response:
        data = _input(s.BatchInput, request).validated_data
        org = _org(request, data["organization"])
        batch = report_batch_request(
            organization=org,
            year=data["year"],
            quarter=data["quarter"],
            user=request.user,
            force=data["force"],
            development_list=data["development_list"],
        )
        return Response(s.BatchOutput(batch).data, status=status.HTTP_202_ACCEPTED)


class RectificationViewSet(GatedViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """整改事项：列表、详情、登记、修改、报送整改情况、验收销号（或退回）。"""

    gated_model = RectificationItem
    serializer_class = s.RectificationOutput
    queryset = RectificationItem.objects.none()  # the list's model for the schema; rows come from the selector
    filterset_class = RectificationFilterSet

    def get_queryset(self) -> Any:
        return selectors.rectification_list(user=self.request.user, **validated_filterset(self).selector_kwargs())

    def _item(self) -> RectificationItem:
        return get_for_user(
            RectificationItem.objects.select_related("organization"), self.request.user, VIEW, pk=self.kwargs["pk"]
        )

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        item = self._item()
        return with_etag(Response(s.RectificationOutput(item).data), item)

    @extend_schema(request=s.RectificationInput, responses={201: s.RectificationOutput})
    def create(self, request: Request) -> Response:
        data = dict(_input(s.RectificationInput, request).validated_data)
        org = _org(request, data.pop("organization"))
        source_report = data.pop("source_report", None)
        if source_report is not None:
            source_report = get_for_user(InspectionReport, request.user, VIEW, pk=source_report)
        item = rectification_create(organization=org, user=request.user, source_report=source_report, **data)
        return Response(s.RectificationOutput(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RectificationUpdateInput, responses={200: s.RectificationOutput})
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        item = self._item()
        with versioned_edit(request, item):  # If-Match: 428 without, 412 when stale (#17.3)
            data = _input(s.RectificationUpdateInput, request).validated_data
            item = rectification_update(item=item, user=request.user, **data)
        return with_etag(Response(s.RectificationOutput(item).data), item)

    @extend_schema(request=s.RectificationSubmitInput, responses={200: s.RectificationOutput})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: Any = None) -> Response:
        item = self._item()
        data = _input(s.RectificationSubmitInput, request).validated_data
        item = rectification_submit(
            item=item, user=request.user, completion_note=data["completion_note"], completed_on=data.get("completed_on")
        )
        return Response(s.RectificationOutput(item).data)

    @extend_schema(request=s.SignOffInput, responses={200: s.RectificationOutput})
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request: Request, pk: Any = None) -> Response:
        item = self._item()
        data = _input(s.SignOffInput, request).validated_data
        return Response(
            s.RectificationOutput(
                rectification_sign_off(item=item, user=request.user, accept=data["accept"], note=data.get("note", ""))
            ).data
        )
