"""#17.3: edits are never silently lost — ETag / If-Match in the API, the version in page forms."""

from __future__ import annotations

import pytest

from activities.models import Meeting
from members.models import Member
from tests.activities.conftest import add_members
from tests.activities.test_api import body as meeting_body
from tests.activities.test_pages import form_post
from tests.api_helpers import if_match

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(cast, today_is):
    return [cast.member_a_record, *add_members(cast.A, full=5, probationary=1)]


@pytest.fixture
def meeting_url(cast, people):
    created = cast.api("secretary_a").post(
        "/api/v1/meetings/", meeting_body(cast, people, resolutions=[]), format="json"
    )
    assert created.status_code == 201, created.json()
    return f"/api/v1/meetings/{created.json()['id']}/"


def test_17_3_stale_put_is_a_412_and_changes_nothing(cast, people, meeting_url):
    a, b = cast.api("secretary_a"), cast.api("org_admin_p")
    tag_a, tag_b = if_match(a, meeting_url), if_match(b, meeting_url)
    assert tag_a == tag_b
    saved = a.put(meeting_url, meeting_body(cast, people, resolutions=[], title="A 的新主题"), format="json", **tag_a)
    assert saved.status_code == 200 and saved["ETag"] != tag_a["HTTP_IF_MATCH"]
    stale = b.put(meeting_url, meeting_body(cast, people, resolutions=[], title="B 的旧副本"), format="json", **tag_b)
    assert stale.status_code == 412 and "已被他人修改" in str(stale.json())
    meeting = Meeting.objects.get()
    assert meeting.title == "A 的新主题" and meeting.row_version == 2
    fresh = if_match(b, meeting_url)  # B fetches again and saves knowingly
    assert b.put(meeting_url, meeting_body(cast, people, resolutions=[], title="B"), format="json", **fresh).status_code == 200


def test_17_3_put_without_if_match_is_a_428(cast, people, meeting_url):
    api = cast.api("secretary_a")
    response = api.put(meeting_url, meeting_body(cast, people, resolutions=[], title="无版本"), format="json")
    assert response.status_code == 428 and "If-Match" in str(response.json())
    wrong = api.put(
        meeting_url, meeting_body(cast, people, resolutions=[]), format="json", HTTP_IF_MATCH='"member-1-v1"'
    )
    assert wrong.status_code == 412
    assert Meeting.objects.get().title != "无版本"


def test_17_3_member_patch_needs_the_current_etag(cast):
    api, url = cast.api("secretary_a"), f"/api/v1/members/{cast.member_a_record.pk}/"
    tag = if_match(api, url)
    assert api.patch(url, {"employer": "第一单位"}, format="json", **tag).status_code == 200
    assert api.patch(url, {"employer": "旧副本"}, format="json", **tag).status_code == 412
    assert api.patch(url, {"employer": "无版本"}, format="json").status_code == 428
    assert Member.objects.get(pk=cast.member_a_record.pk).employer == "第一单位"


def test_17_3_page_form_conflict_shows_what_changed_and_keeps_what_was_typed(cast, people):
    client = cast.client("secretary_a")
    assert client.post(f"/activities/org/{cast.A.pk}/meetings/new/", form_post(people)).status_code == 302
    meeting = Meeting.objects.get()
    edit_url = f"/activities/meetings/{meeting.pk}/edit/"
    assert 'name="row_version" value="1"' in client.get(edit_url).content.decode()
    # A saves a new title from the same page (version 1 → 2) …
    first = client.post(edit_url, {**form_post(people, title="A 改的主题"), "row_version": "1"})
    assert first.status_code == 302
    # … then B posts the copy loaded at version 1.
    stale = client.post(edit_url, {**form_post(people, title="B 填的主题", place="二楼"), "row_version": "1"})
    page = stale.content.decode()
    assert stale.status_code == 409
    assert "他人已保存" in page and "A 改的主题" in page and 'value="B 填的主题"' in page and 'value="二楼"' in page
    assert 'name="row_version" value="2"' in page
    assert Meeting.objects.get().title == "A 改的主题"
    # Saving again from the conflict page overwrites knowingly.
    again = client.post(edit_url, {**form_post(people, title="B 填的主题"), "row_version": "2"})
    assert again.status_code == 302 and Meeting.objects.get().title == "B 填的主题"
