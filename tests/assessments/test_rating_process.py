"""The rating process: self-assessment → review → 公示 → final, its permissions, quotas and history."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.choices import RatingStatus, StarChange
from assessments.models import Rating, RatingStep
from assessments.services.ratings import (
    rating_comment,
    rating_direct,
    rating_finalize,
    rating_return,
    rating_review,
    rating_self_score,
    rating_start_publicity,
    rating_submit,
    round_open,
)
from audit.models import AuditEvent
from organizations.services import committee_term_start
from tests.assessments.helpers import active_scheme, after_publicity, ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(cast):
    committee_term_start(org=cast.A, elected_on=date(2024, 3, 1))  # A's term runs to 2027: T1 computed = 10
    scheme = active_scheme(cast.P)
    round_ = round_open(organization=cast.P, scheme=scheme, year=2025, user=cast.users["org_admin_p"])
    a = Rating.objects.get(round=round_, organization=cast.A)
    b = Rating.objects.get(round=round_, organization=cast.B)
    return cast, scheme, round_, a, b, ids(scheme)


def full_scores(i, m1="8", j1="2", d1="0", v1="0"):
    return {
        i["M1"]: {"points": m1},
        i["J1"]: {"points": j1},
        i["D1"]: {"points": d1},
        i["V1"]: {"points": v1},
    }


def test_round_prefills_computed_scores(rated):
    cast, scheme, round_, a, b, i = rated
    entry_a = a.entries.get(indicator_id=i["T1"])
    entry_b = b.entries.get(indicator_id=i["T1"])
    assert entry_a.computed_value == Decimal(1) and entry_a.computed_points == Decimal(10)
    assert entry_b.computed_value == Decimal(0) and entry_b.computed_points == Decimal(0)  # B has no term
    assert round_.ratings.count() == 2  # only branches of P; not P itself, not the group A1


def test_only_the_branch_secretary_fills_in_the_self_assessment(rated):
    cast, scheme, round_, a, b, i = rated
    for who in ("secretary_b", "org_admin_p", "member_a", "auditor_p"):
        with pytest.raises(PermissionDenied):
            rating_self_score(rating=a, user=cast.users[who], scores=full_scores(i))
    rating_self_score(rating=a, user=cast.users["secretary_a"], scores=full_scores(i))
    a.refresh_from_db()
    assert a.self_total == Decimal("20.00")  # 8 + computed 10 + bonus 2


def test_manual_score_above_maximum_and_unexplained_correction_are_refused(rated):
    cast, scheme, round_, a, b, i = rated
    secretary = cast.users["secretary_a"]
    with pytest.raises(ValidationError) as exc:
        rating_self_score(rating=a, user=secretary, scores={i["M1"]: {"points": "11"}})
    assert "超过该项最高 10 分" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        rating_self_score(rating=a, user=secretary, scores={i["T1"]: {"points": "5"}})
    assert "与系统计算得分不同，请说明理由" in str(exc.value)
    rating_self_score(rating=a, user=secretary, scores={i["T1"]: {"points": "5", "note": "换届材料尚未报备"}})
    assert a.entries.get(indicator_id=i["T1"]).self_points == Decimal(5)


def test_submit_requires_every_scored_indicator(rated):
    cast, scheme, round_, a, b, i = rated
    with pytest.raises(ValidationError) as exc:
        rating_submit(rating=a, user=cast.users["secretary_a"])
    assert "阵地建设" in str(exc.value) and "创新项目" in str(exc.value)
    rating_self_score(rating=a, user=cast.users["secretary_a"], scores=full_scores(i))
    rating_submit(rating=a, user=cast.users["secretary_a"])
    a.refresh_from_db()
    assert a.status == RatingStatus.SUBMITTED
    with pytest.raises(ValidationError):
        rating_self_score(rating=a, user=cast.users["secretary_a"], scores=full_scores(i, m1="9"))


def _submitted(cast, rating, i, **scores):
    secretary = cast.users["secretary_a" if rating.organization_id == cast.A.pk else "secretary_b"]
    rating_self_score(rating=rating, user=secretary, scores=full_scores(i, **scores))
    rating_submit(rating=rating, user=secretary)
    rating.refresh_from_db()
    return rating


def test_review_changing_a_score_needs_a_reason(rated):
    cast, scheme, round_, a, b, i = rated
    a = _submitted(cast, a, i)
    admin = cast.users["org_admin_p"]
    with pytest.raises(PermissionDenied):
        rating_review(rating=a, user=cast.users["secretary_a"], scores={i["M1"]: {"points": "6"}})
    with pytest.raises(ValidationError) as exc:
        rating_review(rating=a, user=admin, scores={i["M1"]: {"points": "6"}})
    assert "须填写理由" in str(exc.value)
    assert a.entries.get(indicator_id=i["M1"]).review_points is None  # nothing written
    rating_review(rating=a, user=admin, scores={i["M1"]: {"points": "8"}})  # unchanged: no reason needed
    rating_review(rating=a, user=admin, scores={i["M1"]: {"points": "6", "reason": "阵地使用记录不全"}})
    a.refresh_from_db()
    assert a.review_total == Decimal("18.00")
    step = RatingStep.objects.filter(rating=a, action="review_score").last()
    assert step.detail["changes"]["M1"] == {"from": "8", "to": "6", "reason": "阵地使用记录不全"}


def test_return_needs_reason_and_reopens_the_draft(rated):
    cast, scheme, round_, a, b, i = rated
    a = _submitted(cast, a, i)
    with pytest.raises(ValidationError):
        rating_return(rating=a, user=cast.users["org_admin_p"], reason="")
    rating_return(rating=a, user=cast.users["org_admin_p"], reason="佐证材料不全，请补充")
    a.refresh_from_db()
    assert a.status == RatingStatus.DRAFT


def test_publicity_comments_and_finalize_after_the_period(rated):
    cast, scheme, round_, a, b, i = rated
    a = _submitted(cast, a, i, m1="8", j1="2")
    admin = cast.users["org_admin_p"]
    rating_start_publicity(rating=a, user=admin, start=date(2026, 2, 2))
    a.refresh_from_db()
    assert a.status == RatingStatus.PUBLICITY and a.publicity_end == date(2026, 2, 6) and a.stars == 5
    rating_comment(rating=a, user=cast.users["member_a"], text="同意评定结果", on=date(2026, 2, 3))
    with pytest.raises(PermissionDenied):
        rating_comment(rating=a, user=cast.users["outsider"], text="外人意见", on=date(2026, 2, 3))
    with pytest.raises(ValidationError):
        rating_comment(rating=a, user=cast.users["member_a"], text="晚了", on=date(2026, 2, 7))
    with pytest.raises(ValidationError) as exc:
        rating_finalize(rating=a, user=admin, on=date(2026, 2, 6))
    assert "期满后方可确定星级" in str(exc.value)
    with pytest.raises(PermissionDenied):
        rating_finalize(rating=a, user=cast.users["secretary_a"], on=after_publicity(a))
    rating_finalize(rating=a, user=admin, on=after_publicity(a))
    a.refresh_from_db()
    assert (a.status, a.final_total, a.stars, a.change) == (RatingStatus.FINAL, Decimal("20.00"), 5, StarChange.NEW)
    events = set(AuditEvent.objects.filter(object_type="Rating", object_id=str(a.pk)).values_list("event", flat=True))
    assert {
        "rating_self_score",
        "rating_submit",
        "rating_start_publicity",
        "rating_comment",
        "rating_finalize",
    } <= events


def test_quota_is_checked_when_finalizing(rated):
    cast, scheme, round_, a, b, i = rated
    admin = cast.users["org_admin_p"]
    # B has no term (T1 = 0); give it the maximum by hand with a note, so both reach 五星.
    for rating, user in ((a, "secretary_a"), (b, "secretary_b")):
        scores = full_scores(i, m1="10", j1="5")
        scores[i["T1"]] = {"points": "10", "note": "已完成换届，待补录"}
        rating_self_score(rating=rating, user=cast.users[user], scores=scores)
        rating_submit(rating=rating, user=cast.users[user])
        rating_start_publicity(rating=rating, user=admin, start=date(2026, 2, 2))
    a.refresh_from_db()
    b.refresh_from_db()
    rating_finalize(rating=a, user=admin, on=after_publicity(a))
    with pytest.raises(ValidationError) as exc:
        rating_finalize(rating=b, user=admin, on=after_publicity(b))
    message = str(exc.value)
    assert "五星名额已满" in message and "共 2 个组织" in message and "（1 个）" in message
    b.refresh_from_db()
    assert b.status == RatingStatus.PUBLICITY  # nothing written


def test_veto_caps_and_deduction_lowers_stars(rated):
    cast, scheme, round_, a, b, i = rated
    a = _submitted(cast, a, i, m1="10", j1="5", v1="1")
    rating_start_publicity(rating=a, user=cast.users["org_admin_p"], start=date(2026, 2, 2))
    a.refresh_from_db()
    assert a.vetoed and a.stars == 0
    b_scores = full_scores(i, m1="10", j1="5", d1="5")
    b_scores[i["T1"]] = {"points": "0"}
    rating_self_score(rating=b, user=cast.users["secretary_b"], scores=b_scores)
    b.refresh_from_db()
    assert b.self_total == Decimal("10.00")


def test_stars_rise_and_fall_year_by_year(cast, monkeypatch):
    import assessments.services.ratings as services_ratings

    committee_term_start(org=cast.A, elected_on=date(2024, 3, 1))
    admin = cast.users["org_admin_p"]
    history = []
    for year, m1, j1 in ((2024, "10", "5"), (2025, "4", "0"), (2026, "9", "0")):
        scheme = active_scheme(cast.P, year=year)
        round_ = round_open(organization=cast.P, scheme=scheme, year=year, user=admin)
        i = ids(scheme)
        rating = Rating.objects.get(round=round_, organization=cast.A)
        rating_self_score(rating=rating, user=cast.users["secretary_a"], scores=full_scores(i, m1=m1, j1=j1))
        rating_submit(rating=rating, user=cast.users["secretary_a"])
        # Each year's rating is published in February of the next year: travel there.
        monkeypatch.setattr(services_ratings, "today", lambda year=year: date(year + 1, 2, 1))
        rating_start_publicity(rating=rating, user=admin, start=date(year + 1, 2, 1))
        rating.refresh_from_db()
        rating_finalize(rating=rating, user=admin, on=after_publicity(rating))
        rating.refresh_from_db()
        history.append((rating.stars, rating.previous_stars, rating.change))
    assert history == [(5, None, "new"), (3, 5, "down"), (4, 3, "up")]


def test_direct_rating_for_an_honour_needs_a_reason(rated):
    cast, scheme, round_, a, b, i = rated
    admin = cast.users["org_admin_p"]
    with pytest.raises(ValidationError):
        rating_direct(round_=round_, organization=cast.B, stars=5, reason="先进", user=admin)
    with pytest.raises(PermissionDenied):
        rating_direct(
            round_=round_,
            organization=cast.B,
            stars=5,
            reason="2025 年度区级先进基层党组织",
            user=cast.users["secretary_b"],
        )
    rating_direct(
        round_=round_,
        organization=cast.B,
        stars=5,
        reason="2025 年度区级先进基层党组织（区委组〔2025〕12号）",
        user=admin,
    )
    b.refresh_from_db()
    assert b.is_direct and b.stars == 5 and b.status == RatingStatus.FINAL
    assert AuditEvent.objects.filter(event="rating_direct", object_id=str(b.pk)).count() == 1
