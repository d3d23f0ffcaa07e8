"""已开始生成报告 is a transient message (issue 14.5): it carries data-transient, and the progress box
says when the work is done (data-work-done), so the page drops the message once the batch finished."""

import pytest

pytestmark = pytest.mark.django_db


def test_report_started_message_goes_once_the_batch_is_done(cast, django_capture_on_commit_callbacks):
    client = cast.client("org_admin_p")
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/assessments/reports/", {"organization": cast.P.pk, "year": 2026, "quarter": 1})
    page = client.get(response["Location"]).content.decode()
    assert 'class="msg msg-success" data-transient>已开始生成报告' in page
    assert "data-work-done" not in page  # queued: the message stays
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/assessments/reports/", {"organization": cast.P.pk, "year": 2026, "quarter": 2}
        )
    progress = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'id="batch-progress" data-work-done' in progress
