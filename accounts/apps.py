from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账号与安全"

    def ready(self) -> None:
        from accounts import display, signals  # noqa: F401  (connect receivers)
        from accounts.policy import security_policy
        from audit.services import register_retention_source

        # The secadmin's retention period (AUD-4) governs the audit purge.
        register_retention_source(lambda: security_policy().audit_retention_days)
