from django.core.management.base import BaseCommand

from audit.chain import checkpoint_path
from audit.services import audit_checkpoint


class Command(BaseCommand):
    help = "把审计链链头（最新记录的编号与哈希）签名后写入库外检查点文件和日志（每日由定时任务执行）"

    def handle(self, *args, **options):
        line = audit_checkpoint()
        if line is None:
            self.stdout.write("审计日志为空，未写检查点。")
            return
        self.stdout.write(
            self.style.SUCCESS(f"已写检查点：链头 id={line['head_id']}，共 {line['rows']} 条 → {checkpoint_path()}")
        )
