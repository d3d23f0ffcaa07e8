"""星级评定公示 for party members: the round's ratings in 公示 are listed to the members of the
committee that runs it (result only, in tree order), and a member comments from the list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assessments.models import RatingComment
from assessments.services.ratings import rating_start_publicity
from core.dates import today
from tests.assessments.test_rating_process import _submitted, rated  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _in_publicity(cast, rating, i):
    rating = _submitted(cast, rating, i, m1="8", j1="2")
    rating_start_publicity(rating=rating, user=cast.users["org_admin_p"], start=today() - timedelta(days=1))
    rating.refresh_from_db()
    return rating


def test_member_sees_the_rounds_publicity_and_comments(rated):  # noqa: F811
    cast, scheme, round_, a, b, i = rated
    a = _in_publicity(cast, a, i)
    b = _in_publicity(cast, b, i)
    client = cast.client("member_a")
    index = client.get("/assessments/").content.decode()
    assert "查看公示、提意见" in index
    page = client.get("/assessments/publicity/").content.decode()
    # A's and B's ratings (the same round of P), result only — never the scores by indicator
    assert "第一党支部" in page and "第二党支部" in page and f"{a.stars} 星" in page
    assert "阵地建设" not in page
    assert page.index("第一党支部") < page.index("第二党支部")  # tree order, not by stars
    response = client.post("/assessments/publicity/", {"rating": b.pk, "text": "该支部活动开展扎实，同意"})
    assert response.status_code == 302
    comment = RatingComment.objects.get(rating=b)
    assert comment.author == cast.users["member_a"]
    # the reviewing committee reads it on the rating page
    assert "该支部活动开展扎实" in cast.client("org_admin_p").get(f"/assessments/ratings/{b.pk}/").content.decode()


def test_empty_comment_redisplays_and_foreign_or_closed_ratings_are_refused(rated):  # noqa: F811
    cast, scheme, round_, a, b, i = rated
    a = _in_publicity(cast, a, i)
    client = cast.client("member_a")
    empty = client.post("/assessments/publicity/", {"rating": a.pk, "text": ""})
    body = empty.content.decode()
    assert empty.status_code == 400 and ("必填" in body or "请填写" in body or "这个字段是必填项" in body)
    assert client.post("/assessments/publicity/", {"rating": "x", "text": "意见"}).status_code == 404
    assert not RatingComment.objects.exists()
    # nothing of another committee's round, and nothing for an outsider
    assert "第一党支部" not in cast.client("outsider").get("/assessments/publicity/").content.decode()
    assert cast.client("outsider").post("/assessments/publicity/", {"rating": a.pk, "text": "x"}).status_code == 404
    # a draft rating is not published
    draft = cast.client("member_a").get("/assessments/publicity/").content.decode()
    assert "第二党支部" not in draft


def test_no_publicity_shows_an_empty_state(rated):  # noqa: F811
    cast, *_ = rated
    assert "目前没有正在公示的星级评定" in cast.client("member_a").get("/assessments/publicity/").content.decode()


def test_auditor_reads_but_cannot_comment(rated):  # noqa: F811
    cast, scheme, round_, a, b, i = rated
    a = _in_publicity(cast, a, i)
    client = cast.client("auditor_p")
    assert "第一党支部" in client.get("/assessments/publicity/").content.decode()
    assert client.post("/assessments/publicity/", {"rating": a.pk, "text": "审计意见"}).status_code == 403
    assert not RatingComment.objects.exists()
