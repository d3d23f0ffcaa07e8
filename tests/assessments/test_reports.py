"""Quarterly inspection reports: contents for a hand-built quarter (read back from the XLSX and
the PDF text), idempotent generation, failure marking and retry, batches and the beat job."""

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from openpyxl import load_workbook

from assessments.choices import BatchStatus, ReportKind, ReportStatus
from assessments.models import InspectionReport, RectificationItem, ReportBatch
from assessments.services.reports import (
    inspection_report_generate,
    inspection_report_retry,
    quarterly_reports_start,
    report_batch_request,
    report_file_path,
)
from organizations.services import committee_term_start
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def quarter(cast):
    """Branch A in 2026 Q1: 3 full + 1 probationary members, an overdue term, two meetings
    (attendance 3/4 and 4/4), one overdue open rectification and one closed on time."""
    from activities.models import Meeting

    committee_term_start(org=cast.A, elected_on=date(2020, 3, 1))  # expired 2023-03-01
    MemberFactory.create_batch(2, organization=cast.A)  # plus 甲党员 from the cast = 3 full
    MemberFactory(organization=cast.A, stage="probationary", full_on=None, joined_on=date(2025, 9, 1))
    Meeting.objects.create(
        organization=cast.A,
        meeting_type="general_assembly",
        title="一季度党员大会",
        held_on=date(2026, 1, 20),
        status="final",
        expected_count=4,
        present_count=3,
    )
    Meeting.objects.create(
        organization=cast.A,
        meeting_type="lecture",
        title="专题党课",
        held_on=date(2026, 3, 10),
        status="final",
        expected_count=4,
        present_count=4,
    )
    Meeting.objects.create(  # a draft never counts
        organization=cast.A,
        meeting_type="committee",
        title="草稿",
        held_on=date(2026, 2, 1),
        status="draft",
        expected_count=4,
        present_count=0,
    )
    RectificationItem.objects.create(
        organization=cast.A,
        problem="党费台账不规范",
        requirement="重新建立台账",
        owner_name="张三",
        deadline=date(2026, 3, 15),
        status="open",
    )
    RectificationItem.objects.create(
        organization=cast.A,
        problem="会议记录缺签到",
        requirement="补全签到表",
        owner_name="李四",
        deadline=date(2026, 2, 28),
        status="closed",
        completed_on=date(2026, 2, 20),
    )
    RectificationItem.objects.filter(problem__in=["党费台账不规范", "会议记录缺签到"]).update(
        created_at=timezone.make_aware(datetime(2026, 1, 5))
    )
    return cast


def _report(org, kind=ReportKind.SINGLE, year=2026, q=1):
    from assessments.periods import quarter_period

    period = quarter_period(year, q)
    return InspectionReport.objects.create(
        organization=org, year=year, quarter=q, kind=kind, period_start=period.start, period_end=period.end
    )


def _sheet_rows(path, title):
    wb = load_workbook(path, read_only=True)
    rows = [list(r) for r in wb[title].iter_rows(values_only=True)]
    wb.close()
    return rows


def _pdf_text(path):
    tool = shutil.which("pdftotext")
    if not tool:
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _png(pdf, name):
    tool = shutil.which("pdftoppm")
    if not tool:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [tool, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(SCREENSHOTS / name)],
        check=True,
    )


def test_report_contents_for_a_hand_built_quarter(quarter):
    cast = quarter
    report = _report(cast.A)
    assert inspection_report_generate(report_id=report.pk) == "done"
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE and report.generated_at is not None
    assert (report.period_start, report.period_end) == (date(2026, 1, 1), date(2026, 3, 31))
    summary = report.summary
    assert (summary["members_full"], summary["members_probationary"]) == (3, 1)
    assert (summary["meetings"], summary["attendance_expected"], summary["attendance_present"]) == (2, 8, 7)
    assert summary["metrics"]["attendance_rate"] == "0.8750"
    assert summary["metrics"]["rectification_closed_share"] == "0.5000"
    assert summary["metrics"]["term_not_overdue"] == "0.0000"
    assert (summary["rectifications_open"], summary["rectifications_overdue"]) == (1, 1)
    assert summary["term_status"] == "任期已届满，应及时换届"

    xlsx = report_file_path(report, "xlsx")
    key = {row[0]: row[1] for row in _sheet_rows(xlsx, "主要指标")[2:] if row and len(row) > 1 and row[0]}
    assert key["组织生活出勤率"] == "87.5%"
    assert key["整改事项按期销号率"] == "50.0%"
    assert key["委员会按期换届"] == "否"
    meetings = _sheet_rows(xlsx, "会议记录与出勤")
    assert [r[:6] for r in meetings[2:4]] == [
        ["2026-01-20", "支部党员大会", "一季度党员大会", 4, 3, "75.0%"],
        ["2026-03-10", "党课", "专题党课", 4, 4, "100.0%"],
    ]
    assert all(r[6].startswith("/activities/meetings/") for r in meetings[2:4])  # links to the records
    assert any("出勤率 87.5%" in str(r[0]) for r in meetings if r and r[0])
    open_items = _sheet_rows(xlsx, "未办结事项和整改")
    assert ["督查整改", "第一党支部", "党费台账不规范", "张三", "2026-03-15", "已逾期"] in open_items
    assert not any(r and "会议记录缺签到" in str(r) for r in open_items)
    facts = {r[0]: r[1] for r in _sheet_rows(xlsx, "概况") if r and len(r) > 1}
    assert facts["党员人数"] == "正式党员 3 名，预备党员 1 名"

    pdf = report_file_path(report, "pdf")
    text = _pdf_text(pdf)
    assert "第一党支部2026年第1季度督查报告" in text
    assert "87.5%" in text and "任期已届满，应及时换届" in text and "党费台账不规范" in text
    _png(pdf, "inspection_report_branch")


def test_rollup_compares_children_with_charts(quarter):
    cast = quarter
    report = _report(cast.P, kind=ReportKind.ROLLUP)
    assert inspection_report_generate(report_id=report.pk) == "done"
    report.refresh_from_db()
    children = {c["organization"]: c for c in report.summary["children"]}
    assert set(children) == {"第一党支部", "第二党支部"}
    assert children["第一党支部"]["attendance_rate"] == "0.8750" and children["第一党支部"]["members"] == 4
    assert children["第二党支部"]["attendance_rate"] is None
    rows = _sheet_rows(report_file_path(report, "xlsx"), "下级组织主要指标对比")
    header = rows[1]
    first = dict(zip(header, rows[2], strict=True))
    assert first["下级组织"] == "第一党支部" and first["组织生活出勤率"] == "87.5%" and first["未销号整改"] == 1
    wb = load_workbook(report_file_path(report, "xlsx"))
    assert len(wb["下级组织对比图"]._charts) == 1
    text = _pdf_text(report_file_path(report, "pdf"))
    assert "下级组织督查汇总" in text and "第二党支部" in text
    _png(report_file_path(report, "pdf"), "inspection_report_rollup")


def test_batch_generates_every_report_of_the_subtree_once(quarter, django_capture_on_commit_callbacks):
    cast = quarter
    admin = cast.users["org_admin_p"]
    with django_capture_on_commit_callbacks(execute=True):
        batch = report_batch_request(organization=cast.P, year=2026, quarter=1, user=admin)
    batch.refresh_from_db()
    # P, A and B singles (the group A1 is part of A's report) + P's roll-up.
    reports = InspectionReport.objects.filter(year=2026, quarter=1)
    assert sorted(reports.values_list("organization__name", "kind")) == sorted(
        [("中共测试委员会", "single"), ("中共测试委员会", "rollup"), ("第一党支部", "single"), ("第二党支部", "single")]
    )
    assert (batch.status, batch.total, batch.done, batch.failed) == (BatchStatus.DONE, 4, 4, 0)
    first = {r.pk: (r.generated_at, report_file_path(r, "pdf").stat().st_mtime_ns) for r in reports}

    # Re-running without force keeps every stored file.
    with django_capture_on_commit_callbacks(execute=True):
        again = report_batch_request(organization=cast.P, year=2026, quarter=1, user=admin)
    again.refresh_from_db()
    assert (again.status, again.total) == (BatchStatus.DONE, 0)
    assert {r.pk: (r.generated_at, report_file_path(r, "pdf").stat().st_mtime_ns) for r in reports.all()} == first

    # With force the files are replaced (same rows, new generation time).
    with django_capture_on_commit_callbacks(execute=True):
        forced = report_batch_request(organization=cast.P, year=2026, quarter=1, user=admin, force=True)
    forced.refresh_from_db()
    assert (forced.total, forced.done) == (4, 4)
    assert reports.count() == 4
    assert all(r.generated_at > first[r.pk][0] for r in reports.all())


def test_a_failed_report_is_marked_with_its_reason_and_can_be_retried(
    quarter, monkeypatch, media, django_capture_on_commit_callbacks
):
    cast = quarter
    report = _report(cast.A)

    def broken(doc, path):
        Path(path).write_bytes(b"half-written")
        raise OSError("磁盘已满")

    monkeypatch.setattr("assessments.reports.xlsx.render_xlsx", broken)
    assert inspection_report_generate(report_id=report.pk) == "failed"
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and "磁盘已满" in report.error
    assert not report.pdf_file and not report.xlsx_file
    folder = media / "inspection_reports" / "2026Q1"
    assert not list(folder.glob(".tmp-*")) and not list(folder.glob("*.xlsx"))
    assert not InspectionReport.objects.filter(status=ReportStatus.DONE).exists()

    monkeypatch.undo()
    with pytest.raises(PermissionDenied):
        inspection_report_retry(report=report, user=cast.users["secretary_a"])
    with django_capture_on_commit_callbacks(execute=True):
        inspection_report_retry(report=report, user=cast.users["org_admin_p"])
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE and report.error == "" and report.attempts == 2


def test_a_claimed_report_is_not_generated_twice(quarter):
    report = _report(quarter.A)
    InspectionReport.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, started_at=timezone.now())
    assert inspection_report_generate(report_id=report.pk) == "skipped"
    assert inspection_report_generate(report_id=report.pk, force=False) == "skipped"


def test_only_org_admins_request_past_quarters(quarter):
    from django.core.exceptions import ValidationError

    cast = quarter
    with pytest.raises(PermissionDenied):
        report_batch_request(organization=cast.A, year=2026, quarter=1, user=cast.users["secretary_a"])
    with pytest.raises(ValidationError) as exc:
        report_batch_request(organization=cast.P, year=2099, quarter=1, user=cast.users["org_admin_p"])
    assert "已结束季度" in str(exc.value)
    with pytest.raises(ValidationError):
        report_batch_request(organization=cast.P, year=2026, quarter=5, user=cast.users["org_admin_p"])


def test_beat_job_starts_one_batch_per_root_for_the_quarter_just_ended(cast):
    assert settings.CELERY_BEAT_SCHEDULE["assessments-quarterly-reports"]["task"] == "assessments.quarterly_reports"
    ids = quarterly_reports_start(on=date(2026, 4, 1))
    batches = ReportBatch.objects.filter(pk__in=ids)
    assert sorted(batches.values_list("organization__name", "year", "quarter")) == sorted(
        [("中共测试委员会", 2026, 1), ("中共其他单位委员会", 2026, 1)]
    )
    assert quarterly_reports_start(on=date(2026, 4, 1)) == []  # pending batches are not doubled
