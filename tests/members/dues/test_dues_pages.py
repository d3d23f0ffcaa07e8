"""党费 and 发展党员 pages: the branch month, one-submit recording, arrears, publication, export, fixing,
import (preview with every bad row, all-or-nothing commit), development pages; gate and query counts."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from audit.models import AuditEvent
from members.development.models import DevelopmentStep
from members.development.services import development_applicant_create
from members.dues.imports import HEADERS
from members.dues.models import DuesFixing, DuesImportBatch, DuesMonth, DuesPayment
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_payment_record
from tests.factories import MemberFactory
from tests.files import PDF

pytestmark = pytest.mark.django_db
D = Decimal
THIS_YEAR = date.today().year  # fixings must not be for a year after next; this year always works


def fix(member, year=2025, base="5100", **kw):
    return dues_fixing_create(
        member=member, year=year, category="employed", base=D(base), fixed_on=date(year, 1, 5), **kw
    )


def test_collection_page_shows_rate_and_statuses(cast):
    fix(cast.member_a_record)
    other = MemberFactory(organization=cast.A, name="丙党员")
    fix(other)
    dues_payment_record(member=cast.member_a_record, months=[date(2025, 4, 1)], paid_on=date(2025, 4, 2))
    response = cast.client("secretary_a").get(f"/dues/org/{cast.A.pk}/", {"month": "2025-04"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "50.0%" in body and "已交 1 / 应交 2 人" in body and "丙党员" in body
    assert cast.client("secretary_a").get(f"/dues/org/{cast.A.pk}/", {"month": "2025-99"}).status_code == 400


def test_record_whole_branch_in_one_submit(cast):
    m1, m2 = cast.member_a_record, MemberFactory(organization=cast.A, name="丙党员")
    fix(m1)
    fix(m2, base="3000")
    client = cast.client("secretary_a")
    page = client.get(f"/dues/org/{cast.A.pk}/record/", {"month": "2025-05"})
    assert page.status_code == 200 and f'name="amount_{m2.pk}" value="15.00"' in page.content.decode()
    response = client.post(
        f"/dues/org/{cast.A.pk}/record/",
        {
            "month": "2025-05",
            "paid_on": "2025-05-06",
            "method": "cash",
            "pay": [m1.pk, m2.pk],
            f"amount_{m1.pk}": "76.50",
            f"amount_{m2.pk}": "20",
        },
    )
    assert response.status_code == 302
    assert DuesMonth.objects.filter(month=date(2025, 5, 1), paid_on=date(2025, 5, 6)).count() == 2
    assert DuesMonth.objects.get(member=m2, month=date(2025, 5, 1)).amount_paid == D("20.00")
    follow = client.get(response["Location"])
    assert "100.0%" in follow.content.decode() and "收缴率 100.0%" in follow.content.decode()


def test_record_errors_redisplay_and_save_nothing(cast):
    m1, m2 = cast.member_a_record, MemberFactory(organization=cast.A, name="丙党员")
    fix(m1)
    fix(m2)
    response = cast.client("secretary_a").post(
        f"/dues/org/{cast.A.pk}/record/",
        {
            "month": "2025-05",
            "paid_on": "2025-05-06",
            "method": "cash",
            "pay": [m1.pk, m2.pk],
            f"amount_{m1.pk}": "76.50",
            f"amount_{m2.pk}": "-3",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "不能为负数" in body and "本次未保存任何记录" in body and 'value="-3"' in body
    assert not DuesPayment.objects.exists()
    nothing = cast.client("secretary_a").post(
        f"/dues/org/{cast.A.pk}/record/", {"month": "2025-05", "paid_on": "2025-05-06", "method": "cash"}
    )
    assert nothing.status_code == 400 and "请至少勾选一名党员" in nothing.content.decode()


def test_gate_on_dues_pages(cast):
    fix(cast.member_a_record)
    member_pk = cast.member_a_record.pk
    other = cast.client("secretary_b")
    for url in [
        f"/dues/org/{cast.A.pk}/",
        f"/dues/org/{cast.A.pk}/record/",
        f"/dues/org/{cast.A.pk}/arrears/",
        f"/dues/org/{cast.A.pk}/year/",
        f"/dues/org/{cast.A.pk}/export.xlsx",
        f"/dues/org/{cast.A.pk}/fixings/",
        f"/dues/org/{cast.A.pk}/import/",
        f"/dues/member/{member_pk}/",
        f"/dues/member/{member_pk}/fix/",
        f"/development/org/{cast.A.pk}/",
        f"/development/member/{member_pk}/",
    ]:
        assert other.get(url).status_code == 404, url
    assert other.post(f"/dues/member/{member_pk}/pay/", {"months": ["2025-01"]}).status_code == 404
    member = cast.client("member_a")
    assert member.get(f"/dues/org/{cast.A.pk}/").status_code == 403
    assert member.get(f"/dues/org/{cast.A.pk}/year/").status_code == 200  # 党费收缴公开 to the branch's members
    assert member.get(f"/dues/org/{cast.B.pk}/year/").status_code == 404
    assert cast.client("auditor_p").get(f"/dues/org/{cast.A.pk}/record/").status_code == 403
    assert cast.client("auditor_p").get(f"/dues/org/{cast.A.pk}/year/").status_code == 200
    for url in (f"/dues/org/{cast.A.pk}/year/", f"/dues/org/{cast.A.pk}/", f"/development/org/{cast.A.pk}/"):
        assert cast.client("sysadmin").get(url).status_code in (403, 404), url  # 三员: no member data


def test_my_dues_page_and_partial(cast):
    fix(cast.member_a_record, year=THIS_YEAR)
    response = cast.client("member_a").get("/dues/mine/")
    body = response.content.decode()
    assert response.status_code == 200 and "我的党费" in body and "每月 76.50 元" in body
    assert cast.client("secretary_b").get("/dues/mine/").status_code == 403


def test_export_xlsx_is_audited_with_row_count(cast):
    fix(cast.member_a_record)
    fix(MemberFactory(organization=cast.A, name="丙党员"))
    dues_payment_record(member=cast.member_a_record, months=[date(2025, 1, 1)], paid_on=date(2025, 1, 3))
    response = cast.client("secretary_a").get(f"/dues/org/{cast.A.pk}/export.xlsx", {"year": "2025"})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:4] == ("姓名", "党费类别", "核定月缴（元）", "1月")
    assert rows[2][0] == "丙党员" and rows[3][0] == "甲党员" and rows[3][3] == "76.50"
    event = AuditEvent.objects.get(event="dues_export")
    assert event.detail == {"year": 2025, "rows": 2}


def test_year_summary_lists_members_by_name(cast):
    fix(cast.member_a_record)
    fix(MemberFactory(organization=cast.A, name="丙党员"), base="20000")
    body = cast.client("secretary_a").get(f"/dues/org/{cast.A.pk}/year/", {"year": "2025"}).content.decode()
    assert "不作排名" in body and body.index("丙党员") < body.index("甲党员")


def test_arrears_page_flags(cast):
    fix(cast.member_a_record)
    body = cast.client("secretary_a").get(f"/dues/org/{cast.A.pk}/arrears/").content.decode()
    assert "自行脱党" in body and "甲党员" in body  # all of 2025 unpaid: 12 months in a row


def test_fix_page_with_income_items(cast):
    member = cast.member_a_record
    client = cast.client("secretary_a")
    page = client.get(f"/dues/member/{member.pk}/fix/", {"year": "2025"})
    assert "奖励性绩效工资" in page.content.decode() and "不计入" in page.content.decode()
    response = client.post(
        f"/dues/member/{member.pk}/fix/?year=2025",
        {
            "year": "2025",
            "category": "employed",
            "base_mode": "items",
            "fixed_on": "2025-01-04",
            "item_position_salary": "6000",
            "item_incentive_performance": "3000",
            "item_income_tax": "900",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fixing = DuesFixing.objects.get(member=member)
    assert fixing.base == D("5100.00") and fixing.monthly_amount == D("76.50")
    bad = client.post(
        f"/dues/member/{member.pk}/fix/?year=2025",
        {"year": "2025", "category": "employed", "base_mode": "direct", "base": "abc", "fixed_on": "2025-01-04"},
    )
    assert bad.status_code == 400 and "应为数字" in bad.content.decode() and 'value="abc"' in bad.content.decode()


def test_member_page_payment_and_approval_forms(cast):
    member = cast.member_a_record
    fix(member, year=THIS_YEAR)
    client = cast.client("secretary_a")
    approval = client.post(
        f"/dues/member/{member.pk}/approval/",
        {
            "kind": "reduce",
            "start_month": f"{THIS_YEAR}-02",
            "amount": "10",
            "reason": "家庭困难",
            "approver": "中共测试委员会",
            "approved_on": f"{THIS_YEAR}-01-20",
        },
    )
    assert approval.status_code == 302
    assert DuesMonth.objects.get(member=member, month=date(THIS_YEAR, 2, 1)).amount_due == D("10.00")
    pay = client.post(
        f"/dues/member/{member.pk}/pay/",
        {"months": [f"{THIS_YEAR}-01", f"{THIS_YEAR}-02"], "paid_on": f"{THIS_YEAR}-01-21", "method": "cash"},
    )
    assert pay.status_code == 302
    assert DuesPayment.objects.get().total == D("86.50")
    refused = client.post(
        f"/dues/member/{member.pk}/approval/",
        {"kind": "reduce", "start_month": f"{THIS_YEAR}-03", "amount": "10", "approved_on": f"{THIS_YEAR}-01-20"},
    )
    assert refused.status_code == 400 and "该字段是必填项" in refused.content.decode()


def _xlsx(rows, header=None):
    wb = Workbook()
    ws = wb.active
    ws.append(header or HEADERS)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("bases.xlsx", buffer.getvalue())


def test_import_template_lists_members(cast):
    response = cast.client("secretary_a").get(f"/dues/org/{cast.A.pk}/import/template.xlsx", {"year": "2025"})
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0][:4]) == HEADERS[:4]
    assert rows[1][:3] == (cast.member_a_record.pk, "甲党员", "在职")


def test_import_preview_lists_every_bad_row_then_nothing_saved(cast):
    m1 = cast.member_a_record
    m2 = MemberFactory(organization=cast.A, name="丙党员")
    upload = _xlsx(
        [
            [m1.pk, "甲党员", "在职", -5, None, None, None],
            [m2.pk, "错名字", "学生", 3000, None, None, None],
            [cast.member_b_record.pk, "乙党员", "在职", 5000, None, None, None],
            ["x", "某某", "火星", "abc", None, None, None],
            [m1.pk, "甲党员", "农民", None, 2, None, None],
        ]
    )
    response = cast.client("secretary_a").post(f"/dues/org/{cast.A.pk}/import/", {"year": "2025", "file": upload})
    assert response.status_code == 302
    batch = DuesImportBatch.objects.get()
    errors = {(line, column.split()[0]): reason for line, column, reason in batch.errors}
    assert "不能为负数" in errors[(2, "D")]
    assert "姓名与党员编号不符" in errors[(3, "B")] and "不填计算基数" in errors[(3, "D")]
    assert "不在本组织" in errors[(4, "A")]
    assert "应为数字" in errors[(5, "A")] and "未知的党费类别" in errors[(5, "C")] and "应为数字" in errors[(5, "D")]
    assert "重复" in errors[(6, "A")]
    page = cast.client("secretary_a").get(response["Location"])
    assert "整批不能导入" in page.content.decode()
    commit = cast.client("secretary_a").post(response["Location"], {"action": "commit"})
    assert commit.status_code == 400
    assert not DuesFixing.objects.exists()


def test_import_commit_all_or_nothing(cast):
    m1 = cast.member_a_record
    m2 = MemberFactory(organization=cast.A, name="丙党员")
    m3 = MemberFactory(organization=cast.A, name="丁党员")
    upload = _xlsx(
        [
            [m1.pk, "甲党员", "在职", 5100, None, None, "年初申报"],
            [m2.pk, "丙党员", "农民", None, 0.5, None, None],
            [m3.pk, "丁党员", "离退休", "5000.01", None, 80, None],
        ]
    )
    client = cast.client("secretary_a")
    response = client.post(f"/dues/org/{cast.A.pk}/import/", {"year": "2025", "file": upload})
    batch = DuesImportBatch.objects.get()
    assert batch.errors == [] and len(batch.rows) == 3
    assert "5100" not in batch.rows_cipher  # the parsed bases are kept encrypted
    # someone fixes 丁党员 by hand before the commit: the whole batch is refused
    fix(m3)
    refused = client.post(response["Location"], {"action": "commit"})
    assert refused.status_code == 400 and "已核定" in refused.content.decode()
    assert set(DuesFixing.objects.values_list("member_id", flat=True)) == {m3.pk}
    DuesFixing.objects.filter(member=m3).delete()
    done = client.post(response["Location"], {"action": "commit"})
    assert done.status_code == 302
    amounts = dict(DuesFixing.objects.values_list("member__name", "monthly_amount"))
    assert amounts == {"甲党员": D("76.50"), "丙党员": D("0.50"), "丁党员": D("80.00")}
    batch.refresh_from_db()
    assert batch.status == "committed" and batch.rows_cipher == ""
    assert AuditEvent.objects.filter(event="dues_import_commit").count() == 1


def test_import_refuses_a_non_xlsx_and_a_wrong_header(cast):
    client = cast.client("secretary_a")
    bad = client.post(
        f"/dues/org/{cast.A.pk}/import/",
        {"year": "2025", "file": SimpleUploadedFile("x.xlsx", b"<html>not a sheet</html>")},
    )
    assert bad.status_code == 400 and ".xlsx" in bad.content.decode()
    client.post(f"/dues/org/{cast.A.pk}/import/", {"year": "2025", "file": _xlsx([[1]], header=["编号", "名字"])})
    batch = DuesImportBatch.objects.get()
    assert batch.errors[0][0] == 1 and "表头应为" in batch.errors[0][2]


def _grow(cast, n):
    for _ in range(n):
        member = MemberFactory(organization=cast.A)
        fix(member)
        dues_payment_record(member=member, months=[date(2025, 1, 1)], paid_on=date(2025, 1, 2))
        development_applicant_create(
            organization=cast.A, name="申请人", sex="male", birth_date=date(1990, 1, 1), applied_on=date(2024, 1, 2)
        )


@pytest.mark.parametrize(
    "url",
    [
        "/dues/org/{A}/?month=2025-01",
        "/dues/org/{A}/record/?month=2025-02",
        "/dues/org/{A}/arrears/",
        "/dues/org/{A}/year/?year=2025",
        "/dues/org/{A}/fixings/?year=2025",
        "/dues/org/{P}/?month=2025-01",
        "/development/org/{A}/",
    ],
)
def test_pages_take_constant_queries(cast, url):
    client = cast.client("org_admin_p")
    target = url.format(A=cast.A.pk, P=cast.P.pk)
    _grow(cast, 2)
    client.get(target)
    with CaptureQueriesContext(connection) as small:
        assert client.get(target).status_code == 200
    _grow(cast, 8)
    with CaptureQueriesContext(connection) as large:
        assert client.get(target).status_code == 200
    assert len(large) == len(small), (len(small), len(large))


def test_development_pages(cast):
    client = cast.client("secretary_a")
    response = client.post(
        f"/development/org/{cast.A.pk}/new/",
        {"name": "新申请人", "sex": "female", "birth_date": "1998-02-03", "applied_on": "2024-03-01"},
    )
    assert response.status_code == 302
    person = DevelopmentStep.objects.get().member
    page = client.get(response["Location"])
    assert "派人谈话" in page.content.decode()
    late = client.post(
        f"/development/member/{person.pk}/", {"step": "talk", "occurred_on": "2024-04-15", "decided_by": "王书记"}
    )
    assert late.status_code == 302
    follow = client.get(late["Location"]).content.decode()
    assert "一个月内派人谈话" in follow
    refused = client.post(f"/development/member/{person.pk}/", {"step": "candidate", "occurred_on": "2024-05-01"})
    assert refused.status_code == 400 and "请先登记“确定入党积极分子”" in refused.content.decode()
    young = client.post(
        f"/development/org/{cast.A.pk}/new/",
        {"name": "少年", "sex": "male", "birth_date": "2010-01-01", "applied_on": "2024-03-01"},
    )
    assert young.status_code == 400 and "年满十八岁" in young.content.decode()
    pipeline = client.get(f"/development/org/{cast.A.pk}/").content.decode()
    assert "新申请人" in pipeline and "入党申请人" in pipeline


def test_development_attachment_checked_and_gated(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    person = development_applicant_create(
        organization=cast.A, name="申请人", sex="female", birth_date=date(1995, 5, 5), applied_on=date(2024, 1, 10)
    )
    client = cast.client("secretary_a")
    fake = SimpleUploadedFile("谈话记录.pdf", b"<script>alert(1)</script>", content_type="application/pdf")
    refused = client.post(
        f"/development/member/{person.pk}/", {"step": "talk", "occurred_on": "2024-01-20", "attachment": fake}
    )
    assert refused.status_code == 400 and "JPEG、PNG 图片或 PDF" in refused.content.decode()
    pdf = SimpleUploadedFile("谈话记录.pdf", PDF, content_type="application/pdf")
    ok = client.post(
        f"/development/member/{person.pk}/", {"step": "talk", "occurred_on": "2024-01-20", "attachment": pdf}
    )
    assert ok.status_code == 302
    step = DevelopmentStep.objects.get(step="talk")
    assert step.attachment.name.endswith(".pdf") and "谈话记录" not in step.attachment.name
    download = client.get(f"/development/step/{step.pk}/attachment/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert cast.client("secretary_b").get(f"/development/step/{step.pk}/attachment/").status_code == 404
