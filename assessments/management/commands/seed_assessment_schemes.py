from django.core.management.base import BaseCommand, CommandError

from core.dates import today


class Command(BaseCommand):
    help = "为每个顶层党组织载入两个星级评定示例方案（已有则跳过），供组织部门复制修改"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None, help="适用年度（默认今年）")

    def handle(self, *args, year, **options):
        from assessments.seeds import seed_example_schemes

        year = year or today().year
        if not 2000 <= year <= 2100:
            raise CommandError("--year 应在 2000 至 2100 之间")
        created = seed_example_schemes(year=year)
        self.stdout.write(f"已载入 {len(created)} 个星级评定示例方案（{year} 年度）。")
