"""Spreadsheet import: template, preview listing every bad row, all-or-nothing commit, rollback."""

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from openpyxl import Workbook, load_workbook

from audit.models import AuditEvent
from members.choices import ImportStatus
from members.imports import COLUMNS, SHEET_NAME, import_commit, import_preview, import_rollback
from members.models import ImportBatch, Member, OrganizationMembership
from members.services import member_create, member_update
from tests.member_helpers import make_id, record

pytestmark = pytest.mark.django_db


def xlsx(rows, headers=None):
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append(headers or [c.header + ("*" if c.required else "") for c in COLUMNS])
    for row in rows:
        ws.append([row.get(c.header) for c in COLUMNS] if isinstance(row, dict) else row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def row(cast, n, **overrides):
    born = date(1980, 1, 1)
    values = {
        "姓名": f"导入{n}",
        "民族": "汉族",
        "公民身份号码": make_id(born, seq=2 * n + 1, male=True),
        "人员类别": "正式党员",
        "所在党支部代码": cast.A.code,
        "加入党组织日期": "2005-07-01",
        "转为正式党员日期": date(2006, 7, 1),
        "联系电话": f"1390000{n:04d}",
        "学历": "大学本科",
    }
    values.update(overrides)
    return values


def test_template_has_every_column_text_formatted_id_and_help(cast):
    response = cast.client("secretary_a").get("/members/import/template.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    headers = [cell.value for cell in wb[SHEET_NAME][1]]
    assert headers[0] == "姓名*" and "公民身份号码*" in headers and len(headers) == len(COLUMNS)
    id_col = headers.index("公民身份号码*") + 1
    assert wb[SHEET_NAME].cell(row=2, column=id_col).number_format == "@"
    assert "填写说明" in wb.sheetnames and "代码表" in wb.sheetnames


def test_preview_lists_every_bad_row_by_line_and_column_and_writes_nothing(cast):
    good = row(cast, 1)
    rows = [
        good,
        row(cast, 2, **{"公民身份号码": "370781198001010000"}),  # line 3: check digit
        row(cast, 3, **{"人员类别": "群众", "联系电话": "12345"}),  # line 4: two errors
        row(cast, 4, **{"所在党支部代码": cast.B.code}),  # line 5: out of reach
        row(cast, 5, **{"加入党组织日期": "昨天"}),  # line 6: date
        row(cast, 6, **{"公民身份号码": good["公民身份号码"]}),  # line 7: duplicate of line 2
        row(cast, 7, **{"转为正式党员日期": "2004-01-01"}),  # line 8: 转正 before admission
        row(cast, 8, **{"公民身份号码": 370781198001010017}),  # line 9: number cell
        row(cast, 9, **{"姓名": None}),  # line 10: required
    ]
    batch = import_preview(user=cast.users["secretary_a"], scope=cast.A, data=xlsx(rows), file_name="a.xlsx")
    assert batch.row_count == 9 and batch.file_cipher == b""
    errors = {(line, column): message for line, column, message in batch.errors}
    assert "校验位" in errors[(3, "公民身份号码")]
    assert "不是有效的人员类别" in errors[(4, "人员类别")] and "联系电话" in errors[(4, "联系电话")]
    assert "无权导入" in errors[(5, "所在党支部代码")]
    assert "无法识别" in errors[(6, "加入党组织日期")]
    assert "与第 2 行" in errors[(7, "公民身份号码")]
    assert "不能早于加入党组织日期" in errors[(8, "转为正式党员日期")]
    assert "文本格式" in errors[(9, "公民身份号码")]
    assert errors[(10, "姓名")] == "必填"
    assert batch.error_count == len(batch.errors) == 9
    assert {line for line, _, _ in batch.errors} == set(range(3, 11))
    assert not Member.objects.filter(name__startswith="导入").exists()
    with pytest.raises(ValidationError):
        import_commit(batch=batch, user=cast.users["secretary_a"])
    assert not Member.objects.filter(name__startswith="导入").exists()


def test_preview_page_shows_errors_and_commit_button_only_when_clean(cast):
    client = cast.client("secretary_a")
    bad = SimpleUploadedFile("bad.xlsx", xlsx([row(cast, 1, **{"性别": "未知"})]))
    response = client.post("/members/import/", {"organization": cast.A.pk, "file": bad})
    batch = ImportBatch.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "不是有效的性别" in page and "确认导入" not in page
    good = SimpleUploadedFile("good.xlsx", xlsx([row(cast, 1), row(cast, 2)]))
    response = client.post("/members/import/", {"organization": cast.A.pk, "file": good})
    batch = ImportBatch.objects.latest("pk")
    assert "确认导入 2 人" in client.get(response["Location"]).content.decode()
    client.post(f"/members/import/{batch.pk}/", {"action": "commit"})
    assert Member.objects.filter(name__startswith="导入").count() == 2


def test_commit_writes_all_rows_encrypted_with_roster_and_audit(cast):
    rows = [row(cast, n) for n in range(1, 6)] + [row(cast, 6, **{"所在党小组代码": cast.A1.code})]
    batch = import_preview(user=cast.users["secretary_a"], scope=cast.A, data=xlsx(rows), file_name="ok.xlsx")
    assert batch.error_count == 0 and batch.file_cipher
    assert make_id(date(1980, 1, 1), seq=3).encode() not in bytes(batch.file_cipher)
    batch = import_commit(batch=batch, user=cast.users["secretary_a"])
    assert batch.status == ImportStatus.COMMITTED and batch.committed_count == 6 and batch.file_cipher == b""
    members = Member.objects.filter(import_batch=batch)
    assert members.count() == 6 and OrganizationMembership.objects.filter(member__in=members).count() == 6
    first = members.get(name="导入1")
    assert first.decrypt_id_number() == rows[0]["公民身份号码"] and first.phone_masked == "139****0001"
    assert first.birth_date == date(1980, 1, 1) and first.sex == "male"  # derived from the ID number
    assert members.get(name="导入6").party_group == cast.A1
    assert AuditEvent.objects.get(event="member_import_commit").detail["rows"] == 6
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_member")  # noqa: S608
        dump = str(cursor.fetchall())
    assert rows[0]["公民身份号码"] not in dump and "13900000001" not in dump


def test_commit_is_all_or_nothing_when_data_changed_since_preview(cast):
    rows = [row(cast, n) for n in range(1, 4)]
    batch = import_preview(user=cast.users["secretary_a"], scope=cast.A, data=xlsx(rows), file_name="x.xlsx")
    # Meanwhile someone registers the person of the third row by hand.
    member_create(
        organization=cast.A,
        **record(name="手工登记", birth_date=date(1980, 1, 1), id_number=rows[2]["公民身份号码"], phone=""),
    )
    with pytest.raises(ValidationError, match="未导入任何数据"):
        import_commit(batch=batch, user=cast.users["secretary_a"])
    assert not Member.objects.filter(name__startswith="导入").exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEWED and batch.error_count == 1 and batch.errors[0][0] == 4
    with pytest.raises(ValidationError):  # the file was dropped: a new upload is needed
        import_commit(batch=batch, user=cast.users["secretary_a"])


def test_rollback_last_batch_while_unchanged(cast):
    user = cast.users["secretary_a"]
    first = import_commit(
        batch=import_preview(user=user, scope=cast.A, data=xlsx([row(cast, 1), row(cast, 2)]), file_name="1"),
        user=user,
    )
    second = import_commit(
        batch=import_preview(user=user, scope=cast.A, data=xlsx([row(cast, 3)]), file_name="2"), user=user
    )
    with pytest.raises(ValidationError, match="只能撤销最近一次"):
        import_rollback(batch=first, user=user)
    assert import_rollback(batch=second, user=user) == 1
    assert not Member.objects.filter(name="导入3").exists()
    assert AuditEvent.objects.get(event="member_import_rollback").detail["rows"] == 1
    member_update(member=Member.objects.get(name="导入1"), native_place="山东青州")
    with pytest.raises(ValidationError, match="已有党员记录被修改"):
        import_rollback(batch=first, user=user)
    assert Member.objects.filter(import_batch=first).count() == 2


def test_rollback_page_and_refusal_after_transfer(cast):
    from core.dates import today
    from members.choices import TransferKind
    from members.services import transfer_issue

    user = cast.users["secretary_a"]
    batch = import_commit(
        batch=import_preview(user=user, scope=cast.A, data=xlsx([row(cast, 1)]), file_name="t"), user=user
    )
    page = cast.client("secretary_a").get(f"/members/import/{batch.pk}/").content.decode()
    assert "撤销本次导入" in page
    transfer_issue(
        member=Member.objects.get(name="导入1"),
        user=user,
        kind=TransferKind.OUTGOING,
        issued_on=today(),
        external_organization="外单位",
        letter_number="1",
        dues_paid_until=today(),
    )
    page = cast.client("secretary_a").get(f"/members/import/{batch.pk}/").content.decode()
    assert "已不能撤销" in page and "组织关系转接" in page
    response = cast.client("secretary_a").post(f"/members/import/{batch.pk}/", {"action": "rollback"})
    assert response.status_code == 302 and Member.objects.filter(name="导入1").exists()


@pytest.mark.parametrize(
    "content,message",
    [
        (b"name,id\n1,2\n", "不是 XLSX"),
        (b"PK\x03\x04garbage", "损坏"),
        ("headers", "表头与模板不一致"),
    ],
)
def test_unreadable_files_refused_in_chinese(cast, content, message):
    if content == "headers":
        content = xlsx([], headers=["姓名", "身份证"])
    upload = SimpleUploadedFile("x.xlsx", content)
    response = cast.client("secretary_a").post("/members/import/", {"organization": cast.A.pk, "file": upload})
    assert response.status_code == 200 and message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_import_scope_must_be_changeable_and_batches_are_gated(cast):
    user = cast.users["secretary_a"]
    batch = import_preview(user=user, scope=cast.A, data=xlsx([row(cast, 1)]), file_name="s")
    assert cast.client("secretary_b").get(f"/members/import/{batch.pk}/").status_code == 404
    assert cast.client("auditor_p").post(f"/members/import/{batch.pk}/", {"action": "commit"}).status_code == 403
    upload = SimpleUploadedFile("x.xlsx", xlsx([row(cast, 1)]))
    response = cast.client("secretary_a").post("/members/import/", {"organization": cast.B.pk, "file": upload})
    assert response.status_code == 200 and ImportBatch.objects.count() == 1


def test_fast_reader_agrees_with_openpyxl_on_shared_strings_dates_and_gaps():
    from datetime import datetime

    from core.xlsx_reader import iter_rows

    wb = Workbook()  # normal mode: shared strings and a <dimension>, as Excel writes
    ws = wb.active
    ws.title = "数据"
    ws.append(["文本", "日期", "数字", "小数", "布尔", None, "末列"])
    ws.append(["张三", date(2024, 7, 1), 13812345678, 1.5, True, None, "x"])
    ws.append([None, datetime(2020, 1, 2, 0, 0), "0536-8234567", None, False, None, None])
    ws["B4"] = date(1999, 12, 31)
    ws["B4"].number_format = "yyyy年m月d日"
    ws["A6"] = "隔行"
    buffer = io.BytesIO()
    wb.save(buffer)
    ours = [(n, list(v)) for n, v in iter_rows(io.BytesIO(buffer.getvalue()), sheet_name="数据", max_col=7)]
    reference = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)["数据"]
    theirs = []
    for number, row in enumerate(reference.iter_rows(values_only=True, max_col=7), start=1):
        if any(v is not None for v in row):
            theirs.append((number, list(row) + [None] * (7 - len(row))))
    assert [(n, v) for n, v in ours if any(x is not None for x in v)] == theirs
    assert ours[1][1][1] == datetime(2024, 7, 1) and ours[1][1][2] == 13812345678 and ours[1][1][4] is True


def test_reader_refuses_a_zip_that_is_not_a_workbook(cast):
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<not-closed")
    with pytest.raises(ValidationError, match="无法读取"):
        import_preview(user=cast.users["secretary_a"], scope=cast.A, data=buffer.getvalue(), file_name="z.xlsx")


def test_bench_import_command_prints_a_table_and_leaves_nothing(capsys):
    from django.core.management import call_command

    from organizations.models import Organization

    call_command("bench_import", rows=[60])
    out = capsys.readouterr().out
    for scenario in ("preview (read + check)", "commit (check + insert)", "import total", "rollback"):
        assert scenario in out
    assert not Member.objects.exists() and not Organization.objects.filter(code__startswith="BENCH-").exists()


def test_commit_and_rollback_reach_the_dashboard_without_a_rebuild(cast, django_capture_on_commit_callbacks):
    """bulk_create sends no model signals: the import marks the dashboard's member figures dirty."""
    from core.dates import today
    from dashboard.facts import facts_rebuild
    from dashboard.selectors import Period, dashboard_data

    facts_rebuild()
    on = today()
    period = Period(on.year, (on.month - 1) // 3 + 1, on)
    admin = cast.users["org_admin_p"]
    before = dashboard_data(user=admin, org=cast.P, period=period)["members"]["party_total"]
    user = cast.users["secretary_a"]
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_commit(
            batch=import_preview(
                user=user, scope=cast.A, data=xlsx([row(cast, n) for n in range(1, 4)]), file_name="d"
            ),
            user=user,
        )
    assert dashboard_data(user=admin, org=cast.P, period=period)["members"]["party_total"] == before + 3
    with django_capture_on_commit_callbacks(execute=True):
        import_rollback(batch=batch, user=user)
    assert dashboard_data(user=admin, org=cast.P, period=period)["members"]["party_total"] == before
