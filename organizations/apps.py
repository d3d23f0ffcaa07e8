from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = "党组织"

    def ready(self) -> None:
        from core.access import register_grant_source
        from organizations.models import role_grants_for

        register_grant_source(role_grants_for)
        from organizations import scope_cache

        scope_cache.connect()
