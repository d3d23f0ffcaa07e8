"""党费 pages: a branch's month, recording a month for the whole branch on one phone screen, arrears,
the yearly publication, XLSX export, the yearly fixing and its import, a member's ledger.

Thin: parse input, fetch through the access gate, call selectors/services, render.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from openpyxl.styles import Font

from audit.services import audit_log
from audit.throttle import refused_page
from core import dates
from core.access import CHANGE, VIEW, get_for_user, get_scope, user_can
from core.numbers import as_id, is_number
from core.uploads import read_sheet_upload
from core.versioning import VERSION_FIELD, VersionConflict, changed_values, page_conflict, replace_claim, version_parse
from core.xlsx import new_workbook
from members.choices import DuesCategory
from members.dues import import_jobs, imports
from members.dues.forms import ApprovalForm, FixingForm, ImportUploadForm, MemberPaymentForm
from members.dues.models import BaseMode, DuesFixing, DuesImportBatch, DuesMonth, ImportStatus, PaymentMethod
from members.dues.rules import (
    BASE_CATEGORIES,
    EFFECT_LABELS,
    INCOME_EFFECTS,
    IncomeKind,
    month_from_index,
    month_index,
    month_start,
    parse_money,
    parse_month,
)
from members.dues.selectors import (
    dues_arrears,
    dues_collection,
    dues_export_rows,
    dues_rollup,
    dues_year_summary,
    member_dues_summary,
)
from members.dues.services.approvals import dues_approval_record
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_branch_payments_record, dues_payment_record
from members.models import Member
from organizations.choices import BRANCH_TYPES
from organizations.models import Organization


def _month_arg(request: HttpRequest) -> date:
    raw = request.GET.get("month", "")
    if not raw:
        return month_start(dates.today())
    try:
        return parse_month(raw)
    except ValidationError:
        raise _BadRequest("月份格式应为 YYYY-MM") from None


def _year_arg(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    if not raw:
        return dates.today().year
    if not is_number(raw) or not 2000 <= int(raw) <= 2100:
        raise _BadRequest("年度应为四位数字")
    return int(raw)


class _BadRequest(Exception):
    pass


def _handle_bad_request(view: Any) -> Any:
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _BadRequest as exc:
            return HttpResponseBadRequest(str(exc))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _org_for_data(request: HttpRequest, pk: int, action: str = VIEW) -> Organization:
    """The organization, and the right to see (or change) the dues data inside it."""
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if not user_can(request.user, VIEW, org, for_org_model=False):
        raise PermissionDenied("无权查看该组织的党费情况")
    if action == CHANGE and not user_can(request.user, CHANGE, org):
        raise PermissionDenied("无权登记该组织的党费")
    return org


def _org_context(request: HttpRequest, org: Organization, **extra: Any) -> dict[str, Any]:
    return {
        "org": org,
        "is_branch": org.org_type in BRANCH_TYPES,
        "can_change": user_can(request.user, CHANGE, org),
        **extra,
    }


def _month_nav(month: date) -> dict[str, date]:
    return {
        "prev_month": month_from_index(month_index(month) - 1),
        "next_month": month_from_index(month_index(month) + 1),
    }


@login_required
def dues_index(request: HttpRequest) -> HttpResponse:
    """党费: the organizations this user looks after; straight to the branch when there is one."""
    orgs = list(Organization.objects.filter(path__in=get_scope(request.user).reading_paths()).order_by("path"))
    if len(orgs) == 1:
        return redirect("dues:org", pk=orgs[0].pk)
    if not orgs and get_scope(request.user).member_id:
        return redirect("dues:mine")
    return render(request, "members/dues/index.html", {"orgs": orgs})


@never_cache
@login_required
@_handle_bad_request
def dues_org(request: HttpRequest, pk: int) -> HttpResponse:
    """A branch's month (members, due, paid, rate); for a 党委/总支 the roll-up of its subtree."""
    org = _org_for_data(request, pk)
    month = _month_arg(request)
    context = _org_context(request, org, month=month, tab="month", **_month_nav(month))
    if org.org_type not in BRANCH_TYPES:
        context.update(dues_rollup(user=request.user, root=org, month=month))
        return render(request, "members/dues/rollup.html", context)
    context.update(dues_collection(organization=org, month=month))
    return render(request, "members/dues/collection.html", context)


@never_cache
@login_required
@_handle_bad_request
def dues_record(request: HttpRequest, pk: int) -> HttpResponse:
    """One screen for the whole branch: tick who paid this month (amount pre-filled), one submit."""
    org = _org_for_data(request, pk, CHANGE)
    if not org.can_collect_dues:
        messages.error(request, f"{org.get_org_type_display()}不收缴党费")
        return redirect("dues:org", pk=org.pk)
    month = (
        month_start(parse_month(request.POST["month"]))
        if request.method == "POST" and _valid_month(request.POST.get("month", ""))
        else _month_arg(request)
    )
    data = dues_collection(organization=org, month=month)
    errors: dict[str, list[str]] = {}
    checked: set[int] = set()
    amounts: dict[int, str] = {}
    paid_on_raw = request.POST.get("paid_on", "") if request.method == "POST" else f"{dates.today():%Y-%m-%d}"
    method = request.POST.get("method", PaymentMethod.CASH)
    if request.method == "POST":
        entries: list[tuple[int, Decimal | None]] = []
        checked = {as_id(v) for v in request.POST.getlist("pay") if is_number(v)}
        owing = {line.member.pk: line for line in data["lines"] if line.status == "unpaid"}
        for member_id in sorted(checked):
            raw = request.POST.get(f"amount_{member_id}", "").strip()
            amounts[member_id] = raw
            if member_id not in owing:
                errors.setdefault(f"member_{member_id}", []).append("该党员本月无需登记（已缴、免交或未核定）")
                continue
            try:
                amount = parse_money(raw, field="amount", label="金额", required=False)
            except ValidationError as exc:
                errors.setdefault(f"member_{member_id}", []).extend(exc.message_dict["amount"])
                continue
            entries.append((member_id, amount))
        try:
            paid_on = date.fromisoformat(paid_on_raw)
        except ValueError:
            errors.setdefault("paid_on", []).append("请填写缴纳日期")
            paid_on = None
        if not checked:
            errors.setdefault("entries", []).append("请至少勾选一名党员")
        if not errors:
            try:
                payments = dues_branch_payments_record(
                    organization=org,
                    month=month,
                    entries=entries,
                    paid_on=paid_on,
                    method=method,
                    recorded_by=request.user,
                )
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                summary = dues_collection(organization=org, month=month)["summary"]
                rate = f"{summary.rate}%" if summary.rate is not None else "—"
                messages.success(
                    request,
                    f"已登记 {len(payments)} 人 {month.year}年{month.month}月党费；本月收缴率 {rate}"
                    f"（{summary.paid_count}/{summary.due_count}）",
                )
                return redirect(f"{reverse('dues:org', args=[org.pk])}?month={month:%Y-%m}")
    for line in data["lines"]:
        line.error = errors.get(f"member_{line.member.pk}", [])
        line.checked = line.member.pk in checked
        line.amount_value = amounts.get(line.member.pk, str(line.row.amount_due) if line.row else "")
    context = _org_context(
        request,
        org,
        **data,
        **_month_nav(month),
        tab="record",
        errors=errors,
        paid_on=paid_on_raw,
        method=method,
        methods=PaymentMethod.choices,
        owing=[line for line in data["lines"] if line.status == "unpaid"],
        settled=[line for line in data["lines"] if line.status != "unpaid"],
    )
    return render(request, "members/dues/record.html", context, status=400 if errors else 200)


def _valid_month(raw: str) -> bool:
    try:
        parse_month(raw)
    except ValidationError:
        return False
    return True


@never_cache
@login_required
def dues_arrears_page(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org_for_data(request, pk)
    rows = dues_arrears(organization=org)
    return render(request, "members/dues/arrears.html", _org_context(request, org, rows=rows, tab="arrears"))


@never_cache
@login_required
@_handle_bad_request
def dues_year(request: HttpRequest, pk: int) -> HttpResponse:
    """党费收缴公开: the year by month and by member, for publication to the branch's members."""
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    scope = get_scope(request.user)
    own_branch = bool(scope.member_id) and Member.objects.filter(pk=scope.member_id, organization=org).exists()
    if not (own_branch or user_can(request.user, VIEW, org, for_org_model=False)):
        # published to the branch's members and to those who oversee it; not to sysadmin/secadmin
        raise PermissionDenied("无权查看该组织的党费情况")
    year = _year_arg(request)
    summary = dues_year_summary(organization=org, year=year)
    context = _org_context(
        request, org, **summary, tab="year", can_see_data=user_can(request.user, VIEW, org, for_org_model=False)
    )
    return render(request, "members/dues/year.html", context)


@never_cache
@login_required
@_handle_bad_request
def dues_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The year's ledger as XLSX (one row per member, a column per month); audited with the row count."""
    org = _org_for_data(request, pk)
    year = _year_arg(request)
    if (limited := refused_page(request, "export")) is not None:
        return limited
    header, rows = dues_export_rows(organization=org, year=year)
    wb = new_workbook()
    ws = wb.active
    ws.title = f"{year}年党费台账"
    ws.append([f"{org.name} {year} 年党费收缴台账"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    user = request.user
    ws.append([])
    ws.append([f"导出：{user.get_full_name() or user.username} {dates.today():%Y-%m-%d}"])
    buffer = io.BytesIO()
    wb.save(buffer)
    audit_log(event="dues_export", obj=org, organization=org, detail={"year": year, "rows": len(rows)})
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="dues-{org.code}-{year}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
@_handle_bad_request
def dues_fixings(request: HttpRequest, pk: int) -> HttpResponse:
    """年度核定: each party member's fixing for the year, or a link to fix it."""
    org = _org_for_data(request, pk)
    year = _year_arg(request)
    fixings = {f.member_id: f for f in DuesFixing.objects.filter(organization=org, year=year).select_related("member")}
    members = list(
        Member.objects.filter(organization__path__startswith=org.path).party_members().order_by("name", "pk")
    )
    member_ids = {m.pk for m in members}
    rows = [(m, fixings.get(m.pk)) for m in members] + [
        (f.member, f) for mid, f in fixings.items() if mid not in member_ids
    ]
    context = _org_context(
        request,
        org,
        rows=rows,
        year=year,
        tab="fixings",
        fixed=len(fixings),
        unfixed=len(members) - len(fixings.keys() & member_ids),
    )
    return render(request, "members/dues/fixings.html", context)


@never_cache
@login_required
@_handle_bad_request
def dues_fix(request: HttpRequest, pk: int) -> HttpResponse:
    """Fix one member's monthly amount for a year: the base directly, or from income items.

    The form names the fixing it was loaded with (#17.3: hidden ``fixing``, ``fixing_year`` and
    ``row_version``); a re-fix against a fixing somebody else saved meanwhile is refused with
    what changed, keeping what was typed."""
    member = get_for_user(Member.objects.select_related("organization"), request.user, CHANGE, pk=pk)
    year = _year_arg(request)
    existing = DuesFixing.objects.filter(member=member, year=year).prefetch_related("income_items").first()
    initial = {"year": year, "category": member.dues_category, "fixed_on": dates.today(), "base_mode": BaseMode.DIRECT}
    form = FixingForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        items = form.income_items() if data["base_mode"] == BaseMode.ITEMS else []
        if data["base_mode"] == BaseMode.ITEMS and data["category"] in BASE_CATEGORIES and not items:
            form.add_error(None, "请至少填写一项收入")
        else:
            try:
                with transaction.atomic():
                    current = DuesFixing.objects.select_for_update().filter(member=member, year=data["year"]).first()
                    if VERSION_FIELD in request.POST:
                        replace_claim(current, *_fixing_seen(request.POST, data["year"]))
                    dues_fixing_create(
                        member=member,
                        year=data["year"],
                        category=data["category"],
                        base=data["base"] if data["base_mode"] == BaseMode.DIRECT else None,
                        income_items=items or None,
                        amount=data["amount"],
                        voluntary_amount=data["voluntary_amount"],
                        fixed_on=data["fixed_on"],
                        fixed_by=request.user,
                        note=data["note"],
                        replace=data["replace"],
                    )
            except VersionConflict:
                existing = (
                    DuesFixing.objects.filter(member=member, year=data["year"]).prefetch_related("income_items").first()
                )
                year = data["year"]
                conflict = page_conflict(
                    existing,
                    changed_values(_fixing_changes(existing, data)),
                    note="他人已删除该年度的核定。" if existing is None else "",
                )
            except ValidationError as exc:
                _attach(form, exc)
            else:
                messages.success(request, f"已核定 {member.name} {data['year']} 年度党费")
                return redirect(f"{reverse('dues:member', args=[member.pk])}?year={data['year']}")
    if conflict is not None or VERSION_FIELD not in request.POST:
        # The fixing this form re-fixes: as loaded, or after a conflict the current one.
        seen = {
            "fixing": existing.pk if existing else 0,
            "year": year,
            "version": existing.row_version if existing else 0,
        }
    else:
        seen = {
            k: request.POST.get(name, "")
            for k, name in (("fixing", "fixing"), ("year", "fixing_year"), ("version", VERSION_FIELD))
        }
    return render(
        request,
        "members/dues/fix.html",
        {
            "member": member,
            "form": form,
            "year": year,
            "existing": existing,
            "conflict": conflict,
            "seen": seen,
            "items": [
                (field, EFFECT_LABELS[INCOME_EFFECTS[kind][0]], INCOME_EFFECTS[kind][1])
                for kind, field in zip(IncomeKind.values, form.item_fields(), strict=True)
            ],
            "categories": DuesCategory.choices,
        },
        status=409 if conflict else 400 if form.errors else 200,
    )


def _fixing_seen(post: Any, year: int) -> tuple[int, int]:
    """(pk, version) of the fixing the form was loaded with for ``year``; (0, 0) when it showed
    none, or showed another year's (the year was changed in the form)."""
    seen_pk, seen_version = version_parse(post.get("fixing")) or 0, version_parse(post.get(VERSION_FIELD)) or 0
    if str(post.get("fixing_year", "")) != str(year):
        return 0, 0
    return seen_pk, seen_version


def _fixing_changes(current: DuesFixing | None, data: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(label, saved, typed) of a stale re-fix (#17.3)."""
    saved_items = {item.kind: item.amount for item in current.income_items.all()} if current else {}
    category = dict(DuesCategory.choices)
    rows: list[tuple[str, Any, Any]] = [
        ("党费类别", current.get_category_display() if current else "", category.get(data["category"], "")),
        ("基数来源", current.get_base_mode_display() if current else "", BaseMode(data["base_mode"]).label),
    ]
    if data["base_mode"] == BaseMode.DIRECT:
        rows.append(("计算基数（元/月）", current.base if current else None, data["base"]))
    else:
        rows += [(label, saved_items.get(kind), data.get(f"item_{kind}")) for kind, label in IncomeKind.choices]
    if data.get("amount") is not None:
        rows.append(("月缴金额（元）", current.monthly_amount if current else None, data["amount"]))
    rows += [
        ("核定日期", current.fixed_on if current else None, data["fixed_on"]),
        ("备注", current.note if current else "", data["note"]),
    ]
    return rows


def _attach(form: Any, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error if target else f"{_FIELD_LABELS.get(field, '')}{error}")


_FIELD_LABELS = {"member": "", "income_items": "收入项目：", "months": "", "start_month": "起始月份：", "year": ""}


def _member_page_context(request: HttpRequest, member: Member, year: int) -> dict[str, Any]:
    on = dates.today()
    summary = member_dues_summary(member, on=on)
    months = list(
        DuesMonth.objects.filter(member=member, month__year=year)
        .select_related("payment__recorded_by")
        .order_by("month")
    )
    unpaid = DuesMonth.objects.filter(member=member, paid_on__isnull=True, amount_due__gt=0).order_by("month")
    return {
        "member": member,
        "year": year,
        "summary": summary,
        "months": months,
        "fixing": DuesFixing.objects.filter(member=member, year=year).prefetch_related("income_items").first(),
        "month_choices": [(f"{r.month:%Y-%m}", f"{r.month.year}年{r.month.month}月 {r.amount_due} 元") for r in unpaid],
        "can_change": user_can(request.user, CHANGE, member),
    }


@never_cache
@login_required
@_handle_bad_request
def dues_member(request: HttpRequest, pk: int) -> HttpResponse:
    """One member's ledger for a year, with forms to record several months and approvals."""
    member = get_for_user(Member.objects.select_related("organization"), request.user, VIEW, pk=pk)
    if get_scope(request.user).member_id == member.pk and not user_can(request.user, CHANGE, member):
        return redirect("dues:mine")
    context = _member_page_context(request, member, _year_arg(request))
    context["pay_form"] = MemberPaymentForm(
        month_choices=context["month_choices"], initial={"paid_on": dates.today(), "method": PaymentMethod.CASH}
    )
    context["approval_form"] = ApprovalForm(initial={"approved_on": dates.today()})
    return render(request, "members/dues/member.html", context)


@require_POST
@login_required
def dues_member_pay(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_for_user(Member.objects.select_related("organization"), request.user, CHANGE, pk=pk)
    context = _member_page_context(request, member, dates.today().year)
    form = MemberPaymentForm(request.POST, month_choices=context["month_choices"])
    if form.is_valid():
        try:
            payment = dues_payment_record(
                member=member,
                months=form.cleaned_data["months"],
                paid_on=form.cleaned_data["paid_on"],
                method=form.cleaned_data["method"],
                note=form.cleaned_data["note"],
                recorded_by=request.user,
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"已登记 {payment.months_count} 个月，共 {payment.total} 元")
            return redirect("dues:member", pk=member.pk)
    context["pay_form"] = form
    context["approval_form"] = ApprovalForm(initial={"approved_on": dates.today()})
    return render(request, "members/dues/member.html", context, status=400)


@require_POST
@login_required
def dues_member_approval(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_for_user(Member.objects.select_related("organization"), request.user, CHANGE, pk=pk)
    context = _member_page_context(request, member, dates.today().year)
    form = ApprovalForm(request.POST)
    if form.is_valid():
        try:
            dues_approval_record(member=member, recorded_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, "已登记审批记录")
            return redirect("dues:member", pk=member.pk)
    context["approval_form"] = form
    context["pay_form"] = MemberPaymentForm(month_choices=context["month_choices"], initial={"paid_on": dates.today()})
    return render(request, "members/dues/member.html", context, status=400)


@never_cache
@login_required
def dues_mine(request: HttpRequest) -> HttpResponse:
    """The member's own dues: what I owe and my ledger (the partial the 我的 page includes)."""
    member_id = get_scope(request.user).member_id
    if member_id is None:
        raise PermissionDenied("只有党员本人可以查看")
    member = Member.objects.select_related("organization").get(pk=member_id)
    return render(request, "members/dues/mine.html", {"dues": member_dues_summary(member)})


# --- Import ------------------------------------------------------------------------------------


@never_cache
@login_required
def dues_import(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org_for_data(request, pk, CHANGE)
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial={"year": dates.today().year})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = import_jobs.dues_import_upload(
                organization=org,
                year=form.cleaned_data["year"],
                data=read_sheet_upload(upload, max_bytes=imports.MAX_BYTES),
                filename=upload.name,
                user=request.user,
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            return redirect("dues:import-batch", pk=batch.pk)
    batches = list(DuesImportBatch.objects.visible_to(request.user, VIEW).filter(organization=org)[:10])
    return render(
        request,
        "members/dues/import.html",
        _org_context(request, org, form=form, batches=batches, tab="fixings"),
        status=400 if form.errors else 200,
    )


@login_required
@_handle_bad_request
def dues_import_template(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org_for_data(request, pk, CHANGE)
    year = _year_arg(request)
    content = imports.dues_import_template(organization=org, year=year)
    audit_log(event="dues_import_template", obj=org, organization=org, detail={"year": year})
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="dues-base-template-{org.code}-{year}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def dues_import_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_user(DuesImportBatch.objects.select_related("organization"), request.user, VIEW, pk=pk)
    can_change = user_can(request.user, CHANGE, batch)
    errors: list[str] = []
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("无权办理该批次")
        action = request.POST.get("action", "")
        try:
            if action == "commit":
                batch = import_jobs.dues_import_commit_start(batch=batch, user=request.user)
                batch.refresh_from_db()
                if batch.status == ImportStatus.COMMITTED:
                    messages.success(request, f"已导入 {batch.row_count} 名党员的 {batch.year} 年度党费基数")
                    return redirect(f"{reverse('dues:fixings', args=[batch.organization_id])}?year={batch.year}")
                if batch.status == ImportStatus.COMMITTING:
                    messages.info(request, "已开始导入，完成后本页自动刷新")
                    return redirect("dues:import-batch", pk=batch.pk)
                raise ValidationError({"batch": batch.failure or "未导入任何数据"})
            if action == "discard":
                imports.dues_import_discard(batch=batch, user=request.user)
                messages.success(request, "已放弃该批次")
                return redirect("dues:import", pk=batch.organization_id)
            if action == "rollback":
                count = imports.dues_import_rollback(batch=batch, user=request.user)
                messages.success(request, f"已撤销该批次：{count} 名党员的 {batch.year} 年度党费核定已删除")
                return redirect("dues:import-batch", pk=batch.pk)
            return HttpResponseBadRequest("未知操作")
        except ValidationError as exc:
            errors = [message for messages_ in exc.message_dict.values() for message in messages_]
        batch.refresh_from_db()
    running = batch.status in (ImportStatus.CHECKING, ImportStatus.COMMITTING)
    if request.htmx:  # the progress block polls; when the work is done the whole page reloads
        if not running:
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return render(request, "members/dues/_import_progress.html", {"batch": batch})
    rows = batch.rows if batch.status == ImportStatus.PREVIEW else []
    blockers = (
        imports.dues_import_rollback_blockers(batch=batch)
        if can_change and batch.status == ImportStatus.COMMITTED
        else []
    )
    return render(
        request,
        "members/dues/import_batch.html",
        {
            "batch": batch,
            "rows": rows,
            "can_change": can_change,
            "commit_errors": errors,
            "blockers": blockers,
            "categories": dict(DuesCategory.choices),
        },
        status=400 if errors else 200,
    )
