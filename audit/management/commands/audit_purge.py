from django.core.management.base import BaseCommand

from audit.services import audit_purge


class Command(BaseCommand):
    help = "删除超过保存期（默认 190 天，见安全参数）的审计日志，并记录一条清理记录"

    def handle(self, *args, **options):
        deleted = audit_purge()
        self.stdout.write(self.style.SUCCESS(f"已清理 {deleted} 条过期审计记录。"))
