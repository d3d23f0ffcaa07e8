"""Reminders, the in-app inbox, notices (通知) and the outbox of external deliveries.

A top-level app because notification delivery cuts across every domain app (organizations,
members, activities, assessments) and belongs to none of them.

Exactly once:

- ``ReminderDispatch`` is the sending record of one reminder. Its ``dedupe_key``
  (rule:target:period) is UNIQUE; it is inserted with ON CONFLICT DO NOTHING in the same
  transaction as the ``Notification`` rows, so a repeated or concurrent scan adds nothing.
- ``OutboxMessage`` rows carry e-mail and webhook deliveries. They are written in that same
  transaction, claimed by workers with a conditional UPDATE (PENDING → SENDING), and a sweeper
  re-enqueues stale PENDING/SENDING rows. PostgreSQL is the source of truth, the broker only a
  doorbell.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.access import VIEW, ScopedQuerySet
from notifications.rules import RULE_CHOICES


class ReminderSetting(models.Model):
    """An organization's override of one rule, inherited by its whole subtree (nearest wins).

    Empty fields inherit from the organization above (or the rule's default)."""

    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+", verbose_name="党组织"
    )
    rule = models.CharField("提醒规则", max_length=40, choices=RULE_CHOICES)
    enabled = models.BooleanField("启用", null=True, blank=True)
    offset = models.IntegerField("提前/间隔", null=True, blank=True)
    grace_days = models.IntegerField("宽限天数", null=True, blank=True)
    day_of_month = models.CharField("每月日期", max_length=4, blank=True)
    # Outside channels this rule uses here (["email", "sms", "wecom", "dingtalk"] or fewer; [] =
    # the inbox only); null inherits (default: every configured channel).
    channels = models.JSONField("外发渠道", null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "提醒设置"
        verbose_name_plural = "提醒设置"
        ordering = ["organization", "rule"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "rule"], name="uniq_reminder_setting"),
            models.CheckConstraint(condition=Q(offset__gte=0) | Q(offset__isnull=True), name="reminder_offset_gte_0"),
            models.CheckConstraint(
                condition=Q(grace_days__gte=0) | Q(grace_days__isnull=True), name="reminder_grace_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.get_rule_display()}"


class WebhookKind(models.TextChoices):
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"
    GENERIC = "generic", "通用 JSON"


class WebhookEndpoint(models.Model):
    """An organization's group-chat robot (optional). Configured by an org_admin."""

    scope_org_field = "organization"

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+", verbose_name="党组织"
    )
    kind = models.CharField("类型", max_length=20, choices=WebhookKind.choices, default=WebhookKind.WECOM)
    url = models.CharField("Webhook 地址", max_length=500)
    secret = models.CharField("签名密钥", max_length=200, blank=True)
    enabled = models.BooleanField("启用", default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "群机器人"
        verbose_name_plural = "群机器人"

    def __str__(self) -> str:
        return f"{self.organization} · {self.get_kind_display()}"

    @property
    def masked_secret(self) -> str:
        if not self.secret:
            return ""
        return f"{self.secret[:3]}****" if len(self.secret) > 6 else "****"


class NotificationPreference(models.Model):
    """One user's own settings: e-mail on/off and the rules they opted out of (where allowed)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email_enabled = models.BooleanField("接收邮件提醒", default=True)
    sms_enabled = models.BooleanField("接收短信提醒", default=True)
    wecom_enabled = models.BooleanField("接收企业微信提醒", default=True)
    dingtalk_enabled = models.BooleanField("接收钉钉提醒", default=True)
    muted_rules = models.JSONField("不接收的提醒", default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "个人提醒设置"
        verbose_name_plural = "个人提醒设置"

    def __str__(self) -> str:
        return f"{self.user}"


class RunStatus(models.TextChoices):
    PENDING = "pending", "待执行"
    RUNNING = "running", "执行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ReminderRun(models.Model):
    """One scan of the whole tree for a date, fanned out in batches of organizations."""

    on_date = models.DateField("扫描日期")
    trigger = models.CharField("触发方式", max_length=20, default="beat")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    batch_size = models.PositiveIntegerField(default=500)
    batch_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "提醒扫描"
        verbose_name_plural = "提醒扫描"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.on_date} #{self.pk}"


class ReminderBatch(models.Model):
    """A batch of organizations scanned by one task. Claimed by a conditional UPDATE; the
    sweeper re-enqueues batches left PENDING or RUNNING too long (a lost message, a killed worker)."""

    run = models.ForeignKey(ReminderRun, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    # "orgs": the rules evaluated per organization, for ``org_ids``; "tree": the rules evaluated
    # once over a whole subtree (the compliance calendar), for the root in ``org_ids``.
    scope = models.CharField(max_length=10, default="orgs")
    org_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "提醒扫描批次"
        verbose_name_plural = "提醒扫描批次"
        ordering = ["run", "number"]
        indexes = [models.Index(fields=["status", "claimed_at"], name="reminder_batch_status")]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="uniq_reminder_batch")]

    def __str__(self) -> str:
        return f"{self.run} batch {self.number}"


class ReminderDispatch(models.Model):
    """The sending record of one reminder: UNIQUE (rule, target, period). Written with
    INSERT … ON CONFLICT DO NOTHING in the same transaction as its notifications."""

    scope_org_field = "organization"

    dedupe_key = models.CharField(max_length=200, unique=True)
    rule = models.CharField(max_length=40, choices=RULE_CHOICES)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_type = models.CharField(max_length=30)
    target_id = models.BigIntegerField()
    period = models.CharField(max_length=40)
    on_date = models.DateField()
    # Random per writing transaction: the rows carrying our token are the ones we inserted.
    run_token = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "提醒发送记录"
        verbose_name_plural = "提醒发送记录"
        ordering = ["-pk"]
        indexes = [models.Index(fields=["rule", "on_date"], name="dispatch_rule_date")]

    def __str__(self) -> str:
        return self.dedupe_key


class NoticeKind(models.TextChoices):
    STUDY_LIST = "study_list", "学习清单"
    WORK_ARRANGEMENT = "work_arrangement", "工作安排"
    REMINDER_LETTER = "reminder_letter", "提醒函"
    OTHER = "other", "其他通知"


class NoticeTarget(models.TextChoices):
    SUBTREE = "subtree", "本组织及全部下级组织"
    ORGANIZATION = "organization", "本组织（含党小组）"
    MEMBERS = "members", "指定党员"


class NoticeAudience(models.TextChoices):
    MEMBERS = "members", "党员"
    SECRETARIES = "secretaries", "各组织书记"


class Notice(models.Model):
    """A notice (通知) sent by an org_admin or secretary to a subtree, a branch or chosen members."""

    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", verbose_name="发送范围"
    )
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    sender_name = models.CharField("发送人", max_length=150)
    kind = models.CharField("类别", max_length=20, choices=NoticeKind.choices, default=NoticeKind.WORK_ARRANGEMENT)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文")
    target = models.CharField("发送对象", max_length=20, choices=NoticeTarget.choices)
    audience = models.CharField("接收人", max_length=20, choices=NoticeAudience.choices, default=NoticeAudience.MEMBERS)
    send_email = models.BooleanField("同时发送邮件", default=False)
    send_webhook = models.BooleanField("同时推送到群机器人", default=False)
    # Personal channels chosen by the sender (["sms", "wecom", "dingtalk"] or fewer).
    channels = models.JSONField("同时发送的个人渠道", default=list, blank=True)
    recipient_count = models.PositiveIntegerField("送达人数", default=0)
    offline_count = models.PositiveIntegerField("未开通账号人数", default=0)
    # Re-submitting the same form (double click, retry) does not send twice.
    client_token = models.UUIDField()
    created_at = models.DateTimeField("发送时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["sender", "client_token"], name="uniq_notice_submit")]
        indexes = [models.Index(fields=["organization", "created_at"], name="notice_org_created")]

    def __str__(self) -> str:
        return self.title


class NoticeRecipient(models.Model):
    """One addressee of a notice (a member, or a secretary's login). Read status comes from the
    linked notification; members without a login are listed so the branch can pass it on."""

    scope_org_field = "organization"
    scope_member_field = "member_id"

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="recipients")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField("姓名", max_length=150)
    notification = models.OneToOneField(
        "Notification", on_delete=models.SET_NULL, null=True, blank=True, related_name="notice_recipient"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "通知接收人"
        verbose_name_plural = "通知接收人"
        ordering = ["notice", "organization__path", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "member"], condition=Q(member__isnull=False), name="uniq_notice_member"
            ),
            models.UniqueConstraint(
                fields=["notice", "user"], condition=Q(user__isnull=False), name="uniq_notice_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice} → {self.name}"


class NotificationQuerySet(models.QuerySet):
    """Owner-scoped: whatever a user's roles, they see only their own notifications."""

    def visible_to(self, user: Any, action: str = VIEW) -> NotificationQuerySet:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class NotificationCategory(models.TextChoices):
    REMINDER = "reminder", "提醒"
    NOTICE = "notice", "通知"


class Notification(models.Model):
    """One item in one user's inbox."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    category = models.CharField(max_length=10, choices=NotificationCategory.choices)
    rule = models.CharField(max_length=40, blank=True)
    dispatch = models.ForeignKey(
        ReminderDispatch, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("办理链接", max_length=300, blank=True)
    level = models.CharField(max_length=10, default="info")
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dispatch", "recipient"], condition=Q(dispatch__isnull=False), name="uniq_dispatch_recipient"
            ),
            models.UniqueConstraint(
                fields=["notice", "recipient"], condition=Q(notice__isnull=False), name="uniq_notice_recipient"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Channel(models.TextChoices):
    EMAIL = "email", "邮件"
    WEBHOOK = "webhook", "群机器人"
    SMS = "sms", "短信"
    WECOM = "wecom", "企业微信"
    DINGTALK = "dingtalk", "钉钉"


PERSONAL_CHANNELS = (Channel.SMS, Channel.WECOM, Channel.DINGTALK)
# What an organization picks per reminder rule (the in-app inbox is always written).
RULE_CHANNELS = (Channel.EMAIL, *PERSONAL_CHANNELS)


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "失败"


class OutboxMessage(models.Model):
    """One delivery on an external channel. The in-app notification exists independently:
    a failing channel never loses it."""

    scope_org_field = "organization"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, null=True, blank=True, related_name="outbox"
    )
    webhook = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    dispatch = models.ForeignKey(ReminderDispatch, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    to_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=6)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # SMS only: the segments the text takes (what the gateway bills, what the budget counts).
    segments = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "外发消息"
        verbose_name_plural = "外发消息"
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"],
                condition=Q(notification__isnull=False),
                name="uniq_outbox_notification",
            ),
            models.UniqueConstraint(
                fields=["dispatch", "webhook"], condition=Q(dispatch__isnull=False), name="uniq_outbox_dispatch_webhook"
            ),
            models.UniqueConstraint(
                fields=["notice", "webhook"], condition=Q(notice__isnull=False), name="uniq_outbox_notice_webhook"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk} {self.get_status_display()}"

    @property
    def idempotency_key(self) -> str:
        return f"pb-outbox-{self.pk}"


class ChannelAddress(models.Model):
    """A user's addresses on the work apps (the unit's own user ids). The mobile number comes
    from the member record (encrypted there), never copied here."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    wecom_userid = models.CharField("企业微信账号", max_length=64, blank=True)
    dingtalk_userid = models.CharField("钉钉账号", max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "消息渠道账号"
        verbose_name_plural = "消息渠道账号"

    def __str__(self) -> str:
        return f"{self.user}"


class SmsBudget(models.Model):
    """SMS segments used by a top-level organization in a month; reserved with a conditional
    UPDATE before each send, so concurrent workers never pass the limit."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    month = models.DateField("月份")
    limit = models.PositiveIntegerField("额度（条）")
    used = models.PositiveIntegerField("已用（条）", default=0)
    warned_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "短信额度"
        verbose_name_plural = "短信额度"
        constraints = [models.UniqueConstraint(fields=["organization", "month"], name="uniq_sms_budget_month")]

    def __str__(self) -> str:
        return f"{self.organization} {self.month:%Y-%m} {self.used}/{self.limit}"


class ChannelCredential(models.Model):
    """A top-level organization's own account on a vendor (its own 企业微信 corp, 钉钉 app or SMS
    gateway), used for the messages of its whole tree instead of the settings. The non-secret
    values are in ``config``; the secret is encrypted (AES-GCM, ``members.crypto``, its own field
    name as associated data) and never shown back or logged."""

    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+", verbose_name="党组织"
    )
    channel = models.CharField("渠道", max_length=10, choices=[(c.value, c.label) for c in PERSONAL_CHANNELS])
    config = models.JSONField("配置", default=dict, blank=True)
    secret_cipher = models.TextField(blank=True)
    enabled = models.BooleanField("启用", default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "消息渠道凭据"
        verbose_name_plural = "消息渠道凭据"
        constraints = [models.UniqueConstraint(fields=["organization", "channel"], name="uniq_channel_credential")]

    def __str__(self) -> str:
        return f"{self.organization_id} · {self.get_channel_display()}"

    def __repr__(self) -> str:  # never the secret, not even encrypted
        return f"<ChannelCredential org={self.organization_id} channel={self.channel}>"
