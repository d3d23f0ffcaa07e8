"""Codes from ../shared/domain-rules.md §13 (meeting types, attendance, votes, appraisal grades,
compliance statuses); the Chinese label is display text."""

from django.db import models


class MeetingType(models.TextChoices):
    GENERAL_ASSEMBLY = "general_assembly", "支部党员大会"
    COMMITTEE = "committee", "支部委员会"
    GROUP = "group", "党小组会"
    LECTURE = "lecture", "党课"
    THEME_DAY = "theme_day", "主题党日"
    ORG_LIFE = "org_life", "组织生活会"
    APPRAISAL = "appraisal", "民主评议党员"
    TALK = "talk", "谈心谈话"
    STUDY = "study", "集中学习"
    OTHER = "other", "其他活动"


# "三会一课": the first four.
THREE_MEETINGS_ONE_LECTURE = (
    MeetingType.GENERAL_ASSEMBLY,
    MeetingType.COMMITTEE,
    MeetingType.GROUP,
    MeetingType.LECTURE,
)

# Which other types one meeting may also count as, without entering it twice (common practice:
# a 主题党日 that is also the quarter's 党员大会 or 党课; 民主评议 combined with the 组织生活会).
# A 支委会 is never claimed this way: its quorum is counted on committee members.
ALSO_COUNTS_AS: dict[str, tuple[str, ...]] = {
    MeetingType.THEME_DAY: (
        MeetingType.GENERAL_ASSEMBLY,
        MeetingType.LECTURE,
        MeetingType.STUDY,
        MeetingType.ORG_LIFE,
        MeetingType.APPRAISAL,
    ),
    MeetingType.GENERAL_ASSEMBLY: (MeetingType.LECTURE, MeetingType.STUDY, MeetingType.ORG_LIFE, MeetingType.APPRAISAL),
    MeetingType.ORG_LIFE: (MeetingType.APPRAISAL,),
    MeetingType.APPRAISAL: (MeetingType.ORG_LIFE,),
    MeetingType.GROUP: (MeetingType.STUDY,),
    MeetingType.OTHER: (MeetingType.STUDY,),
}

# Meeting types whose attendees earn study hours (学时). A 主题党日 earns them when it also
# counts as a 党课 or a study session.
STUDY_TYPES = {MeetingType.LECTURE, MeetingType.STUDY}

# Meeting types that take votes (with the quorum of §3).
VOTING_TYPES = {MeetingType.GENERAL_ASSEMBLY, MeetingType.COMMITTEE}


class MeetingStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    FINAL = "final", "已完成"


class QuorumState(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", "不适用"
    MET = "met", "符合法定人数"
    NOT_MET = "not_met", "未达法定人数"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "出席"
    LEAVE = "leave", "请假"
    ABSENT = "absent", "缺席"
    ATTENDING_NONVOTING = "attending_nonvoting", "列席"


class ResolutionKind(models.TextChoices):
    GENERAL = "general", "一般事项"
    ADMISSION = "admission", "接收预备党员"
    CONFIRMATION = "confirmation", "预备党员转正"
    EXTEND_PROBATION = "extend_probation", "延长预备期"
    CANCEL_PROBATION = "cancel_probation", "取消预备党员资格"
    ELECTION = "election", "选举"
    DISCIPLINE = "discipline", "处分/处置"
    OTHER = "other", "其他"


# Kinds where written opinions of absent voters count (FZ: admission and 转正 discussions).
WRITTEN_VOTE_KINDS = {
    ResolutionKind.ADMISSION,
    ResolutionKind.CONFIRMATION,
    ResolutionKind.EXTEND_PROBATION,
    ResolutionKind.CANCEL_PROBATION,
}
# Kinds about one member (linked to their development step by the members app).
MEMBER_KINDS = WRITTEN_VOTE_KINDS


class VotingMethod(models.TextChoices):
    NONE = "none", "不表决（议定事项）"
    SHOW_OF_HANDS = "show_of_hands", "举手表决"
    SECRET_BALLOT = "secret_ballot", "无记名投票"


class ResolutionOutcome(models.TextChoices):
    PASSED = "passed", "通过"
    REJECTED = "rejected", "未通过"
    INVALID = "invalid", "表决无效（未达法定人数）"
    RECORDED = "recorded", "议定（未表决）"


class FollowUpStatus(models.TextChoices):
    OPEN = "open", "待落实"
    IN_PROGRESS = "in_progress", "落实中"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已撤销"


OPEN_FOLLOW_UP = {FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS}


class AppraisalGrade(models.TextChoices):
    EXCELLENT = "excellent", "优秀"
    QUALIFIED = "qualified", "合格"
    BASICALLY_QUALIFIED = "basically_qualified", "基本合格"
    UNQUALIFIED = "unqualified", "不合格"


class ComplianceKind(models.TextChoices):
    """What a compliance rule counts: a meeting type, or a special coverage rule of §14."""

    GENERAL_ASSEMBLY = "general_assembly", "支部党员大会"
    COMMITTEE = "committee", "支部委员会"
    GROUP = "group", "党小组会"
    LECTURE = "lecture", "党课"
    THEME_DAY = "theme_day", "主题党日"
    ORG_LIFE = "org_life", "组织生活会"
    APPRAISAL = "appraisal", "民主评议党员"
    TALK = "talk", "谈心谈话（委员与党员全覆盖）"
    SECRETARY_LECTURE = "secretary_lecture", "党委书记讲党课"
    STUDY_HOURS = "study_hours", "集中学习培训学时"


MEETING_KINDS = {
    ComplianceKind.GENERAL_ASSEMBLY,
    ComplianceKind.COMMITTEE,
    ComplianceKind.GROUP,
    ComplianceKind.LECTURE,
    ComplianceKind.THEME_DAY,
    ComplianceKind.ORG_LIFE,
    ComplianceKind.APPRAISAL,
}


class Period(models.TextChoices):
    MONTH = "month", "每月"
    QUARTER = "quarter", "每季度"
    YEAR = "year", "每年"


class ComplianceStatus(models.TextChoices):
    UPCOMING = "upcoming", "未开始"
    DUE = "due", "进行中"
    DONE = "done", "已完成"
    LATE = "late", "逾期完成"
    OVERDUE = "overdue", "逾期未完成"
    WAIVED = "waived", "已批准免于"


class StudySource(models.TextChoices):
    MEETING = "meeting", "会议/党课"
    TRAINING = "training", "培训班"
    SELF_STUDY = "self_study", "自学"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已报备"


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", "照片"
    SCAN = "scan", "记录扫描件"
    MATERIAL = "material", "学习材料"
    OTHER = "other", "其他"
