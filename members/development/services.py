"""Writes for 发展党员: record one dated step, check its timing, move the person's stage.

``development_step_record`` is the one entry point. It refuses (``ValidationError`` with Chinese
messages, nothing saved) when a rule blocks, and saves with ``warnings`` when a rule only warns
(e.g. the talk came later than one month after the application). It is the only writer of
``Member.stage``/``joined_on``/``full_on`` for people in the pipeline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from audit.services import audit_log
from core import dates
from core.access import CHANGE, user_can
from core.dates import add_months, add_years
from core.uploads import EXTENSIONS, CheckedFile, check_upload
from members.choices import MembershipStatus, Stage
from members.development.models import (
    STEP_NUMBERS,
    Decision,
    DevelopmentStep,
    FullOutcome,
    StepCode,
)
from members.development.rules import (
    CONTACTS_MAX,
    CONTACTS_MIN,
    DECISION_STEPS,
    EXTENSION_MAX_MONTHS,
    EXTENSION_MIN_MONTHS,
    FULL_APPROVAL_WITHIN_MONTHS,
    INTRODUCERS_COUNT,
    MIN_AGE_YEARS,
    PREREQUISITES,
    REPEATABLE,
    TALK_WITHIN_MONTHS,
    TRAINING_MIN_DAYS,
    TRAINING_MIN_HOURS,
    VOTE_STEPS,
    DevelopmentState,
    approval_restart_months,
    approval_warn_months,
    reviews_required,
)
from members.development.votes import VoteMeeting, VoteResolution, development_vote_source
from members.discipline.models import MembershipStatusChange
from members.discipline.selectors import member_under_probation_on
from members.dues.rules import month_from_index, month_index
from members.models import Member
from organizations.choices import OrgType
from organizations.models import Organization

STAGE_ORDER = [Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY, Stage.FULL]


CANCEL_REASON = "取消预备党员资格"  # recorded as a 除名-like status change (the 党内统计 counts it)


class _Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def step_label(code: str) -> str:
    return StepCode(code).label.split(" ", 1)[1]


def development_state(member: Member) -> DevelopmentState:
    steps = list(DevelopmentStep.objects.filter(member=member).order_by("occurred_on", "number", "pk"))
    return DevelopmentState(steps=steps)


def _is_full_member_on(person: Member, on: date) -> bool:
    return (
        person.stage == Stage.FULL
        and person.full_on is not None
        and person.full_on <= on
        and person.membership_status == MembershipStatus.NORMAL
    )


def _advance(member: Member, stage: str) -> bool:
    """Move the stage forward only (recording an earlier step for the file never moves it back)."""
    if STAGE_ORDER.index(stage) > STAGE_ORDER.index(member.stage):
        member.stage = stage
        return True
    return False


def _check_attachment(upload: UploadedFile | None, errors: _Errors) -> CheckedFile | None:
    """The file to store, after the app's one upload check (``core.uploads``, #21.9): type from
    the content, the name's extension agreeing with it, no markup, images re-encoded (EXIF and
    GPS dropped), PDFs parsed and refused when active."""
    if upload is None:
        return None
    limit = settings.PB_DEV_ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        errors.add("attachment", f"附件不能超过 {limit // (1024 * 1024)} MB")
        return None
    upload.seek(0)
    content = upload.read(limit + 1)
    upload.seek(0)
    try:
        return check_upload(name=upload.name or "附件", content=content, max_bytes=limit)
    except ValidationError as exc:
        for message in exc.message_dict.get("file", exc.messages):
            errors.add("attachment", message)
        return None


@dataclass
class _Input:
    decision: str
    people: list[Member]
    training_days: Decimal | None
    training_hours: Decimal | None
    votes: dict[str, int | None]
    outcome: str
    extension_months: int | None
    written: int = 0  # written opinions of absent voters included in the counts (FZ)


VOTE_LABELS = {
    "votes_expected": "应到会有表决权党员",
    "votes_present": "实到会有表决权党员",
    "votes_for": "赞成",
    "votes_against": "反对",
    "votes_abstain": "弃权",
}


def development_vote_meetings(member: Member) -> list[VoteMeeting]:
    """The member's branch's completed meetings that count as a 支部党员大会 (newest first), for the
    vote steps' meeting picker. A 主题党日 may also count as the 党员大会 (``also_counts_as``)."""
    return development_vote_source().vote_meetings(organization_id=member.organization_id)


def _vote_meeting(
    *, member: Member, step: str, meeting_id: int, errors: _Errors
) -> tuple[VoteMeeting | None, VoteResolution | None]:
    """The linked 支部党员大会 and its resolution about this person (if the record has one)."""
    source = development_vote_source()
    meeting = source.vote_meeting(meeting_id)
    if meeting is None or meeting.organization_id != member.organization_id:
        errors.add("meeting", "找不到该会议记录，或其不是本党支部的会议")
        return None, None
    if not meeting.general_assembly:
        errors.add("meeting", "所选会议不是支部党员大会，不能作为讨论接收或转正的会议")
        return None, None
    if not meeting.final:
        errors.add("meeting", "所选会议记录尚未完成录入，请先在会议记录中完成录入")
        return None, None
    if DevelopmentStep.objects.filter(member=member, step=step, meeting_id=meeting.id).exists():
        errors.add("meeting", "该会议的讨论已经登记过，不能重复登记")
        return None, None
    resolutions = source.vote_resolutions(meeting_id=meeting.id, member_id=member.pk, step=step)
    if len(resolutions) > 1:
        errors.add("meeting", "该会议记录中有多项关于本人的表决，无法确定对应哪一项，请核对会议记录")
        return None, None
    return meeting, (resolutions[0] if resolutions else None)


def _votes_from_meeting(
    *, meeting: VoteMeeting, resolution: VoteResolution | None, step: str, data: _Input, errors: _Errors
) -> None:
    """Counts the meeting record holds fill the blanks and must agree with what was typed."""
    recorded: dict[str, int] = {}
    if meeting.voters_expected:
        recorded["votes_expected"] = meeting.voters_expected
        recorded["votes_present"] = meeting.voters_present
    if resolution is not None:
        recorded["votes_for"] = resolution.votes_for
        recorded["votes_against"] = resolution.votes_against
        recorded["votes_abstain"] = resolution.votes_abstain
        data.written = resolution.written
        if step == StepCode.FULL_VOTE:
            outcome = resolution.outcome
            if not data.outcome:
                data.outcome = outcome
            elif data.outcome != outcome:
                errors.add("outcome", f"转正讨论结论与会议记录的决议事项（{resolution.kind_label}）不一致")
    for name, value in recorded.items():
        given = data.votes[name]
        if given is None:
            data.votes[name] = value
        elif given != value:
            errors.add(name, f"{VOTE_LABELS[name]}与所选会议记录不一致（会议记录为 {value} 人）")


@transaction.atomic
def development_step_record(
    *,
    member: Member,
    step: str,
    occurred_on: date | None = None,
    recorded_by: Any = None,
    decision: str = "",
    decided_by: str = "",
    note: str = "",
    people: list[Member] | None = None,
    training_days: Decimal | None = None,
    training_hours: Decimal | None = None,
    votes_expected: int | None = None,
    votes_present: int | None = None,
    votes_for: int | None = None,
    votes_against: int | None = None,
    votes_abstain: int | None = None,
    meeting_id: int | None = None,
    outcome: str = "",
    extension_months: int | None = None,
    attachment: UploadedFile | None = None,
) -> DevelopmentStep:
    """Record one step for one person after checking order and timing (see module docstring).

    A vote step (15, 23) may name the branch's 支部党员大会 meeting record (``meeting_id``, see
    ``members.development.votes``): its date and the counts it records are then the defaults, and
    what was typed must agree with them."""
    errors = _Errors()
    warnings: list[str] = []
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    if step not in STEP_NUMBERS:
        raise ValidationError({"step": "未知的发展步骤"})
    meeting, resolution = None, None
    if meeting_id is not None:
        if step not in VOTE_STEPS:
            raise ValidationError({"meeting": "只有支部大会讨论接收或转正的步骤可以关联会议记录"})
        meeting, resolution = _vote_meeting(member=member, step=step, meeting_id=meeting_id, errors=errors)
        errors.raise_if_any()
        if occurred_on is None:
            occurred_on = meeting.held_on
        elif occurred_on != meeting.held_on:
            errors.add("occurred_on", f"日期应与所选会议记录的日期（{meeting.held_on:%Y-%m-%d}）一致")
            errors.raise_if_any()
    if occurred_on is None:
        raise ValidationError({"occurred_on": "请填写日期"})
    today = dates.today()
    if occurred_on > today:
        errors.add("occurred_on", "日期不能晚于今天")
    if member.organization.org_type == OrgType.TEMPORARY_BRANCH:
        errors.add("member", "临时党支部不发展党员；请在正式组织关系所在的党支部办理")
    if member.membership_status != MembershipStatus.NORMAL:
        errors.add("member", f"党籍状态为“{member.get_membership_status_display()}”，不能继续办理发展手续")
    if member.stage == Stage.FULL and step != StepCode.ARCHIVE:
        errors.add("step", "已是正式党员，发展程序只剩材料归档")
    checked = _check_attachment(attachment, errors)
    errors.raise_if_any()

    state = development_state(member)
    if step not in REPEATABLE and state.latest(step, ok_only=True) is not None:
        previous = state.latest(step, ok_only=True)
        errors.add("step", f"“{step_label(step)}”已于 {previous.occurred_on:%Y-%m-%d} 登记")
    for required in PREREQUISITES[step]:
        found = state.latest(required, ok_only=True)
        if required in (StepCode.ADMISSION_VOTE, StepCode.FULL_VOTE, StepCode.ADMISSION_APPROVAL):
            found = state.latest_passed(required)
        if found is None:
            errors.add("step", f"请先登记“{step_label(required)}”")
        elif found.occurred_on > occurred_on:
            errors.add("occurred_on", f"日期不能早于“{step_label(required)}”（{found.occurred_on:%Y-%m-%d}）")
    errors.raise_if_any()

    data = _Input(
        decision=decision or (Decision.APPROVED if step in DECISION_STEPS else Decision.DONE),
        people=list(people or []),
        training_days=training_days,
        training_hours=training_hours,
        votes={
            "votes_expected": votes_expected,
            "votes_present": votes_present,
            "votes_for": votes_for,
            "votes_against": votes_against,
            "votes_abstain": votes_abstain,
        },
        outcome=outcome or "",
        extension_months=extension_months,
    )
    if meeting is not None:
        _votes_from_meeting(meeting=meeting, resolution=resolution, step=step, data=data, errors=errors)
        errors.raise_if_any()
    if data.decision not in Decision.values:
        errors.add("decision", "未知的结果")
    elif step not in DECISION_STEPS and data.decision != Decision.DONE:
        errors.add("decision", "该步骤无需填写表决或审批结果")
    check = _CHECKS.get(step)
    if check is not None:
        check(member=member, state=state, on=occurred_on, data=data, errors=errors, warnings=warnings)
    errors.raise_if_any()

    record = DevelopmentStep(
        member=member,
        organization=member.organization,
        step=step,
        number=STEP_NUMBERS[step],
        occurred_on=occurred_on,
        decision=data.decision,
        decided_by=(decided_by or "").strip()[:100],
        note=(note or "").strip(),
        training_days=data.training_days,
        training_hours=data.training_hours,
        meeting_id=meeting.id if meeting is not None else None,
        outcome=data.outcome,
        extension_months=data.extension_months,
        warnings=warnings,
        recorded_by=recorded_by if getattr(recorded_by, "is_authenticated", False) else None,
        **(data.votes if step in VOTE_STEPS else {}),
    )
    if checked is not None:
        record.attachment_name = checked.original_name[:200]
        stored = f"{uuid.uuid4().hex}.{EXTENSIONS[checked.content_type]}"
        record.attachment.save(stored, ContentFile(checked.content), save=False)
    record.save()
    if data.people:
        record.people.set(data.people)
    if resolution is not None and not resolution.linked:
        # The meeting's resolution about this person points back at the step.
        development_vote_source().link_step(resolution_id=resolution.id, step_id=record.pk)
    changed = _apply(member=member, record=record, state=state)
    audit_log(
        event="development_step_record",
        user=record.recorded_by,
        obj=record,
        organization=member.organization,
        detail={
            "member_id": member.pk,
            "step": step,
            "occurred_on": f"{occurred_on:%Y-%m-%d}",
            "decision": record.decision,
            "outcome": record.outcome,
            "meeting_id": record.meeting_id,
            "warnings": warnings,
            "member_changes": changed,
        },
    )
    return record


def _apply(*, member: Member, record: DevelopmentStep, state: DevelopmentState) -> dict[str, str]:
    """Move the stage and the membership dates that this step decides."""
    changed: dict[str, str] = {}
    step, approved = record.step, record.decision == Decision.APPROVED
    if step == StepCode.ACTIVIST and _advance(member, Stage.ACTIVIST):
        changed["stage"] = Stage.ACTIVIST
    elif step == StepCode.CANDIDATE and _advance(member, Stage.CANDIDATE):
        changed["stage"] = Stage.CANDIDATE
    elif step == StepCode.ADMISSION_APPROVAL and approved:
        vote = state.admission_vote
        if _advance(member, Stage.PROBATIONARY):
            changed["stage"] = Stage.PROBATIONARY
        if vote is not None and member.joined_on != vote.occurred_on:
            member.joined_on = vote.occurred_on  # 党籍 from the 支部大会 vote (JY §24; dues from that month)
            changed["joined_on"] = f"{vote.occurred_on:%Y-%m-%d}"
    elif step == StepCode.FULL_APPROVAL and approved:
        if record.outcome == FullOutcome.FULL:
            end = state.probation_end
            if _advance(member, Stage.FULL):
                changed["stage"] = Stage.FULL
            if end is not None:
                member.full_on = end  # 党龄 counts from 转正, the day the 预备期 ends (FZ)
                changed["full_on"] = f"{end:%Y-%m-%d}"
        elif record.outcome == FullOutcome.CANCEL:
            MembershipStatusChange.objects.create(
                member=member,
                from_status=member.membership_status,
                to_status=MembershipStatus.REMOVED,
                on=record.occurred_on,
                reason=CANCEL_REASON,
                organization=member.organization,
            )
            member.membership_status = MembershipStatus.REMOVED
            changed["membership_status"] = MembershipStatus.REMOVED
    if changed:
        member.save(
            update_fields=[*{"stage", "joined_on", "full_on", "membership_status"} & set(changed), "updated_at"]
        )
    if changed.get("membership_status") == MembershipStatus.REMOVED:
        from members.dues.services.ledger import dues_ledger_close

        next_month = month_from_index(month_index(record.occurred_on) + 1)
        dues_ledger_close(member=member, from_month=next_month, reason=CANCEL_REASON)
    return changed


# --- Per-step checks ---------------------------------------------------------------------------


def _check_application(*, member, state, on, data, errors, warnings) -> None:
    adult_on = add_years(member.birth_date, MIN_AGE_YEARS)
    if on < adult_on:
        errors.add("occurred_on", "申请入党须年满十八岁（党章第一条）")


def _check_talk(*, member, state, on, data, errors, warnings) -> None:
    due = add_months(state.applied_on, TALK_WITHIN_MONTHS)
    if on > due:
        late = (on - due).days
        warnings.append(f"党组织应在收到入党申请书后一个月内派人谈话（应在 {due:%Y-%m-%d} 前，已晚 {late} 天）")


def _check_activist(*, member, state, on, data, errors, warnings) -> None:
    if state.talked_on is None:
        warnings.append("尚未登记派人谈话")


def _check_contacts(*, member, state, on, data, errors, warnings) -> None:
    if not CONTACTS_MIN <= len(data.people) <= CONTACTS_MAX:
        errors.add("people", "培养联系人应为 1 至 2 名正式党员")
    for person in data.people:
        if person.pk == member.pk or not _is_full_member_on(person, on):
            errors.add("people", f"{person.name} 不是正式党员，不能担任培养联系人")


def _check_candidate(*, member, state, on, data, errors, warnings) -> None:
    activist_on = state.activist_on
    eligible = add_years(activist_on, 1)
    if on < eligible:
        errors.add(
            "occurred_on",
            f"入党积极分子须经过一年以上培养教育和考察方可确定为发展对象；{activist_on:%Y-%m-%d} 确定为积极分子，"
            f"{eligible:%Y-%m-%d} 起方可确定",
        )
        return
    required = reviews_required(activist_on, on)
    held = state.reviews_between(activist_on, on)
    if held < required:
        errors.add(
            "step",
            f"培养考察期间党支部应每半年考察一次：截至 {on:%Y-%m-%d} 应有 {required} 次，已登记 {held} 次",
        )
    if state.all(StepCode.CONTACTS) == []:
        warnings.append("尚未登记培养联系人")


def _check_introducers(*, member, state, on, data, errors, warnings) -> None:
    if len(data.people) != INTRODUCERS_COUNT or len({p.pk for p in data.people}) != INTRODUCERS_COUNT:
        errors.add("people", "入党介绍人应为 2 名正式党员")
        return
    for person in data.people:
        if person.pk == member.pk:
            errors.add("people", "本人不能担任自己的入党介绍人")
        elif not _is_full_member_on(person, on):
            errors.add("people", f"{person.name} 不是正式党员，不能担任入党介绍人")
        elif member_under_probation_on(person, on):
            errors.add("people", f"{person.name} 正在留党察看期间，不能担任入党介绍人")


def _check_training(*, member, state, on, data, errors, warnings) -> None:
    days, hours = data.training_days, data.training_hours
    if days is not None and days < 0 or hours is not None and hours < 0:
        errors.add("training_days", "培训时间不能为负数")
        return
    if not ((days is not None and days >= TRAINING_MIN_DAYS) or (hours is not None and hours >= TRAINING_MIN_HOURS)):
        errors.add("training_hours", f"短期集中培训时间一般不少于 {TRAINING_MIN_DAYS} 天或 {TRAINING_MIN_HOURS} 学时")


def _check_committee_review(*, member, state, on, data, errors, warnings) -> None:
    review = state.latest(StepCode.POLITICAL_REVIEW)
    if review is not None and review.decision == Decision.REJECTED:
        errors.add("step", "政治审查不合格的，不能发展入党")


def _check_votes(data: _Input, errors: _Errors) -> bool:
    """Counts of members entitled to vote: quorum >½ present; the motion needs >½ of those expected (§3)."""
    votes = data.votes
    missing = [name for name, value in votes.items() if value is None]
    if missing:
        for name in missing:
            errors.add(name, "请填写表决人数")
        return False
    if any(value < 0 for value in votes.values()):
        errors.add("votes_for", "表决人数不能为负数")
        return False
    if votes["votes_present"] > votes["votes_expected"]:
        errors.add("votes_present", "实到人数不能多于应到人数")
    if votes["votes_for"] + votes["votes_against"] + votes["votes_abstain"] > votes["votes_present"] + data.written:
        errors.add(
            "votes_for",
            "赞成、反对、弃权合计不能多于实到人数" + ("与书面意见数之和" if data.written else ""),
        )
    if votes["votes_expected"] == 0 or votes["votes_present"] * 2 <= votes["votes_expected"]:
        errors.add("votes_present", "有表决权的到会党员未超过应到会人数的半数，不能进行表决")
    if errors.by_field:
        return False
    data.decision = Decision.APPROVED if votes["votes_for"] * 2 > votes["votes_expected"] else Decision.REJECTED
    return True


def _check_admission_vote(*, member, state, on, data, errors, warnings) -> None:
    if member.stage not in (Stage.CANDIDATE,):
        errors.add("step", "只有发展对象才能提交支部大会讨论接收")
    _check_votes(data, errors)
    if data.decision == Decision.REJECTED:
        warnings.append("赞成票未超过应到会有表决权党员的半数，接收预备党员的决议未通过")


def _check_admission_approval(*, member, state, on, data, errors, warnings) -> None:
    vote = state.admission_vote
    if state.admission_approval is not None:
        errors.add("step", "接收预备党员已经审批")
        return
    warn_at = add_months(vote.occurred_on, approval_warn_months())
    restart_at = add_months(vote.occurred_on, approval_restart_months())
    if on > restart_at:
        errors.add(
            "occurred_on",
            f"支部大会 {vote.occurred_on:%Y-%m-%d} 通过后已超过 {approval_restart_months()} 个月未审批，"
            "按规定须重新履行接收手续（重新提交支部大会讨论）",
        )
    elif on > warn_at:
        warnings.append(f"上级党委应在支部大会通过后三个月内审批（应在 {warn_at:%Y-%m-%d} 前）")
    if data.decision == Decision.APPROVED and on < add_years(member.birth_date, MIN_AGE_YEARS):
        errors.add("occurred_on", "入党时须年满十八岁")


def _check_full_vote(*, member, state, on, data, errors, warnings) -> None:
    if member.stage != Stage.PROBATIONARY:
        errors.add("step", "只有预备党员才能讨论转正")
        return
    end = state.probation_end
    if end is not None and on < end:
        errors.add("occurred_on", f"预备期至 {end:%Y-%m-%d} 届满，届满后方可讨论转正")
    if data.outcome not in FullOutcome.values:
        errors.add("outcome", "请选择讨论结果：按期转正、延长预备期或取消预备党员资格")
    elif data.outcome == FullOutcome.EXTEND:
        months = data.extension_months
        if months is None or not EXTENSION_MIN_MONTHS <= months <= EXTENSION_MAX_MONTHS:
            errors.add("extension_months", "延长预备期不能少于半年（6 个月），最长不超过一年（12 个月）")
        elif state.extension_months + months > EXTENSION_MAX_MONTHS:
            errors.add("extension_months", f"延长预备期累计不能超过一年（已延长 {state.extension_months} 个月）")
    elif data.extension_months is not None:
        errors.add("extension_months", "只有延长预备期时才填写延长月数")
    _check_votes(data, errors)
    if data.decision == Decision.REJECTED:
        warnings.append("赞成票未超过应到会有表决权党员的半数，决议未通过")


def _check_full_approval(*, member, state, on, data, errors, warnings) -> None:
    vote = state.pending_full_vote
    if vote is None:
        errors.add("step", "没有待审批的支部大会转正决议")
        return
    data.outcome = vote.outcome
    data.extension_months = vote.extension_months
    due = add_months(vote.occurred_on, FULL_APPROVAL_WITHIN_MONTHS)
    if on > due:
        warnings.append(f"上级党委应在三个月内审批转正（应在 {due:%Y-%m-%d} 前）")


def _check_archive(*, member, state, on, data, errors, warnings) -> None:
    if member.stage != Stage.FULL and not state.cancelled:
        errors.add("step", "转正或取消预备党员资格审批后方可归档")


_CHECKS = {
    StepCode.APPLICATION: _check_application,
    StepCode.TALK: _check_talk,
    StepCode.ACTIVIST: _check_activist,
    StepCode.CONTACTS: _check_contacts,
    StepCode.CANDIDATE: _check_candidate,
    StepCode.INTRODUCERS: _check_introducers,
    StepCode.TRAINING: _check_training,
    StepCode.COMMITTEE_REVIEW: _check_committee_review,
    StepCode.ADMISSION_VOTE: _check_admission_vote,
    StepCode.ADMISSION_APPROVAL: _check_admission_approval,
    StepCode.FULL_VOTE: _check_full_vote,
    StepCode.FULL_APPROVAL: _check_full_approval,
    StepCode.ARCHIVE: _check_archive,
}


@transaction.atomic
def development_applicant_create(
    *,
    organization: Organization,
    name: str,
    sex: str,
    birth_date: date,
    applied_on: date,
    recorded_by: Any = None,
    note: str = "",
    **fields: Any,
) -> Member:
    """A new 入党申请人: their record (through ``member_create``) and step 1 in one transaction."""
    from members.services import member_create

    if organization.org_type == OrgType.GROUP:
        raise ValidationError({"organization": "请在党支部（而非党小组）登记入党申请人"})
    if birth_date and applied_on and applied_on < add_years(birth_date, MIN_AGE_YEARS):
        raise ValidationError({"applied_on": "申请入党须年满十八岁（党章第一条）"})
    member = member_create(
        organization=organization, name=name, sex=sex, birth_date=birth_date, stage=Stage.APPLICANT, **fields
    )
    development_step_record(
        member=member, step=StepCode.APPLICATION, occurred_on=applied_on, recorded_by=recorded_by, note=note
    )
    return member


# --- Correcting a wrongly recorded step (void it, then record the right one) -------------------


def development_voidable_step_id(member: Member) -> int | None:
    """The one step of the person that may be voided: the one recorded last (nothing recorded after
    it relied on it, since every step's prerequisites were on record before it was recorded)."""
    return DevelopmentStep.objects.filter(member=member).order_by("-pk").values_list("pk", flat=True).first()


@transaction.atomic
def development_step_void(*, step: DevelopmentStep, user: Any, reason: str) -> DevelopmentStep:
    """Void a wrongly recorded step: it stays on file marked voided (who, when, why) and counts for
    nothing; what it had changed on the person (stage, 入党/转正 dates, 取消预备党员资格) is rolled
    back to what the remaining steps say. Only the step recorded last may be voided."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写作废原因（记录错在哪里）"})
    member = Member.objects.select_for_update().select_related("organization").get(pk=step.member_id)
    if not user_can(user, CHANGE, member):
        raise ValidationError({"step": "您无权更正该人员的发展步骤"})
    step = DevelopmentStep.all_objects.select_for_update().get(pk=step.pk)
    if step.voided_at is not None:
        raise ValidationError({"step": "该记录已作废"})
    if development_voidable_step_id(member) != step.pk:
        latest = DevelopmentStep.objects.filter(member=member).order_by("-pk").first()
        raise ValidationError(
            {
                "step": f"只能作废最近登记的一条记录（“{latest.get_step_display()}”，{latest.occurred_on:%Y-%m-%d}）；"
                "更早的记录有误的，请先作废其后登记的记录"
            }
        )
    step.voided_at = timezone.now()
    step.voided_by = user if getattr(user, "is_authenticated", False) else None
    step.void_reason = reason[:2000]
    step.save(update_fields=["voided_at", "voided_by", "void_reason"])
    development_vote_source().unlink_step(step_id=step.pk)
    changed = _roll_back(member=member, voided=step, state=development_state(member))
    audit_log(
        event="development_step_void",
        user=step.voided_by,
        obj=step,
        organization=member.organization,
        detail={
            "member_id": member.pk,
            "step": step.step,
            "occurred_on": f"{step.occurred_on:%Y-%m-%d}",
            "decision": step.decision,
            "outcome": step.outcome,
            "reason": step.void_reason,
            "member_changes": changed,
        },
    )
    return step


def _roll_back(*, member: Member, voided: DevelopmentStep, state: DevelopmentState) -> dict[str, str]:
    """Undo what ``_apply`` did for the voided step, as far as the remaining steps no longer say it."""
    from members.dues.services.ledger import dues_ledger_drop, dues_ledger_reopen

    changed: dict[str, str] = {}
    code, approved = voided.step, voided.decision == Decision.APPROVED
    if code == StepCode.ACTIVIST and member.stage == Stage.ACTIVIST and state.activist_on is None:
        member.stage = Stage.APPLICANT
    elif code == StepCode.CANDIDATE and member.stage == Stage.CANDIDATE and state.candidate_on is None:
        member.stage = Stage.ACTIVIST if state.activist_on else Stage.APPLICANT
    elif code == StepCode.ADMISSION_APPROVAL and approved and member.stage == Stage.PROBATIONARY:
        if state.admission_approval is None:
            # Not a party member after all: the dues ledger opened for them goes, unless paid.
            dues_ledger_drop(member=member, reason="作废接收预备党员审批记录")
            member.stage = Stage.CANDIDATE
            member.joined_on = None
        elif member.joined_on != state.joined_on:
            member.joined_on = state.joined_on
    elif code == StepCode.FULL_APPROVAL and approved:
        if voided.outcome == FullOutcome.FULL and member.stage == Stage.FULL and state.full_on is None:
            member.stage = Stage.PROBATIONARY
            member.full_on = None
        elif (
            voided.outcome == FullOutcome.CANCEL
            and member.membership_status == MembershipStatus.REMOVED
            and not state.cancelled
        ):
            member.membership_status = MembershipStatus.NORMAL
            MembershipStatusChange.objects.filter(
                member=member, to_status=MembershipStatus.REMOVED, reason=CANCEL_REASON, on=voided.occurred_on
            ).delete()
            dues_ledger_reopen(member=member, from_month=month_from_index(month_index(voided.occurred_on) + 1))
    before = Member.objects.filter(pk=member.pk).values("stage", "joined_on", "full_on", "membership_status").get()
    for field, old in before.items():
        new = getattr(member, field)
        if new != old:
            changed[field] = f"{new:%Y-%m-%d}" if isinstance(new, date) else (new or "")
    if changed:
        member.save(update_fields=[*changed, "updated_at"])
    return changed
