from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel: the access gate, dates, numbers, paging, the API base classes, health
    probes and read-replica routing.

    It holds no domain model (only the idempotency records of #17.2 and the beat heartbeat of
    #18.2) and imports no domain app; every app imports it.
    """

    name = "core"
    verbose_name = "公共内核"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from core.replica import task_heavy_reads_end, task_heavy_reads_start

        task_prerun.connect(task_heavy_reads_start, weak=False, dispatch_uid="core.replica.start")
        task_postrun.connect(task_heavy_reads_end, weak=False, dispatch_uid="core.replica.end")
