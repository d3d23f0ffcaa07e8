"""#13.3: the inspection report's headline 组织生活按期完成率 is computed from exactly the items
its section 二 lists; the branch's 党小组 items are listed, under the 党小组's own heading row;
the chart and the table print the same rounded figure."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from activities.models import Meeting, MeetingCredit
from assessments.choices import ReportKind
from assessments.models import InspectionReport
from assessments.periods import quarter_period
from assessments.reports.data import Chart, build_org_report, pct, pct_chart
from assessments.reports.pdf import _chart
from assessments.services.reports import inspection_report_generate, report_file_path
from tests.assessments.pdf_helpers import pdf_text, save_pngs
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def branch_with_group(cast):
    """Branch A holds every meeting of 2026 Q1 on time; its 党小组 A1 holds one 党小组会 of three."""
    MemberFactory.create_batch(2, organization=cast.A)
    MemberFactory(organization=cast.A, party_group=cast.A1)
    for held_on, meeting_type in [
        (date(2026, 1, 10), "committee"),
        (date(2026, 2, 10), "committee"),
        (date(2026, 3, 10), "committee"),
        (date(2026, 1, 20), "general_assembly"),
        (date(2026, 3, 12), "lecture"),
        (date(2026, 2, 15), "theme_day"),
        (date(2026, 1, 15), "theme_day"),
        (date(2026, 3, 15), "theme_day"),
    ]:
        _held(
            cast.A,
            meeting_type=meeting_type,
            title=f"{meeting_type} {held_on}",
            held_on=held_on,
            status="final",
            expected_count=3,
            present_count=3,
        )
    _held(
        cast.A1,
        meeting_type="group",
        title="一月党小组会",
        held_on=date(2026, 1, 12),
        status="final",
        expected_count=1,
        present_count=1,
    )
    return cast


def _held(org, **fields):
    meeting = Meeting.objects.create(organization=org, **fields)
    MeetingCredit.objects.create(
        meeting=meeting,
        organization=org,
        kind=meeting.meeting_type,
        held_on=meeting.held_on,
        recorded_on=meeting.held_on,
    )


def _rows(path, sheet):
    wb = load_workbook(path, read_only=True)
    rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    wb.close()
    return rows


def test_headline_is_computed_from_the_listed_items_including_the_groups(branch_with_group):
    cast = branch_with_group
    period = quarter_period(2026, 1)
    report = InspectionReport.objects.create(
        organization=cast.A,
        year=2026,
        quarter=1,
        kind=ReportKind.SINGLE,
        period_start=period.start,
        period_end=period.end,
    )
    assert inspection_report_generate(report_id=report.pk) == "done"
    report.refresh_from_db()
    xlsx = report_file_path(report, "xlsx")

    listed = _rows(xlsx, "组织生活落实情况按类型")
    heading = "党小组：第一党支部第一党小组"
    assert [heading] == [r[0] for r in listed if r and r[0] == heading]
    start = next(i for i, r in enumerate(listed) if r and r[0] == heading)
    group_rows = [r for r in listed[start + 1 :] if r and len(r) > 6 and r[6]]
    assert group_rows and all(r[0] == "党小组会" for r in group_rows)
    statuses = [r[6] for r in listed[2:] if r and len(r) > 6 and r[6]]
    done = statuses.count("已完成")
    judged = done + statuses.count("逾期完成") + statuses.count("逾期未完成")
    assert judged > done > 0, statuses  # the group's missed 党小组会 are listed and judged

    key = {r[0]: r[1] for r in _rows(xlsx, "主要指标")[2:] if r and len(r) > 1 and r[0]}
    assert key["组织生活按期完成率"] == pct(Decimal(done) / Decimal(judged))
    assert report.summary["compliance_items"] == len(statuses)


def test_pdf_lists_group_items_under_the_group(branch_with_group):
    cast = branch_with_group
    period = quarter_period(2026, 1)
    report = InspectionReport.objects.create(
        organization=cast.A,
        year=2026,
        quarter=1,
        kind=ReportKind.SINGLE,
        period_start=period.start,
        period_end=period.end,
    )
    inspection_report_generate(report_id=report.pk)
    report.refresh_from_db()
    text = pdf_text(report_file_path(report, "pdf"))
    save_pngs(report_file_path(report, "pdf"), "inspection_report_branch_groups")
    assert "党小组：第一党支部第一党小组" in text and "党小组会" in text


def test_chart_and_table_print_the_same_rounded_figure():
    value = Decimal("0.0635")  # 6.35%: half-up is 6.4; a float 6.35 formats as "6.3"
    assert pct(value) == "6.4%"
    assert pct_chart(value) == 6.4
    drawing = _chart(
        Chart(title="t", categories=["按期完成率"], series=[("本季度", [pct_chart(value)])]), 400, "PBSerif"
    )
    from assessments.reports.fonts import cjk_font

    cjk_font()
    bars = next(c for c in drawing.contents if hasattr(c, "barLabelArray"))
    assert bars.barLabelArray == [["6.4"]]


def test_key_figures_chart_uses_the_table_figure(branch_with_group):
    cast = branch_with_group
    doc = build_org_report(cast.A, quarter_period(2026, 1), generated=f"{timezone.now():%Y-%m-%d}")
    key = doc.sections[0]
    table = dict((r[0], r[1]) for r in key.rows)
    chart = dict(zip(key.chart.categories, key.chart.series[0][1], strict=True))
    assert f"{chart['按期完成率']}%" == table["组织生活按期完成率"]
