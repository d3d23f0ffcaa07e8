from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "党员"

    def ready(self) -> None:
        from core.access import register_identity_source
        from members import checks  # noqa: F401 - registers the deploy check of the field keys
        from members.crypto import check_configuration
        from members.me import register_member_sections
        from members.models import member_identity_for
        from members.selectors import organization_member_counts, organization_subtree_member_counts
        from organizations.selectors import register_member_count_source

        # A malformed FIELD_ENCRYPTION_KEY / FIELD_HASH_KEY stops start-up with its name.
        check_configuration()
        register_identity_source(member_identity_for)
        from members import scope_cache

        scope_cache.connect()
        register_member_sections()
        register_member_count_source(organization_member_counts, subtree=organization_subtree_member_counts)
