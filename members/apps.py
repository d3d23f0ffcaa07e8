from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "党员"

    def ready(self) -> None:
        from members.crypto import check_configuration

        # A malformed FIELD_ENCRYPTION_KEY / FIELD_HASH_KEY stops start-up with its name.
        check_configuration()
