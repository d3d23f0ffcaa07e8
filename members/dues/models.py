"""党费 (party dues): the yearly fixing, approvals, the monthly ledger and payments (§5).

Every row carries the collecting branch (``organization``) so the access gate scopes it, and the
member (``member``) so a member sees their own rows.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.access import ScopedQuerySet
from core.versioning import version_field
from members import crypto
from members.choices import DuesCategory
from members.dues.rules import EFFECT_LABELS, IncomeKind

BASE_FIELD = "members.DuesFixing.base"
ITEM_FIELD = "members.DuesIncomeItem.amount"
IMPORT_FIELD = "members.DuesImportBatch.rows"


def _encrypt_money(value: Decimal | None, field: str) -> str:
    return "" if value is None else crypto.encrypt(str(value), field=field)


def _decrypt_money(token: str, field: str) -> Decimal | None:
    return Decimal(crypto.decrypt(token, field=field)) if token else None


class BaseMode(models.TextChoices):
    DIRECT = "direct", "直接填写基数"
    ITEMS = "items", "按收入项目计算"
    NONE = "none", "无需基数（固定金额）"


class DuesFixing(models.Model):
    """年度党费核定: the monthly amount a branch fixes for a member at the start of a year (DF17).

    It holds all year; a change during the year is a ``DuesApproval`` of kind ``change``, never an
    edit of this row.
    """

    row_version = version_field()  # #17.3: edits name the version they started from
    scope_org_field = "organization"
    scope_member_field = "member_id"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="dues_fixings")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="dues_fixings", verbose_name="收缴党支部"
    )
    year = models.PositiveSmallIntegerField("年度")
    category = models.CharField("党费类别", max_length=20, choices=DuesCategory.choices)
    base_mode = models.CharField("基数来源", max_length=10, choices=BaseMode.choices)
    # The declared base is personal income data: stored encrypted (security DATA-2), read via ``base``.
    base_cipher = models.TextField("计算基数（密文）", blank=True, default="", editable=False)
    rate = models.DecimalField("比例", max_digits=6, decimal_places=4, null=True, blank=True)
    standard_amount = models.DecimalField("按规定应交（元/月）", max_digits=10, decimal_places=2)
    monthly_amount = models.DecimalField("核定月缴金额（元）", max_digits=10, decimal_places=2)
    is_voluntary = models.BooleanField("本人自愿多交", default=False)
    start_month = models.DateField("起缴月份")
    fixed_on = models.DateField("核定日期")
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The yearly-base import that created this fixing (so the last batch can be rolled back).
    import_batch = models.ForeignKey(
        "members.DuesImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="fixings",
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "年度党费核定"
        verbose_name_plural = "年度党费核定"
        ordering = ["organization", "year", "member"]
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="uniq_dues_fixing_member_year")]
        indexes = [models.Index(fields=["organization", "year"])]

    def __str__(self) -> str:
        return f"{self.member} {self.year} 年 {self.monthly_amount} 元/月"

    @property
    def base(self) -> Decimal | None:
        return _decrypt_money(self.base_cipher, BASE_FIELD)

    def set_base(self, value: Decimal | None) -> None:
        self.base_cipher = _encrypt_money(value, BASE_FIELD)


class DuesIncomeItem(models.Model):
    """One declared income item of a fixing, with how it entered the base (visible exclusions)."""

    scope_org_field = "fixing__organization"
    scope_member_field = "fixing__member_id"

    fixing = models.ForeignKey(DuesFixing, on_delete=models.CASCADE, related_name="income_items")
    kind = models.CharField("收入项目", max_length=30, choices=IncomeKind.choices)
    amount_cipher = models.TextField("金额（密文）", editable=False)
    effect = models.CharField("计入方式", max_length=10, choices=list(EFFECT_LABELS.items()))
    reason = models.CharField("说明", max_length=100, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "党费基数收入项目"
        verbose_name_plural = "党费基数收入项目"
        ordering = ["fixing", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.get_effect_display()}）"

    @property
    def amount(self) -> Decimal | None:
        return _decrypt_money(self.amount_cipher, ITEM_FIELD)

    def set_amount(self, value: Decimal) -> None:
        self.amount_cipher = _encrypt_money(value, ITEM_FIELD)


class ApprovalKind(models.TextChoices):
    CHANGE = "change", "年度内调整月缴金额"
    REDUCE = "reduce", "困难少交"
    EXEMPT = "exempt", "困难免交"
    LATE_PAYMENT = "late_payment", "批准补交超过6个月的党费"
    EXCUSED = "excused", "未交党费有正当理由"


AMOUNT_APPROVALS = {ApprovalKind.CHANGE, ApprovalKind.REDUCE, ApprovalKind.EXEMPT}


class DuesApproval(models.Model):
    """A recorded decision about a member's dues over a range of months: who approved, why, when."""

    scope_org_field = "organization"
    scope_member_field = "member_id"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="dues_approvals")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=20, choices=ApprovalKind.choices)
    start_month = models.DateField("起始月份")
    end_month = models.DateField("截止月份")
    amount = models.DecimalField("调整后月缴金额（元）", max_digits=10, decimal_places=2, null=True, blank=True)
    reason = models.CharField("理由", max_length=300)
    approver = models.CharField("批准人/批准组织", max_length=100)
    approved_on = models.DateField("批准日期")
    reference = models.CharField("批准文号", max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "党费审批记录"
        verbose_name_plural = "党费审批记录"
        ordering = ["member", "start_month", "pk"]
        indexes = [models.Index(fields=["member", "kind", "start_month"])]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()} {self.start_month:%Y-%m}–{self.end_month:%Y-%m}"

    def covers(self, month) -> bool:
        return self.start_month <= month <= self.end_month


class RecordedAs(models.TextChoices):
    SELF = "self", "本人登记"
    ON_BEHALF = "on_behalf", "支部代为登记"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "现金"
    TRANSFER = "transfer", "银行转账"
    ONLINE = "online", "线上缴纳"


class DuesPayment(models.Model):
    """One act of paying (for one month or several in advance) and who recorded it.

    ``recorded_as`` says whether the member recorded it or the branch recorded it on the member's
    behalf (代为登记). The organization never pays for a member (no 代缴/垫交, DF08).
    """

    scope_org_field = "organization"
    scope_member_field = "member_id"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="dues_payments")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    paid_on = models.DateField("缴纳日期")
    total = models.DecimalField("合计（元）", max_digits=12, decimal_places=2)
    months_count = models.PositiveSmallIntegerField("月数")
    method = models.CharField("方式", max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.CASH)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_as = models.CharField("登记方式", max_length=10, choices=RecordedAs.choices)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "党费缴纳记录"
        verbose_name_plural = "党费缴纳记录"
        ordering = ["-paid_on", "-pk"]
        indexes = [models.Index(fields=["organization", "paid_on"])]

    def __str__(self) -> str:
        return f"{self.member} {self.paid_on} {self.total} 元"


class DuesMonthQuerySet(ScopedQuerySet):
    def unpaid(self) -> DuesMonthQuerySet:
        return self.filter(amount_due__gt=0, paid_on__isnull=True)

    def paid(self) -> DuesMonthQuerySet:
        return self.filter(paid_on__isnull=False)


class DuesMonth(models.Model):
    """The ledger: one row per member per month from the fixing on (应交、实交、缴纳日期、登记人)."""

    scope_org_field = "organization"
    scope_member_field = "member_id"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="dues_months")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="dues_months", verbose_name="收缴党支部"
    )
    fixing = models.ForeignKey(DuesFixing, on_delete=models.CASCADE, related_name="months")
    month = models.DateField("月份")
    amount_due = models.DecimalField("应交（元）", max_digits=10, decimal_places=2)
    amount_paid = models.DecimalField("实交（元）", max_digits=10, decimal_places=2, default=Decimal("0.00"))
    paid_on = models.DateField("缴纳日期", null=True, blank=True)
    # SET_NULL (not PROTECT) so that deleting a member cascades through payments and months in one go.
    payment = models.ForeignKey(DuesPayment, on_delete=models.SET_NULL, null=True, blank=True, related_name="months")
    approval = models.ForeignKey(DuesApproval, on_delete=models.SET_NULL, null=True, blank=True, related_name="months")

    objects = DuesMonthQuerySet.as_manager()

    class Meta:
        verbose_name = "党费台账（月）"
        verbose_name_plural = "党费台账（月）"
        ordering = ["member", "month"]
        constraints = [models.UniqueConstraint(fields=["member", "month"], name="uniq_dues_month_member_month")]
        indexes = [models.Index(fields=["organization", "month"]), models.Index(fields=["month", "paid_on"])]

    def __str__(self) -> str:
        return f"{self.member} {self.month:%Y-%m}"

    @property
    def is_paid(self) -> bool:
        return self.paid_on is not None or self.amount_due == 0


class ImportStatus(models.TextChoices):
    CHECKING = "checking", "检查中"
    PREVIEW = "preview", "待确认"
    COMMITTING = "committing", "导入中"
    COMMITTED = "committed", "已导入"
    DISCARDED = "discarded", "已放弃"
    ROLLED_BACK = "rolled_back", "已撤销"


class DuesImportBatch(models.Model):
    """An uploaded dues-base spreadsheet: parsed rows kept between preview and the all-or-nothing commit."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    filename = models.CharField("文件名", max_length=200)
    # Parsed rows hold declared bases (income data), so they are kept encrypted until the commit.
    rows_cipher = models.TextField("数据行（密文）", blank=True, default="", editable=False)
    row_count = models.PositiveIntegerField("数据行数", default=0)
    errors = models.JSONField("错误", default=list)
    status = models.CharField("状态", max_length=12, choices=ImportStatus.choices, default=ImportStatus.PREVIEW)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    # Each imported member's 党费类别 before the commit (the commit sets it), so a rollback restores it.
    previous_categories = models.JSONField("导入前党费类别", default=dict, blank=True)
    rolled_back_at = models.DateTimeField("撤销时间", null=True, blank=True)
    # Why the last background step failed (members/dues/import_jobs.py); the batch stays where it was.
    failure = models.CharField("失败原因", max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "党费基数导入批次"
        verbose_name_plural = "党费基数导入批次"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organization} {self.year} {self.filename}"

    @property
    def rows(self) -> list[dict]:
        import json

        return json.loads(crypto.decrypt(self.rows_cipher, field=IMPORT_FIELD)) if self.rows_cipher else []

    def set_rows(self, rows: list[dict]) -> None:
        import json

        self.rows_cipher = crypto.encrypt(json.dumps(rows, ensure_ascii=False), field=IMPORT_FIELD) if rows else ""
        self.row_count = len(rows)
