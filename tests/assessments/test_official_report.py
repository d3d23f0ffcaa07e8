"""#15.2: the quarterly inspection report as an official document: 红头 from the issuing
organization's settings, 文号 numbered per issuer and year, body paragraphs from the data,
问题清单 and 整改要求 that become rectification items on the reviewer's confirmation, 落款, the
tables as 附件; headings never end a page; the per-person development list only when asked."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assessments.choices import ReportKind
from assessments.models import InspectionReport, RectificationItem, ReportHeading
from assessments.periods import quarter_period
from assessments.reports.data import build_org_report
from assessments.services.official import report_findings_confirm, report_heading_save
from assessments.services.reports import inspection_report_generate, report_file_path
from core.dates import today
from organizations.services import committee_term_start
from tests.assessments.pdf_helpers import pdf_text, save_pngs
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def issued(cast):
    committee_term_start(org=cast.A, elected_on=date(2020, 3, 1))  # expired 2023
    MemberFactory.create_batch(3, organization=cast.A)
    report_heading_save(
        organization=cast.P,
        user=cast.users["org_admin_p"],
        issuer_mark="中共测试委员会组织部",
        number_pattern="测组〔{year}〕{n}号",
        recipients="各党支部",
        signatory="中共测试委员会组织部",
    )
    return cast


def _report(org, kind=ReportKind.SINGLE):
    period = quarter_period(2026, 1)
    report = InspectionReport.objects.create(
        organization=org, year=2026, quarter=1, kind=kind, period_start=period.start, period_end=period.end
    )
    assert inspection_report_generate(report_id=report.pk) == "done"
    report.refresh_from_db()
    return report


def test_report_is_an_official_document_with_red_head_number_body_findings_and_signature(issued):
    cast = issued
    report = _report(cast.A)
    year = today().year
    assert report.doc_number == f"测组〔{year}〕1号"
    text = pdf_text(report_file_path(report, "pdf"))
    save_pngs(report_file_path(report, "pdf"), "inspection_report_official")
    for expected in [
        "中共测试委员会组织部",
        f"测组〔{year}〕1号",
        "关于第一党支部2026年第1季度督查情况的报告",
        "各党支部：",
        "一、基本情况",
        "二、组织生活落实情况",
        "三、党费收缴情况",
        "四、换届情况",
        "问题清单",
        "整改要求",
        "委员会任期已届满，未按期换届",
        f"{timezone.localdate():%Y}年",
        "附件",
        "第一党支部2026年第1季度督查报告",  # the tables follow as 附件
    ]:
        assert expected in text, expected
    findings = report.summary["findings"]
    assert any("任期已届满" in f["problem"] and f["organization_id"] == cast.A.pk for f in findings)


def test_numbers_run_per_issuer_and_year_and_regenerating_keeps_the_number(issued):
    cast = issued
    first = _report(cast.A)
    second = _report(cast.B)
    year = today().year
    assert (first.doc_number, second.doc_number) == (f"测组〔{year}〕1号", f"测组〔{year}〕2号")
    assert inspection_report_generate(report_id=first.pk, force=True) == "done"
    first.refresh_from_db()
    assert first.doc_number == f"测组〔{year}〕1号"
    assert ReportHeading.objects.get(organization=cast.P).number_last == 2


def test_without_settings_the_parent_issues_with_defaults(cast):
    report = _report(cast.A)
    assert report.doc_number.endswith(f"〔{today().year}〕1号")
    assert ReportHeading.objects.get().organization == cast.P


def test_findings_become_rectification_items_only_on_confirmation(issued):
    cast = issued
    report = _report(cast.A)
    assert not RectificationItem.objects.exists()
    index = next(i for i, f in enumerate(report.summary["findings"]) if "任期已届满" in f["problem"])
    with pytest.raises(PermissionDenied):
        report_findings_confirm(report=report, user=cast.users["secretary_a"], indexes=[index])
    with pytest.raises(ValidationError):
        report_findings_confirm(report=report, user=cast.users["org_admin_p"], indexes=[99])
    created = report_findings_confirm(report=report, user=cast.users["org_admin_p"], indexes=[index])
    assert len(created) == 1
    item = created[0]
    assert (item.organization, item.source_report, item.source) == (cast.A, report, "inspection")
    assert "启动换届选举" in item.requirement
    again = report_findings_confirm(report=report, user=cast.users["org_admin_p"], indexes=[index])
    assert again == [] and RectificationItem.objects.count() == 1
    report.refresh_from_db()
    assert report.summary["findings"][index]["rectification_id"] == item.pk


def test_heading_settings_are_validated_and_only_for_org_admins(cast):
    with pytest.raises(PermissionDenied):
        report_heading_save(
            organization=cast.P,
            user=cast.users["secretary_a"],
            issuer_mark="x",
            number_pattern="x〔{year}〕{n}号",
            recipients="",
            signatory="x",
        )
    with pytest.raises(ValidationError) as exc:
        report_heading_save(
            organization=cast.P,
            user=cast.users["org_admin_p"],
            issuer_mark="组织部",
            number_pattern="测组〔{year}〕号",
            recipients="",
            signatory="组织部",
        )
    assert "number_pattern" in exc.value.message_dict
    assert not ReportHeading.objects.exists()


def test_no_page_ends_with_a_heading(issued):
    report = _report(issued.A)
    path = report_file_path(report, "pdf")
    from pypdf import PdfReader

    pages = len(PdfReader(str(path)).pages)
    headings = ("一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、", "九、", "附件")
    for page in range(1, pages + 1):
        import shutil
        import subprocess

        out = subprocess.run(
            [shutil.which("pdftotext"), "-f", str(page), "-l", str(page), str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        lines = [ln.strip() for ln in out.splitlines() if ln.strip() and "仅供党组织内部" not in ln and "页" not in ln]
        assert lines and not lines[-1].startswith(headings), (page, lines[-1])


def test_committee_report_counts_development_steps_and_lists_people_only_when_asked(issued):
    cast = issued
    period = quarter_period(2026, 1)
    plain = build_org_report(cast.P, period)
    titles = [s.title for s in plain.sections]
    dev = next(s for s in plain.sections if s.title.startswith("五、"))
    assert dev.columns == ["步骤", "登记数", "有时限提示"]
    assert "附表：发展党员步骤明细" not in titles
    asked = build_org_report(cast.P, period, development_list=True)
    assert asked.sections[-1].title == "附表：发展党员步骤明细"
    branch = build_org_report(cast.A, period)
    assert next(s for s in branch.sections if s.title.startswith("五、")).columns[1] == "姓名"


def test_api_confirms_findings_and_saves_heading_settings(issued):
    from rest_framework.test import APIClient

    cast = issued
    report = _report(cast.A)
    client = APIClient()
    client.force_authenticate(cast.users["org_admin_p"])
    detail = client.get(f"/api/v1/inspection-reports/{report.pk}/").json()
    assert detail["doc_number"] == report.doc_number and detail["findings"]
    bad = client.post(f"/api/v1/inspection-reports/{report.pk}/confirm-findings/", {"findings": []}, format="json")
    assert bad.status_code == 400 and "findings" in bad.json()
    ok = client.post(f"/api/v1/inspection-reports/{report.pk}/confirm-findings/", {"findings": [0]}, format="json")
    assert ok.status_code == 200 and ok.json()[0]["source_report"] == report.pk
    saved = client.post(
        "/api/v1/report-headings/",
        {
            "organization": cast.P.pk,
            "issuer_mark": "中共测试委员会组织部",
            "number_pattern": "测组发〔{year}〕{n}号",
            "signatory": "中共测试委员会组织部",
        },
        format="json",
    )
    assert saved.status_code == 200 and saved.json()["number_pattern"] == "测组发〔{year}〕{n}号"
    client.force_authenticate(cast.users["secretary_a"])
    denied = client.post(f"/api/v1/inspection-reports/{report.pk}/confirm-findings/", {"findings": [1]}, format="json")
    assert denied.status_code == 403


def test_report_page_confirms_findings_and_heading_page_saves_settings(issued, client):
    cast = issued
    report = _report(cast.A)
    client.force_login(cast.users["org_admin_p"])
    page = client.get(f"/assessments/reports/{report.pk}/").content.decode()
    assert report.doc_number in page and "问题清单" in page and "确认所选问题" in page
    response = client.post(f"/assessments/reports/{report.pk}/", {"finding": ["0"], "deadline": "2027-01-31"})
    assert response.status_code == 302
    item = RectificationItem.objects.get(source_report=report)
    assert item.deadline == date(2027, 1, 31)
    assert "已确认，查看整改事项" in client.get(f"/assessments/reports/{report.pk}/").content.decode()
    saved = client.post(
        f"/assessments/report-heading/{cast.P.pk}/",
        {"issuer_mark": "中共测试委员会组织部", "number_pattern": "测组〔{year}〕{n}号", "signatory": "组织部"},
    )
    assert saved.status_code == 302 and ReportHeading.objects.get(organization=cast.P).signatory == "组织部"
    bad = client.post(
        f"/assessments/report-heading/{cast.P.pk}/",
        {"issuer_mark": "x", "number_pattern": "无序号", "signatory": "组织部"},
    )
    assert bad.status_code == 200 and "文号格式须含" in bad.content.decode()
    client.force_login(cast.users["secretary_a"])
    assert "确认所选问题" not in client.get(f"/assessments/reports/{report.pk}/").content.decode()
    assert client.post(f"/assessments/reports/{report.pk}/", {"finding": ["1"]}).status_code == 403
    assert client.get(f"/assessments/report-heading/{cast.P.pk}/").status_code in (403, 404)


def test_rollup_is_issued_as_a_circular_with_findings_per_lagging_child(issued):
    cast = issued
    report = _report(cast.P, kind=ReportKind.ROLLUP)
    text = pdf_text(report_file_path(report, "pdf"))
    save_pngs(report_file_path(report, "pdf"), "inspection_report_rollup_official", last=2)
    assert "关于中共测试委员会所属党组织2026年第1季度督查情况的通报" in text.replace("\n", "")
    assert "一、总体情况" in text and "下级组织督查汇总" in text
    assert any(f["organization_id"] == cast.A.pk and "任期已届满" in f["problem"] for f in report.summary["findings"])
