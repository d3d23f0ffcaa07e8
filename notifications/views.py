"""Pages: the inbox, personal settings, reminder rules per organization, the group-chat robot,
and notices with read receipts. Thin: parse input, call selectors/services, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.access import CHANGE, VIEW, get_for_user, get_scope
from core.forms import attach_errors
from core.numbers import as_id, is_number
from core.uploads import read_sheet_upload
from members import exports
from members.choices import MembershipStatus
from members.models import Member
from notifications import selectors
from notifications.forms import (
    AddressImportForm,
    CredentialForm,
    InboxFilterForm,
    NoticeForm,
    PreferenceForm,
    ReminderSettingForm,
    WebhookForm,
)
from notifications.models import Notice, Notification
from notifications.rules import CATEGORIES, RULES, RULES_BY_CODE
from notifications.services import addresses, credentials
from notifications.services.inbox import (
    notice_open,
    notification_mark_all_read,
    notification_mark_read,
    preference_update,
)
from notifications.services.notices import notice_send
from notifications.services.personal import configured_channels
from notifications.services.reminder_settings import reminder_setting_update
from notifications.services.webhooks import webhook_configure, webhook_remove
from organizations.choices import OrgType
from organizations.models import Organization

PAGE_SIZE = 30


# --- inbox -----------------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("查询参数无效")
    unread_only = form.cleaned_data["show"] == "unread"
    qs = selectors.notification_list(user=request.user, unread_only=unread_only)
    page = Paginator(qs, PAGE_SIZE).get_page(form.cleaned_data["page"] or 1)
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "items": list(page.object_list),
            "unread_only": unread_only,
        },
    )


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open one notification: marks it read, shows it with the link to the thing to do."""
    notification = Notification.objects.visible_to(request.user).filter(pk=pk).first()
    if notification is None:
        raise Http404("消息不存在")
    notification_mark_read(user=request.user, notification_id=notification.pk)
    if notification.notice_id:
        return redirect("notifications:notice-read", pk=notification.notice_id)
    return render(request, "notifications/detail.html", {"n": notification})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    if not Notification.objects.visible_to(request.user).filter(pk=pk).exists():
        raise Http404("消息不存在")
    notification_mark_read(user=request.user, notification_id=pk)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:inbox")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notification_mark_all_read(user=request.user)
    messages.success(request, f"已将 {count} 条消息标为已读")
    return redirect("notifications:inbox")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    pref = selectors.preference_for(user=request.user)
    initial = {
        "email_enabled": pref.email_enabled,
        "sms_enabled": pref.sms_enabled,
        "wecom_enabled": pref.wecom_enabled,
        "dingtalk_enabled": pref.dingtalk_enabled,
        "muted_rules": pref.muted_rules,
    }
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            preference_update(
                user=request.user,
                email_enabled=form.cleaned_data["email_enabled"],
                muted_rules=form.cleaned_data["muted_rules"],
                sms_enabled=form.cleaned_data["sms_enabled"],
                wecom_enabled=form.cleaned_data["wecom_enabled"],
                dingtalk_enabled=form.cleaned_data["dingtalk_enabled"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "个人提醒设置已保存")
            return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "has_email": bool(request.user.email), "work_rules": [r for r in RULES if not r.user_opt_out]},
    )


# --- reminder rules (org_admin) --------------------------------------------------------------


def _org_for_rules(request: HttpRequest, pk: int | None) -> Organization:
    if pk is None:
        first = selectors.manageable_organizations(user=request.user).first()
        if first is None:
            raise PermissionDenied("只有组织部门（党委）工作人员可以调整提醒设置")
        return first
    return get_for_user(Organization, request.user, VIEW, pk=pk)


@login_required
def rules(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    chosen = request.GET.get("org", "")
    if pk is None and chosen:
        if not is_number(chosen):
            return HttpResponseBadRequest("org 参数无效")
        return redirect("notifications:rules-org", pk=as_id(chosen))
    org = _org_for_rules(request, pk)
    rows = selectors.reminder_settings_for(organization=org)
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(CATEGORIES[row.rule.category], []).append(row)
    managed = list(selectors.manageable_organizations(user=request.user).exclude(org_type=OrgType.GROUP)[:200])
    return render(
        request,
        "notifications/rules.html",
        {
            "org": org,
            "grouped": grouped,
            "can_manage": selectors.can_manage_reminders(request.user, org),
            "managed": managed,
            "webhook": selectors.webhook_for(organization=org),
        },
    )


@login_required
def rule_edit(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if not selectors.can_manage_reminders(request.user, org):
        raise PermissionDenied("只有组织部门（党委）工作人员可以调整提醒设置")
    rule = RULES_BY_CODE.get(code)
    if rule is None:
        raise Http404("未知的提醒规则")
    own = next((row.own for row in selectors.reminder_settings_for(organization=org) if row.rule.code == code), None)
    initial: dict[str, Any] = {}
    if own is not None:
        initial = {
            "enabled": {True: "on", False: "off"}.get(own.enabled, ""),
            "offset": own.offset,
            "grace_days": own.grace_days,
            "day_of_month": own.day_of_month,
            "channel_mode": "" if own.channels is None else "choose",
            "channels": own.channels or [],
        }
    form = ReminderSettingForm(request.POST or None, rule=rule, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reminder_setting_update(user=request.user, organization=org, rule=code, **form.service_kwargs())
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"已保存“{rule.label}”的设置（适用于{org}及其下级组织）")
            return redirect("notifications:rules-org", pk=org.pk)
    return render(request, "notifications/rule_form.html", {"form": form, "org": org, "rule": rule})


@login_required
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if not selectors.can_manage_reminders(request.user, org):
        raise PermissionDenied("只有组织部门（党委）工作人员可以配置群机器人")
    endpoint = selectors.webhook_for(organization=org)
    initial = {"kind": endpoint.kind, "url": endpoint.url, "enabled": endpoint.enabled} if endpoint else {}
    form = WebhookForm(request.POST or None, initial=initial)
    if request.method == "POST" and request.POST.get("remove"):
        if not request.POST.get("confirm"):
            messages.error(request, "请勾选“确认删除”后再删除")
            return redirect("notifications:webhook", pk=org.pk)
        webhook_remove(user=request.user, organization=org)
        messages.success(request, "已删除群机器人配置")
        return redirect("notifications:rules-org", pk=org.pk)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_configure(user=request.user, organization=org, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "群机器人已保存")
            return redirect("notifications:rules-org", pk=org.pk)
    return render(request, "notifications/webhook_form.html", {"form": form, "org": org, "endpoint": endpoint})


# --- notices ---------------------------------------------------------------------------------


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("查询参数无效")
    page = Paginator(selectors.notice_list(user=request.user), PAGE_SIZE).get_page(form.cleaned_data["page"] or 1)
    return render(
        request,
        "notifications/notice_list.html",
        {"page": page, "notices": list(page.object_list), "can_send": selectors.can_send_notices(request.user)},
    )


def _sender_organizations(user: Any) -> list[Organization]:
    """The organizations a sender picks from: where they hold the role, and the branches and
    committees directly below (deeper ones through ``?org=`` from the organization page)."""
    paths = get_scope(user).recording_paths()
    if not paths:
        return []
    base = list(Organization.objects.filter(path__in=paths))
    children = Organization.objects.none()
    for org in base:
        children = children | Organization.objects.children_of(org).exclude(org_type=OrgType.GROUP)
    allowed = {o.pk: o for o in [*base, *children.visible_to(user, CHANGE)[:300]]}
    return sorted(allowed.values(), key=lambda o: o.path)


@login_required
def notice_create(request: HttpRequest) -> HttpResponse:
    if not selectors.can_send_notices(request.user):
        raise PermissionDenied("只有组织部门（党委）工作人员和书记可以发送通知")
    organizations = _sender_organizations(request.user)
    selected_id = request.POST.get("organization") or request.GET.get("org") or ""
    if selected_id and not is_number(str(selected_id)):
        return HttpResponseBadRequest("org 参数无效")
    selected = None
    if selected_id:
        selected = get_for_user(Organization, request.user, CHANGE, pk=int(selected_id))
        if selected.pk not in {o.pk for o in organizations}:
            organizations = sorted([*organizations, selected], key=lambda o: o.path)
    elif organizations:
        selected = organizations[0]
    search = (request.GET.get("q") or "").strip()[:50]
    members: list[Member] = []
    if selected is not None:
        qs = (
            Member.objects.visible_to(request.user, CHANGE)
            .filter(organization__path__startswith=selected.path, membership_status=MembershipStatus.NORMAL)
            .select_related("organization")
            .order_by("organization__path", "name", "pk")
        )
        if search:
            qs = qs.filter(name__icontains=search)
        members = list(qs[:300])
    initial = {"organization": selected.pk} if selected else {}
    form = NoticeForm(
        request.POST or None,
        organizations=organizations,
        members=members,
        initial=initial,
        personal_channels=configured_channels(organization=selected),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        org = get_for_user(Organization, request.user, CHANGE, pk=data["organization"])
        try:
            notice = notice_send(
                sender=request.user,
                organization=org,
                title=data["title"],
                body=data["body"],
                kind=data["kind"],
                target=data["target"],
                audience=data["audience"],
                member_ids=data["members"],
                send_email=data["send_email"],
                send_webhook=data["send_webhook"],
                channels=data.get("channels") or [],
                client_token=data["client_token"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"通知已发送，{notice.recipient_count} 人在系统内收到")
            return redirect("notifications:notice-detail", pk=notice.pk)
    return render(
        request,
        "notifications/notice_form.html",
        {"form": form, "selected": selected, "search": search, "member_count": len(members)},
    )


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The sender's view: who has read it (read / unread, in tree order; never ranked)."""
    notice = get_for_user(Notice.objects.select_related("organization"), request.user, VIEW, pk=pk)
    form = InboxFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("查询参数无效")
    recipients = selectors.notice_recipients(notice=notice)
    page = Paginator(recipients, 50).get_page(form.cleaned_data["page"] or 1)
    return render(
        request,
        "notifications/notice_detail.html",
        {
            "notice": notice,
            "page": page,
            "recipients": list(page.object_list),
            "summary": selectors.notice_read_summary(notice=notice),
        },
    )


@login_required
def notice_read(request: HttpRequest, pk: int) -> HttpResponse:
    """A recipient opens a notice from the inbox (marks their copy read)."""
    notification = notice_open(user=request.user, notice_id=pk)
    if notification is None:
        raise Http404("通知不存在")
    notice = Notice.objects.select_related("organization").get(pk=pk)
    return render(
        request,
        "notifications/notice_read.html",
        {"notice": notice, "n": notification, "inbox_url": reverse("notifications:inbox")},
    )


# --- delivery report (#19.3) -----------------------------------------------------------------


@login_required
def delivery_report(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if not selectors.can_manage_reminders(request.user, org):
        raise PermissionDenied("只有组织部门（党委）工作人员可以查看发送报告")
    days = request.GET.get("days", "30")
    days = int(days) if is_number(days) and 1 <= int(days) <= 366 else 30
    since = timezone.now() - timedelta(days=days)
    report = selectors.delivery_report(organization=org, since=since)
    return render(request, "notifications/delivery_report.html", {"org": org, "report": report, "days": days})


# --- channel addresses import (#19) ----------------------------------------------------------

PREVIEW_ROWS = 50


def _org_for_addresses(request: HttpRequest, pk: int) -> Organization:
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if not selectors.can_manage_reminders(request.user, org):
        raise PermissionDenied("只有组织部门（党委）工作人员可以导入消息渠道账号")
    return org


@login_required
@require_GET
def address_template(request: HttpRequest, pk: int) -> HttpResponse:
    _org_for_addresses(request, pk)
    response = HttpResponse(addresses.address_template_xlsx(), content_type=exports.XLSX_TYPE)
    response["Content-Disposition"] = exports.attachment("消息渠道账号导入模板.xlsx")
    return response


@never_cache
@login_required
def address_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload → preview (every bad row by line number, nothing saved) → 导入 (the previewed file,
    re-checked, all or nothing)."""
    org = _org_for_addresses(request, pk)
    form = AddressImportForm(request.POST or None, request.FILES or None)
    preview, token = None, ""
    if request.method == "POST" and request.POST.get("action") == "commit":
        try:
            result = addresses.channel_address_commit(
                user=request.user, organization=org, token=request.POST.get("token", "")
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("notifications:addresses", pk=org.pk)
        messages.success(request, f"已保存 {result.saved} 人的企业微信/钉钉账号")
        return redirect("notifications:rules-org", pk=org.pk)
    if request.method == "POST" and form.is_valid():
        try:
            data = read_sheet_upload(form.cleaned_data["file"], max_bytes=addresses.LIMITS.max_bytes)
            preview, token = addresses.channel_address_stage(user=request.user, organization=org, data=data)
        except ValidationError as exc:
            attach_errors(form, exc)
    return render(
        request,
        "notifications/address_import.html",
        {
            "org": org,
            "form": form,
            "preview": preview,
            "token": token,
            "shown": preview.rows[:PREVIEW_ROWS] if preview else [],
            "preview_rows": PREVIEW_ROWS,
        },
    )


# --- a unit's own vendor credentials (#19) ---------------------------------------------------


@never_cache
@login_required
def credentials_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A top-level organization's own 企业微信 / 钉钉 / SMS accounts; the secret is write-only."""
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if org.depth != 1 or not selectors.can_manage_reminders(request.user, org):
        raise PermissionDenied("只有上级党委（顶级组织）的组织部门工作人员可以配置本单位的消息渠道")
    form = CredentialForm(request.POST or None)
    if request.method == "POST" and request.POST.get("remove"):
        channel = request.POST.get("remove", "")
        if credentials.channel_credential_remove(user=request.user, organization=org, channel=channel):
            messages.success(request, "已删除本单位的该渠道账号，改用系统设置")
        return redirect("notifications:credentials", pk=org.pk)
    if request.method == "POST" and form.is_valid():
        try:
            credentials.channel_credential_save(user=request.user, organization=org, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "已保存（密钥已加密保存）")
            return redirect("notifications:credentials", pk=org.pk)
    rows = credentials.credentials_status(organization=org)
    return render(request, "notifications/credentials.html", {"org": org, "form": form, "rows": rows})
