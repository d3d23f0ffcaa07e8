from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Dashboards for organization departments: summary tables over the organization tree."""

    name = "dashboard"
    label = "dashboard"
    verbose_name = "统计看板"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Keep the summary tables current when members, meetings, dues … change.
        from dashboard import (
            signals,
            sources,  # noqa: F401  (registers the families of organizations and members)
            sources_apps,
        )

        sources_apps.register()
        signals.connect()
