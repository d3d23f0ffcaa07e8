"""党费 API: the rule as an endpoint, the ledger, payments, yearly fixings, approvals, collection
and roll-up. Thin views over ``members.dues.services`` / ``members.dues.selectors``; every query
starts from the access gate; foreign objects are 404; bad input is a 400 with Chinese field errors.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import dates
from core.access import CHANGE, VIEW, get_for_user, get_scope, user_can
from core.api.mixins import GatedViewMixin, StrictQueryParamsMixin
from core.api.output import PlannedOutputMixin
from core.api.versioning import (
    IF_MATCH_PARAMETER,
    PRECONDITION_RESPONSES,
    PreconditionFailed,
    versioned_edit,
    with_etag,
)
from core.numbers import as_id, is_number
from members.api.serializers import StrictInputSerializer
from members.choices import DuesCategory
from members.dues.filters import (
    DuesApprovalFilterSet,
    DuesFixingFilterSet,
    DuesLedgerFilterSet,
    DuesPaymentFilterSet,
)
from members.dues.models import ApprovalKind, DuesApproval, DuesFixing, DuesMonth, DuesPayment, PaymentMethod
from members.dues.rules import IncomeKind, dues_standard, parse_money, parse_month
from members.dues.selectors import dues_collection, dues_rollup
from members.dues.services.approvals import dues_approval_record
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_payment_record
from members.models import Member
from organizations.models import Organization


def _money(value: Decimal | None, places: str = "0.01") -> str | None:
    return None if value is None else str(value.quantize(Decimal(places)))


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.Field):
    """Yuan as a string or number; Decimal inside; Chinese errors (negative, non-numeric, >2 decimals)."""

    default_error_messages = {"invalid": "金额应为数字"}

    def __init__(self, *, label: str = "金额", **kwargs: Any) -> None:
        self.money_label = label
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            value = parse_money(data, field="x", label=self.money_label)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["x"]) from None
        return value

    def to_representation(self, value: Decimal) -> str:
        return _money(value)


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-03"})
class MonthField(serializers.Field):
    def to_internal_value(self, data: Any) -> date:
        from django.core.exceptions import ValidationError as DjangoValidationError

        if not isinstance(data, str):
            raise serializers.ValidationError("月份格式应为 YYYY-MM，例如 2026-03")
        try:
            return parse_month(data, field="x")
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["x"]) from None

    def to_representation(self, value: date) -> str:
        return f"{value:%Y-%m}"


def _positive_int(value: str, field: str) -> int:
    if not is_number(value) or int(value) < 1:
        raise ValidationError({field: "应为正整数 ID"})
    return as_id(value)


def _month_param(value: str) -> date:
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        return parse_month(value)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from None


def _member_for(user: Any, pk: Any, *, allow_self: bool = False) -> Member:
    """The member through the gate: 404 if invisible; 403 without CHANGE (unless it is the user's own record)."""
    member = get_for_user(Member.objects.select_related("organization"), user, VIEW, pk=pk)
    if allow_self and get_scope(user).member_id == member.pk:
        return member
    if not user_can(user, CHANGE, member):
        raise PermissionDenied("无权为该党员登记党费")
    return member


class PrimaryKeyIntField(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, **kwargs)


# --- The rule as an endpoint ------------------------------------------------------------------


class DuesStandardView(StrictQueryParamsMixin, APIView):
    """按规定应交的月党费：``?category=<代码>&base=<元>``。

    - employed / annual_salary / self_employed / retired：必须提供 ``base``（税后月收入基数，元，最多两位小数）。
    - student / unemployed / relief：每月 0.20 元，不需要 ``base``（提供则原样返回）。
    - farmer：每月 0.20–1.00 元，由党支部确定，本接口无法推算，因此必须提供 ``amount``（支部确定的金额），
      在范围内则原样返回，否则 400 并说明范围。
    月缴一般不超过 1000 元（本人自愿多交的不限），舍入方式见 ``PB_DUES_ROUNDING``。
    """

    allowed_query_params = frozenset({"category", "base", "amount"})

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str, required=True, enum=DuesCategory.values),
            OpenApiParameter("base", str, description="计算基数（元），如 5100 或 5100.50"),
            OpenApiParameter("amount", str, description="仅农民党员：党支部确定的月缴金额（0.20–1.00）"),
        ],
        responses=inline_serializer(
            "DuesStandard",
            {
                "category": serializers.CharField(),
                "base": serializers.CharField(allow_null=True),
                "rate": serializers.CharField(allow_null=True),
                "amount": serializers.CharField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        from django.core.exceptions import ValidationError as DjangoValidationError

        params = request.query_params
        category = params.get("category", "")
        errors: dict[str, list[str]] = {}
        if not category:
            errors["category"] = ["请填写党费类别"]
        elif category not in DuesCategory.values:
            errors["category"] = [f"未知的党费类别，应为：{'、'.join(DuesCategory.values)}"]
        base = amount = None
        try:
            base = parse_money(params.get("base"), field="base", label="计算基数", required=False)
        except DjangoValidationError as exc:
            errors.update(exc.message_dict)
        try:
            amount = parse_money(params.get("amount"), field="amount", label="金额", required=False)
        except DjangoValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        try:
            result = dues_standard(category=category, base=base, amount=amount)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(
            {
                "category": result.category,
                "base": _money(result.base),
                "rate": _money(result.rate, "0.0001"),
                "amount": _money(result.amount),
            }
        )


# --- Ledger ----------------------------------------------------------------------------------


class DuesMonthOutputSerializer(PlannedOutputMixin, serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.name", read_only=True)
    month = MonthField(read_only=True)
    amount_due = MoneyField(read_only=True)
    amount_paid = MoneyField(read_only=True)
    status = serializers.SerializerMethodField()
    recorded_as = serializers.SerializerMethodField()
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = DuesMonth
        fields = [
            "id",
            "member",
            "member_name",
            "organization",
            "month",
            "amount_due",
            "amount_paid",
            "paid_on",
            "status",
            "payment",
            "recorded_as",
            "recorded_by",
            "approval",
        ]

    def get_status(self, obj: DuesMonth) -> str:
        if obj.amount_due == 0:
            return "exempt"
        return "paid" if obj.paid_on else "unpaid"

    def get_recorded_as(self, obj: DuesMonth) -> str | None:
        return obj.payment.recorded_as if obj.payment_id else None

    def get_recorded_by(self, obj: DuesMonth) -> str | None:
        if obj.payment_id and obj.payment.recorded_by_id:
            return obj.payment.recorded_by.get_full_name() or obj.payment.recorded_by.username
        return None


class DuesLedgerViewSet(GatedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """党费台账（按月）：应交、实交、缴纳日期、登记人（本人登记或支部代为登记）。"""

    gated_model = DuesMonth
    serializer_class = DuesMonthOutputSerializer
    queryset = DuesMonth.objects.none()  # the list's model for the schema; rows come from the gate
    filterset_class = DuesLedgerFilterSet

    def get_queryset(self) -> Any:
        qs = self.gated_queryset().select_related("member", "payment__recorded_by")
        return qs.order_by("member__name", "member_id", "month")


# --- Payments ----------------------------------------------------------------------------------


class DuesPaymentInputSerializer(StrictInputSerializer):
    member = PrimaryKeyIntField()
    months = serializers.ListField(child=MonthField(), min_length=1, max_length=24)
    amounts = serializers.DictField(
        child=MoneyField(), required=False, help_text='{"2026-03": "80.00"}；不填为应交金额'
    )
    paid_on = serializers.DateField(required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, default=PaymentMethod.CASH)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_amounts(self, value: dict[str, Decimal]) -> dict[date, Decimal]:
        result = {}
        for key, amount in value.items():
            try:
                result[parse_month(key)] = amount
            except Exception:  # noqa: BLE001 - any bad key is the same 400
                raise serializers.ValidationError(f"月份 {key!r} 格式应为 YYYY-MM") from None
        return result


class DuesPaymentOutputSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.name", read_only=True)
    total = MoneyField(read_only=True)
    months = serializers.SerializerMethodField()
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = DuesPayment
        fields = [
            "id",
            "member",
            "member_name",
            "organization",
            "paid_on",
            "total",
            "months_count",
            "months",
            "method",
            "recorded_as",
            "recorded_by",
            "note",
            "created_at",
        ]

    def get_months(self, obj: DuesPayment) -> list[str]:
        return [f"{m.month:%Y-%m}" for m in obj.months.all()]

    def get_recorded_by(self, obj: DuesPayment) -> str | None:
        user = obj.recorded_by
        return (user.get_full_name() or user.username) if user else None


class DuesPaymentViewSet(
    GatedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """党费缴纳记录。POST 登记一次缴纳（可一次预交多个月；补交超过 6 个月须先有批准记录）。
    党员本人可登记自己的缴纳（记为“本人登记”）；书记为党员登记的记为“支部代为登记”（不是代缴）。"""

    gated_model = DuesPayment
    serializer_class = DuesPaymentOutputSerializer
    queryset = DuesPayment.objects.none()  # the list's model for the schema; rows come from the gate
    filterset_class = DuesPaymentFilterSet

    def get_queryset(self) -> Any:
        qs = self.gated_queryset().select_related("member", "recorded_by").prefetch_related("months")
        return qs.order_by("-paid_on", "-pk")

    @extend_schema(request=DuesPaymentInputSerializer, responses={201: DuesPaymentOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DuesPaymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = _member_for(request.user, data["member"], allow_self=True)
        payment = dues_payment_record(
            member=member,
            months=data["months"],
            amounts=data.get("amounts"),
            paid_on=data.get("paid_on") or dates.today(),
            method=data["method"],
            note=data["note"],
            recorded_by=request.user,
        )
        payment = (
            DuesPayment.objects.select_related("member", "recorded_by").prefetch_related("months").get(pk=payment.pk)
        )
        return Response(DuesPaymentOutputSerializer(payment).data, status=status.HTTP_201_CREATED)


# --- Yearly fixing ----------------------------------------------------------------------------


class DuesIncomeItemInputSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=IncomeKind.choices)
    amount = MoneyField()


class DuesFixingInputSerializer(StrictInputSerializer):
    member = PrimaryKeyIntField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    category = serializers.ChoiceField(choices=DuesCategory.choices)
    base = MoneyField(label="计算基数", required=False)
    income_items = DuesIncomeItemInputSerializer(many=True, required=False)
    amount = MoneyField(required=False, help_text="仅农民党员：支部确定的月缴金额 0.20–1.00")
    voluntary_amount = MoneyField(required=False, help_text="本人自愿多交的月缴金额")
    fixed_on = serializers.DateField(required=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    replace = serializers.BooleanField(default=False)


class DuesIncomeItemOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    amount = MoneyField()
    effect = serializers.CharField()
    effect_display = serializers.CharField(source="get_effect_display")
    reason = serializers.CharField()


class DuesFixingOutputSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.name", read_only=True)
    base = serializers.SerializerMethodField()
    rate = serializers.SerializerMethodField()
    standard_amount = MoneyField(read_only=True)
    monthly_amount = MoneyField(read_only=True)
    start_month = MonthField(read_only=True)
    income_items = DuesIncomeItemOutputSerializer(many=True, read_only=True)

    class Meta:
        model = DuesFixing
        fields = [
            "id",
            "member",
            "member_name",
            "organization",
            "year",
            "category",
            "base_mode",
            "base",
            "rate",
            "standard_amount",
            "monthly_amount",
            "is_voluntary",
            "start_month",
            "fixed_on",
            "note",
            "income_items",
        ]

    def get_base(self, obj: DuesFixing) -> str | None:
        return _money(obj.base)

    def get_rate(self, obj: DuesFixing) -> str | None:
        return _money(obj.rate, "0.0001")


class DuesFixingViewSet(
    GatedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """年度党费核定：年初按基数（直接填写，或按收入项目扣除 DF17 规定不计入的项目后计算）核定月缴金额，全年不变。"""

    gated_model = DuesFixing
    serializer_class = DuesFixingOutputSerializer
    queryset = DuesFixing.objects.none()  # the list's model for the schema; rows come from the gate
    filterset_class = DuesFixingFilterSet

    def get_queryset(self) -> Any:
        qs = self.gated_queryset().select_related("member").prefetch_related("income_items")
        return qs.order_by("-year", "member__name", "member_id")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        fixing = self.get_object()
        return with_etag(Response(self.get_serializer(fixing).data), fixing)

    @extend_schema(
        request=DuesFixingInputSerializer,
        parameters=[IF_MATCH_PARAMETER],
        responses={201: DuesFixingOutputSerializer, **PRECONDITION_RESPONSES},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A re-fix (``replace``) of a year already fixed names the fixing it replaces: ``If-Match``
        # with its ETag (428 without, 412 when somebody re-fixed it since, #17.3).
        serializer = DuesFixingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = _member_for(request.user, data["member"])
        items = [(item["kind"], item["amount"]) for item in data.get("income_items") or []]
        current = DuesFixing.objects.filter(member=member, year=data["year"]).first()
        if current is None and request.headers.get("If-Match"):
            raise PreconditionFailed()  # the fixing it names is gone
        checked = current is not None and (data["replace"] or request.headers.get("If-Match"))
        with versioned_edit(request, current) if checked else nullcontext():
            fixing = dues_fixing_create(
                member=member,
                year=data["year"],
                category=data["category"],
                base=data.get("base"),
                income_items=items or None,
                amount=data.get("amount"),
                voluntary_amount=data.get("voluntary_amount"),
                fixed_on=data.get("fixed_on") or dates.today(),
                fixed_by=request.user,
                note=data["note"],
                replace=data["replace"],
            )
        fixing = DuesFixing.objects.select_related("member").prefetch_related("income_items").get(pk=fixing.pk)
        return with_etag(Response(DuesFixingOutputSerializer(fixing).data, status=status.HTTP_201_CREATED), fixing)


# --- Approvals ----------------------------------------------------------------------------------


class DuesApprovalInputSerializer(StrictInputSerializer):
    member = PrimaryKeyIntField()
    kind = serializers.ChoiceField(choices=ApprovalKind.choices)
    start_month = MonthField()
    end_month = MonthField(required=False)
    amount = MoneyField(required=False)
    reason = serializers.CharField(max_length=300)
    approver = serializers.CharField(max_length=100)
    approved_on = serializers.DateField()
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class DuesApprovalOutputSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.name", read_only=True)
    start_month = MonthField(read_only=True)
    end_month = MonthField(read_only=True)
    amount = serializers.SerializerMethodField()

    class Meta:
        model = DuesApproval
        fields = [
            "id",
            "member",
            "member_name",
            "organization",
            "kind",
            "start_month",
            "end_month",
            "amount",
            "reason",
            "approver",
            "approved_on",
            "reference",
        ]

    def get_amount(self, obj: DuesApproval) -> str | None:
        return _money(obj.amount)


class DuesApprovalViewSet(
    GatedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """党费审批记录：困难少交/免交（须上级党委批准）、年度内调整、批准补交超过 6 个月的党费、未交有正当理由。"""

    gated_model = DuesApproval
    serializer_class = DuesApprovalOutputSerializer
    queryset = DuesApproval.objects.none()  # the list's model for the schema; rows come from the gate
    filterset_class = DuesApprovalFilterSet

    def get_queryset(self) -> Any:
        return self.gated_queryset().select_related("member").order_by("-approved_on", "-pk")

    @extend_schema(request=DuesApprovalInputSerializer, responses={201: DuesApprovalOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DuesApprovalInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        member = _member_for(request.user, data.pop("member"))
        approval = dues_approval_record(member=member, recorded_by=request.user, **data)
        approval = DuesApproval.objects.select_related("member").get(pk=approval.pk)
        return Response(DuesApprovalOutputSerializer(approval).data, status=status.HTTP_201_CREATED)


# --- Collection and roll-up ---------------------------------------------------------------------


def _collection_params(request: Request) -> tuple[Organization, date]:
    params = request.query_params
    if not params.get("organization"):
        raise ValidationError({"organization": "请指定党组织"})
    org = get_for_user(Organization, request.user, VIEW, pk=_positive_int(params["organization"], "organization"))
    if not user_can(request.user, VIEW, org, for_org_model=False):
        # a member sees their branch's name, not its members' dues (they get the yearly publication)
        raise PermissionDenied("无权查看该组织的党费收缴情况")
    month = _month_param(params["month"]) if params.get("month") else dates.today().replace(day=1)
    return org, month


class DuesCollectionView(StrictQueryParamsMixin, APIView):
    """某党支部某月党费收缴：每名党员的应交、实交、状态，以及合计与收缴率（按人数）。"""

    allowed_query_params = frozenset({"organization", "month"})

    @extend_schema(
        parameters=[OpenApiParameter("organization", int, required=True), OpenApiParameter("month", str)],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        org, month = _collection_params(request)
        data = dues_collection(organization=org, month=month)
        summary = data["summary"]
        return Response(
            {
                "organization": org.pk,
                "month": f"{month:%Y-%m}",
                "summary": {
                    "members": summary.members,
                    "due_count": summary.due_count,
                    "paid_count": summary.paid_count,
                    "unfixed": summary.unfixed,
                    "exempt": summary.exempt,
                    "due_total": _money(summary.due_total),
                    "paid_total": _money(summary.paid_total),
                    "rate": _money(summary.rate, "0.1"),
                },
                "members": [
                    {
                        "member": line.member.pk,
                        "name": line.member.name,
                        "status": line.status,
                        "amount_due": _money(line.row.amount_due) if line.row else None,
                        "amount_paid": _money(line.row.amount_paid) if line.row else None,
                        "paid_on": line.row.paid_on if line.row else None,
                        "arrears_months": line.arrears.unpaid_count if line.arrears else 0,
                        "flag": line.arrears.level if line.arrears else "",
                    }
                    for line in data["lines"]
                ],
            }
        )


class DuesRollupView(StrictQueryParamsMixin, APIView):
    """党费收缴率汇总：指定组织整个子树的合计，以及每个下级组织（含其下级）的收缴率。查询次数固定。"""

    allowed_query_params = frozenset({"organization", "month"})

    @extend_schema(
        parameters=[OpenApiParameter("organization", int, required=True), OpenApiParameter("month", str)],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        org, month = _collection_params(request)
        data = dues_rollup(user=request.user, root=org, month=month)

        def row(item: Any) -> dict[str, Any]:
            return {
                "organization": item.organization.pk,
                "name": item.organization.name,
                "due_count": item.due_count,
                "paid_count": item.paid_count,
                "due_total": _money(item.due_total),
                "paid_total": _money(item.paid_total),
                "rate": _money(item.rate, "0.1"),
            }

        return Response(
            {"month": f"{month:%Y-%m}", "total": row(data["total"]), "children": [row(c) for c in data["children"]]}
        )
