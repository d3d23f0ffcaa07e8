from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel: the access gate, dates, numbers, paging and the API base classes.

    It holds no domain model (only the idempotency records of #17.2) and imports no domain app;
    every app imports it.
    """

    name = "core"
    verbose_name = "公共内核"
