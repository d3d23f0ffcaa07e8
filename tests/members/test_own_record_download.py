"""#13.12: “下载我的档案” holds everything the 我的 page shows — dues, meetings and attendance, study
records, development steps — and names the exporter by name, not username."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from activities.services.meetings import meeting_save
from activities.services.study import study_record_create
from members.development.models import DevelopmentStep, StepCode
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_payment_record
from tests.activities.conftest import MEETING_DAY, attendance, header

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(cast):
    own = cast.member_a_record
    secretary = cast.users["secretary_a"]
    dues_fixing_create(member=own, year=2026, category="employed", base=Decimal("5000"), fixed_on=date(2026, 1, 5))
    dues_payment_record(member=own, months=[date(2026, 1, 1)], paid_on=date(2026, 1, 20), recorded_by=secretary)
    meeting_save(
        user=secretary,
        organization=cast.A,
        data=header(title="学习二十届全会精神"),
        attendance=attendance([own], present=0, status="leave"),
        resolutions=[],
        finish=True,
    )
    study_record_create(
        user=secretary,
        member=own,
        source="training",
        studied_on=date(2026, 2, 10),
        hours=Decimal("8"),
        title="党务干部培训班",
    )
    DevelopmentStep.objects.create(
        member=own, organization=cast.A, step=StepCode.values[0], number=1, occurred_on=date(2019, 3, 1)
    )
    return own


def test_download_holds_every_section_of_the_me_page(cast, history):
    client = cast.client("member_a")
    data = json.loads(client.get("/members/me/download/?format=json").content)
    assert [r["月份"] for r in data["党费"]][0] == "2026-01"
    assert data["党费"][0]["状态"] == "已交" and data["党费"][0]["缴纳日期"] == "2026-01-20"
    meeting = next(r for r in data["组织生活"] if r["主题"] == "学习二十届全会精神")
    assert meeting["出席情况"] == "请假" and meeting["原因"] == "出差" and meeting["日期"] == MEETING_DAY.isoformat()
    assert [(r["内容"], r["学时"]) for r in data["学习记录"] if r["来源"] == "培训班"] == [("党务干部培训班", "8.0")]
    assert data["发展党员步骤"][0]["日期"] == "2019-03-01"


def test_xlsx_has_a_sheet_per_section_and_names_the_exporter(cast, history):
    response = cast.client("member_a").get("/members/me/download/?format=xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    assert {"基本信息", "组织关系记录", "组织关系转接", "党费", "组织生活", "学习记录", "发展党员步骤"} <= set(
        workbook.sheetnames
    )
    watermark = workbook["基本信息"].cell(1, 1).value
    assert f"导出人：{history.name}" in watermark
    assert cast.users["member_a"].username not in watermark
    study = list(workbook["学习记录"].iter_rows(values_only=True))
    assert study[0][:3] == ("日期", "内容", "学时") and ("2026-02-10", "党务干部培训班", "8.0") in [
        r[:3] for r in study
    ]


def test_json_names_the_exporter_by_name(cast, history):
    data = json.loads(cast.client("member_a").get("/members/me/download/?format=json").content)
    assert data["导出信息"]["导出人"] == history.name
