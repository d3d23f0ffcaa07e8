"""Member records: the 16 items of the 党员基本信息采集表 (domain-rules §7) and more, the roster
history, 组织关系转接 (transfers) and spreadsheet import batches.

公民身份号码 and 联系电话 are never stored in clear: each has an AES-GCM ciphertext column, a keyed
blind index (lookups, uniqueness) and a masked copy for display (members/crypto.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from core.access import VIEW, Identity, ScopedQuerySet, get_scope
from core.versioning import version_field
from members import crypto
from members.choices import (
    Degree,
    DuesCategory,
    Education,
    Ethnicity,
    ImportStatus,
    JobPost,
    MembershipStatus,
    Sex,
    Stage,
    TransferKind,
    TransferStatus,
)
from members.validators import mask_id_number, mask_phone

ID_NUMBER_FIELD = "members.Member.id_number"
PHONE_FIELD = "members.Member.phone"


class MemberQuerySet(ScopedQuerySet):
    def party_members(self) -> MemberQuerySet:
        """预备党员 and 正式党员 in normal standing."""
        return self.filter(stage__in=[Stage.PROBATIONARY, Stage.FULL], membership_status=MembershipStatus.NORMAL)

    def full_members(self) -> MemberQuerySet:
        """正式党员 in normal standing: the ones who count for thresholds and votes."""
        return self.filter(stage=Stage.FULL, membership_status=MembershipStatus.NORMAL)


class Member(models.Model):
    row_version = version_field()  # #17.3: edits name the version they started from
    scope_org_field = "organization"
    scope_member_field = "pk"

    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=10, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="members", verbose_name="所在党组织"
    )
    stage = models.CharField("发展阶段", max_length=20, choices=Stage.choices, default=Stage.FULL)
    membership_status = models.CharField(
        "党籍状态", max_length=20, choices=MembershipStatus.choices, default=MembershipStatus.NORMAL
    )
    joined_on = models.DateField("加入党组织日期", null=True, blank=True)
    full_on = models.DateField("转为正式党员日期", null=True, blank=True)
    dues_category = models.CharField(
        "党费类别", max_length=20, choices=DuesCategory.choices, default=DuesCategory.EMPLOYED
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
        verbose_name="登录账号",
    )
    # --- the rest of the 16 items of the 党员基本信息采集表 --------------------------------------
    ethnicity = models.CharField("民族", max_length=2, choices=Ethnicity.choices, blank=True)
    # 公民身份号码: ciphertext, blind index (unique), masked copy. Set with set_id_number().
    id_number_cipher = models.TextField("公民身份号码（密文）", blank=True, default="", editable=False)
    id_number_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    id_number_masked = models.CharField("公民身份号码", max_length=18, blank=True, default="", editable=False)
    education = models.CharField("学历", max_length=30, choices=Education.choices, blank=True)
    job_post = models.CharField("工作岗位", max_length=40, choices=JobPost.choices, blank=True)
    # 联系电话 (手机; 固话带区号): ciphertext, blind index, masked copy. Set with set_phone().
    phone_cipher = models.TextField("联系电话（密文）", blank=True, default="", editable=False)
    phone_hash = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField("联系电话", max_length=30, blank=True, default="", editable=False)
    home_address = models.CharField("家庭住址", max_length=200, blank=True)
    suspended_on = models.DateField("停止党籍日期", null=True, blank=True)
    is_lost_contact = models.BooleanField("失联", default=False)
    lost_contact_since = models.DateField("失去联系日期", null=True, blank=True)
    is_mobile = models.BooleanField("流动党员", default=False)
    mobile_destination = models.CharField("外出流向", max_length=100, blank=True, help_text="省/市/县")
    mobile_since = models.DateField("外出日期", null=True, blank=True)
    is_abroad = models.BooleanField("出国（境）", default=False)
    abroad_since = models.DateField("出国（境）日期", null=True, blank=True)
    # --- further items of the 全国党员管理信息系统 ---------------------------------------------
    degree = models.CharField("学位", max_length=20, choices=Degree.choices, blank=True)
    native_place = models.CharField("籍贯", max_length=50, blank=True)
    league_joined_on = models.DateField("入团日期", null=True, blank=True)
    work_started_on = models.DateField("参加工作日期", null=True, blank=True)
    employer = models.CharField("工作单位", max_length=200, blank=True)
    professional_title = models.CharField("专业技术职务", max_length=50, blank=True)
    is_migrant_worker = models.BooleanField("农民工", default=False)
    party_group = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="group_members",
        verbose_name="所在党小组",
    )
    import_batch = models.ForeignKey(
        "members.ImportBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="members", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "党员"
        verbose_name_plural = "党员"
        ordering = ["organization", "name", "pk"]
        indexes = [models.Index(fields=["organization", "stage", "membership_status"])]

    def __str__(self) -> str:
        return self.name

    # Personal data: only these methods touch the clear values.
    def set_id_number(self, value: str) -> None:
        """Store a validated, normalized ID number: ciphertext, blind index and masked copy."""
        self.id_number_cipher = crypto.encrypt(value, field=ID_NUMBER_FIELD)
        self.id_number_hash = crypto.blind_index(value, field=ID_NUMBER_FIELD)
        self.id_number_masked = mask_id_number(value)

    def set_phone(self, value: str) -> None:
        self.phone_cipher = crypto.encrypt(value, field=PHONE_FIELD)
        self.phone_hash = crypto.blind_index(value, field=PHONE_FIELD)
        self.phone_masked = mask_phone(value)

    def decrypt_id_number(self) -> str:
        """The clear ID number. Callers are services that check the role and write the audit log."""
        return crypto.decrypt(self.id_number_cipher, field=ID_NUMBER_FIELD)

    def decrypt_phone(self) -> str:
        return crypto.decrypt(self.phone_cipher, field=PHONE_FIELD)

    @property
    def person_category(self) -> str:
        """人员类别 of the 采集表: 正式党员 / 预备党员 (others are not yet party members)."""
        return self.get_stage_display()


class OrganizationMembership(models.Model):
    """Which organization a member belonged to, from when to when (the roster history).

    ``Member.organization`` is the current one; these rows answer "who was in branch X on date D"
    (meeting rosters, dues, reports). Exactly one open row (``end_on`` null) per member.
    """

    scope_org_field = "organization"
    scope_member_field = "member_id"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="memberships")
    start_on = models.DateField("转入日期")
    end_on = models.DateField("转出日期", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "组织关系记录"
        verbose_name_plural = "组织关系记录"
        ordering = ["member", "start_on"]
        indexes = [models.Index(fields=["organization", "start_on", "end_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(end_on__isnull=True), name="one_open_membership_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.organization} {self.start_on}–{self.end_on or ''}"


class TransferQuerySet(ScopedQuerySet):
    def visible_to(self, user: Any, action: str = VIEW) -> TransferQuerySet:
        """Both sides see a transfer: the sending and the receiving organization (and the member)."""
        scope = get_scope(user)
        parts = [scope.org_q(action, f"{side}__", for_org_model=False) for side in MemberTransfer.scope_org_fields]
        q = None
        for part in parts:
            if part is not None:
                q = part if q is None else q | part
        if scope.member_id and action == VIEW:
            own = models.Q(member_id=scope.member_id)
            q = own if q is None else q | own
        return self.none() if q is None else self.filter(q)


class MemberTransfer(models.Model):
    """One 组织关系转接 (JY §25). The sending side stays responsible until the receiving side
    accepts: ``Member.organization`` and the roster change only then (``members.services.member_move``).
    Outside the system: the letter (介绍信) number, where to / from, 党费交至 month, and the 回执."""

    scope_org_field = "from_organization"
    scope_org_fields = ("from_organization", "to_organization")
    scope_member_field = "member_id"

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="transfers", verbose_name="党员")
    kind = models.CharField("转接类型", max_length=20, choices=TransferKind.choices)
    status = models.CharField("状态", max_length=20, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    from_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_out",
        verbose_name="转出党组织",
    )
    to_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_in",
        verbose_name="接收党组织",
    )
    external_organization = models.CharField(
        "系统外党组织", max_length=200, blank=True, help_text="转出：去向党组织；转入：原所在党组织"
    )
    letter_number = models.CharField("介绍信编号", max_length=50, blank=True)
    dues_paid_until = models.DateField("党费交至（月）", null=True, blank=True)
    issued_on = models.DateField("开具日期")
    decided_on = models.DateField("办理日期", null=True, blank=True, help_text="接收、退回、撤销或办结的日期")
    receipt_on = models.DateField("回执日期", null=True, blank=True)
    reason = models.CharField("退回或撤销原因", max_length=500, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = "组织关系转接"
        verbose_name_plural = "组织关系转接"
        ordering = ["-issued_on", "-pk"]
        indexes = [models.Index(fields=["status", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(status="pending"), name="one_pending_transfer_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()} {self.issued_on}"

    @property
    def from_label(self) -> str:
        return str(self.from_organization) if self.from_organization_id else self.external_organization

    @property
    def to_label(self) -> str:
        return str(self.to_organization) if self.to_organization_id else self.external_organization


class ImportBatch(models.Model):
    """One spreadsheet upload: previewed, then committed all or nothing, then possibly rolled back.

    The uploaded file holds clear ID numbers, so its checked rows are kept encrypted
    (``file_cipher``) only between preview and commit, and emptied afterwards.
    """

    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+", verbose_name="导入范围"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField("文件名", max_length=200)
    file_cipher = models.BinaryField(default=b"", editable=False)
    status = models.CharField("状态", max_length=20, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED)
    row_count = models.PositiveIntegerField("数据行数", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    committed_at = models.DateTimeField("导入时间", null=True, blank=True)
    committed_count = models.PositiveIntegerField("导入人数", default=0)
    rolled_back_at = models.DateTimeField("撤销时间", null=True, blank=True)
    # Background work (members.import_jobs): rows checked so far while 检查中, and why the last
    # background step failed (the batch is left where it was, to be retried).
    progress_done = models.PositiveIntegerField("已检查行数", default=0)
    failure = models.CharField("失败原因", max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


# Dues (党费) and the development pipeline (发展党员) are sub-packages of this app. Django registers
# an app's models by importing ``<app>.models``, so their model modules are imported here for that
# alone (no names are re-exported: code imports them from members.dues.models,
# members.development.models and members.discipline.models).
from members.development import models as _development_models  # noqa: E402, F401
from members.discipline import models as _discipline_models  # noqa: E402, F401
from members.dues import models as _dues_models  # noqa: E402, F401


def member_identity_for(user: Any) -> Identity | None:
    """The access gate's identity source (registered in ``MembersConfig.ready``): one query."""
    row = Member.objects.filter(user=user).values("pk", "organization__path").first()
    return Identity(row["pk"], row["organization__path"]) if row else None
