"""述职评议 (and its use as a metric), the rectification selector for reminders, evidence uploads,
scheme versions and the scheme editor."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.metrics import metric_value
from assessments.models import AssessmentScheme, RatingEntry, RectificationItem
from assessments.periods import year_period
from assessments.selectors import rectification_open_items
from assessments.services.duty import duty_report_appraise, duty_report_save, duty_report_submit
from assessments.services.evidence import evidence_add
from assessments.services.ratings import round_open
from assessments.services.schemes import scheme_new_version
from tests.assessments.helpers import active_scheme
from tests.files import PDF

pytestmark = pytest.mark.django_db
TEXT = "本年度支部按期开展三会一课，完成党费收缴和发展党员工作，整改了上级督查发现的问题。"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_duty_report_appraisal_questions_and_metric(cast):
    secretary, admin = cast.users["secretary_a"], cast.users["org_admin_p"]
    with pytest.raises(ValidationError):
        duty_report_save(organization=cast.A, year=2025, user=secretary, secretary_name="张伟", text="太短")
    with pytest.raises(PermissionDenied):
        duty_report_save(organization=cast.A, year=2025, user=admin, secretary_name="张伟", text=TEXT)
    report = duty_report_save(organization=cast.A, year=2025, user=secretary, secretary_name="张伟", text=TEXT)
    duty_report_submit(report=report, user=secretary)
    with pytest.raises(PermissionDenied):
        duty_report_appraise(report=report, user=secretary, counts={"good": 1}, questions=["问题"])
    with pytest.raises(ValidationError) as exc:
        duty_report_appraise(report=report, user=admin, counts={"good": 6}, questions=["一", "二", "三"])
    assert "1 至 2 道必答题" in str(exc.value)
    with pytest.raises(ValidationError):
        duty_report_appraise(report=report, user=admin, counts={}, questions=["一"])
    report = duty_report_appraise(
        report=report,
        user=admin,
        counts={"good": 6, "fairly_good": 2, "average": 2, "poor": 0},
        questions=["如何解决流动党员参加组织生活难？", "如何提高主题党日质量？"],
    )
    assert report.grade == "fairly_good"  # (6×100 + 2×80 + 2×60) / 10 = 88
    assert metric_value("duty_appraisal_rate", org=cast.A, period=year_period(2025)) == Decimal("0.8000")

    # Next year's report must answer last year's 必答题 before it can be submitted.
    next_report = duty_report_save(organization=cast.A, year=2026, user=secretary, secretary_name="张伟", text=TEXT)
    with pytest.raises(ValidationError) as exc:
        duty_report_submit(report=next_report, user=secretary)
    assert "请先回答上年度必答题" in str(exc.value)
    questions = list(report.questions.order_by("pk"))
    duty_report_save(
        organization=cast.A,
        year=2026,
        user=secretary,
        secretary_name="张伟",
        text=TEXT,
        answers={q.pk: "已建立线上线下结合的参学机制" for q in questions},
    )
    duty_report_submit(report=next_report, user=secretary)
    assert {q.answered_in_id for q in report.questions.all()} == {next_report.pk}

    # A scheme indicator computed from the 述职评议 rate.
    scheme = active_scheme(cast.P)
    from assessments.models import SchemeSection

    section = SchemeSection.objects.get(scheme=scheme, code="S1")
    indicator = section.indicators.get(code="M1")
    indicator.method, indicator.metric_code, indicator.mapping_type = "computed", "duty_appraisal_rate", "linear"
    indicator.save()
    round_ = round_open(organization=cast.P, scheme=scheme, year=2025, user=admin)
    entry = RatingEntry.objects.get(rating__round=round_, rating__organization=cast.A, indicator=indicator)
    assert (entry.computed_value, entry.computed_points) == (Decimal("0.8000"), Decimal("8.00"))


def test_rectification_open_items_selector_for_reminders(cast):
    def item(org, status, deadline):
        return RectificationItem.objects.create(
            organization=org,
            problem=f"{org} {status}",
            requirement="整改",
            owner_name="甲",
            deadline=deadline,
            status=status,
        )

    overdue = item(cast.A, "open", date(2026, 3, 1))
    pending = item(cast.A1, "submitted", date(2026, 2, 1))
    future = item(cast.B, "open", date(2026, 6, 1))
    item(cast.A, "closed", date(2026, 1, 1))
    item(cast.Q, "open", date(2026, 1, 1))
    rows = {r.pk: r.is_overdue for r in rectification_open_items(cast.P, date(2026, 4, 1))}
    assert rows == {overdue.pk: True, pending.pk: False, future.pk: False}  # submitted awaits sign-off
    assert {r.pk for r in rectification_open_items(cast.A, date(2026, 4, 1))} == {overdue.pk, pending.pk}


def test_evidence_upload_is_optional_checked_and_gated(cast):
    scheme = active_scheme(cast.P)
    round_ = round_open(organization=cast.P, scheme=scheme, year=2025, user=cast.users["org_admin_p"])
    entry = RatingEntry.objects.filter(rating__round=round_, rating__organization=cast.A).first()
    with pytest.raises(PermissionDenied):
        evidence_add(user=cast.users["org_admin_p"], target=entry, name="a.pdf", content=PDF)
    with pytest.raises(ValidationError):
        evidence_add(user=cast.users["secretary_a"], target=entry, name="x.svg", content=b"<svg onload=alert(1)>")
    with pytest.raises(ValidationError):
        evidence_add(user=cast.users["secretary_a"], target=entry)  # nothing given
    evidence = evidence_add(
        user=cast.users["secretary_a"], target=entry, title="阵地台账", name="台账.pdf", content=PDF
    )
    url = f"/assessments/evidence/{evidence.pk}/"
    response = cast.client("secretary_a").get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert cast.client("secretary_b").get(url).status_code == 404
    assert cast.client("member_a").get(url).status_code == 404


def test_new_version_and_editor_validation(cast):
    scheme = active_scheme(cast.P)
    copy = scheme_new_version(scheme=scheme, organization=cast.P, year=2026, user=cast.users["org_admin_p"])
    assert (copy.version, copy.status, copy.based_on_id, copy.year) == (1, "draft", scheme.pk, 2026)
    again = scheme_new_version(scheme=scheme, organization=cast.P, user=cast.users["org_admin_p"])
    assert again.version == 2 and again.year == scheme.year
    client = cast.client("org_admin_p")
    page = client.get(f"/assessments/schemes/{copy.pk}/edit/")
    assert page.status_code == 200
    form = {
        "name": "测试方案（修订）",
        "year": "2026",
        "org_type": "branch",
        "total_points": "25",
        "publicity_days": "5",
        "section_count": "1",
        "s0-code": "S1",
        "s0-name": "基础工作",
        "s0-max_points": "25",
        "s0-count": "1",
        "s0i0-code": "M1",
        "s0i0-name": "阵地建设",
        "s0i0-kind": "score",
        "s0i0-method": "manual",
        "s0i0-max_points": "25",
        "s0i0-veto_cap_stars": "0",
        "s0i0-mapping_type": "linear",
        "band_count": "2",
        "b0-stars": "5",
        "b0-label": "五星",
        "b0-min_points": "20",
        "b1-stars": "3",
        "b1-label": "三星",
        "b1-min_points": "0",
        "b1-max_points": "15",
    }
    response = client.post(f"/assessments/schemes/{copy.pk}/edit/", form)
    body = response.content.decode()
    assert response.status_code == 200 and "15–20 分之间有空档" in body and "测试方案（修订）" in body
    form["b1-max_points"] = "20"
    assert client.post(f"/assessments/schemes/{copy.pk}/edit/", form).status_code == 302
    copy.refresh_from_db()
    assert copy.name == "测试方案（修订）" and copy.sections.count() == 1
    assert client.post(f"/assessments/schemes/{copy.pk}/", {"action": "activate"}).status_code == 302
    assert AssessmentScheme.objects.get(pk=copy.pk).status == "active"
    assert cast.client("secretary_a").get(f"/assessments/schemes/{copy.pk}/edit/").status_code == 403
