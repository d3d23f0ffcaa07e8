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
            checks,  # noqa: F401  (the deploy check of the rebuild's limit against the broker)
            signals,
            sources,  # noqa: F401  (registers the families of organizations and members)
            sources_apps,
        )

        sources_apps.register()
        signals.connect()
        # The organization pages read their subtree member totals from the facts when current.
        from dashboard.org_totals import subtree_totals_from_facts
        from organizations.selectors import register_subtree_facts_reader

        register_subtree_facts_reader(subtree_totals_from_facts)
        # Facts never built by this version of the code (or a request pending): build them.
        from django.db.models.signals import post_migrate

        from dashboard.builds import after_migrate

        post_migrate.connect(after_migrate, sender=self, dispatch_uid="dashboard:after_migrate", weak=False)
