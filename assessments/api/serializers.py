"""Input and output serializers of the assessments API. Inputs reject unknown fields."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from assessments.models import (
    AssessmentRound,
    AssessmentScheme,
    DutyReport,
    InspectionReport,
    Rating,
    RatingComment,
    RatingEntry,
    RatingStep,
    RectificationItem,
    ReportBatch,
    ReportHeading,
)


class StrictInput(serializers.Serializer):
    """Unknown fields are a 400 (never silently ignored)."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = set(data.keys()) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({name: "不支持的字段" for name in sorted(unknown)})
        elif data is not None:
            raise serializers.ValidationError({"non_field_errors": "请求体应为对象"})
        return super().to_internal_value(data)


# --- schemes -----------------------------------------------------------------------------------------


class MetricOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    source = serializers.CharField()
    available = serializers.BooleanField()


# Choice fields are plain strings in the schema (their codes are documented in the descriptions),
# so the OpenAPI enums of this app never collide with other apps' "status"/"kind" enums.


class SchemeOutput(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.CharField(read_only=True, help_text="draft 草稿 / active 启用 / archived 停用")
    org_type = serializers.CharField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = AssessmentScheme
        fields = [
            "id",
            "organization",
            "organization_name",
            "name",
            "year",
            "org_type",
            "version",
            "status",
            "status_display",
            "total_points",
            "is_example",
            "description",
            "publicity_days",
            "based_on",
        ]


class StepInput(StrictInput):
    min = serializers.DecimalField(max_digits=8, decimal_places=4)
    points = serializers.DecimalField(max_digits=6, decimal_places=2)


class IndicatorInput(StrictInput):
    code = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=120)
    guidance = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.CharField(required=False, max_length=10, help_text="score / bonus / deduction / veto")
    method = serializers.CharField(required=False, max_length=10, help_text="computed / manual")
    metric_code = serializers.CharField(max_length=60, required=False, allow_blank=True)
    mapping_type = serializers.CharField(
        required=False, allow_blank=True, max_length=10, help_text="linear / steps / boolean"
    )
    mapping = StepInput(many=True, required=False)
    threshold = serializers.DecimalField(max_digits=8, decimal_places=4, required=False, allow_null=True)
    max_points = serializers.DecimalField(max_digits=6, decimal_places=2)
    veto_cap_stars = serializers.IntegerField(min_value=0, max_value=5, required=False)
    evidence_hint = serializers.CharField(max_length=200, required=False, allow_blank=True)


class SectionInput(StrictInput):
    code = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=80)
    max_points = serializers.DecimalField(max_digits=6, decimal_places=2)
    indicators = IndicatorInput(many=True)


class BandInput(StrictInput):
    stars = serializers.IntegerField(min_value=0, max_value=5)
    label = serializers.CharField(max_length=30, required=False, allow_blank=True)
    min_points = serializers.DecimalField(max_digits=6, decimal_places=2)
    max_points = serializers.DecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)
    required_indicator = serializers.CharField(max_length=30, required=False, allow_blank=True)
    quota_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)


class SchemeInput(StrictInput):
    organization = serializers.IntegerField(required=False)
    name = serializers.CharField(max_length=120)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    org_type = serializers.CharField(max_length=20, help_text="committee / general_branch / branch / …")
    total_points = serializers.DecimalField(max_digits=6, decimal_places=2)
    publicity_days = serializers.IntegerField(min_value=1, max_value=30, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    sections = SectionInput(many=True)
    bands = BandInput(many=True)

    def structure(self) -> dict[str, Any]:
        """The validated data in the plain shape ``scheme_save`` takes (Decimals as strings)."""

        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            if value is not None and value.__class__.__name__ == "Decimal":
                return str(value)
            return value

        data = plain(dict(self.validated_data))
        data.pop("organization", None)
        return data


class NewVersionInput(StrictInput):
    organization = serializers.IntegerField()
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


# --- rounds and ratings ----------------------------------------------------------------------------


class RoundOutput(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.CharField(read_only=True)
    scheme_name = serializers.CharField(source="scheme.name", read_only=True)

    class Meta:
        model = AssessmentRound
        fields = [
            "id",
            "organization",
            "organization_name",
            "scheme",
            "scheme_name",
            "year",
            "status",
            "publicity_days",
            "self_assessment_due",
            "enforce_quotas",
            "created_at",
        ]


class RoundInput(StrictInput):
    organization = serializers.IntegerField()
    scheme = serializers.IntegerField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    publicity_days = serializers.IntegerField(min_value=1, max_value=30, required=False)
    self_assessment_due = serializers.DateField(required=False, allow_null=True)
    enforce_quotas = serializers.BooleanField(required=False, default=True)


class DirectInput(StrictInput):
    organization = serializers.IntegerField()
    stars = serializers.IntegerField(min_value=1, max_value=5)
    reason = serializers.CharField(max_length=2000)


class EntryOutput(serializers.ModelSerializer):
    code = serializers.CharField(source="indicator.code", read_only=True)
    name = serializers.CharField(source="indicator.name", read_only=True)
    kind = serializers.CharField(source="indicator.kind", read_only=True)
    method = serializers.CharField(source="indicator.method", read_only=True)
    max_points = serializers.DecimalField(source="indicator.max_points", max_digits=6, decimal_places=2, read_only=True)
    section = serializers.CharField(source="indicator.section.name", read_only=True)

    class Meta:
        model = RatingEntry
        fields = [
            "indicator",
            "code",
            "name",
            "section",
            "kind",
            "method",
            "max_points",
            "computed_value",
            "computed_points",
            "self_points",
            "self_note",
            "review_points",
            "review_reason",
            "evidence_text",
        ]


class RatingOutput(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.CharField(read_only=True, help_text="draft / submitted / publicity / final")
    change = serializers.CharField(read_only=True, help_text="new / up / down / same")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    conducted_by = serializers.CharField(source="round.organization.name", read_only=True)

    class Meta:
        model = Rating
        fields = [
            "id",
            "round",
            "organization",
            "organization_name",
            "conducted_by",
            "year",
            "status",
            "status_display",
            "self_total",
            "review_total",
            "final_total",
            "stars",
            "vetoed",
            "previous_stars",
            "change",
            "is_direct",
            "direct_reason",
            "publicity_start",
            "publicity_end",
            "finalized_at",
        ]


class RatingDetailOutput(RatingOutput):
    entries = EntryOutput(many=True, read_only=True)

    class Meta(RatingOutput.Meta):
        fields = [*RatingOutput.Meta.fields, "entries"]


class ScoreInput(StrictInput):
    indicator = serializers.IntegerField()
    points = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True, required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    evidence_text = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class ScoresInput(StrictInput):
    scores = ScoreInput(many=True)

    def as_mapping(self, *, review: bool) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for row in self.validated_data["scores"]:
            values: dict[str, Any] = {"points": row.get("points")}
            if review:
                values["reason"] = row.get("reason", "")
            else:
                values["note"] = row.get("note", "")
                if "evidence_text" in row:
                    values["evidence_text"] = row["evidence_text"]
            out[row["indicator"]] = values
        return out


class ReasonInput(StrictInput):
    reason = serializers.CharField(max_length=2000, allow_blank=True)


class PublicityInput(StrictInput):
    start = serializers.DateField(required=False)


class CommentInput(StrictInput):
    text = serializers.CharField(max_length=2000)


class CommentOutput(serializers.ModelSerializer):
    class Meta:
        model = RatingComment
        fields = ["id", "author_name", "text", "created_at"]


class StepOutput(serializers.ModelSerializer):
    action = serializers.CharField(read_only=True)
    action_display = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = RatingStep
        fields = [
            "id",
            "action",
            "action_display",
            "from_status",
            "to_status",
            "actor_name",
            "reason",
            "detail",
            "created_at",
        ]


# --- 述职评议 ---------------------------------------------------------------------------------------------


class DutyReportOutput(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.CharField(read_only=True, help_text="draft / submitted / appraised")
    grade = serializers.CharField(read_only=True, help_text="good 好 / fairly_good 较好 / average 一般 / poor 差")
    questions = serializers.SerializerMethodField()

    class Meta:
        model = DutyReport
        fields = [
            "id",
            "organization",
            "organization_name",
            "year",
            "secretary_name",
            "text",
            "status",
            "submitted_at",
            "count_good",
            "count_fairly_good",
            "count_average",
            "count_poor",
            "score",
            "grade",
            "appraisal_note",
            "appraised_at",
            "questions",
        ]

    def get_questions(self, obj: DutyReport) -> list[dict[str, Any]]:
        return [{"id": q.pk, "text": q.text, "answer": q.answer} for q in obj.questions.all()]


class DutyReportInput(StrictInput):
    organization = serializers.IntegerField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    secretary_name = serializers.CharField(max_length=50)
    text = serializers.CharField(max_length=50000)
    answers = serializers.DictField(child=serializers.CharField(max_length=4000, allow_blank=True), required=False)


class AppraiseInput(StrictInput):
    count_good = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    count_fairly_good = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    count_average = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    count_poor = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    score = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    questions = serializers.ListField(child=serializers.CharField(max_length=300), max_length=2)


# --- reports -------------------------------------------------------------------------------------------


class ReportOutput(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    kind = serializers.CharField(read_only=True, help_text="single / rollup")
    status = serializers.CharField(read_only=True, help_text="pending / running / done / failed")
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()
    findings = serializers.SerializerMethodField(help_text="问题清单：序号即列表下标；已确认的带 rectification_id")

    class Meta:
        model = InspectionReport
        fields = [
            "doc_number",
            "findings",
            "id",
            "organization",
            "organization_name",
            "year",
            "quarter",
            "kind",
            "period_start",
            "period_end",
            "status",
            "generated_at",
            "error",
            "pdf_size",
            "xlsx_size",
            "pdf_url",
            "xlsx_url",
        ]

    def _url(self, obj: InspectionReport, fmt: str) -> str | None:
        if obj.status != "done":
            return None
        return f"/api/v1/inspection-reports/{obj.pk}/{fmt}/"

    def get_findings(self, obj: InspectionReport) -> list[dict[str, Any]]:
        return list((obj.summary or {}).get("findings") or [])

    def get_pdf_url(self, obj: InspectionReport) -> str | None:
        return self._url(obj, "pdf")

    def get_xlsx_url(self, obj: InspectionReport) -> str | None:
        return self._url(obj, "xlsx")


class BatchOutput(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.CharField(read_only=True)
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReportBatch
        fields = [
            "id",
            "organization",
            "organization_name",
            "year",
            "quarter",
            "force",
            "development_list",
            "status",
            "total",
            "done",
            "failed",
            "percent",
            "created_at",
            "finished_at",
        ]


class BatchInput(StrictInput):
    organization = serializers.IntegerField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    quarter = serializers.IntegerField(min_value=1, max_value=4)
    force = serializers.BooleanField(required=False, default=False)
    development_list = serializers.BooleanField(required=False, default=False)


class FindingsConfirmInput(StrictInput):
    findings = serializers.ListField(child=serializers.IntegerField(min_value=0), allow_empty=False)
    deadline = serializers.DateField(required=False)


class ReportHeadingInput(StrictInput):
    organization = serializers.IntegerField()
    issuer_mark = serializers.CharField(max_length=60)
    number_pattern = serializers.CharField(max_length=60)
    recipients = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    signatory = serializers.CharField(max_length=60)


class ReportHeadingOutput(serializers.ModelSerializer):
    class Meta:
        model = ReportHeading
        fields = ["id", "organization", "issuer_mark", "number_pattern", "recipients", "signatory", "number_last"]


# --- rectification ---------------------------------------------------------------------------------------


class RectificationOutput(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    source = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True, help_text="open / submitted / closed")
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = RectificationItem
        fields = [
            "id",
            "organization",
            "organization_name",
            "source",
            "source_report",
            "problem",
            "requirement",
            "owner_name",
            "deadline",
            "status",
            "status_display",
            "completion_note",
            "completed_on",
            "reviewer_name",
            "reviewed_at",
            "review_note",
            "created_at",
        ]


class RectificationInput(StrictInput):
    organization = serializers.IntegerField()
    source = serializers.CharField(required=False, max_length=12, help_text="inspection / rating / appraisal / other")
    source_report = serializers.IntegerField(required=False, allow_null=True)
    problem = serializers.CharField(max_length=4000)
    requirement = serializers.CharField(max_length=4000)
    owner_name = serializers.CharField(max_length=50)
    deadline = serializers.DateField()


class RectificationUpdateInput(StrictInput):
    problem = serializers.CharField(max_length=4000, required=False)
    requirement = serializers.CharField(max_length=4000, required=False)
    owner_name = serializers.CharField(max_length=50, required=False)
    deadline = serializers.DateField(required=False)


class RectificationSubmitInput(StrictInput):
    completion_note = serializers.CharField(max_length=4000)
    completed_on = serializers.DateField(required=False)


class SignOffInput(StrictInput):
    accept = serializers.BooleanField()
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)
