"""The reminder rule catalogue (domain-rules §12 and §§2–7).

Each rule is a setting: an ``org_admin`` switches it off or retimes it for their subtree
(``ReminderSetting`` rows, inherited down the tree by path prefix, nearest wins). The defaults
below apply where no organization above has changed them.

Parameters a rule may have:

- ``offset``: how far before (or after) the event the reminder fires, in ``offset_unit``;
- ``grace_days``: days after a deadline before the escalation fires;
- ``day_of_month``: "1".."28" or "last" for monthly reminders (29–31 do not exist every month).
"""

from __future__ import annotations

from dataclasses import dataclass

# Who receives a reminder.
SECRETARY = "secretary"  # the organization's secretary (see selectors.RecipientResolver)
PARENT_ADMIN = "parent_admin"  # the org_admin of the organization above
MEMBER = "member"  # the member the reminder is about (when they have a login)

DAY = "day"
MONTH = "month"

LAST_DAY = "last"


@dataclass(frozen=True)
class RuleDef:
    code: str
    label: str
    category: str
    description: str
    audience: tuple[str, ...]
    offset: int | None = None
    offset_unit: str = DAY
    offset_label: str = ""
    offset_min: int = 0
    offset_max: int = 365
    grace_days: int | None = None
    day_of_month: str | None = None
    default_enabled: bool = True
    user_opt_out: bool = False
    # Post org-level reminders to the organization's group-chat robot. Reminders about one
    # person never go to a group chat (names stay out of chat rooms).
    webhook: bool = False
    level: str = "info"
    basis: str = ""

    @property
    def has_offset(self) -> bool:
        return self.offset is not None

    @property
    def has_grace(self) -> bool:
        return self.grace_days is not None

    @property
    def has_day_of_month(self) -> bool:
        return self.day_of_month is not None

    @property
    def offset_unit_label(self) -> str:
        return "个月" if self.offset_unit == MONTH else "天"


CATEGORIES = {
    "compliance": "组织生活日程",
    "dues": "党费",
    "term": "换届",
    "development": "发展党员",
    "member": "党员管理",
    "study": "学习",
    "rectification": "督查整改",
}

RULES: tuple[RuleDef, ...] = (
    RuleDef(
        "compliance_upcoming",
        "组织生活事项到期前提醒",
        "compliance",
        "日程事项（三会一课、主题党日等）截止前提醒本组织书记。",
        (SECRETARY,),
        offset=7,
        offset_label="截止前天数",
        offset_max=60,
        webhook=True,
        basis="ZB §§11–13；日程规则见组织生活模块",
    ),
    RuleDef(
        "compliance_due_today",
        "组织生活事项当日截止提醒",
        "compliance",
        "日程事项截止当天提醒本组织书记。",
        (SECRETARY,),
        webhook=True,
        level="warning",
    ),
    RuleDef(
        "compliance_overdue",
        "组织生活事项逾期提醒",
        "compliance",
        "日程事项逾期未完成，次日提醒本组织书记。",
        (SECRETARY,),
        webhook=True,
        level="danger",
    ),
    RuleDef(
        "compliance_escalation",
        "组织生活事项逾期上报",
        "compliance",
        "逾期超过宽限天数仍未完成，提醒上级党组织的组织部门/党委工作人员。",
        (PARENT_ADMIN,),
        grace_days=15,
        level="danger",
    ),
    RuleDef(
        "dues_collection",
        "每月党费收缴提醒",
        "dues",
        "每月在设定日期提醒收缴党费的组织书记收缴、登记党费。",
        (SECRETARY,),
        day_of_month="5",
        webhook=True,
        basis="DF08 §12：按月交纳",
    ),
    RuleDef(
        "dues_arrears_warning",
        "党费欠缴提醒",
        "dues",
        "党员连续欠缴党费达到设定月数，提醒党员本人和书记。",
        (MEMBER, SECRETARY),
        offset=3,
        offset_unit=MONTH,
        offset_label="连续欠缴月数",
        offset_min=1,
        offset_max=5,
        level="warning",
        basis="§12：欠缴 3 个月提醒",
    ),
    RuleDef(
        "dues_arrears_serious",
        "党费欠缴满 6 个月",
        "dues",
        "连续 6 个月未交纳党费，提醒书记和上级组织部门（是否按自行脱党处理由支部大会讨论决定）。",
        (SECRETARY, PARENT_ADMIN),
        offset=6,
        offset_unit=MONTH,
        offset_label="连续欠缴月数",
        offset_min=1,
        offset_max=12,
        level="danger",
        basis="DF08 §13；党章 §9",
    ),
    RuleDef(
        "term_ending",
        "任期届满前换届提醒",
        "term",
        "委员会任期届满前提醒本组织书记和上级组织部门准备换届。",
        (SECRETARY, PARENT_ADMIN),
        offset=6,
        offset_unit=MONTH,
        offset_label="届满前月数",
        offset_min=0,
        offset_max=12,
        webhook=True,
        level="warning",
        basis="ZB：上级党组织一般提前 6 个月提醒",
    ),
    RuleDef(
        "term_overdue",
        "任期已届满提醒",
        "term",
        "任期届满（含经批准的延期）仍未换届，提醒本组织书记和上级组织部门。",
        (SECRETARY, PARENT_ADMIN),
        webhook=True,
        level="danger",
        basis="XJ §3；RQ 2018",
    ),
    RuleDef(
        "dev_application_talk",
        "入党申请后谈话提醒",
        "development",
        "收到入党申请书满设定天数仍未登记谈话，提醒书记（应在 1 个月内谈话）。",
        (SECRETARY,),
        offset=21,
        offset_label="申请后天数",
        offset_min=0,
        offset_max=30,
        level="warning",
        basis="FZ 第 2 步：1 个月内派人谈话",
    ),
    RuleDef(
        "dev_activist_review",
        "入党积极分子半年考察提醒",
        "development",
        "入党积极分子每满半年应考察一次；到期（或提前设定天数）提醒书记。",
        (SECRETARY,),
        offset=0,
        offset_label="提前天数",
        offset_max=60,
        basis="FZ 第 6 步：每半年考察一次",
    ),
    RuleDef(
        "dev_activist_year",
        "入党积极分子培养满 1 年",
        "development",
        "入党积极分子培养满 1 年，可以研究确定为发展对象，提醒书记。",
        (SECRETARY,),
        basis="FZ 第 7 步",
    ),
    RuleDef(
        "dev_approval_pending",
        "接收预备党员待审批提醒",
        "development",
        "支部大会通过接收后满设定天数上级党委仍未审批（时限 3 个月），提醒书记和上级党委。",
        (SECRETARY, PARENT_ADMIN),
        offset=75,
        offset_label="支部大会后天数（约 2 个半月）",
        offset_min=0,
        offset_max=90,
        level="warning",
        basis="FZ 第 17 步：3 个月内审批",
    ),
    RuleDef(
        "dev_probation_ending",
        "预备期将满提醒",
        "development",
        "预备期满前设定天数提醒书记，及时讨论转正。",
        (SECRETARY,),
        offset=30,
        offset_label="期满前天数",
        offset_max=90,
        basis="FZ 第 21–23 步",
    ),
    RuleDef(
        "member_lost_contact",
        "党员失联满 6 个月",
        "member",
        "党员失去联系满设定月数，提醒书记按规定研究停止党籍。",
        (SECRETARY,),
        offset=6,
        offset_unit=MONTH,
        offset_label="失联月数",
        offset_min=1,
        offset_max=24,
        level="warning",
        basis="JY §24",
    ),
    RuleDef(
        "member_away",
        "外出满 6 个月未转接组织关系",
        "member",
        "流动党员外出满设定月数仍未转接组织关系，提醒书记联系转接。",
        (SECRETARY,),
        offset=6,
        offset_unit=MONTH,
        offset_label="外出月数",
        offset_min=1,
        offset_max=24,
        basis="JY §25",
    ),
    RuleDef(
        "member_probation_ending",
        "留党察看期满提醒",
        "member",
        "留党察看期满前设定天数提醒书记：期满后按规定讨论恢复党员权利，或予以除名（党章第四十条）。",
        (SECRETARY,),
        offset=30,
        offset_label="期满前天数",
        offset_max=90,
        level="warning",
        basis="党章第四十条：留党察看最长不超过两年",
    ),
    RuleDef(
        "member_correction_ending",
        "限期改正期满提醒",
        "member",
        "限期改正期满前设定天数提醒书记：期满仍无转变的，按规定予以除名（JY §31）。",
        (SECRETARY,),
        offset=30,
        offset_label="期满前天数",
        offset_max=90,
        level="warning",
        basis="JY §30–31：限期改正最长不超过一年",
    ),
    RuleDef(
        "political_birthday",
        "政治生日祝福",
        "member",
        "入党纪念日当天向党员本人发送政治生日祝福（党员可在个人设置中关闭）。",
        (MEMBER,),
        user_opt_out=True,
    ),
    RuleDef(
        "study_pace",
        "学习学时进度提醒",
        "study",
        "每月在设定日期提醒学时低于全年 32 学时按月进度的党员（需由组织开启）。",
        (MEMBER,),
        day_of_month="20",
        default_enabled=False,
        user_opt_out=True,
        basis="JY §20：每年不少于 32 学时",
    ),
    RuleDef(
        "rectification_due",
        "整改事项到期前提醒",
        "rectification",
        "督查发现的问题尚未整改完成，在整改时限前提醒本组织书记。",
        (SECRETARY,),
        offset=7,
        offset_label="时限前天数",
        offset_max=60,
        level="warning",
        basis="督查整改：整改事项进入提醒和下一期督查报告",
    ),
    RuleDef(
        "rectification_overdue",
        "整改事项逾期提醒",
        "rectification",
        "整改时限已过仍未报送整改情况，次日提醒本组织书记和上级党组织。",
        (SECRETARY, PARENT_ADMIN),
        level="danger",
        basis="督查整改：逾期事项列入下一期督查报告",
    ),
)

RULES_BY_CODE: dict[str, RuleDef] = {rule.code: rule for rule in RULES}
RULE_CHOICES = [(rule.code, rule.label) for rule in RULES]
OPT_OUT_RULES = [rule for rule in RULES if rule.user_opt_out]


def get_rule(code: str) -> RuleDef:
    return RULES_BY_CODE[code]
