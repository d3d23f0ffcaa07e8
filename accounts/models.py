"""Account security state: password age and history, forced changes, runtime security parameters.

A top-level app because authentication, sessions and account administration cut across the four
domain apps (organizations, members, activities, assessments) and belong to none of them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class AccountSecurity(models.Model):
    """Per-user password state. Created on first password set (``password_changed``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security")
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)

    class Meta:
        verbose_name = "账号安全状态"
        verbose_name_plural = "账号安全状态"

    def __str__(self) -> str:
        return f"{self.user}"


class PasswordHistory(models.Model):
    """Hashes of a user's previous passwords (AUTH-1: no reuse of the last N)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d}"


class SecurityPolicy(models.Model):
    """Security parameters set by the security administrator (secadmin). One row (pk=1).

    Defaults come from settings (the ``PB_*`` values); bounds follow 等保 2.0 level 3 practice.
    """

    password_max_age_days = models.PositiveSmallIntegerField(
        "密码有效期（天）", validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    password_history_count = models.PositiveSmallIntegerField(
        "不得重复使用最近几次密码", validators=[MinValueValidator(5), MaxValueValidator(24)]
    )
    lockout_failure_limit = models.PositiveSmallIntegerField(
        "连续登录失败锁定次数", validators=[MinValueValidator(3), MaxValueValidator(10)]
    )
    lockout_cooloff_minutes = models.PositiveSmallIntegerField(
        "锁定时长（分钟）", validators=[MinValueValidator(10), MaxValueValidator(1440)]
    )
    dormant_days = models.PositiveSmallIntegerField(
        "长期未登录停用（天）", validators=[MinValueValidator(30), MaxValueValidator(365)]
    )
    session_absolute_hours = models.PositiveSmallIntegerField(
        "会话最长时长（小时）", validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    audit_retention_days = models.PositiveIntegerField(
        "审计日志保存期（天）", validators=[MinValueValidator(190), MaxValueValidator(3650)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "安全参数"
        verbose_name_plural = "安全参数"

    def __str__(self) -> str:
        return "安全参数"


class DisplayPreference(models.Model):
    """How the pages look for one user (个人设置 → 显示): remembered across devices and sessions."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="display")
    large_text = models.BooleanField("大字模式", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "显示设置"
        verbose_name_plural = "显示设置"

    def __str__(self) -> str:
        return f"{self.user}"


class ResetStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", "待安全管理员批准"
    SENT = "sent", "已发送重置链接"
    USED = "used", "已使用"
    REJECTED = "rejected", "已驳回"
    CANCELLED = "cancelled", "已作废"


class PasswordReset(models.Model):
    """One password reset (#21.14): a one-time link sent to the user, never a password an admin sees.

    Only the SHA-256 digest of the link's token is kept (``token_digest``); the token itself exists
    in the e-mail only. A reset of a privileged account waits for a secadmin's approval first.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_resets")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="申请人"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审批人",
    )
    privileged = models.BooleanField("特权账号", default=False)
    status = models.CharField("状态", max_length=20, choices=ResetStatus.choices)
    token_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    expires_at = models.DateTimeField("链接到期", null=True, blank=True)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = "密码重置"
        verbose_name_plural = "密码重置"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.user} {self.get_status_display()}"
