"""Reads over the audit log. Only the auditor role reads it, within the subtree of its assignment
(events without an organization, such as logins, only for an auditor assigned at a top-level one)."""

from __future__ import annotations

from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from core.access import get_scope

EVENT_LABELS = {
    "login": "登录成功",
    "login_failed": "登录失败",
    "login_refused": "登录被拒绝",
    "logout": "退出登录",
    "lockout": "账号锁定",
    "session_expired": "会话超时",
    "superuser_login": "应急超级用户登录",
    "otp_enrolled": "绑定两步验证",
    "otp_verified": "两步验证通过",
    "otp_failed": "两步验证失败",
    "password_change": "修改密码",
    "password_reset": "重置密码",
    "password_reset_requested": "申请重置密码",
    "password_reset_approved": "批准重置密码",
    "password_reset_rejected": "驳回重置密码",
    "password_reset_sent": "发送密码重置链接",
    "password_reset_refused": "密码重置被拒绝",
    "password_reset_failed": "重置链接使用失败",
    "password_reset_completed": "通过重置链接设置新密码",
    "api_token_end": "注销 API 令牌",
    "api_tokens_end_all": "注销全部 API 令牌",
    "user_create": "新建账号",
    "user_activate": "启用账号",
    "user_deactivate": "停用账号",
    "account_unlock": "解除锁定",
    "role_grant": "分配角色",
    "role_revoke": "撤销角色",
    "security_setting_change": "修改安全参数",
    "access_denied": "越权访问被拒绝",
    "export": "导出数据",
    "view_full_id": "查看完整身份证号",
    "member_exact_search": "按完整号码查找党员",
    "rate_limited": "操作过于频繁被拒绝",
    "audit_query": "查询审计日志",
    "audit_purge": "清理过期审计日志",
}


def audit_scope_q(user: Any) -> Q | None:
    """Rows the user may read as auditor, or None when the user is no auditor."""
    scope = get_scope(user)
    if not scope.audit_paths:
        return None
    parts = [Q(organization__path__startswith=path) for path in scope.audit_paths]
    if scope.audits_unattached:
        parts.append(Q(organization__isnull=True))
    return reduce(or_, parts)


def audit_event_list(
    *,
    user: Any,
    start: datetime | None = None,
    end: datetime | None = None,
    username: str = "",
    event: str = "",
    organization_code: str = "",
    outcome: str = "",
) -> QuerySet[AuditEvent]:
    scope = audit_scope_q(user)
    if scope is None:
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.filter(scope).select_related("organization").order_by("-id")
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    if username:
        qs = qs.filter(username__iexact=username)
    if event:
        qs = qs.filter(event=event)
    if organization_code:
        qs = qs.filter(organization__code=organization_code)
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs
