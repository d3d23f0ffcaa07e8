from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "审计日志"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from audit import signals  # noqa: F401  (connect receivers)
        from audit.logging import task_finished, task_started

        task_prerun.connect(task_started, weak=False, dispatch_uid="audit.logging.task_started")
        task_postrun.connect(task_finished, weak=False, dispatch_uid="audit.logging.task_finished")
