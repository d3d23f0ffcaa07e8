"""Member and dues-base imports run by a worker (members.import_jobs, members.dues.import_jobs);
thin and safe to run twice."""

from celery import shared_task

from members.dues.import_jobs import dues_import_check, dues_import_commit_run
from members.import_jobs import import_check, import_commit_run


@shared_task(name="members.import_check", acks_late=True, time_limit=1800, soft_time_limit=1700)
def import_check_task(batch_id: int) -> None:
    import_check(batch_id)


@shared_task(name="members.import_commit", acks_late=True, time_limit=1800, soft_time_limit=1700)
def import_commit_task(batch_id: int, user_id: int) -> None:
    import_commit_run(batch_id, user_id)


@shared_task(name="members.dues_import_check", acks_late=True, time_limit=1800, soft_time_limit=1700)
def dues_import_check_task(batch_id: int) -> None:
    dues_import_check(batch_id)


@shared_task(name="members.dues_import_commit", acks_late=True, time_limit=1800, soft_time_limit=1700)
def dues_import_commit_task(batch_id: int, user_id: int) -> None:
    dues_import_commit_run(batch_id, user_id)
