"""Two real star-rating schemes (domain-rules §9) as editable examples.

Both are marked ``is_example``: an org_admin copies one as a new version and adapts it to local
practice before rating. Where the sources leave numbers open, the choice is stated here.

1. "五星创评" of a city 市直工委 (§9.1): 8 indicators, 110 points. The sources give 领导班子 15,
   骨干队伍 10, 活动阵地 10, 工作制度 10; the other four weights were not recovered and total 65.
   **Chosen here**: 保障机制 10, 工作业绩 30, 群众评价 15, 加分项目 10 — so the seven regular
   indicators make 100 and the bonus brings the maximum to 110. Deductions from the source
   (换届 5, 班子不健全 5, 半年以上无活动 5, 发展党员不规范 15, 无活动场所 10). Bands
   ≥90 + 党建创新项目 → 五星 (~10%), 80–90 四星 (~30%), 70–80 三星 (~40%), 60–70 二星 (~20%),
   <60 一星. Applied to 基层党委 (org_type ``committee``) rated by the 工委.
2. District 党支部星级化管理 (§9.2), 100 points, "一查二看三评": 一查 standardisation 60,
   二看 述职评议 and honours 25, 三评 the parent's overall evaluation 15. Stars 五/四/三 only
   (below 60: 未定星), quotas 10% / 40% / 30%; direct 五星 for a 区级+ honour goes through the
   process's reasoned direct rating. A veto (serious violation, major incident) as in §9.3.
"""

from __future__ import annotations

from typing import Any

from assessments import models as m
from assessments.choices import SchemeStatus
from assessments.models import AssessmentScheme
from assessments.services.schemes import scheme_seed
from organizations.models import Organization

EXAMPLE_NOTE = "【示例方案】根据公开资料整理，仅供参考；请组织部门复制为新版本并按本地实际修改后启用。"


def _i(code: str, name: str, points: int | str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": name, "max_points": str(points), **extra}


def _computed(code: str, name: str, points: int, metric: str, **extra: Any) -> dict[str, Any]:
    return _i(code, name, points, method="computed", metric_code=metric, **extra)


def city_five_star_scheme(year: int) -> dict[str, Any]:
    return {
        "name": "市直机关基层党组织“五星创评”（示例）",
        "year": year,
        "org_type": "committee",
        "total_points": "110",
        "publicity_days": 5,
        "is_example": True,
        "description": EXAMPLE_NOTE
        + "8 项指标共 110 分。来源仅载明领导班子 15、骨干队伍 10、活动阵地 10、工作制度 10 分；"
        "其余四项合计 65 分，本示例取保障机制 10、工作业绩 30、群众评价 15、加分项目 10。",
        "sections": [
            {
                "code": "leadership",
                "name": "领导班子",
                "max_points": "15",
                "indicators": [
                    _computed("L1", "班子配备齐全", 5, "committee_complete", mapping_type="boolean"),
                    _i("L2", "班子团结、履职尽责", 5, guidance="查阅会议记录、谈心谈话记录"),
                    _computed("L3", "书记抓党建述职评议", 5, "duty_appraisal_rate", mapping_type="linear"),
                ],
            },
            {
                "code": "backbone",
                "name": "骨干队伍",
                "max_points": "10",
                "indicators": [
                    _computed("G1", "党员教育培训学时", 5, "study_hours_pace", mapping_type="linear"),
                    _computed("G2", "发展党员程序规范、按期", 5, "development_on_time_share", mapping_type="linear"),
                ],
            },
            {
                "code": "venue",
                "name": "活动阵地",
                "max_points": "10",
                "indicators": [
                    _i(
                        "A1",
                        "党员活动阵地建设和使用",
                        10,
                        evidence_hint="可附说明或关联会议记录；照片不是必需材料",
                    ),
                ],
            },
            {
                "code": "rules",
                "name": "工作制度",
                "max_points": "10",
                "indicators": [
                    _computed(
                        "Z1", "“三会一课”等组织生活按期落实", 10, "compliance_on_time_share", mapping_type="linear"
                    ),
                ],
            },
            {
                "code": "support",
                "name": "保障机制",
                "max_points": "10",
                "indicators": [
                    _computed(
                        "B1",
                        "党费按时足额收缴",
                        6,
                        "dues_collection_rate",
                        mapping_type="steps",
                        mapping=[
                            {"min": "0.98", "points": "6"},
                            {"min": "0.9", "points": "4"},
                            {"min": "0.8", "points": "2"},
                        ],
                    ),
                    _i("B2", "工作经费保障和党内激励关怀", 4),
                ],
            },
            {
                "code": "results",
                "name": "工作业绩",
                "max_points": "30",
                "indicators": [
                    _i("Y1", "围绕中心、服务群众成效", 20),
                    _computed("Y2", "会议决议事项落实", 5, "followups_closed_share", mapping_type="linear"),
                    _computed("Y3", "督查整改按期销号", 5, "rectification_closed_share", mapping_type="linear"),
                ],
            },
            {
                "code": "masses",
                "name": "群众评价",
                "max_points": "15",
                "indicators": [_i("Q1", "党员群众满意度测评", 15)],
            },
            {
                "code": "bonus",
                "name": "加分项目",
                "max_points": "10",
                "indicators": [
                    _i("J1", "党建创新项目", 5, kind="bonus", guidance="评为五星的必备条件"),
                    _i("J2", "获得上级表彰", 5, kind="bonus"),
                ],
            },
            {
                "code": "deductions",
                "name": "扣分项目",
                "max_points": "0",
                "indicators": [
                    _computed("D1", "未按期换届", 5, "term_not_overdue", kind="deduction"),
                    _computed("D2", "领导班子不健全", 5, "committee_complete", kind="deduction"),
                    _i("D3", "半年以上未开展活动", 5, kind="deduction"),
                    _i("D4", "发展党员工作不规范", 15, kind="deduction"),
                    _i("D5", "无党员活动场所", 10, kind="deduction"),
                ],
            },
        ],
        "bands": [
            {
                "stars": 5,
                "label": "五星",
                "min_points": "90",
                "max_points": None,
                "required_indicator": "J1",
                "quota_percent": "10",
            },
            {"stars": 4, "label": "四星", "min_points": "80", "max_points": "90", "quota_percent": "30"},
            {"stars": 3, "label": "三星", "min_points": "70", "max_points": "80", "quota_percent": "40"},
            {"stars": 2, "label": "二星", "min_points": "60", "max_points": "70", "quota_percent": "20"},
            {"stars": 1, "label": "一星", "min_points": "0", "max_points": "60"},
        ],
    }


def district_branch_scheme(year: int) -> dict[str, Any]:
    return {
        "name": "党支部星级化管理“一查二看三评”（示例）",
        "year": year,
        "org_type": "branch",
        "total_points": "100",
        "publicity_days": 5,
        "is_example": True,
        "description": EXAMPLE_NOTE
        + "一查标准化规范化建设和“组织生活十项检查”，二看述职评议满意度和荣誉，三评由上级党组织综合评定。"
        "设五星、四星、三星，名额约 10%、40%、30%；获区级以上先进基层党组织等荣誉的可直接评为五星（须写明理由）。",
        "sections": [
            {
                "code": "check",
                "name": "一查：标准化规范化",
                "max_points": "60",
                "indicators": [
                    _computed("C1", "组织生活按期落实", 20, "compliance_on_time_share", mapping_type="linear"),
                    _i("C2", "组织生活十项检查", 20, guidance="逐项检查会议记录、党费台账、发展党员档案等"),
                    _computed(
                        "C3",
                        "党费收缴",
                        10,
                        "dues_collection_rate",
                        mapping_type="steps",
                        mapping=[
                            {"min": "1", "points": "10"},
                            {"min": "0.95", "points": "8"},
                            {"min": "0.85", "points": "5"},
                        ],
                    ),
                    _computed("C4", "按期换届", 5, "term_not_overdue", mapping_type="boolean"),
                    _computed("C5", "支委会配备", 5, "committee_complete", mapping_type="boolean"),
                ],
            },
            {
                "code": "look",
                "name": "二看：述职评议和荣誉",
                "max_points": "25",
                "indicators": [
                    _computed("K1", "书记述职评议满意度", 15, "duty_appraisal_rate", mapping_type="linear"),
                    _i("K2", "所获荣誉表彰", 10),
                ],
            },
            {
                "code": "appraise",
                "name": "三评：上级综合评定",
                "max_points": "15",
                "indicators": [
                    _i("P1", "上级党组织综合评价", 15),
                    _i(
                        "V1",
                        "发生严重违纪违法、重大安全责任事故或群体性事件",
                        0,
                        kind="veto",
                        veto_cap_stars=0,
                        guidance="一票否决：触发后当年不予评星",
                    ),
                ],
            },
        ],
        "bands": [
            {"stars": 5, "label": "五星", "min_points": "90", "max_points": None, "quota_percent": "10"},
            {"stars": 4, "label": "四星", "min_points": "80", "max_points": "90", "quota_percent": "40"},
            {"stars": 3, "label": "三星", "min_points": "60", "max_points": "80", "quota_percent": "30"},
            {"stars": 0, "label": "未定星", "min_points": "0", "max_points": "60"},
        ],
    }


def seed_example_schemes(*, year: int) -> list[Any]:
    """System: create both examples (active) for every root organization that lacks them;
    idempotent. Trusts its caller (the ``seed_assessment_schemes`` command, ``seed_demo``)."""
    created = []
    for root in Organization.objects.filter(depth=1):
        for builder in (city_five_star_scheme, district_branch_scheme):
            data = builder(year)
            if AssessmentScheme.objects.filter(organization=root, year=year, name=data["name"]).exists():
                continue
            scheme = scheme_seed(organization=root, data=data)
            scheme.status = SchemeStatus.ACTIVE
            scheme.save(update_fields=["status"])
            created.append(scheme)
    return created


def assessments_reset() -> None:
    """Delete every assessments row (for ``seed_demo --reset``): ratings and their history,
    schemes, 述职评议, reports and rectification items, children first."""
    for model in (
        m.Evidence,
        m.RatingComment,
        m.RatingStep,
        m.RatingEntry,
        m.Rating,
        m.AssessmentRound,
        m.SchemeBand,
        m.SchemeIndicator,
        m.SchemeSection,
        m.AssessmentScheme,
        m.DutyQuestion,
        m.DutyReport,
        m.RectificationItem,
        m.InspectionReport,
        m.ReportBatch,
    ):
        model.objects.all().delete()
