"""Dues-base imports in the background (#18.5): upload answers at once, a worker checks and commits."""

from __future__ import annotations

import pytest
from celery import current_app

from members.dues import import_jobs
from members.dues.models import DuesFixing, DuesImportBatch, ImportStatus
from members.tasks import dues_import_check_task, dues_import_commit_task
from tests.factories import MemberFactory
from tests.members.dues.test_dues_pages import _xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    sent: list = []
    monkeypatch.setattr(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(dues_import_check_task, "delay", lambda *a: sent.append(("check", a)))
    monkeypatch.setattr(dues_import_commit_task, "delay", lambda *a: sent.append(("commit", a)))
    return sent


def test_upload_answers_at_once_then_a_worker_checks_and_commits(cast, queued, django_capture_on_commit_callbacks):
    m2 = MemberFactory(organization=cast.A, name="丙党员", dues_category="employed")
    rows = [
        [cast.member_a_record.pk, "甲党员", "在职", 5100, None, None, None],
        [m2.pk, "丙党员", "学生", None, None, None, None],
    ]
    client = cast.client("secretary_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/dues/org/{cast.A.pk}/import/", {"year": "2025", "file": _xlsx(rows)})
    batch = DuesImportBatch.objects.get()
    assert response.status_code == 302 and batch.status == ImportStatus.CHECKING and batch.row_count == 2
    assert queued == [("check", (batch.pk,))]
    assert "正在后台逐行检查 2 行数据" in client.get(response["Location"]).content.decode()

    import_jobs.dues_import_check(batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW and batch.errors == []
    assert client.get(response["Location"], HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"action": "commit"})
    batch.refresh_from_db()
    assert batch.status == ImportStatus.COMMITTING and not DuesFixing.objects.exists()
    import_jobs.dues_import_commit_run(batch.pk, cast.users["secretary_a"].pk)
    import_jobs.dues_import_commit_run(batch.pk, cast.users["secretary_a"].pk)  # redelivered: nothing doubled
    batch.refresh_from_db()
    assert batch.status == ImportStatus.COMMITTED
    assert DuesFixing.objects.filter(import_batch=batch).count() == 2


def test_a_file_that_is_not_the_template_is_answered_in_the_request(cast, queued):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = cast.client("secretary_a")
    response = client.post(
        f"/dues/org/{cast.A.pk}/import/", {"year": "2025", "file": SimpleUploadedFile("x.xlsx", b"a,b\n")}
    )
    assert response.status_code == 400 and ".xlsx" in response.content.decode()
    assert not DuesImportBatch.objects.exists()
    response = client.post(
        f"/dues/org/{cast.A.pk}/import/", {"year": "2025", "file": _xlsx([[1, "x"]], header=["甲", "乙"])}
    )
    batch = DuesImportBatch.objects.get()
    assert response.status_code == 302 and batch.status == ImportStatus.PREVIEW
    assert any("表头应为" in error[2] for error in batch.errors)
    assert queued == []
