"""Member imports run by a worker (members.import_jobs); thin and safe to run twice."""

from celery import shared_task

from members.import_jobs import import_check, import_commit_run


@shared_task(name="members.import_check", acks_late=True, time_limit=1800, soft_time_limit=1700)
def import_check_task(batch_id: int) -> None:
    import_check(batch_id)


@shared_task(name="members.import_commit", acks_late=True, time_limit=1800, soft_time_limit=1700)
def import_commit_task(batch_id: int, user_id: int) -> None:
    import_commit_run(batch_id, user_id)
