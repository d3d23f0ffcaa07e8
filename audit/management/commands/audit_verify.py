from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import audit_checkpoint_problems, audit_verify


class Command(BaseCommand):
    help = (
        "校验审计日志哈希链（带密钥）并与库外检查点比对：列出被修改、删除或清空的痕迹；发现问题时以非零状态退出"
    )

    def handle(self, *args, **options):
        broken = audit_verify()
        problems = audit_checkpoint_problems()
        total = AuditEvent.objects.count()
        if not broken and not problems:
            self.stdout.write(self.style.SUCCESS(f"审计日志完整：共 {total} 条，哈希链校验通过。"))
            return
        if broken:
            rows = AuditEvent.objects.filter(pk__in=broken).order_by("id")
            self.stdout.write(f"发现 {len(broken)} 条记录哈希链不一致（记录被修改，或其前一条被删除）：")
            for row in rows:
                self.stdout.write(
                    f"  id={row.pk} 时间={row.created_at:%Y-%m-%d %H:%M:%S} 用户={row.username} 事件={row.event}"
                )
        for problem in problems:
            self.stdout.write(f"检查点比对失败：{problem}")
        raise CommandError(f"审计日志校验失败：{len(broken)} 条记录异常，{len(problems)} 项检查点不符")
