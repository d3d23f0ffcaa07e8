from django.core.management.base import BaseCommand

from accounts.policy import security_policy
from accounts.services import accounts_disable_dormant


class Command(BaseCommand):
    help = "停用长期未登录的账号（默认 90 天，见安全参数；应急超级用户除外）"

    def handle(self, *args, **options):
        disabled = accounts_disable_dormant()
        days = security_policy().dormant_days
        self.stdout.write(self.style.SUCCESS(f"已停用 {len(disabled)} 个超过 {days} 天未登录的账号。"))
        for username in disabled:
            self.stdout.write(f"  {username}")
