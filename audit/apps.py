from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "审计日志"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from audit import signals  # noqa: F401  (connect receivers)
        from audit.logging import task_finished, task_started
        from audit.services import deferred_chain
        from core.idempotency import register_request_block

        task_prerun.connect(task_started, weak=False, dispatch_uid="audit.logging.task_started")
        task_postrun.connect(task_finished, weak=False, dispatch_uid="audit.logging.task_finished")
        # A request with an idempotency key links its audit events just before its commit (#20.3).
        register_request_block(deferred_chain)
