from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import AccountSecurity
from accounts.services import random_password
from audit.services import audit_log


class Command(BaseCommand):
    help = (
        "创建第一个管理员（应急超级用户）：随机密码只显示一次，首次登录必须修改密码并绑定两步验证。"
        "系统中已有超级用户时拒绝执行（没有默认账号）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="用户名（默认 admin）")

    def handle(self, *args, username, **options):
        User = get_user_model()
        with transaction.atomic():
            if User.objects.filter(is_superuser=True).exists():
                raise CommandError("已存在超级用户，不再创建；如需新账号请由系统管理员在“账号管理”中新建。")
            if User.objects.filter(username__iexact=username).exists():
                raise CommandError(f"用户名 {username} 已被使用")
            password = random_password(20)
            user = User.objects.create_superuser(username=username, password=password, email="")
            AccountSecurity.objects.update_or_create(user=user, defaults={"must_change_password": True})
            audit_log(event="user_create", obj=user, detail={"username": username, "via": "create_first_admin"})
        self.stdout.write(self.style.SUCCESS(f"已创建管理员 {username}。"))
        self.stdout.write(f"临时密码（只显示这一次）：{password}")
        self.stdout.write("首次登录时必须修改密码并绑定两步验证。该账号为应急账号，每次登录都会记入审计日志；")
        self.stdout.write("日常工作请新建系统管理员、安全管理员、审计员三个专用账号并分配角色。")
