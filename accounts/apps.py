from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账号与安全"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (connect receivers)
