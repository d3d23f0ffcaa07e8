"""Import members from a spreadsheet: template → upload and preview → commit all or nothing →
roll back the last batch while nothing has changed since.

The uploaded file holds clear ID numbers: its rows are kept only encrypted (``ImportBatch.file_cipher``,
as JSON, so the XLSX is parsed once) between preview and commit. Commit re-checks every row (the
database may have changed since the preview) and writes with bulk inserts inside one transaction.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from audit.services import audit_log
from core.access import CHANGE
from core.dates import today
from core.signals import rows_changed
from core.xlsx import new_workbook
from core.xlsx_reader import XlsxError, XlsxLimits, XlsxRefused, XlsxUnsafeError, read_xlsx_rows
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
)
from members.models import ID_NUMBER_FIELD, ImportBatch, Member, OrganizationMembership
from members.selectors import ID_NUMBER_TAKEN, member_id_hashes_taken
from members.services import FieldErrors, member_check_organization, member_check_record
from members.validators import id_birth_date, id_sex, validate_id_number, validate_phone
from organizations.choices import OrgType
from organizations.models import Organization

FILE_FIELD = "members.ImportBatch.file"
SHEET_NAME = "党员信息"
MAX_ROWS = getattr(settings, "PB_IMPORT_MAX_ROWS", 200_000)
MAX_BYTES = getattr(settings, "PB_IMPORT_MAX_BYTES", 30 * 1024 * 1024)
MAX_UNZIPPED_BYTES = 400 * 1024 * 1024
LIMITS = XlsxLimits(
    max_bytes=MAX_BYTES,
    max_unzipped_bytes=MAX_UNZIPPED_BYTES,
    max_rows=MAX_ROWS,
    max_cols=200,
    max_shared_strings=2_000_000,
)
MAX_STORED_ERRORS = 20_000
BULK_BATCH = 2000
_YES = {"是", "y", "yes", "true", "1", "√"}
_NO = {"否", "n", "no", "false", "0", ""}


def _lookup(choices: Any, aliases: dict[str, str] | None = None) -> dict[str, str]:
    table = {label: value for value, label in choices.choices}
    table.update({value: value for value in choices.values})
    table.update(aliases or {})
    return table


STAGE_LOOKUP = _lookup(Stage, {"正式": Stage.FULL, "预备": Stage.PROBATIONARY, "申请人": Stage.APPLICANT})
SEX_LOOKUP = _lookup(Sex)
ETHNICITY_LOOKUP = _lookup(Ethnicity)
EDUCATION_LOOKUP = _lookup(Education, {"研究生": Education.MASTER, "本科": Education.BACHELOR, "大专": Education.ASSOCIATE, "中专": Education.SECONDARY_VOCATIONAL})  # fmt: skip
DEGREE_LOOKUP = _lookup(Degree)
JOB_POST_LOOKUP = _lookup(JobPost)
STATUS_LOOKUP = _lookup(MembershipStatus)
DUES_LOOKUP = _lookup(DuesCategory)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    kind: str = "text"  # text, date, bool, choice, id, phone, org, group
    lookup: dict[str, str] | None = None
    max_length: int = 0
    note: str = ""


COLUMNS: list[Column] = [
    Column("name", "姓名", True, max_length=50),
    Column("sex", "性别", kind="choice", lookup=SEX_LOOKUP, note="男/女；空白时按身份证号第 17 位"),
    Column("ethnicity", "民族", kind="choice", lookup=ETHNICITY_LOOKUP, note="如 汉族"),
    Column("id_number", "公民身份号码", True, kind="id", note="18 位，文本格式"),
    Column("birth_date", "出生日期", kind="date", note="空白时按身份证号"),
    Column("education", "学历", kind="choice", lookup=EDUCATION_LOOKUP),
    Column("degree", "学位", kind="choice", lookup=DEGREE_LOOKUP),
    Column(
        "stage",
        "人员类别",
        True,
        kind="choice",
        lookup=STAGE_LOOKUP,
        note="正式党员/预备党员/发展对象/入党积极分子/入党申请人",
    ),  # fmt: skip
    Column("organization", "所在党支部代码", True, kind="org"),
    Column("party_group", "所在党小组代码", kind="group"),
    Column("joined_on", "加入党组织日期", kind="date"),
    Column("full_on", "转为正式党员日期", kind="date"),
    Column("job_post", "工作岗位", kind="choice", lookup=JOB_POST_LOOKUP),
    Column("phone", "联系电话", kind="phone", note="手机或带区号的固定电话"),
    Column("home_address", "家庭住址", max_length=200),
    Column("membership_status", "党籍状态", kind="choice", lookup=STATUS_LOOKUP, note="空白为 正常"),
    Column("suspended_on", "停止党籍日期", kind="date"),
    Column("is_lost_contact", "是否失联", kind="bool"),
    Column("lost_contact_since", "失去联系日期", kind="date"),
    Column("is_mobile", "是否流动党员", kind="bool"),
    Column("mobile_destination", "外出流向", max_length=100),
    Column("mobile_since", "外出日期", kind="date"),
    Column("is_abroad", "是否出国（境）", kind="bool"),
    Column("abroad_since", "出国（境）日期", kind="date"),
    Column("native_place", "籍贯", max_length=50),
    Column("league_joined_on", "入团日期", kind="date"),
    Column("work_started_on", "参加工作日期", kind="date"),
    Column("employer", "工作单位", max_length=200),
    Column("professional_title", "专业技术职务", max_length=50),
    Column("is_migrant_worker", "是否农民工", kind="bool"),
    Column("dues_category", "党费类别", kind="choice", lookup=DUES_LOOKUP, note="空白为 在职"),
]
HEADERS = {column.key: column.header for column in COLUMNS}
DEFAULTS = {"membership_status": MembershipStatus.NORMAL, "dues_category": DuesCategory.EMPLOYED}


class ImportFileError(ValidationError):
    """The file as a whole cannot be read (not XLSX, too big, wrong headers)."""


# --- template --------------------------------------------------------------------------------


def import_template_xlsx() -> bytes:
    """The XLSX template: the data sheet with headers, instructions, and the code lists."""
    wb = new_workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append([f"{c.header}*" if c.required else c.header for c in COLUMNS])
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE2E1")
    for index, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=index)
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4)
        if column.kind in ("id", "phone", "org", "group"):
            # Text format: Excel would turn an 18-digit number into 1.10101E+17.
            for row in range(2, 2002):
                ws.cell(row=row, column=index).number_format = "@"
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    notes.append(["列", "必填", "说明"])
    for column in COLUMNS:
        notes.append([column.header, "是" if column.required else "", column.note])
    notes.append([])
    notes.append(["日期", "", "格式 2024-07-01（也接受 2024/7/1、2024.07.01 或 Excel 日期）"])
    notes.append(["是/否", "", "填“是”或“否”，空白为否"])
    notes.append(["整体", "", "第一行为表头，不要改动；有任何一行出错时整批都不会导入"])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["C"].width = 70
    codes = wb.create_sheet("代码表")
    lists = [
        ("人员类别", Stage),
        ("党籍状态", MembershipStatus),
        ("学历", Education),
        ("学位", Degree),
        ("工作岗位", JobPost),
        ("党费类别", DuesCategory),
        ("民族", Ethnicity),
    ]
    codes.append([title for title, _ in lists])
    longest = max(len(choices.labels) for _, choices in lists)
    for i in range(longest):
        codes.append([choices.labels[i] if i < len(choices.labels) else None for _, choices in lists])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- reading and checking --------------------------------------------------------------------


@dataclass
class ParseResult:
    row_count: int = 0
    valid_count: int = 0
    error_count: int = 0
    errors: list[list[Any]] = field(default_factory=list)  # [row, column header, message]

    def add(self, row: int, key: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append([row, HEADERS.get(key, key), message])


def _rows(data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(Excel row number, values) of the data sheet, after checking the header row."""
    try:
        rows = read_xlsx_rows(data, limits=LIMITS, sheet_name=SHEET_NAME, max_col=len(COLUMNS))
        header = next(rows, None)
        expected = [c.header for c in COLUMNS]
        got = [str(v or "").strip().rstrip("*") for v in (header[1] if header else ())]
        if got[: len(expected)] != expected:
            missing = [h for h in expected if h not in got]
            detail = f"缺少或顺序不对的列：{'、'.join(missing[:5]) or '列顺序与模板不一致'}"
            raise ImportFileError({"file": f"表头与模板不一致（{detail}），请下载最新模板"})
        for count, (number, values) in enumerate(rows, start=1):
            if count > MAX_ROWS:
                raise ImportFileError({"file": f"数据超过 {MAX_ROWS} 行，请分批导入"})
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield number, tuple(values)
    except XlsxRefused as exc:
        raise ImportFileError({"file": exc.message}) from exc
    except XlsxUnsafeError as exc:
        raise ImportFileError(
            {"file": "文件含有不允许的 XML 内容（DTD 或实体声明），已拒绝；请用模板重新填写"}
        ) from exc
    except XlsxError as exc:
        raise ImportFileError({"file": "无法读取该 XLSX 文件，请用模板重新填写"}) from exc


def check_file(data: bytes) -> None:
    """The cheap checks, at upload: an XLSX within the limits whose header row is the template's
    (the rows are checked by a worker, members.import_jobs). Raises ImportFileError."""
    next(_rows(data), None)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    raise ValueError(text)


@dataclass
class _Context:
    user: Any
    scope: Organization
    orgs: dict[str, Organization]
    groups: dict[str, Organization]
    existing_hashes: set[str]
    on: date
    seal: bool = True


def _cell(column: Column, raw: Any, ctx: _Context) -> Any:
    """The parsed value of one cell, or raise ValueError with the Chinese reason."""
    text = "" if raw is None else _text(raw)
    if not text:
        if column.required:
            raise ValueError("必填")
        if column.kind == "bool":
            return False
        return DEFAULTS.get(column.key, None if column.kind in ("date", "org", "group") else "")
    if column.kind == "text":
        if column.max_length and len(text) > column.max_length:
            raise ValueError(f"不能超过 {column.max_length} 个字")
        return text
    if column.kind == "date":
        try:
            return _parse_date(raw)
        except ValueError:
            raise ValueError(f"日期“{text[:20]}”无法识别，请写成 2024-07-01") from None
    if column.kind == "bool":
        lowered = text.lower()
        if lowered in _YES:
            return True
        if lowered in _NO:
            return False
        raise ValueError("请填“是”或“否”")
    if column.kind == "choice":
        value = column.lookup.get(text) if column.lookup else None
        if value is None:
            raise ValueError(f"“{text[:20]}”不是有效的{column.header}")
        return value
    if column.kind == "id":
        if isinstance(raw, int | float):
            raise ValueError("公民身份号码被保存成了数字（后几位可能已变成 0），请把该列设为文本格式后重新填写")
        return text  # checked with the birth date and sex below
    if column.kind == "phone":
        try:
            return validate_phone(text)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None
    if column.kind == "org":
        org = ctx.orgs.get(text)
        if org is None:
            raise ValueError(f"组织代码“{text[:40]}”不存在，或不在导入范围内、您无权导入")
        return org
    if column.kind == "group":
        group = ctx.groups.get(text)
        if group is None:
            raise ValueError(f"党小组代码“{text[:40]}”不存在或不在导入范围内")
        return group
    raise ValueError("无法识别")  # pragma: no cover - every kind is handled above


def _context(user: Any, scope: Organization, rows: list[tuple[int, tuple[Any, ...]]]) -> _Context:
    org_index = next(i for i, c in enumerate(COLUMNS) if c.key == "organization")
    group_index = next(i for i, c in enumerate(COLUMNS) if c.key == "party_group")
    codes = {_text(values[org_index]) for _, values in rows} | {_text(values[group_index]) for _, values in rows}
    codes.discard("")
    allowed = Organization.objects.visible_to(user, CHANGE).filter(path__startswith=scope.path)
    found: dict[str, Organization] = {}
    code_list = sorted(codes)
    for start in range(0, len(code_list), 1000):
        for org in allowed.filter(code__in=code_list[start : start + 1000]):
            found[org.code] = org
    orgs = {code: org for code, org in found.items() if org.org_type != OrgType.GROUP}
    groups = {code: org for code, org in found.items() if org.org_type == OrgType.GROUP}
    return _Context(user=user, scope=scope, orgs=orgs, groups=groups, existing_hashes=set(), on=today())


def read_rows(data: bytes) -> list[tuple[int, tuple[Any, ...]]]:
    """Every non-empty data row of an uploaded file, with its Excel row number."""
    return list(_rows(data))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def rows_to_bytes(rows: list[tuple[int, tuple[Any, ...]]]) -> bytes:
    """The rows as compact JSON (kept encrypted between preview and commit: no second XLSX parse)."""
    return json.dumps(
        [[number, [_jsonable(v) for v in values]] for number, values in rows], ensure_ascii=False
    ).encode()


def rows_from_bytes(blob: bytes) -> list[tuple[int, tuple[Any, ...]]]:
    return [(number, tuple(values)) for number, values in json.loads(blob)]


def import_parse(
    *, data: bytes, user: Any, scope: Organization, sink: Callable[[list[Member]], None] | None = None
) -> ParseResult:
    """Read and check every row of an XLSX file (see ``check_rows``)."""
    return check_rows(rows=read_rows(data), user=user, scope=scope, sink=sink)


def check_rows(
    *,
    rows: list[tuple[int, tuple[Any, ...]]],
    user: Any,
    scope: Organization,
    sink: Callable[[list[Member]], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ParseResult:
    """Check every row; errors name the Excel row, the column and the reason. ``progress`` is told
    the number of rows checked every ``BULK_BATCH`` rows (the background check shows it).

    Valid members are handed to ``sink`` in chunks (the commit inserts them; the preview does
    not), so memory stays flat. The caller's transaction makes the whole batch all or nothing.
    """
    ctx = _context(user, scope, rows)
    ctx.seal = sink is not None
    result = ParseResult(row_count=len(rows))
    seen: dict[str, int] = {}
    pending: list[tuple[int, Member]] = []

    def flush() -> None:
        existing = member_id_hashes_taken(ctx.user, [m.id_number_hash for _, m in pending])
        valid = []
        for number, member in pending:
            if member.id_number_hash in existing:
                result.add(number, "id_number", ID_NUMBER_TAKEN)
            else:
                valid.append(member)
        result.valid_count += len(valid)
        if sink is not None and valid and result.error_count == 0:
            sink(valid)
        pending.clear()

    for number, values in rows:
        member = _row_member(number, values, ctx, result)
        if member is None:
            continue
        first = seen.get(member.id_number_hash)
        if first is not None:
            result.add(number, "id_number", f"与第 {first} 行的公民身份号码重复")
            continue
        seen[member.id_number_hash] = number
        pending.append((number, member))
        if len(pending) >= BULK_BATCH:
            flush()
            if progress is not None:
                progress(number)
    flush()
    result.errors.sort(key=lambda item: item[0])
    return result


def _row_member(number: int, values: tuple[Any, ...], ctx: _Context, result: ParseResult) -> Member | None:
    """The Member of one row (unsaved, ID and phone sealed), or None after recording its errors."""
    fields: dict[str, Any] = {}
    row_ok = True
    for column, raw in zip(COLUMNS, values, strict=False):
        try:
            fields[column.key] = _cell(column, raw, ctx)
        except ValueError as exc:
            result.add(number, column.key, str(exc))
            row_ok = False
            fields[column.key] = None
    id_text = fields.pop("id_number") or ""
    phone = fields.pop("phone") or ""
    organization = fields.pop("organization")
    number_value = ""
    if id_text:
        # Birth date and sex may be left blank: they follow from the ID number.
        try:
            number_value = validate_id_number(
                id_text, birth_date=fields.get("birth_date"), sex=fields.get("sex") or None, today=ctx.on
            )
        except ValidationError as exc:
            result.add(number, "id_number", exc.messages[0])
            row_ok = False
        else:
            fields["birth_date"] = fields.get("birth_date") or id_birth_date(number_value)
            fields["sex"] = fields.get("sex") or id_sex(number_value)
    if organization is None or not row_ok:
        return None
    member = _new_member(organization, fields)
    errors = FieldErrors()
    member_check_organization(organization=organization, errors=errors)
    member_check_record(member, on=ctx.on, errors=errors)
    if errors.errors:
        for key, messages in errors.errors.items():
            for message in messages:
                result.add(number, key, message)
        return None
    if ctx.seal:
        member.set_id_number(number_value)
        if phone:
            member.set_phone(phone)
    else:  # the preview needs only the blind index (duplicates); the commit encrypts
        member.id_number_hash = crypto.blind_index(number_value, field=ID_NUMBER_FIELD)
    return member


_FIELD_ORDER: list[str] = []
_DEFAULTS: dict[str, Any] = {}
_FRESH_DEFAULTS: list[Any] = []


def _new_member(organization: Organization, fields: dict[str, Any]) -> Member:
    """``Member(...)`` through the positional fast path of ``Model.__init__`` (a third of the
    check time at 100,000 rows otherwise goes to looking up each field's default)."""
    if not _FIELD_ORDER:
        for field in Member._meta.concrete_fields:
            _FIELD_ORDER.append(field.attname)
            if field.has_default() and callable(field.default):
                _FRESH_DEFAULTS.append(field)  # e.g. default=dict: never share one object
            else:
                _DEFAULTS[field.attname] = None if field.primary_key else field.get_default()
    values = dict(_DEFAULTS)
    for field in _FRESH_DEFAULTS:
        values[field.attname] = field.get_default()
    for key, value in fields.items():
        if value is None:
            continue
        if key == "party_group":
            values["party_group_id"] = value.pk
        else:
            values[key] = value
    values["organization_id"] = organization.pk
    member = Member(*[values[name] for name in _FIELD_ORDER])
    member.organization = organization  # cache the loaded instance (no query on access)
    if fields.get("party_group") is not None:
        member.party_group = fields["party_group"]
    return member


# --- services --------------------------------------------------------------------------------


def import_preview(*, user: Any, scope: Organization, data: bytes, file_name: str) -> ImportBatch:
    """Check an upload and keep its rows (encrypted) for the commit. Nothing is imported yet."""
    rows = read_rows(data)
    result = check_rows(rows=rows, user=user, scope=scope)
    return ImportBatch.objects.create(
        organization=scope,
        created_by=user,
        file_name=file_name[:200],
        file_cipher=crypto.encrypt_bytes(rows_to_bytes(rows), field=FILE_FIELD) if result.error_count == 0 else b"",
        row_count=result.row_count,
        error_count=result.error_count,
        errors=result.errors,
        status=ImportStatus.PREVIEWED,
    )


class _Refused(Exception):
    """Raised inside the commit transaction to undo every row written so far."""

    def __init__(self, result: ParseResult) -> None:
        super().__init__("import refused")
        self.result = result


def _inserter(batch: ImportBatch, on: date) -> Callable[[list[Member]], None]:
    def insert(members: list[Member]) -> None:
        for member in members:
            member.import_batch = batch
        Member.objects.bulk_create(members, batch_size=BULK_BATCH)
        OrganizationMembership.objects.bulk_create(
            [
                OrganizationMembership(member_id=m.pk, organization_id=m.organization_id, start_on=m.joined_on or on)
                for m in members
            ],
            batch_size=BULK_BATCH,
        )
        # bulk_create sends no signals: the dashboard's member figures are refreshed after the commit.
        rows_changed.send(sender=Member, organization_ids={m.organization_id for m in members})

    return insert


def import_commit(*, batch: ImportBatch, user: Any, from_status: str = ImportStatus.PREVIEWED) -> ImportBatch:
    """Import every row or none. The file is re-checked as it is written (the database may have
    changed since the preview); any error rolls the whole batch back. ``from_status`` is
    COMMITTING when a worker runs it (members.import_jobs)."""
    batch = ImportBatch.objects.select_related("organization").get(pk=batch.pk)
    if batch.status != from_status or not batch.file_cipher:
        raise ValidationError({"batch": "该批次不能导入（已导入、已放弃或预览有错误）"})
    rows = rows_from_bytes(crypto.decrypt_bytes(batch.file_cipher, field=FILE_FIELD))
    try:
        with transaction.atomic():
            locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if locked.status != from_status:
                raise ValidationError({"batch": "该批次已被处理"})
            try:
                result = check_rows(rows=rows, user=user, scope=batch.organization, sink=_inserter(locked, today()))
            except IntegrityError:
                result = ParseResult(error_count=1, errors=[[0, "公民身份号码", "导入期间有重复的公民身份号码被登记"]])
            if result.error_count:
                raise _Refused(result)
            locked.status = ImportStatus.COMMITTED
            locked.committed_at = timezone.now()
            locked.committed_count = result.valid_count
            locked.file_cipher = b""
            locked.save(update_fields=["status", "committed_at", "committed_count", "file_cipher"])
            audit_log(
                event="member_import_commit",
                user=user,
                obj=locked,
                organization=batch.organization,
                detail={"rows": result.valid_count, "file": batch.file_name},
            )
            return locked
    except _Refused as refused:
        result = refused.result
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.PREVIEWED, errors=result.errors, error_count=result.error_count, file_cipher=b""
        )
        raise ValidationError(
            {"batch": f"数据已发生变化，复核发现 {result.error_count} 处错误，未导入任何数据"}
        ) from None


@transaction.atomic
def import_discard(*, batch: ImportBatch, user: Any) -> ImportBatch:
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.PREVIEWED:
        raise ValidationError({"batch": "只能放弃尚未导入的批次"})
    batch.status = ImportStatus.DISCARDED
    batch.file_cipher = b""
    batch.save(update_fields=["status", "file_cipher"])
    return batch


def _overlaps(a: Organization, b: Organization) -> bool:
    return a.path.startswith(b.path) or b.path.startswith(a.path)


def import_rollback_blockers(*, batch: ImportBatch) -> list[str]:
    """Why the batch can no longer be rolled back (empty when it can)."""
    if batch.status != ImportStatus.COMMITTED:
        return ["只有已导入的批次可以撤销"]
    reasons: list[str] = []
    later = ImportBatch.objects.filter(pk__gt=batch.pk, status=ImportStatus.COMMITTED).select_related("organization")
    if any(_overlaps(other.organization, batch.organization) for other in later):
        reasons.append("之后又导入了新的批次，只能撤销最近一次导入")
    members = Member.objects.filter(import_batch=batch)
    if members.count() != batch.committed_count:
        reasons.append("部分导入的党员记录已被删除或调整")
    if members.filter(updated_at__gt=batch.committed_at).exists() or members.filter(user__isnull=False).exists():
        reasons.append("导入后已有党员记录被修改")
    roster = OrganizationMembership.objects.filter(member__import_batch=batch)
    if roster.count() != batch.committed_count or roster.filter(end_on__isnull=False).exists():
        reasons.append("导入后已有党员办理了组织关系转接")
    for relation in Member._meta.related_objects:
        if relation.related_model is OrganizationMembership:
            continue
        lookup = f"{relation.field.name}__import_batch"
        if relation.related_model._default_manager.filter(**{lookup: batch}).exists():
            reasons.append(f"导入的党员已有{relation.related_model._meta.verbose_name}等相关记录")
    return reasons


@transaction.atomic
def import_rollback(*, batch: ImportBatch, user: Any) -> int:
    """Delete every member of the last batch, if nothing has changed since it was imported."""
    batch = ImportBatch.objects.select_for_update(of=("self",)).select_related("organization").get(pk=batch.pk)
    reasons = import_rollback_blockers(batch=batch)
    if reasons:
        raise ValidationError({"batch": reasons})
    OrganizationMembership.objects.filter(member__import_batch=batch).delete()
    members = Member.objects.filter(import_batch=batch)
    rows_changed.send(
        sender=Member, organization_ids=set(members.values_list("organization_id", flat=True).distinct())
    )
    # Nothing refers to these rows (checked above), so one DELETE does it; Django's collector
    # would load every row and query each related table. The database still enforces the
    # foreign keys: a row added meanwhile makes the DELETE fail and the rollback refuse.
    try:
        with transaction.atomic():
            members._raw_delete(members.db)
    except IntegrityError as exc:
        raise ValidationError({"batch": "导入的党员刚刚有了相关记录，不能撤销"}) from exc
    batch.status = ImportStatus.ROLLED_BACK
    batch.rolled_back_at = timezone.now()
    batch.save(update_fields=["status", "rolled_back_at"])
    audit_log(
        event="member_import_rollback",
        user=user,
        obj=batch,
        organization=batch.organization,
        detail={"rows": batch.committed_count},
    )
    return batch.committed_count
