"""Member pages: list, detail, create/edit, full-number view, transfers, import, export, and the
member's own page. Views are thin: parse input, fetch through the gate, call services, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from audit.throttle import refused_page
from core.access import CHANGE, VIEW, get_for_user, get_scope, user_can
from core.dates import today
from core.forms import attach_errors
from core.numbers import as_id, is_number
from core.paging import CappedPaginator
from core.uploads import read_sheet_upload
from core.versioning import VersionConflict, changed_fields, form_version, page_conflict, page_edit
from members import exports, import_jobs, imports, services
from members.choices import ImportStatus, Stage, TransferKind, TransferStatus
from members.forms import (
    ImportUploadForm,
    MemberForm,
    MemberSearchForm,
    TransferDecisionForm,
    TransferIssueForm,
    TransferSearchForm,
    organization_choices,
)
from members.me import me_sections
from members.models import ImportBatch, Member, MemberTransfer
from members.selectors import (
    member_change_history,
    member_flags,
    member_list,
    member_roster_history,
    member_transfers,
    transfer_list,
)
from organizations.choices import OrgType
from organizations.models import Organization

PAGE_SIZE = 50
ERRORS_PAGE_SIZE = 200


def _require_manager(request: HttpRequest) -> None:
    """Member lists are for secretaries, org_admins and auditors; members use their own page."""
    if not get_scope(request.user).works_with_data:
        raise Http404("页面不存在")


def _filters(request: HttpRequest) -> tuple[MemberSearchForm, dict[str, Any]]:
    form = MemberSearchForm(request.GET)
    if not form.is_valid():
        raise ValidationError("查询参数无效")
    data = form.cleaned_data
    organization = None
    if data["org"]:
        organization = get_for_user(Organization, request.user, VIEW, pk=data["org"])
    return form, {
        "organization": organization,
        "stage": data["stage"],
        "status": data["status"],
        "search": (data["q"] or "").strip(),
        "flag": data["flag"],
    }


@never_cache
@login_required
def member_list_page(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    try:
        form, filters = _filters(request)
    except ValidationError:
        return HttpResponseBadRequest("查询参数无效")
    qs = member_list(user=request.user, **filters)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(form.cleaned_data["page"] or 1)
    on = today()
    rows = [(member, member_flags(member, on=on)) for member in page.object_list]
    org_choices = organization_choices(request.user, action=VIEW, exclude_types={OrgType.GROUP}) or []
    current_org = filters["organization"]
    if current_org and current_org.pk not in {pk for pk, _ in org_choices}:
        org_choices = [(current_org.pk, current_org.name), *org_choices]
    can_add = Organization.objects.visible_to(request.user, CHANGE).exists()
    return render(
        request,
        "members/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "org_choices": org_choices,
            "current_org": current_org,
            "filtered": any(filters.values()),
            "can_add": can_add,
            "query": request.GET.urlencode(),
        },
    )


@never_cache
@login_required
def member_export(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    try:
        _form, filters = _filters(request)
    except ValidationError:
        return HttpResponseBadRequest("查询参数无效")
    if (limited := refused_page(request, "export")) is not None:
        return limited
    qs = member_list(user=request.user, **filters)
    content, count = exports.member_list_xlsx(queryset=qs, user=request.user, filters=filters)
    response = HttpResponse(content, content_type=exports.XLSX_TYPE)
    response["Content-Disposition"] = exports.attachment(f"党员名单-{today():%Y%m%d}.xlsx")
    return response


def _member_for(request: HttpRequest, pk: int, action: str = VIEW) -> Member:
    qs = Member.objects.select_related("organization", "party_group", "user")
    return get_for_user(qs, request.user, action, pk=pk)


@never_cache
@login_required
def member_detail(request: HttpRequest, pk: int, revealed: dict[str, str] | None = None) -> HttpResponse:
    member = _member_for(request, pk)
    transfers = list(member_transfers(member=member))
    can_change = user_can(request.user, CHANGE, member)
    return render(
        request,
        "members/detail.html",
        {
            "member": member,
            "flags": member_flags(member),
            "transfers": transfers,
            "roster": list(member_roster_history(member=member)),
            "can_change": can_change,
            # The change history: only for those who may change the record.
            "history": member_change_history(member=member) if can_change else None,
            "can_reveal": services.member_can_reveal(user=request.user, member=member),
            "revealed": revealed or {},
            "can_transfer": member.stage in (Stage.PROBATIONARY, Stage.FULL)
            and member.membership_status == "normal"
            and not any(t.status == TransferStatus.PENDING for t in transfers),
        },
    )


@never_cache
@login_required
@require_POST
def member_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """“查看完整号码”: one field of one record, for secretaries / org_admins; audited."""
    member = _member_for(request, pk)
    if not services.member_can_reveal(user=request.user, member=member):
        raise PermissionDenied("您无权查看完整号码")
    field = request.POST.get("field", "")
    if (limited := refused_page(request, "reveal")) is not None:
        return limited
    try:
        value = services.member_reveal(member=member, user=request.user, field=field)
    except ValidationError as exc:
        if "field" in exc.message_dict and field in services.REVEAL_FIELDS:
            raise PermissionDenied("您无权查看完整号码") from exc
        return HttpResponseBadRequest("参数无效")
    if request.htmx:
        return render(request, "members/_revealed.html", {"value": value})
    return member_detail(request, pk, revealed={field: value})


def _initial(member: Member) -> dict[str, Any]:
    initial = {name: getattr(member, name) for name in services.MEMBER_FIELDS if name != "party_group"}
    initial["party_group"] = member.party_group_id
    return initial


@never_cache
@login_required
def member_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    initial: dict[str, Any] = {"dues_category": "employed", "membership_status": "normal"}
    org_param = request.GET.get("org", "")
    if is_number(org_param):
        initial["organization"] = get_for_user(Organization, request.user, CHANGE, pk=as_id(org_param)).pk
    form = MemberForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_create_with_transfer(
                organization=form.cleaned_data["organization"],
                user=request.user,
                incoming=form.incoming_fields(),
                **form.member_fields(),
            )
        except ValidationError as exc:
            attach_errors(
                form,
                exc,
                {
                    "issued_on": "in_issued_on",
                    "received_on": "in_received_on",
                    "external_organization": "in_external_organization",
                    "letter_number": "in_letter_number",
                },
            )
        else:
            messages.success(request, f"已登记党员 {member.name}")
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/form.html", {"form": form, "member": None, "title": "登记党员"})


@never_cache
@login_required
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member_for(request, pk, CHANGE)
    form = MemberForm(request.POST or None, user=request.user, member=member, initial=_initial(member))
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            with page_edit(request, member):  # #17.3: a stale copy never overwrites
                services.member_update(member=member, recorded_by=request.user, **form.member_fields())
        except VersionConflict:
            current = Member.objects.get(pk=member.pk)
            shown = [(n, form.fields[n].label) for n in form.member_fields() if n in form.fields]
            conflict = page_conflict(current, changed_fields(current, form.member_fields(), shown))
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect("members:detail", pk=member.pk)
    context = {
        "form": form,
        "member": member,
        "title": f"编辑 {member.name}",
        "conflict": conflict,
        "row_version": form_version(request, member, conflict),
    }
    return render(request, "members/form.html", context, status=409 if conflict else 200)


# --- transfers --------------------------------------------------------------------------------


@never_cache
@login_required
def transfer_new(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member_for(request, pk, CHANGE)
    form = TransferIssueForm(request.POST or None, user=request.user, initial={"issued_on": today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer = services.transfer_issue(
                member=member,
                user=request.user,
                kind=data["kind"],
                issued_on=data["issued_on"],
                to_organization=data["to_organization"],
                external_organization=data["external_organization"],
                letter_number=data["letter_number"],
                dues_paid_until=data["dues_paid_until"],
                note=data["note"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(
                request,
                "已开具转接，等待接收方办理"
                if transfer.kind == TransferKind.INTERNAL
                else "已开具介绍信，回执寄回后请登记",
            )
            return redirect("members:transfer-detail", pk=transfer.pk)
    return render(request, "members/transfer_form.html", {"form": form, "member": member})


@never_cache
@login_required
def transfer_list_page(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = TransferSearchForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("查询参数无效")
    data = form.cleaned_data
    qs = transfer_list(user=request.user, status=data["status"], kind=data["kind"], direction=data["direction"])
    page = Paginator(qs, PAGE_SIZE).get_page(data["page"] or 1)
    return render(request, "members/transfer_list.html", {"form": form, "page": page})


def _transfer_for(request: HttpRequest, pk: int) -> MemberTransfer:
    qs = MemberTransfer.objects.select_related("member", "from_organization", "to_organization")
    try:
        return qs.visible_to(request.user, VIEW).get(pk=pk)
    except MemberTransfer.DoesNotExist as exc:
        raise Http404("对象不存在或无权访问") from exc


@never_cache
@login_required
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _transfer_for(request, pk)
    form = TransferDecisionForm(request.POST or None, initial={"on": today()})
    sides = services.transfer_user_sides(user=request.user, transfer=transfer)
    if request.method == "POST":
        if not (sides["send"] or sides["receive"]):
            raise PermissionDenied("无权办理该转接")
        if form.is_valid():
            data = form.cleaned_data
            on = data["on"] or today()
            try:
                if data["action"] == "accept":
                    services.transfer_accept(transfer=transfer, user=request.user, on=on)
                elif data["action"] == "reject":
                    services.transfer_reject(transfer=transfer, user=request.user, reason=data["reason"], on=on)
                elif data["action"] == "cancel":
                    services.transfer_cancel(transfer=transfer, user=request.user, reason=data["reason"])
                else:
                    services.transfer_complete_outgoing(transfer=transfer, user=request.user, receipt_on=on)
            except ValidationError as exc:
                attach_errors(form, exc, {"receipt_on": "on"})
            else:
                messages.success(request, "已办理")
                return redirect("members:transfer-detail", pk=transfer.pk)
    return render(
        request,
        "members/transfer_detail.html",
        {"transfer": transfer, "form": form, "sides": sides, "pending": transfer.status == TransferStatus.PENDING},
    )


# --- import -----------------------------------------------------------------------------------


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    response = HttpResponse(imports.import_template_xlsx(), content_type=exports.XLSX_TYPE)
    response["Content-Disposition"] = exports.attachment("党员信息导入模板.xlsx")
    return response


@never_cache
@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = import_jobs.import_upload(
                user=request.user,
                scope=form.cleaned_data["organization"],
                data=read_sheet_upload(upload, max_bytes=imports.MAX_BYTES),
                file_name=upload.name,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return redirect("members:import-batch", pk=batch.pk)
    batches = list(ImportBatch.objects.visible_to(request.user, VIEW).select_related("organization", "created_by")[:10])
    return render(request, "members/import.html", {"form": form, "batches": batches})


@never_cache
@login_required
def import_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_user(ImportBatch.objects.select_related("organization"), request.user, VIEW, pk=pk)
    can_change = user_can(request.user, CHANGE, batch)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("无权办理该批次")
        action = request.POST.get("action", "")
        try:
            if action == "commit":
                batch = import_jobs.import_commit_start(batch=batch, user=request.user)
                batch.refresh_from_db()
                if batch.status == ImportStatus.COMMITTED:
                    messages.success(request, f"已导入 {batch.committed_count} 名党员")
                elif batch.status == ImportStatus.COMMITTING:
                    messages.info(request, "已开始导入，完成后本页自动刷新")
                else:
                    messages.error(request, batch.failure or "未导入任何数据")
            elif action == "discard":
                imports.import_discard(batch=batch, user=request.user)
                messages.success(request, "已放弃该批次")
            elif action == "rollback":
                count = imports.import_rollback(batch=batch, user=request.user)
                messages.success(request, f"已撤销导入，删除 {count} 条党员记录")
            else:
                return HttpResponseBadRequest("参数无效")
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect("members:import-batch", pk=batch.pk)
    batch.refresh_from_db()
    running = batch.status in (ImportStatus.CHECKING, ImportStatus.COMMITTING)
    if request.htmx:  # the progress block polls; when the work is done the whole page reloads
        if not running:
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return render(request, "members/_import_progress.html", {"batch": batch})
    page = Paginator(batch.errors, ERRORS_PAGE_SIZE).get_page(request.GET.get("page") or 1)
    blockers = imports.import_rollback_blockers(batch=batch) if batch.status == ImportStatus.COMMITTED else []
    return render(
        request,
        "members/import_batch.html",
        {"batch": batch, "page": page, "can_change": can_change, "blockers": blockers},
    )


# --- the member's own page ------------------------------------------------------------------


def _own_member(request: HttpRequest) -> Member:
    scope = get_scope(request.user)
    if not scope.member_id:
        raise Http404("您的账号没有关联党员记录")
    return Member.objects.select_related("organization", "party_group").get(pk=scope.member_id)


@never_cache
@login_required
def me(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    return render(
        request,
        "members/me.html",
        {
            "member": member,
            "flags": member_flags(member),
            "transfers": list(member_transfers(member=member)),
            "sections": me_sections(member=member, user=request.user),
        },
    )


@never_cache
@login_required
def me_download(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "json"):
        return HttpResponseBadRequest("format 只能是 xlsx 或 json")
    content, content_type, name = exports.member_own_record(member=member, user=request.user, fmt=fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = exports.attachment(name)
    return response
