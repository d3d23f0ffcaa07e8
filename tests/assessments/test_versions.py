"""#17.3 for the assessment records people edit: a stale save of a scheme, a rating's scores or a
rectification item is refused — on the page with what the other person saved beside what the user
typed (kept in the form, saving again re-applies it), in the API with 412, and 428 without If-Match."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from assessments.models import AssessmentScheme, Rating, RatingEntry, RectificationItem
from assessments.services.ratings import rating_self_score, rating_submit, round_open
from assessments.services.rectification import rectification_create
from assessments.services.schemes import scheme_seed, scheme_structure
from tests.api_helpers import if_match
from tests.assessments.helpers import active_scheme, ids, small_scheme_data

pytestmark = pytest.mark.django_db


def _labels(response) -> set[str]:
    return {c["label"] for c in response.context["conflict"]["changes"]}


# --- assessment scheme ----------------------------------------------------------------------------


def _scheme_post(data: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """The scheme editor's fields for a structure (what the page posts when nothing is changed)."""
    post: dict[str, Any] = {
        "name": data["name"],
        "year": data["year"],
        "org_type": data["org_type"],
        "total_points": data["total_points"],
        "publicity_days": data["publicity_days"],
        "description": data["description"],
        "section_count": len(data["sections"]),
        "band_count": len(data["bands"]),
    }
    for s, section in enumerate(data["sections"]):
        post.update({f"s{s}-code": section["code"], f"s{s}-name": section["name"]})
        post.update({f"s{s}-max_points": section["max_points"], f"s{s}-count": len(section["indicators"])})
        for i, ind in enumerate(section["indicators"]):
            mapping = ", ".join(f"{step['min']}:{step['points']}" for step in ind.get("mapping") or [])
            for name in ("code", "name", "kind", "method", "metric_code", "mapping_type", "max_points", "guidance"):
                post[f"s{s}i{i}-{name}"] = ind.get(name) or ""
            post[f"s{s}i{i}-mapping"] = mapping
            post[f"s{s}i{i}-threshold"] = ind.get("threshold") or ""
            post[f"s{s}i{i}-veto_cap_stars"] = ind.get("veto_cap_stars") or 0
            post[f"s{s}i{i}-evidence_hint"] = ind.get("evidence_hint") or ""
    for b, band in enumerate(data["bands"]):
        for name in ("stars", "label", "min_points", "max_points", "required_indicator", "quota_percent"):
            post[f"b{b}-{name}"] = "" if band.get(name) is None else band[name]
    return {**post, **overrides}


def test_17_3_stale_scheme_edit_is_refused_and_shows_what_changed(cast):
    scheme = scheme_seed(organization=cast.P, data=small_scheme_data())
    client, url = cast.client("org_admin_p"), f"/assessments/schemes/{scheme.pk}/edit/"
    assert 'name="row_version" value="1"' in client.get(url).content.decode()
    loaded = scheme_structure(scheme)
    first = client.post(url, _scheme_post(loaded, name="甲改的名称", description="甲补充的说明", row_version="1"))
    assert first.status_code == 302, first.content.decode()[:1500]
    # B saves the copy it loaded at version 1.
    stale = client.post(url, _scheme_post(loaded, name="乙填的名称", publicity_days="7", row_version="1"))
    page = stale.content.decode()
    assert stale.status_code == 409
    assert "他人已保存" in page and "甲改的名称" in page and 'value="乙填的名称"' in page and 'value="7"' in page
    # Field by field, and only the fields that differ (no noise from "25.00" against "25").
    assert _labels(stale) == {"方案名称", "说明", "公示天数"}
    assert 'name="row_version" value="2"' in page
    saved = AssessmentScheme.objects.get(pk=scheme.pk)
    assert (saved.name, saved.description, saved.publicity_days, saved.row_version) == (
        "甲改的名称",
        "甲补充的说明",
        5,
        2,
    )
    # Saving again from the conflict page re-applies what B typed.
    again = client.post(url, _scheme_post(loaded, name="乙填的名称", publicity_days="7", row_version="2"))
    assert again.status_code == 302
    assert AssessmentScheme.objects.values_list("name", "publicity_days").get(pk=scheme.pk) == ("乙填的名称", 7)


def test_17_3_scheme_put_needs_the_current_etag(cast):
    api = cast.api("org_admin_p")
    scheme = scheme_seed(organization=cast.P, data=small_scheme_data())
    url = f"/api/v1/assessment-schemes/{scheme.pk}/"
    body = {**small_scheme_data(), "name": "接口改名"}
    assert api.put(url, body, format="json").status_code == 428
    tag = if_match(api, url)
    saved = api.put(url, body, format="json", **tag)
    assert saved.status_code == 200, saved.json()
    assert saved["ETag"] != tag["HTTP_IF_MATCH"]
    stale = api.put(url, {**body, "name": "旧副本"}, format="json", **tag)
    assert stale.status_code == 412 and "已被他人修改" in str(stale.json())
    assert AssessmentScheme.objects.values_list("name", "row_version").get(pk=scheme.pk) == ("接口改名", 2)


# --- rating ---------------------------------------------------------------------------------------


@pytest.fixture
def rated(cast):
    scheme = active_scheme(cast.P)
    round_ = round_open(organization=cast.P, scheme=scheme, year=2025, user=cast.users["org_admin_p"])
    return Rating.objects.get(round=round_, organization=cast.A), ids(scheme)


def test_17_3_stale_self_assessment_is_refused_and_keeps_the_scores_typed(cast, rated):
    rating, i = rated
    client, url = cast.client("secretary_a"), f"/assessments/ratings/{rating.pk}/"
    assert 'name="row_version" value="1"' in client.get(url).content.decode()
    scores = {f"points-{i['J1']}": "1", f"points-{i['D1']}": "0", f"points-{i['V1']}": "0"}
    mine = {"action": "self_score", f"points-{i['M1']}": "8", f"note-{i['M1']}": "阵地齐全", **scores}
    assert client.post(url, {**mine, "row_version": "1"}).status_code == 302
    theirs = {**mine, f"points-{i['M1']}": "6", f"note-{i['M1']}": "乙的说明", f"points-{i['J1']}": "1"}
    stale = client.post(url, {**theirs, "row_version": "1"})
    page = stale.content.decode()
    assert stale.status_code == 409
    assert "他人已保存" in page and 'value="6"' in page and 'value="乙的说明"' in page
    assert _labels(stale) == {"M1 阵地建设 · 自评分", "M1 阵地建设 · 说明"}
    row = next(c for c in stale.context["conflict"]["changes"] if c["label"].endswith("自评分"))
    assert (row["saved"], row["typed"]) == ("8.00", "6")
    assert 'name="row_version" value="2"' in page
    entry = RatingEntry.objects.get(rating=rating, indicator_id=i["M1"])
    assert (str(entry.self_points), entry.self_note) == ("8.00", "阵地齐全")
    assert client.post(url, {**theirs, "row_version": "2"}).status_code == 302
    entry.refresh_from_db()
    assert (str(entry.self_points), entry.self_note) == ("6.00", "乙的说明")


def test_17_3_rating_scores_through_the_api_need_the_current_etag(cast, rated):
    rating, i = rated
    secretary, url = cast.api("secretary_a"), f"/api/v1/ratings/{rating.pk}/"
    scores = [{"indicator": i[c], "points": p} for c, p in (("M1", "8"), ("J1", "2"), ("D1", "0"), ("V1", "0"))]
    assert secretary.post(url + "self-score/", {"scores": scores}, format="json").status_code == 428
    tag = if_match(secretary, url)
    saved = secretary.post(url + "self-score/", {"scores": scores}, format="json", **tag)
    assert saved.status_code == 200 and saved["ETag"] == f'"rating-{rating.pk}-v2"'
    stale = [{"indicator": i["M1"], "points": "3"}]
    assert secretary.post(url + "self-score/", {"scores": stale}, format="json", **tag).status_code == 412
    assert str(RatingEntry.objects.get(rating=rating, indicator_id=i["M1"]).self_points) == "8.00"
    rating_submit(rating=rating, user=cast.users["secretary_a"])
    admin = cast.api("org_admin_p")
    review = [{"indicator": i["M1"], "points": "6", "reason": "材料不全"}]
    assert admin.post(url + "review/", {"scores": review}, format="json").status_code == 428
    assert admin.post(url + "review/", {"scores": review}, format="json", **tag).status_code == 412
    assert RatingEntry.objects.get(rating=rating, indicator_id=i["M1"]).review_points is None
    fresh = if_match(admin, url)
    assert admin.post(url + "review/", {"scores": review}, format="json", **fresh).status_code == 200
    assert str(RatingEntry.objects.get(rating=rating, indicator_id=i["M1"]).review_points) == "6.00"


def test_self_score_page_keeps_the_evidence_text_the_api_wrote(cast, rated):
    """The page has no evidence-text field: saving its scores must not blank what the API wrote."""
    rating, i = rated
    user = cast.users["secretary_a"]
    rating_self_score(rating=rating, user=user, scores={i["M1"]: {"points": "8", "evidence_text": "见台账第3页"}})
    post = {"action": "self_score", f"points-{i['M1']}": "9"}
    assert cast.client("secretary_a").post(f"/assessments/ratings/{rating.pk}/", post).status_code == 302
    assert RatingEntry.objects.get(rating=rating, indicator_id=i["M1"]).evidence_text == "见台账第3页"


# --- rectification --------------------------------------------------------------------------------


@pytest.fixture
def item(cast):
    return rectification_create(
        organization=cast.A,
        user=cast.users["org_admin_p"],
        problem="三会一课记录不全",
        requirement="补齐会议记录",
        owner_name="张书记",
        deadline=date(2099, 1, 1),
    )


def test_17_3_stale_rectification_report_and_sign_off_are_refused(cast, item):
    url = f"/assessments/rectifications/{item.pk}/"
    secretary, admin = cast.client("secretary_a"), cast.client("org_admin_p")
    assert 'name="row_version" value="1"' in secretary.get(url).content.decode()
    assert (
        secretary.post(url, {"action": "submit", "completion_note": "已补齐并归档", "row_version": "1"}).status_code
        == 302
    )
    reject = {"action": "sign_off", "accept": "0", "note": "缺少签到表照片", "row_version": "2"}
    assert admin.post(url, reject).status_code == 302  # sent back: open again, version 3
    # A second tab of the secretary, loaded at version 1, reports its own text.
    stale = secretary.post(url, {"action": "submit", "completion_note": "另一份整改说明", "row_version": "1"})
    page = stale.content.decode()
    assert stale.status_code == 409 and "他人已保存" in page and "另一份整改说明" in page
    assert _labels(stale) == {"整改完成情况", "完成日期"}
    assert 'name="row_version" value="3"' in page
    assert RectificationItem.objects.values_list("status", "completion_note").get(pk=item.pk) == (
        "open",
        "已补齐并归档",
    )
    resubmit = {"action": "submit", "completion_note": "已补齐并附签到表照片", "row_version": "3"}
    assert secretary.post(url, resubmit).status_code == 302  # version 4
    # A reviewer whose page showed the first report (version 2) accepts it: refused.
    stale = admin.post(url, {"action": "sign_off", "accept": "1", "note": "", "row_version": "2"})
    assert stale.status_code == 409
    verdict = next(c for c in stale.context["conflict"]["changes"] if c["label"] == "验收结论")
    assert (verdict["saved"], verdict["typed"]) == ("不予销号，退回整改", "同意销号")
    assert RectificationItem.objects.get(pk=item.pk).status == "submitted"
    assert admin.post(url, {"action": "sign_off", "accept": "1", "note": "", "row_version": "4"}).status_code == 302
    assert RectificationItem.objects.get(pk=item.pk).status == "closed"


def test_17_3_rectification_patch_needs_the_current_etag(cast, item):
    api, url = cast.api("org_admin_p"), f"/api/v1/rectifications/{item.pk}/"
    assert api.patch(url, {"owner_name": "无版本"}, format="json").status_code == 428
    tag = if_match(api, url)
    assert api.patch(url, {"owner_name": "李委员"}, format="json", **tag).status_code == 200
    stale = api.patch(url, {"owner_name": "旧副本"}, format="json", **tag)
    assert stale.status_code == 412
    assert RectificationItem.objects.values_list("owner_name", "row_version").get(pk=item.pk) == ("李委员", 2)
