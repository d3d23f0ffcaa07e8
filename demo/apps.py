from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and benchmarks: ``seed_demo``, ``bench`` and the builders they use.

    It sits above every domain app (it fills them all) and nothing imports it but its commands.
    """

    name = "demo"
    verbose_name = "演示数据与基准"
