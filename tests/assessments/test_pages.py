"""考评督查 pages: per-role access (others 404), the rating workflow in the browser's forms,
Chinese errors that keep the user's input, downloads through the gate, constant query counts."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import InspectionReport, Rating, RectificationItem
from assessments.periods import quarter_period
from assessments.services.ratings import rating_self_score, rating_start_publicity, rating_submit, round_open
from assessments.services.reports import inspection_report_generate
from tests.assessments.helpers import active_scheme, ids
from tests.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def rated(cast):
    scheme = active_scheme(cast.P)
    round_ = round_open(organization=cast.P, scheme=scheme, year=2025, user=cast.users["org_admin_p"])
    return cast, scheme, round_, Rating.objects.get(round=round_, organization=cast.A), ids(scheme)


def test_index_and_lists_render_for_each_role(rated):
    cast, scheme, round_, rating, i = rated
    for who in ("org_admin_p", "secretary_a", "auditor_p", "member_a"):
        client = cast.client(who)
        for url in (
            "/assessments/",
            "/assessments/ratings/",
            "/assessments/schemes/",
            "/assessments/duty/",
            "/assessments/reports/",
            "/assessments/rectifications/",
        ):
            response = client.get(url)
            assert response.status_code == 200, (who, url, response.status_code)
    assert cast.client("outsider").get("/assessments/").status_code == 404
    page = cast.client("org_admin_p").get("/").content.decode()
    assert "考评督查" in page


def test_rating_page_visibility_follows_the_gate_and_the_state(rated):
    cast, scheme, round_, rating, i = rated
    url = f"/assessments/ratings/{rating.pk}/"
    assert cast.client("secretary_a").get(url).status_code == 200
    assert cast.client("org_admin_p").get(url).status_code == 200
    assert cast.client("secretary_b").get(url).status_code == 404
    assert cast.client("outsider").get(url).status_code == 404
    assert cast.client("member_a").get(url).status_code == 404  # a draft is not public
    rating_self_score(
        rating=rating,
        user=cast.users["secretary_a"],
        scores={i["M1"]: {"points": "8"}, i["J1"]: {"points": "1"}, i["D1"]: {"points": "0"}, i["V1"]: {"points": "0"}},
    )
    rating_submit(rating=rating, user=cast.users["secretary_a"])
    rating_start_publicity(rating=rating, user=cast.users["org_admin_p"])
    page = cast.client("member_a").get(url)
    assert page.status_code == 200 and "公示意见" in page.content.decode()


def test_self_assessment_form_keeps_input_and_shows_chinese_error(rated):
    cast, scheme, round_, rating, i = rated
    client = cast.client("secretary_a")
    response = client.post(
        f"/assessments/ratings/{rating.pk}/",
        {
            "action": "self_score",
            f"points-{i['M1']}": "12",
            f"note-{i['M1']}": "阵地齐全",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "超过该项最高 10 分" in body and 'value="12"' in body and "阵地齐全" in body
    response = client.post(
        f"/assessments/ratings/{rating.pk}/",
        {
            "action": "self_score",
            f"points-{i['M1']}": "9",
            f"points-{i['J1']}": "2",
            f"points-{i['D1']}": "0",
            f"points-{i['V1']}": "0",
        },
    )
    assert response.status_code == 302
    rating.refresh_from_db()
    assert str(rating.self_total) == "11.00"  # 9 + T1 computed 0 (no term) + bonus 2
    # The reviewer cannot fill in the self-assessment: the service refuses (403).
    assert (
        cast.client("org_admin_p")
        .post(f"/assessments/ratings/{rating.pk}/", {"action": "self_score", f"points-{i['M1']}": "1"})
        .status_code
        == 403
    )


def test_review_without_reason_is_refused_on_the_page(rated):
    cast, scheme, round_, rating, i = rated
    rating_self_score(
        rating=rating,
        user=cast.users["secretary_a"],
        scores={i["M1"]: {"points": "8"}, i["J1"]: {"points": "1"}, i["D1"]: {"points": "0"}, i["V1"]: {"points": "0"}},
    )
    rating_submit(rating=rating, user=cast.users["secretary_a"])
    client = cast.client("org_admin_p")
    response = client.post(f"/assessments/ratings/{rating.pk}/", {"action": "review", f"points-{i['M1']}": "5"})
    assert response.status_code == 200 and "须填写理由" in response.content.decode()
    response = client.post(
        f"/assessments/ratings/{rating.pk}/",
        {"action": "review", f"points-{i['M1']}": "5", f"reason-{i['M1']}": "阵地未对外开放"},
    )
    assert response.status_code == 302


def test_report_download_through_the_gate_is_audited(cast):
    from audit.models import AuditEvent

    period = quarter_period(2026, 1)
    report = InspectionReport.objects.create(
        organization=cast.A, year=2026, quarter=1, period_start=period.start, period_end=period.end
    )
    inspection_report_generate(report_id=report.pk)
    url = f"/assessments/reports/{report.pk}/pdf/"
    response = cast.client("secretary_a").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(event="inspection_report_download", object_id=str(report.pk)).count() == 1
    assert cast.client("secretary_b").get(url).status_code == 404
    assert cast.client("outsider").get(url).status_code == 404
    assert cast.client("secretary_a").get(f"/assessments/reports/{report.pk}/exe/").status_code == 404


def test_report_request_button_and_progress(cast, django_capture_on_commit_callbacks):
    client = cast.client("org_admin_p")
    page = client.get("/assessments/reports/").content.decode()
    assert "生成报告" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/assessments/reports/", {"organization": cast.P.pk, "year": 2026, "quarter": 1})
    assert response.status_code == 302
    progress = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "已生成" in progress and "<progress" in progress
    assert InspectionReport.objects.filter(status="done").count() == 4
    # A secretary has no button and cannot post.
    assert "生成报告" not in cast.client("secretary_a").get("/assessments/reports/").content.decode()
    assert (
        cast.client("secretary_a")
        .post("/assessments/reports/", {"organization": cast.A.pk, "year": 2026, "quarter": 1})
        .status_code
        == 403
    )


def test_rectification_flow_on_pages(cast):
    admin = cast.client("org_admin_p")
    response = admin.post(
        "/assessments/rectifications/new/",
        {
            "organization": cast.A.pk,
            "source": "inspection",
            "problem": "三会一课记录不全",
            "requirement": "补齐会议记录",
            "owner_name": "张书记",
            "deadline": "2000-01-01",
        },
    )
    assert response.status_code == 200 and "整改时限不能早于今天" in response.content.decode()
    assert "三会一课记录不全" in response.content.decode()
    response = admin.post(
        "/assessments/rectifications/new/",
        {
            "organization": cast.A.pk,
            "source": "inspection",
            "problem": "三会一课记录不全",
            "requirement": "补齐会议记录",
            "owner_name": "张书记",
            "deadline": "2099-01-01",
        },
    )
    item = RectificationItem.objects.get()
    assert response.status_code == 302
    secretary = cast.client("secretary_a")
    assert (
        secretary.post(
            f"/assessments/rectifications/{item.pk}/", {"action": "submit", "completion_note": "已补齐并归档"}
        ).status_code
        == 302
    )
    assert (
        secretary.post(f"/assessments/rectifications/{item.pk}/", {"action": "sign_off", "accept": "1"}).status_code
        == 403
    )
    assert (
        admin.post(f"/assessments/rectifications/{item.pk}/", {"action": "sign_off", "accept": "1"}).status_code == 302
    )
    item.refresh_from_db()
    assert item.status == "closed" and item.reviewer_name
    assert cast.client("secretary_b").get(f"/assessments/rectifications/{item.pk}/").status_code == 404


def test_bad_query_params_are_400(cast):
    client = cast.client("org_admin_p")
    assert client.get("/assessments/reports/", {"quarter": "9"}).status_code == 400
    assert client.get("/assessments/ratings/", {"status": "nope"}).status_code == 400
    assert client.get("/assessments/rectifications/", {"page": "x"}).status_code == 400


def _grow(cast, n):
    for k in range(n):
        org = make_org(f"增补支部{k}", parent=cast.P)
        RectificationItem.objects.create(
            organization=org, problem=f"问题{k}", requirement="整改", owner_name="甲", deadline=date(2099, 1, 1)
        )
        period = quarter_period(2026, 1)
        InspectionReport.objects.create(
            organization=org,
            year=2026,
            quarter=1,
            period_start=period.start,
            period_end=period.end,
            status="done",
            generated_at=None,
        )


@pytest.mark.parametrize(
    "url",
    [
        "/assessments/rectifications/",
        "/assessments/reports/",
        "/assessments/ratings/",
        "/assessments/schemes/",
        "/assessments/duty/",
        "/assessments/",
    ],
)
def test_list_pages_take_constant_queries(rated, url):
    cast = rated[0]
    client = cast.client("org_admin_p")
    client.get(url)
    _grow(cast, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(cast, 12)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(small) == len(large), (len(small), len(large))
