"""Assessments API through the gate: strict params and fields, 404 for foreign objects, the rating
steps, reports (list, download, request generation), rectification; constant query counts."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import InspectionReport, Rating, RectificationItem
from assessments.periods import quarter_period
from assessments.seeds import district_branch_scheme
from assessments.services.reports import inspection_report_generate
from tests.api_helpers import if_match
from tests.assessments.helpers import active_scheme, ids, small_scheme_data
from tests.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_metrics_listed_with_availability(cast):
    rows = cast.api("org_admin_p").get("/api/v1/assessment-metrics/").json()
    codes = {r["code"]: r for r in rows}
    assert codes["term_not_overdue"]["available"] is True
    assert {
        "compliance_on_time_share",
        "dues_collection_rate",
        "development_on_time_share",
        "followups_closed_share",
        "study_hours_pace",
        "duty_appraisal_rate",
    } <= set(codes)


def _payload(year=2026):
    data = district_branch_scheme(year)
    data.pop("is_example")  # set only by the seed command, not through the API
    return data


def test_scheme_create_validates_and_rejects_unknown_fields(cast):
    api = cast.api("org_admin_p")
    bad = _payload()
    bad["bands"][1]["min_points"] = "85"
    response = api.post("/api/v1/assessment-schemes/", {**bad, "organization": cast.P.pk}, format="json")
    assert response.status_code == 400 and "空档" in str(response.json()["bands"])
    response = api.post(
        "/api/v1/assessment-schemes/", {**_payload(), "organization": cast.P.pk, "hack": 1}, format="json"
    )
    assert response.status_code == 400 and "hack" in response.json()
    response = api.post("/api/v1/assessment-schemes/", {**_payload(), "organization": cast.Q.pk}, format="json")
    assert response.status_code == 404
    response = api.post("/api/v1/assessment-schemes/", {**_payload(), "organization": cast.P.pk}, format="json")
    assert response.status_code == 201, response.json()
    scheme_id = response.json()["id"]
    assert api.post(f"/api/v1/assessment-schemes/{scheme_id}/activate/").json()["status"] == "active"
    detail = cast.api("secretary_a").get(f"/api/v1/assessment-schemes/{scheme_id}/")
    assert detail.status_code == 200 and len(detail.json()["structure"]["bands"]) == 4  # read by those rated under it
    assert cast.api("secretary_b").post(f"/api/v1/assessment-schemes/{scheme_id}/activate/").status_code == 403


def test_rating_steps_through_the_api(cast):
    admin, secretary = cast.api("org_admin_p"), cast.api("secretary_a")
    scheme = active_scheme(cast.P)
    i = ids(scheme)
    response = admin.post(
        "/api/v1/assessment-rounds/", {"organization": cast.P.pk, "scheme": scheme.pk, "year": 2025}, format="json"
    )
    assert response.status_code == 201
    rating = Rating.objects.get(organization=cast.A)
    url = f"/api/v1/ratings/{rating.pk}/"
    assert cast.api("secretary_b").get(url).status_code == 404
    assert cast.api("member_a").get(url).status_code == 404
    scores = [
        {"indicator": i["M1"], "points": "8"},
        {"indicator": i["J1"], "points": "2"},
        {"indicator": i["D1"], "points": "0"},
        {"indicator": i["V1"], "points": "0"},
    ]
    assert admin.post(url + "self-score/", {"scores": scores}, format="json", **if_match(admin, url)).status_code == 403
    response = secretary.post(url + "self-score/", {"scores": scores}, format="json", **if_match(secretary, url))
    assert response.status_code == 200 and response.json()["self_total"] == "10.00"
    assert (
        secretary.post(
            url + "self-score/",
            {"scores": [{"indicator": i["M1"], "points": "99"}]},
            format="json",
            **if_match(secretary, url),
        ).status_code
        == 400
    )
    assert secretary.post(url + "submit/").json()["status"] == "submitted"
    response = admin.post(
        url + "review/", {"scores": [{"indicator": i["M1"], "points": "6"}]}, format="json", **if_match(admin, url)
    )
    assert response.status_code == 400 and "须填写理由" in str(response.json())
    response = admin.post(
        url + "review/",
        {"scores": [{"indicator": i["M1"], "points": "6", "reason": "材料不全"}]},
        format="json",
        **if_match(admin, url),
    )
    assert response.status_code == 200 and response.json()["review_total"] == "8.00"
    response = admin.post(url + "start-publicity/", {"start": "2026-02-02"}, format="json")
    assert response.json()["status"] == "publicity"
    assert cast.api("member_a").get(url).status_code == 200
    steps = secretary.get(url + "steps/").json()
    assert [s["action"] for s in steps] == ["create", "self_score", "submit", "review_score", "start_publicity"]
    assert steps[3]["detail"]["changes"]["M1"]["reason"] == "材料不全"
    response = admin.post(url + "finalize/")
    assert response.status_code == 200 and response.json()["status"] == "final"  # 2026-02-06 has passed
    assert response.json()["stars"] == 3


def test_reports_list_download_and_request(cast, django_capture_on_commit_callbacks):
    period = quarter_period(2026, 1)
    report = InspectionReport.objects.create(
        organization=cast.A, year=2026, quarter=1, period_start=period.start, period_end=period.end
    )
    inspection_report_generate(report_id=report.pk)
    api = cast.api("secretary_a")
    rows = api.get("/api/v1/inspection-reports/", {"year": 2026, "quarter": 1}).json()["results"]
    assert [r["organization_name"] for r in rows] == ["第一党支部"] and rows[0]["pdf_url"].endswith("/pdf/")
    download = api.get(rows[0]["xlsx_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"PK"
    assert cast.api("secretary_b").get(rows[0]["pdf_url"]).status_code == 404
    assert api.get("/api/v1/inspection-reports/", {"quarter": "7"}).status_code == 400
    assert api.get("/api/v1/inspection-reports/", {"colour": "red"}).status_code == 400
    assert (
        api.post(
            "/api/v1/report-batches/", {"organization": cast.A.pk, "year": 2026, "quarter": 1}, format="json"
        ).status_code
        == 403
    )
    admin = cast.api("org_admin_p")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/api/v1/report-batches/", {"organization": cast.P.pk, "year": 2026, "quarter": 1}, format="json"
        )
    assert response.status_code == 202
    batch = admin.get(f"/api/v1/report-batches/{response.json()['id']}/").json()
    assert (batch["status"], batch["total"], batch["done"], batch["percent"]) == (
        "done",
        3,
        3,
        100,
    )  # A was done already
    response = admin.post(
        "/api/v1/report-batches/", {"organization": cast.Q.pk, "year": 2026, "quarter": 1}, format="json"
    )
    assert response.status_code == 404


def test_rectification_api(cast):
    admin = cast.api("org_admin_p")
    payload = {
        "organization": cast.A.pk,
        "problem": "党费公开不及时",
        "requirement": "按年公开",
        "owner_name": "组织委员",
        "deadline": "2099-06-30",
    }
    assert admin.post("/api/v1/rectifications/", {**payload, "status": "closed"}, format="json").status_code == 400
    response = admin.post("/api/v1/rectifications/", payload, format="json")
    assert response.status_code == 201
    item_id = response.json()["id"]
    assert cast.api("secretary_b").get(f"/api/v1/rectifications/{item_id}/").status_code == 404
    secretary = cast.api("secretary_a")
    assert (
        secretary.post(
            f"/api/v1/rectifications/{item_id}/submit/", {"completion_note": "已按年公开党费收缴情况"}, format="json"
        ).json()["status"]
        == "submitted"
    )
    assert (
        secretary.post(f"/api/v1/rectifications/{item_id}/sign-off/", {"accept": True}, format="json").status_code
        == 403
    )
    response = admin.post(f"/api/v1/rectifications/{item_id}/sign-off/", {"accept": False}, format="json")
    assert response.status_code == 400 and "理由" in str(response.json())
    assert (
        admin.post(f"/api/v1/rectifications/{item_id}/sign-off/", {"accept": True}, format="json").json()["status"]
        == "closed"
    )


def test_duty_report_api(cast):
    secretary = cast.api("secretary_a")
    text = "本年度支部按期开展三会一课，完成发展党员工作，党费收缴率百分之百。"
    response = secretary.post(
        "/api/v1/duty-reports/",
        {"organization": cast.A.pk, "year": 2025, "secretary_name": "张伟", "text": text},
        format="json",
    )
    assert response.status_code == 200
    report_id = response.json()["id"]
    assert secretary.post(f"/api/v1/duty-reports/{report_id}/submit/").json()["status"] == "submitted"
    admin = cast.api("org_admin_p")
    response = admin.post(
        f"/api/v1/duty-reports/{report_id}/appraise/",
        {"count_good": 8, "count_fairly_good": 2, "questions": []},
        format="json",
    )
    assert response.status_code == 400
    response = admin.post(
        f"/api/v1/duty-reports/{report_id}/appraise/",
        {
            "count_good": 8,
            "count_fairly_good": 2,
            "count_average": 0,
            "count_poor": 0,
            "questions": ["如何提高青年党员参与度？"],
        },
        format="json",
    )
    assert response.status_code == 200 and response.json()["grade"] == "good"
    assert response.json()["questions"][0]["text"] == "如何提高青年党员参与度？"
    assert cast.api("secretary_b").get(f"/api/v1/duty-reports/{report_id}/").status_code == 404


def _grow(cast, n, scheme):
    orgs = [make_org(f"扩展支部{k}-{n}", parent=cast.P) for k in range(n)]
    for org in orgs:
        RectificationItem.objects.create(
            organization=org, problem="问题", requirement="整改", owner_name="甲", deadline=date(2099, 1, 1)
        )
        period = quarter_period(2026, 1)
        InspectionReport.objects.create(
            organization=org, year=2026, quarter=1, period_start=period.start, period_end=period.end
        )
    return orgs


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/rectifications/",
        "/api/v1/inspection-reports/",
        "/api/v1/ratings/",
        "/api/v1/assessment-schemes/",
        "/api/v1/report-batches/",
        "/api/v1/duty-reports/",
        "/api/v1/assessment-rounds/",
    ],
)
def test_list_endpoints_take_constant_queries(cast, url):
    from assessments.services.ratings import round_open
    from assessments.services.schemes import scheme_seed

    api = cast.api("org_admin_p")
    scheme = active_scheme(cast.P)
    _grow(cast, 2, scheme)
    round_open(organization=cast.P, scheme=scheme, year=2025, user=cast.users["org_admin_p"])
    api.get(url)
    with CaptureQueriesContext(connection) as small:
        assert api.get(url).status_code == 200
    _grow(cast, 10, scheme)
    scheme2 = active_scheme(cast.P, year=2026)
    round_open(organization=cast.P, scheme=scheme2, year=2026, user=cast.users["org_admin_p"])
    scheme_seed(organization=cast.P, data=small_scheme_data(year=2027))
    with CaptureQueriesContext(connection) as large:
        assert api.get(url).status_code == 200
    assert len(small) == len(large), (len(small), len(large))
