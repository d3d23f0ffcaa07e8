"""Member imports in the background (#18.5): the upload answers at once, a worker checks and
commits, the page shows progress, and the all-or-nothing guarantees hold."""

from __future__ import annotations

import pytest
from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile

from members import import_jobs
from members.choices import ImportStatus
from members.models import ImportBatch, Member
from members.tasks import import_check_task, import_commit_task
from tests.members.test_member_import import row, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Tasks are sent to a worker, not run inline: record what would be sent."""
    sent: list = []
    monkeypatch.setattr(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(import_check_task, "delay", lambda *a: sent.append(("check", a)))
    monkeypatch.setattr(import_commit_task, "delay", lambda *a: sent.append(("commit", a)))
    return sent


def test_upload_answers_at_once_and_a_worker_checks_then_commits(cast, queued, django_capture_on_commit_callbacks):
    client = cast.client("secretary_a")
    upload = SimpleUploadedFile("good.xlsx", xlsx([row(cast, n) for n in range(1, 4)]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/members/import/", {"organization": cast.A.pk, "file": upload})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert batch.status == ImportStatus.CHECKING and batch.row_count == 0
    assert queued == [("check", (batch.pk,))]
    page = client.get(response["Location"]).content.decode()
    assert "正在后台检查表格" in page and "确认导入" not in page
    poll = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in poll.content.decode()

    import_jobs.import_check(batch.pk)  # the worker
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEWED and batch.row_count == 3 and batch.error_count == 0
    done = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/members/import/{batch.pk}/", {"action": "commit"})
    batch.refresh_from_db()
    assert batch.status == ImportStatus.COMMITTING
    assert queued[-1] == ("commit", (batch.pk, cast.users["secretary_a"].pk))
    assert "正在后台导入 3 名党员" in client.get(f"/members/import/{batch.pk}/").content.decode()
    assert not Member.objects.filter(name__startswith="导入").exists()

    import_jobs.import_commit_run(batch.pk, cast.users["secretary_a"].pk)  # the worker
    import_jobs.import_commit_run(batch.pk, cast.users["secretary_a"].pk)  # redelivered: nothing doubled
    batch.refresh_from_db()
    assert batch.status == ImportStatus.COMMITTED and batch.committed_count == 3
    assert Member.objects.filter(name__startswith="导入").count() == 3


def test_a_commit_refused_on_the_re_check_writes_nothing_and_says_why(cast, queued, django_capture_on_commit_callbacks):
    rows = [row(cast, n) for n in range(1, 4)]
    batch = import_jobs.import_upload(user=cast.users["secretary_a"], scope=cast.A, data=xlsx(rows), file_name="a.xlsx")
    import_jobs.import_check(batch.pk)
    with django_capture_on_commit_callbacks(execute=True):
        import_jobs.import_commit_start(batch=ImportBatch.objects.get(pk=batch.pk), user=cast.users["secretary_a"])
    # Meanwhile someone registers the second row's person by hand.
    only = xlsx([rows[1]])
    other = import_jobs.import_upload(user=cast.users["secretary_a"], scope=cast.A, data=only, file_name="b.xlsx")
    import_jobs.import_check(other.pk)
    from members.imports import import_commit

    import_commit(batch=ImportBatch.objects.get(pk=other.pk), user=cast.users["secretary_a"])
    import_jobs.import_commit_run(batch.pk, cast.users["secretary_a"].pk)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEWED and batch.error_count >= 1
    assert "未导入任何数据" in batch.failure
    assert Member.objects.filter(name__startswith="导入").count() == 1  # only the other batch's row


def test_a_bad_file_is_refused_at_upload_and_by_the_worker_without_a_500(cast, queued):
    from django.core.exceptions import ValidationError

    from members import crypto

    with pytest.raises(ValidationError) as refused:
        import_jobs.import_upload(
            user=cast.users["secretary_a"], scope=cast.A, data=b"not a spreadsheet", file_name="x.xlsx"
        )
    assert "不是 XLSX" in " ".join(refused.value.messages)
    assert not ImportBatch.objects.exists()
    # A file the worker cannot read after all (e.g. stored by an older version): errors, no 500.
    batch = ImportBatch.objects.create(
        organization=cast.A,
        created_by=cast.users["secretary_a"],
        file_name="y.xlsx",
        file_cipher=crypto.encrypt_bytes(b"PK\x03\x04garbage", field=import_jobs.RAW_FIELD),
        status=ImportStatus.CHECKING,
    )
    import_jobs.import_check(batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEWED and batch.file_cipher == b""
    assert batch.errors and "损坏" in batch.errors[0][2]


def test_the_check_reports_progress_as_it_goes(cast, monkeypatch):
    from members.imports import check_rows, read_rows

    monkeypatch.setattr("members.imports.BULK_BATCH", 2)
    seen: list[int] = []
    rows = read_rows(xlsx([row(cast, n) for n in range(1, 8)]))
    check_rows(rows=rows, user=cast.users["secretary_a"], scope=cast.A, progress=seen.append)
    assert seen == [3, 5, 7]  # Excel rows checked so far (data starts on row 2)
    batch = import_jobs.import_upload(
        user=cast.users["secretary_a"], scope=cast.A, data=xlsx([row(cast, n) for n in range(1, 8)]), file_name="p.xlsx"
    )
    batch.refresh_from_db()  # run inline (eager tasks): checked to the end
    assert batch.status == ImportStatus.PREVIEWED and batch.row_count == 7 and batch.progress_done == 7
