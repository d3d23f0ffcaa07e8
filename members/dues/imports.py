"""Yearly dues bases from a spreadsheet: a template to download, an upload that is checked row by
row (every bad cell listed by line and column with the reason in Chinese), then an all-or-nothing
commit that fixes every listed member's monthly amount through ``dues_fixing_create``; the last
committed batch can be rolled back while nothing has happened to its fixings since.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from audit.services import audit_log
from core import dates
from core.access import CHANGE, user_can
from core.numbers import is_number
from core.xlsx import new_workbook
from core.xlsx_reader import XlsxError, XlsxLimits, XlsxRefused, XlsxUnsafeError, read_xlsx_rows
from members.choices import DuesCategory, MembershipStatus, Stage
from members.dues.models import AMOUNT_APPROVALS, DuesApproval, DuesFixing, DuesImportBatch, DuesMonth, ImportStatus
from members.dues.rules import BASE_CATEGORIES, dues_standard, parse_money
from members.dues.services.common import dues_changed, members_changed
from members.dues.services.fixings import FixingSpec, dues_fixings_create_many, ledger_month_indexes
from members.models import Member
from organizations.models import Organization

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# One row per member, seven columns: a few thousand distinct texts at most.
LIMITS = XlsxLimits(
    max_bytes=MAX_BYTES, max_unzipped_bytes=50 * 1024 * 1024, max_rows=MAX_ROWS, max_cols=50, max_shared_strings=50_000
)
COLUMNS = [
    ("A", "党员编号", "系统中的党员编号，请勿修改"),
    ("B", "姓名", "用于核对，须与党员编号一致"),
    ("C", "党费类别", "在职、年薪制、个体经营、离退休、农民、学生、下岗失业、抚恤/救济/低保"),
    (
        "D",
        "计算基数（元/月）",
        "在职、年薪制、个体经营、离退休填写；按 DF17 扣除个人所得税、五险一金、年金等，不含改革性补贴、奖励性绩效等",
    ),
    ("E", "农民党员月缴金额（元）", "仅农民党员填写，0.20–1.00"),
    ("F", "自愿多交月缴金额（元）", "可不填；填写的不能低于按规定应交金额"),
    ("G", "备注", ""),
]
HEADERS = [title for _, title, _ in COLUMNS]
CATEGORY_BY_LABEL = {label: value for value, label in DuesCategory.choices} | {v: v for v in DuesCategory.values}


def _import_members(organization: Organization) -> Any:
    """Party members whose dues this organization's subtree collects."""
    return Member.objects.filter(
        organization__path__startswith=organization.path,
        stage__in=[Stage.PROBATIONARY, Stage.FULL],
        membership_status=MembershipStatus.NORMAL,
    ).select_related("organization")


def dues_import_template(*, organization: Organization, year: int) -> bytes:
    """An .xlsx with one row per party member (编号, 姓名, current category) ready to fill in."""
    wb = new_workbook()
    ws = wb.active
    ws.title = f"{year}年度党费基数"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDE0DC")
    for member in _import_members(organization).order_by("organization__path", "name", "pk"):
        ws.append([member.pk, member.name, member.get_dues_category_display(), None, None, None, None])
    labels = ",".join(label for _, label in DuesCategory.choices)
    validation = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=False)
    validation.error = "请从列表中选择党费类别"
    ws.add_data_validation(validation)
    validation.add(f"C2:C{max(ws.max_row, 2) + 200}")
    for letter, width in zip("ABCDEFG", (10, 12, 16, 18, 20, 20, 24), strict=True):
        ws.column_dimensions[letter].width = width
    help_sheet = wb.create_sheet("填写说明")
    help_sheet.append(["列", "内容", "说明"])
    for row in COLUMNS:
        help_sheet.append(list(row))
    help_sheet.append([])
    help_sheet.append(["", "年度", f"{year} 年；核定后全年不变，年度内确需调整的在系统中登记调整记录"])
    help_sheet.column_dimensions["C"].width = 90
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@dataclass
class _Row:
    line: int
    member_id: int | None
    name: str
    category: str
    base: Decimal | None
    amount: Decimal | None
    voluntary: Decimal | None
    note: str


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_rows(data: bytes) -> tuple[list[tuple[int, list[Any]]], list[Any]]:
    """Rows of the first sheet through the one limited XLSX reader (#21.8): a workbook of 10 M
    shared strings or a decompression bomb is refused before it is read."""
    rows: list[tuple[int, list[Any]]] = []
    header: list[Any] = []
    try:
        for index, values in read_xlsx_rows(data, limits=LIMITS, max_col=len(COLUMNS)):
            if not header and not rows and index == 1:
                header = values
                continue
            if all(_cell_text(v) == "" for v in values):
                continue
            rows.append((index, values))
            if len(rows) > MAX_ROWS:
                raise ValidationError({"file": f"一次最多导入 {MAX_ROWS} 行，请分批导入"})
    except XlsxRefused as exc:
        raise ValidationError({"file": exc.message}) from exc
    except XlsxUnsafeError as exc:
        raise ValidationError({"file": "文件含有不允许的 XML 内容（DTD 或实体声明），已拒绝"}) from exc
    except XlsxError as exc:
        raise ValidationError({"file": "无法读取该文件，请使用下载的模板（.xlsx）"}) from exc
    return rows, header


def _check_rows(
    *, organization: Organization, year: int, user: Any, raw_rows: list[tuple[int, list[Any]]]
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Every row checked; returns (clean rows for the commit, errors as [line, column, reason])."""
    errors: list[list[Any]] = []
    parsed: list[_Row] = []
    ids = []
    for line, values in raw_rows:
        text = [_cell_text(v) for v in values]
        member_id = int(text[0]) if is_number(text[0]) else None
        if member_id is None:
            errors.append([line, "A 党员编号", "党员编号应为数字（请使用模板中的编号）"])
        else:
            ids.append(member_id)
        category = CATEGORY_BY_LABEL.get(text[2], "")
        if not category:
            errors.append([line, "C 党费类别", f"未知的党费类别“{text[2]}”" if text[2] else "请填写党费类别"])
        money: dict[str, Decimal | None] = {}
        for letter, key, label in (
            ("D", "base", "计算基数"),
            ("E", "amount", "月缴金额"),
            ("F", "voluntary", "自愿多交金额"),
        ):
            raw = values["DEF".index(letter) + 3]
            try:
                money[key] = parse_money(
                    str(raw) if isinstance(raw, float | int) and not isinstance(raw, bool) else raw,
                    field=key,
                    label=label,
                    required=False,
                )
            except ValidationError as exc:
                money[key] = None
                errors.append([line, f"{letter} {HEADERS['ABCDEFG'.index(letter)]}", exc.message_dict[key][0]])
        parsed.append(
            _Row(line, member_id, text[1], category, money["base"], money["amount"], money["voluntary"], text[6][:200])
        )
    members = {
        m.pk: m
        for m in _import_members(organization).filter(pk__in=ids)
        if getattr(user, "is_authenticated", False) and _can_change(user, m)
    }
    already = set(DuesFixing.objects.filter(year=year, member_id__in=ids).values_list("member_id", flat=True))
    seen: dict[int, int] = {}
    clean = []
    for row in parsed:
        if row.member_id is None:
            continue
        member = members.get(row.member_id)
        if member is None:
            errors.append([row.line, "A 党员编号", "找不到该党员，或其不在本组织（含下级组织）的党员名单中"])
            continue
        if row.member_id in seen:
            errors.append([row.line, "A 党员编号", f"与第 {seen[row.member_id]} 行重复"])
            continue
        seen[row.member_id] = row.line
        if row.name != member.name:
            errors.append([row.line, "B 姓名", f"姓名与党员编号不符（系统中为“{member.name}”）"])
        if row.member_id in already:
            errors.append([row.line, "A 党员编号", f"{year} 年度党费已核定；年度内确需变更请登记调整记录"])
        if member.joined_on and member.joined_on > date(year, 12, 31):
            errors.append([row.line, "A 党员编号", f"该党员 {member.joined_on:%Y-%m-%d} 入党，{year} 年不缴纳党费"])
        if not row.category:
            continue
        if row.category in BASE_CATEGORIES:
            if row.base is None and not any(e[0] == row.line and e[1].startswith("D") for e in errors):
                errors.append([row.line, "D 计算基数（元/月）", "该类别须填写计算基数"])
        elif row.base is not None:
            errors.append([row.line, "D 计算基数（元/月）", "该类别按固定金额交纳，不填计算基数"])
        if row.category != DuesCategory.FARMER and row.amount is not None:
            errors.append([row.line, "E 农民党员月缴金额（元）", "只有农民党员填写此列"])
        try:
            standard = dues_standard(
                category=row.category,
                base=row.base if row.category in BASE_CATEGORIES else None,
                amount=row.amount if row.category == DuesCategory.FARMER else None,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                column = {"base": "D 计算基数（元/月）", "amount": "E 农民党员月缴金额（元）"}.get(field, "C 党费类别")
                if not any(e[0] == row.line and e[1] == column for e in errors):
                    errors.append([row.line, column, messages[0]])
            continue
        if row.voluntary is not None and row.voluntary < standard.amount:
            errors.append([row.line, "F 自愿多交月缴金额（元）", f"不能低于按规定应交的 {standard.amount} 元"])
        clean.append(
            {
                "line": row.line,
                "member_id": member.pk,
                "name": member.name,
                "category": row.category,
                "base": str(row.base) if row.base is not None else None,
                "amount": str(row.amount) if row.amount is not None else None,
                "voluntary": str(row.voluntary) if row.voluntary is not None else None,
                "monthly": str(max(standard.amount, row.voluntary or standard.amount)),
                "note": row.note,
            }
        )
    errors.sort(key=lambda e: (e[0], e[1]))
    return clean, errors


def _can_change(user: Any, member: Member) -> bool:
    return user_can(user, CHANGE, member)


@transaction.atomic
def dues_import_preview(
    *, organization: Organization, year: int, data: bytes, filename: str, user: Any
) -> DuesImportBatch:
    """Parse and check an upload; keep the checked rows (encrypted) for the commit."""
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": f"文件过大（上限 {MAX_BYTES // (1024 * 1024)} MB）"})
    if not 2000 <= year <= dates.today().year + 1:
        raise ValidationError({"year": f"年度应在 2000 至 {dates.today().year + 1} 之间"})
    raw_rows, header = _read_rows(data)
    header_errors = _check_header(header)
    clean, errors = (
        ([], []) if header_errors else _check_rows(organization=organization, year=year, user=user, raw_rows=raw_rows)
    )
    errors = header_errors + errors
    if not raw_rows and not errors:
        errors = [[1, "—", "表格中没有数据行"]]
    batch = DuesImportBatch(
        organization=organization,
        year=year,
        filename=filename[:200],
        errors=errors[:1000],
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    batch.set_rows(clean if not errors else [])
    batch.row_count = len(raw_rows)
    batch.save()
    audit_log(
        event="dues_import_preview",
        user=user,
        obj=batch,
        organization=organization,
        detail={"year": year, "rows": len(raw_rows), "errors": len(errors)},
    )
    return batch


def _check_header(header: list[Any]) -> list[list[Any]]:
    errors = []
    for index, (letter, title, _) in enumerate(COLUMNS[:6]):
        got = _cell_text(header[index]) if index < len(header) else ""
        if got != title:
            errors.append([1, f"{letter} 列", f"表头应为“{title}”，实际为“{got}”；请使用下载的模板"])
    return errors


@transaction.atomic
def dues_import_commit(*, batch: DuesImportBatch, user: Any, from_status: str = ImportStatus.PREVIEW) -> int:
    """Fix every row of a clean batch, all or nothing. Re-checks each row through the service:
    if anything changed since the preview (e.g. a member was fixed meanwhile), nothing is saved.
    ``from_status`` is COMMITTING when a worker runs it (members/dues/import_jobs.py)."""
    batch = DuesImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != from_status:
        raise ValidationError({"batch": "该批次已处理"})
    if batch.errors:
        raise ValidationError({"batch": "该批次有错误，不能导入；请修改表格后重新上传"})
    rows = batch.rows
    fixed_on = dates.today()
    members = {
        m.pk: m
        for m in Member.objects.select_for_update(of=("self",))
        .filter(pk__in=[r["member_id"] for r in rows])
        .select_related("organization")
    }
    problems = []
    specs = []
    for row in rows:
        member = members.get(row["member_id"])
        if member is None or not _can_change(user, member):
            problems.append(f"第 {row['line']} 行：找不到该党员或无权办理")
            continue
        specs.append(
            FixingSpec(
                member=member,
                category=row["category"],
                base=Decimal(row["base"]) if row["base"] is not None else None,
                amount=Decimal(row["amount"]) if row["amount"] is not None else None,
                voluntary_amount=Decimal(row["voluntary"]) if row["voluntary"] is not None else None,
                note=row["note"] or f"导入：{batch.filename}",
                key=row["line"],
            )
        )
    if problems:
        raise ValidationError({"batch": problems[:20]})
    previous = {str(member.pk): member.dues_category for member in members.values()}
    try:
        dues_fixings_create_many(
            specs=specs, year=batch.year, fixed_on=fixed_on, fixed_by=user, source=f"导入：{batch.filename}"
        )
    except ValidationError as exc:  # something changed since the preview: nothing is written
        lines = [f"第 {key} 行：{messages[0]}" for key, messages in exc.message_dict.items()]
        raise ValidationError({"batch": lines[:20]}) from None
    DuesFixing.objects.filter(year=batch.year, member_id__in=[spec.member.pk for spec in specs]).update(
        import_batch=batch
    )
    batch.status = ImportStatus.COMMITTED
    batch.committed_at = timezone.now()
    batch.previous_categories = previous
    batch.set_rows([])  # the bases now live (encrypted) in the fixings; the batch keeps no copy
    batch.row_count = len(rows)
    batch.save(update_fields=["status", "committed_at", "previous_categories", "rows_cipher", "row_count"])
    audit_log(
        event="dues_import_commit",
        user=user,
        obj=batch,
        organization=batch.organization,
        detail={"year": batch.year, "rows": len(rows)},
    )
    return len(rows)


@transaction.atomic
def dues_import_discard(*, batch: DuesImportBatch, user: Any) -> None:
    if batch.status != ImportStatus.PREVIEW:
        raise ValidationError({"batch": "该批次已处理"})
    batch.status = ImportStatus.DISCARDED
    batch.set_rows([])
    batch.save(update_fields=["status", "rows_cipher", "row_count"])
    audit_log(
        event="dues_import_discard",
        user=user,
        obj=batch,
        organization=batch.organization,
        detail={"year": batch.year},
    )


def _overlaps(a: Organization, b: Organization) -> bool:
    return a.path.startswith(b.path) or b.path.startswith(a.path)


def dues_import_rollback_blockers(*, batch: DuesImportBatch) -> list[str]:
    """Why the batch can no longer be rolled back (empty when it can)."""
    if batch.status != ImportStatus.COMMITTED:
        return ["只有已导入的批次可以撤销"]
    reasons: list[str] = []
    later = DuesImportBatch.objects.filter(
        year=batch.year, status=ImportStatus.COMMITTED, committed_at__gt=batch.committed_at
    ).select_related("organization")
    if any(_overlaps(other.organization, batch.organization) for other in later):
        reasons.append("之后又导入了新的批次，只能撤销最近一次导入")
    fixings = list(
        DuesFixing.objects.filter(import_batch=batch).only("pk", "member_id", "organization_id", "year", "start_month")
    )
    if len(fixings) != batch.row_count:
        reasons.append("部分导入的核定记录已被重新核定或删除")
    fixing_ids = [f.pk for f in fixings]
    member_ids = [f.member_id for f in fixings]
    months = DuesMonth.objects.filter(fixing_id__in=fixing_ids)
    if months.filter(paid_on__isnull=False).exists() or months.filter(payment__isnull=False).exists():
        reasons.append("导入后已有党员缴纳了党费")
    if DuesApproval.objects.filter(
        member_id__in=member_ids, kind__in=list(AMOUNT_APPROVALS), created_at__gt=batch.committed_at
    ).exists():
        reasons.append("导入后已登记了党费调整或少交、免交审批")
    if months.count() != sum(len(ledger_month_indexes(f)) for f in fixings):
        reasons.append("导入后已有党员的党费台账停止或变动（如取消预备党员资格）")
    org_of = {f.pk: f.organization_id for f in fixings}
    if any(
        org_of[fixing_id] != org_id
        for fixing_id, org_id in months.values_list("fixing_id", "organization_id").distinct()
    ):
        reasons.append("导入后已有党员办理了组织关系转接，党费台账已转到新的党支部")
    changed_category = (
        DuesFixing.objects.filter(import_batch=batch).exclude(member__dues_category=models.F("category")).exists()
    )
    if changed_category:
        reasons.append("导入后已有党员的党费类别被修改")
    return reasons


@transaction.atomic
def dues_import_rollback(*, batch: DuesImportBatch, user: Any) -> int:
    """Delete every fixing of the last committed batch (their ledger months and income items go with
    them) and restore the members' previous 党费类别, if nothing has happened to them since."""
    batch = DuesImportBatch.objects.select_for_update().select_related("organization").get(pk=batch.pk)
    list(DuesFixing.objects.select_for_update().filter(import_batch=batch).values_list("pk", flat=True))
    reasons = dues_import_rollback_blockers(batch=batch)
    if reasons:
        raise ValidationError({"batch": reasons})
    fixings = DuesFixing.objects.filter(import_batch=batch)
    org_ids = set(fixings.values_list("organization_id", flat=True))
    member_ids = list(fixings.values_list("member_id", flat=True))
    count = len(member_ids)
    fixings.delete()
    restore = []
    for member in Member.objects.filter(pk__in=member_ids).only("pk", "organization_id", "dues_category"):
        previous = batch.previous_categories.get(str(member.pk))
        if previous and previous != member.dues_category:
            member.dues_category = previous
            restore.append(member)
    Member.objects.bulk_update(restore, ["dues_category"], batch_size=1000)
    members_changed(m.organization_id for m in restore)
    dues_changed(org_ids)
    batch.status = ImportStatus.ROLLED_BACK
    batch.rolled_back_at = timezone.now()
    batch.save(update_fields=["status", "rolled_back_at"])
    audit_log(
        event="dues_import_rollback",
        user=user,
        obj=batch,
        organization=batch.organization,
        detail={"year": batch.year, "rows": count},
    )
    return count
