"""AUD-1 / AUD-2 coverage (issue #8 item 4): every create/update/delete of members, development
steps, dues, meetings and ratings, every view of an unmasked ID number and every export (with its
row count) writes exactly one audit event that names the acting user, the organization and the
outcome, and holds no full ID number or mobile number.

Table-driven: each row is (event name, case). A case prepares what the action needs, then returns
the action (a real service call, or a page/API request where that is the natural path) and what the
event must record. Only the events written by the action itself are counted.

Services that take the user from the current request instead of an argument (``member_sanction_record``,
the dues ledger housekeeping run by the development pipeline) are called inside ``acting_as``, which
does what ``RequestContextMiddleware`` does for a page request.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import RequestFactory
from openpyxl import Workbook

from activities.attachments import attachment_add, attachment_delete
from activities.models import FollowUp, StudyRecord
from activities.services.follow_ups import follow_up_create, follow_up_update
from activities.services.meetings import meeting_delete, meeting_save
from activities.services.study import study_record_create, study_record_delete
from activities.services.talks import talk_create, talk_delete
from assessments.models import Rating
from assessments.services.duty import duty_report_appraise, duty_report_save, duty_report_submit
from assessments.services.ratings import (
    rating_comment,
    rating_direct,
    rating_finalize,
    rating_return,
    rating_review,
    rating_self_score,
    rating_start_publicity,
    rating_submit,
    round_open,
)
from assessments.services.rectification import (
    rectification_create,
    rectification_sign_off,
    rectification_submit,
    rectification_update,
)
from assessments.services.schemes import scheme_activate, scheme_save, scheme_seed
from audit import request_context
from audit.logging import ID_RE, PHONE_RE
from audit.models import AuditEvent
from core.dates import today
from dashboard.facts import facts_rebuild
from members.choices import TransferKind
from members.development.services import (
    development_applicant_create,
    development_step_record,
    development_step_void,
)
from members.discipline.services import member_sanction_record
from members.dues.imports import (
    HEADERS,
    dues_import_commit,
    dues_import_discard,
    dues_import_preview,
    dues_import_rollback,
)
from members.dues.services.approvals import dues_approval_record
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_branch_payments_record, dues_payment_record
from members.imports import import_commit, import_preview, import_rollback
from members.services import (
    member_create,
    member_reveal,
    transfer_accept,
    transfer_cancel,
    transfer_complete_outgoing,
    transfer_issue,
    transfer_record_incoming,
    transfer_reject,
)
from organizations.services import committee_term_start
from tests.activities.conftest import MEETING_DAY, add_members, attendance, header
from tests.api_helpers import if_match
from tests.assessments.helpers import active_scheme, after_publicity, ids, small_scheme_data
from tests.files import PDF
from tests.member_helpers import make_id, record
from tests.members.development.test_development import VOTES, S, to_probationary

pytestmark = pytest.mark.django_db

D = Decimal
ID_NUMBER = make_id(date(1985, 3, 15), seq=702)
PHONE = "13712345678"
TEXT = "本年度支部按期开展三会一课，完成党费收缴和发展党员工作，整改了上级督查发现的问题。"

# Event types whose row passed in this run (the closing summary counts them).
ASSERTED: set[str] = set()


@dataclass(frozen=True)
class Expect:
    """What the one new event must record: the acting user (a key of ``cast.users``), the
    organization (an attribute of the cast: P, A, B) and, for exports, the row count."""

    user: str
    org: str
    rows: int | None = None


Case = Callable[[Any], tuple[Callable[[], Any], Expect]]


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    """The current request, as RequestContextMiddleware sets it for a page request by ``user``."""
    request = RequestFactory().post("/")
    request.user = user
    request.request_id = "audit-coverage"
    request.audit_ip = "127.0.0.1"
    token = request_context._current.set(request)
    try:
        yield
    finally:
        request_context._current.reset(token)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


# --- members ---------------------------------------------------------------------------------------


def zhao(cast: Any) -> Any:
    """A member of A with a clear ID number and mobile number on file (so a leak would show)."""
    return member_create(organization=cast.A, **record(name="赵一", id_number=ID_NUMBER, phone=PHONE))


def case_member_create(cast):
    payload = {
        "organization": cast.A.pk,
        "name": "接口新党员",
        "sex": "female",
        "birth_date": "1992-02-29",
        "id_number": make_id(date(1992, 2, 29), male=False, seq=600),
        "stage": "probationary",
        "joined_on": (today() - timedelta(days=100)).isoformat(),
        "phone": "13600001111",
        "ethnicity": "03",
    }

    def act():
        response = cast.api("secretary_a").post("/api/v1/members/", payload, format="json")
        assert response.status_code == 201, response.json()

    return act, Expect("secretary_a", "A")


def case_member_update(cast):
    member = zhao(cast)

    def act():
        api, url = cast.api("secretary_a"), f"/api/v1/members/{member.pk}/"
        response = api.patch(
            url, {"employer": "青州市财政局", "phone": "13900001234"}, format="json", **if_match(api, url)
        )
        assert response.status_code == 200, response.json()

    return act, Expect("secretary_a", "A")


def case_member_reveal_id(cast):
    member = zhao(cast)

    def act():
        assert member_reveal(member=member, user=cast.users["org_admin_p"], field="id_number") == ID_NUMBER

    return act, Expect("org_admin_p", "A")


def case_member_reveal_phone(cast):
    member = zhao(cast)

    def act():
        assert member_reveal(member=member, user=cast.users["secretary_a"], field="phone") == PHONE

    return act, Expect("secretary_a", "A")


def case_member_reveal_page(cast):
    member = zhao(cast)

    def act():
        response = cast.client("secretary_a").post(f"/members/{member.pk}/reveal/", {"field": "id_number"})
        assert response.status_code == 200 and ID_NUMBER in response.content.decode()

    return act, Expect("secretary_a", "A")


def case_member_sanction(cast):
    member = zhao(cast)

    def act():
        with acting_as(cast.users["secretary_a"]):
            member_sanction_record(member=member, kind="warning", decided_on=today() - timedelta(days=3))

    return act, Expect("secretary_a", "A")


def _issue(cast, member, who="org_admin_p", **kwargs):
    """An internal transfer A → B is issued by the committee above both (a branch secretary may not
    reach B); an out-of-system one by A's secretary."""
    defaults = {"kind": TransferKind.INTERNAL, "to_organization": cast.B, "issued_on": today() - timedelta(days=10)}
    defaults.update(kwargs)
    return transfer_issue(member=member, user=cast.users[who], **defaults)


def _outgoing(cast, member):
    return _issue(
        cast,
        member,
        who="secretary_a",
        kind=TransferKind.OUTGOING,
        to_organization=None,
        external_organization="中共某省某县委员会组织部",
        letter_number="青组转〔2026〕7号",
        dues_paid_until=today().replace(day=1),
    )


def case_transfer_issue(cast):
    member = zhao(cast)
    return (lambda: _issue(cast, member)), Expect("org_admin_p", "A")


def case_transfer_accept(cast):
    transfer = _issue(cast, zhao(cast))
    on = today() - timedelta(days=3)
    return (lambda: transfer_accept(transfer=transfer, user=cast.users["secretary_b"], on=on)), Expect(
        "secretary_b", "B"
    )


def case_transfer_reject(cast):
    transfer = _issue(cast, zhao(cast))
    return (
        lambda: transfer_reject(transfer=transfer, user=cast.users["secretary_b"], reason="介绍信信息有误，请核实")
    ), Expect("secretary_b", "B")


def case_transfer_cancel(cast):
    transfer = _issue(cast, zhao(cast))
    return (
        lambda: transfer_cancel(transfer=transfer, user=cast.users["secretary_a"], reason="党员工作单位未变动")
    ), Expect("secretary_a", "A")


def case_transfer_complete(cast):
    transfer = _outgoing(cast, zhao(cast))
    receipt = today() - timedelta(days=2)
    return (
        lambda: transfer_complete_outgoing(transfer=transfer, user=cast.users["secretary_a"], receipt_on=receipt)
    ), Expect("secretary_a", "A")


def case_transfer_incoming(cast):
    member = zhao(cast)
    return (
        lambda: transfer_record_incoming(
            member=member,
            user=cast.users["secretary_a"],
            external_organization="中共某市某区委员会组织部",
            letter_number="区组转〔2026〕3号",
            issued_on=today() - timedelta(days=20),
            received_on=today() - timedelta(days=5),
        )
    ), Expect("secretary_a", "A")


def _member_rows(cast, first: int, count: int) -> bytes:
    from members.imports import COLUMNS, SHEET_NAME

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append([c.header + ("*" if c.required else "") for c in COLUMNS])
    for n in range(first, first + count):
        values = {
            "姓名": f"导入{n}",
            "民族": "汉族",
            "公民身份号码": make_id(date(1980, 1, 1), seq=2 * n + 1),
            "人员类别": "正式党员",
            "所在党支部代码": cast.A.code,
            "加入党组织日期": "2005-07-01",
            "转为正式党员日期": date(2006, 7, 1),
            "联系电话": f"1390000{n:04d}",
            "学历": "大学本科",
        }
        ws.append([values.get(c.header) for c in COLUMNS])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def case_member_import_commit(cast):
    user = cast.users["secretary_a"]
    batch = import_preview(user=user, scope=cast.A, data=_member_rows(cast, 1, 2), file_name="名单.xlsx")
    return (lambda: import_commit(batch=batch, user=user)), Expect("secretary_a", "A", rows=2)


def case_member_import_rollback(cast):
    user = cast.users["secretary_a"]
    batch = import_preview(user=user, scope=cast.A, data=_member_rows(cast, 1, 2), file_name="名单.xlsx")
    batch = import_commit(batch=batch, user=user)
    return (lambda: import_rollback(batch=batch, user=user)), Expect("secretary_a", "A", rows=2)


# --- development steps ---------------------------------------------------------------------------------


def _applicant(cast):
    return development_applicant_create(
        organization=cast.A, name="申请人", sex="female", birth_date=date(2000, 1, 1), applied_on=date(2023, 1, 10)
    )


def case_development_step_record(cast):
    person = _applicant(cast)
    return (
        lambda: development_step_record(
            member=person, step=S.TALK, occurred_on=date(2023, 2, 10), recorded_by=cast.users["secretary_a"]
        )
    ), Expect("secretary_a", "A")


def case_development_step_void(cast):
    person = _applicant(cast)
    step = development_step_record(member=person, step=S.TALK, occurred_on=date(2023, 2, 10))
    return (lambda: development_step_void(step=step, user=cast.users["secretary_a"], reason="日期登记错误")), Expect(
        "secretary_a", "A"
    )


def _cancelled_probationer(cast, *, approve: bool):
    """A 预备党员 with a 2025 dues fixing whose 转正 vote cancelled the membership (and, with
    ``approve``, the approval that stops the ledger already recorded)."""
    person = _applicant(cast)
    intro1, intro2 = (zhao(cast), member_create(organization=cast.A, **record(name="钱二")))
    to_probationary(person, intro1, intro2)
    person.refresh_from_db()
    dues_fixing_create(member=person, year=2025, category="student", fixed_on=date(2025, 1, 3))
    development_step_record(member=person, step=S.FULL_VOTE, occurred_on=date(2025, 6, 1), outcome="cancel", **VOTES)
    approval = None
    if approve:
        approval = development_step_record(member=person, step=S.FULL_APPROVAL, occurred_on=date(2025, 6, 15))
    return person, approval


# --- dues ----------------------------------------------------------------------------------------------


def _fix(cast, member, **kw):
    return dues_fixing_create(
        member=member, year=2025, category="employed", base=D("5100"), fixed_on=date(2025, 1, 5), **kw
    )


def case_dues_fixing_create(cast):
    member = zhao(cast)
    return (lambda: _fix(cast, member, fixed_by=cast.users["secretary_a"])), Expect("secretary_a", "A")


def case_dues_fixing_replace(cast):
    member = zhao(cast)
    _fix(cast, member)
    return (
        lambda: dues_fixing_create(
            member=member,
            year=2025,
            category="employed",
            base=D("9000"),
            fixed_on=date(2025, 1, 6),
            replace=True,
            fixed_by=cast.users["secretary_a"],
        )
    ), Expect("secretary_a", "A")


def case_dues_payment(cast):
    member = zhao(cast)
    _fix(cast, member)
    return (
        lambda: dues_payment_record(
            member=member, months=[date(2025, 1, 1)], paid_on=date(2025, 1, 10), recorded_by=cast.users["secretary_a"]
        )
    ), Expect("secretary_a", "A")


def case_dues_branch_payments(cast):
    member = zhao(cast)
    _fix(cast, member)
    _fix(cast, cast.member_a_record)
    return (
        lambda: dues_branch_payments_record(
            organization=cast.A,
            month=date(2025, 3, 1),
            entries=[(member.pk, None), (cast.member_a_record.pk, None)],
            paid_on=date(2025, 3, 5),
            recorded_by=cast.users["secretary_a"],
        )
    ), Expect("secretary_a", "A")


def case_dues_approval(cast):
    member = zhao(cast)
    _fix(cast, member)
    return (
        lambda: dues_approval_record(
            member=member,
            kind="reduce",
            start_month=date(2025, 3, 1),
            end_month=date(2025, 6, 1),
            amount=D("10"),
            reason="大病住院，家庭困难",
            approver="中共测试委员会",
            approved_on=date(2025, 2, 20),
            recorded_by=cast.users["secretary_a"],
        )
    ), Expect("secretary_a", "A")


def case_dues_ledger_close(cast):
    person, _ = _cancelled_probationer(cast, approve=False)
    user = cast.users["secretary_a"]

    def act():
        with acting_as(user):
            development_step_record(
                member=person, step=S.FULL_APPROVAL, occurred_on=date(2025, 6, 15), recorded_by=user
            )

    return act, Expect("secretary_a", "A")


def case_dues_ledger_reopen(cast):
    _, approval = _cancelled_probationer(cast, approve=True)
    user = cast.users["secretary_a"]

    def act():
        with acting_as(user):
            development_step_void(step=approval, user=user, reason="审批结论登记错误")

    return act, Expect("secretary_a", "A")


def _dues_upload(cast) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.append([cast.member_a_record.pk, "甲党员", "在职", 5100, None, None, None])
    ws.append([zhao(cast).pk, "赵一", "学生", None, None, None, None])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _dues_batch(cast):
    return dues_import_preview(
        organization=cast.A, year=2025, data=_dues_upload(cast), filename="基数.xlsx", user=cast.users["secretary_a"]
    )


def case_dues_import_preview(cast):
    return (lambda: _dues_batch(cast)), Expect("secretary_a", "A", 2)


def case_dues_import_discard(cast):
    batch = _dues_batch(cast)
    return (lambda: dues_import_discard(batch=batch, user=cast.users["secretary_a"])), Expect("secretary_a", "A")


def case_dues_import_commit(cast):
    batch = _dues_batch(cast)
    return (lambda: dues_import_commit(batch=batch, user=cast.users["secretary_a"])), Expect("secretary_a", "A", 2)


def case_dues_import_rollback(cast):
    batch = _dues_batch(cast)
    dues_import_commit(batch=batch, user=cast.users["secretary_a"])
    batch.refresh_from_db()
    return (lambda: dues_import_rollback(batch=batch, user=cast.users["secretary_a"])), Expect("secretary_a", "A", 2)


# --- meetings and organizational life ------------------------------------------------------------------


def _meeting(cast):
    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    return meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header(),
        attendance=attendance(people, 3),
        resolutions=[],
        finish=True,
    ), people


def case_meeting_create(cast):
    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    return (
        lambda: meeting_save(
            user=cast.users["secretary_a"],
            organization=cast.A,
            data=header(),
            attendance=attendance(people, 2),
            resolutions=[],
            finish=True,
        )
    ), Expect("secretary_a", "A")


def case_meeting_update(cast):
    meeting, people = _meeting(cast)
    return (
        lambda: meeting_save(
            user=cast.users["secretary_a"],
            organization=cast.A,
            meeting=meeting,
            data=header(title="研究发展党员工作（补充）"),
            attendance=attendance(people, 2),
            resolutions=[],
        )
    ), Expect("secretary_a", "A")


def case_meeting_delete(cast):
    meeting, _ = _meeting(cast)
    return (lambda: meeting_delete(user=cast.users["secretary_a"], meeting=meeting)), Expect("secretary_a", "A")


def case_attachment_add(cast):
    meeting, _ = _meeting(cast)
    return (
        lambda: attachment_add(user=cast.users["secretary_a"], meeting=meeting, name="会议记录.pdf", content=PDF)
    ), Expect("secretary_a", "A")


def case_attachment_delete(cast):
    meeting, _ = _meeting(cast)
    attachment = attachment_add(user=cast.users["secretary_a"], meeting=meeting, name="会议记录.pdf", content=PDF)
    return (lambda: attachment_delete(user=cast.users["secretary_a"], attachment=attachment)), Expect(
        "secretary_a", "A"
    )


def _follow_up(cast) -> FollowUp:
    return follow_up_create(
        user=cast.users["secretary_a"],
        organization=cast.A,
        title="落实党员活动室改造",
        body_type="general_assembly",
        opened_on=MEETING_DAY,
        owner_name="张伟",
    )


def case_follow_up_create(cast):
    return (lambda: _follow_up(cast)), Expect("secretary_a", "A")


def case_follow_up_update(cast):
    follow_up = _follow_up(cast)
    return (
        lambda: follow_up_update(user=cast.users["secretary_a"], follow_up=follow_up, status="done", note="已完成")
    ), Expect("secretary_a", "A")


def _talk(cast):
    other = add_members(cast.A, full=1)[0]
    return talk_create(
        user=cast.users["secretary_a"],
        organization=cast.A,
        held_on=MEETING_DAY,
        initiator=cast.member_a_record,
        counterpart=other,
        topic="谈心",
    )


def case_talk_create(cast):
    return (lambda: _talk(cast)), Expect("secretary_a", "A")


def case_talk_delete(cast):
    talk = _talk(cast)
    return (lambda: talk_delete(user=cast.users["secretary_a"], talk=talk)), Expect("secretary_a", "A")


def _study(cast) -> StudyRecord:
    return study_record_create(
        user=cast.users["secretary_a"],
        member=cast.member_a_record,
        source="training",
        studied_on=MEETING_DAY,
        hours=D("30"),
        title="党支部书记培训班",
        organizer="市委党校",
    )


def case_study_record_create(cast):
    return (lambda: _study(cast)), Expect("secretary_a", "A")


def case_study_record_delete(cast):
    study = _study(cast)
    return (lambda: study_record_delete(user=cast.users["secretary_a"], record=study)), Expect("secretary_a", "A")


# --- ratings, 述职评议, rectification, schemes --------------------------------------------------------


def _round(cast):
    committee_term_start(org=cast.A, elected_on=date(2024, 3, 1))
    scheme = active_scheme(cast.P)
    round_ = round_open(organization=cast.P, scheme=scheme, year=2025, user=cast.users["org_admin_p"])
    return Rating.objects.get(round=round_, organization=cast.A), ids(scheme)


def _scores(i, m1="8"):
    return {i["M1"]: {"points": m1}, i["J1"]: {"points": "2"}, i["D1"]: {"points": "0"}, i["V1"]: {"points": "0"}}


def _submitted(cast):
    rating, i = _round(cast)
    rating_self_score(rating=rating, user=cast.users["secretary_a"], scores=_scores(i))
    rating_submit(rating=rating, user=cast.users["secretary_a"])
    rating.refresh_from_db()
    return rating, i


def _in_publicity(cast):
    rating, _ = _submitted(cast)
    rating_start_publicity(rating=rating, user=cast.users["org_admin_p"], start=date(2026, 2, 2))
    rating.refresh_from_db()
    return rating


def case_round_open(cast):
    scheme = active_scheme(cast.P)
    return (lambda: round_open(organization=cast.P, scheme=scheme, year=2025, user=cast.users["org_admin_p"])), Expect(
        "org_admin_p", "P"
    )


def case_rating_self_score(cast):
    rating, i = _round(cast)
    return (lambda: rating_self_score(rating=rating, user=cast.users["secretary_a"], scores=_scores(i))), Expect(
        "secretary_a", "A"
    )


def case_rating_submit(cast):
    rating, i = _round(cast)
    rating_self_score(rating=rating, user=cast.users["secretary_a"], scores=_scores(i))
    return (lambda: rating_submit(rating=rating, user=cast.users["secretary_a"])), Expect("secretary_a", "A")


def case_rating_return(cast):
    rating, _ = _submitted(cast)
    return (
        lambda: rating_return(rating=rating, user=cast.users["org_admin_p"], reason="佐证材料不全，请补充")
    ), Expect("org_admin_p", "A")


def case_rating_review(cast):
    rating, i = _submitted(cast)
    return (
        lambda: rating_review(
            rating=rating, user=cast.users["org_admin_p"], scores={i["M1"]: {"points": "6", "reason": "记录不全"}}
        )
    ), Expect("org_admin_p", "A")


def case_rating_start_publicity(cast):
    rating, _ = _submitted(cast)
    return (
        lambda: rating_start_publicity(rating=rating, user=cast.users["org_admin_p"], start=date(2026, 2, 2))
    ), Expect("org_admin_p", "A")


def case_rating_comment(cast):
    rating = _in_publicity(cast)
    return (
        lambda: rating_comment(rating=rating, user=cast.users["member_a"], text="同意评定结果", on=date(2026, 2, 3))
    ), Expect("member_a", "A")


def case_rating_finalize(cast):
    rating = _in_publicity(cast)
    return (lambda: rating_finalize(rating=rating, user=cast.users["org_admin_p"], on=after_publicity(rating))), Expect(
        "org_admin_p", "A"
    )


def case_rating_direct(cast):
    rating, _ = _round(cast)
    return (
        lambda: rating_direct(
            round_=rating.round,
            organization=cast.B,
            stars=5,
            reason="2025 年度区级先进基层党组织（区委组〔2025〕12号）",
            user=cast.users["org_admin_p"],
        )
    ), Expect("org_admin_p", "B")


def _duty(cast):
    return duty_report_save(
        organization=cast.A, year=2025, user=cast.users["secretary_a"], secretary_name="张伟", text=TEXT
    )


def case_duty_report_create(cast):
    return (lambda: _duty(cast)), Expect("secretary_a", "A")


def case_duty_report_update(cast):
    _duty(cast)
    return (lambda: _duty(cast)), Expect("secretary_a", "A")


def case_duty_report_submit(cast):
    report = _duty(cast)
    return (lambda: duty_report_submit(report=report, user=cast.users["secretary_a"])), Expect("secretary_a", "A")


def case_duty_report_appraise(cast):
    report = _duty(cast)
    duty_report_submit(report=report, user=cast.users["secretary_a"])
    return (
        lambda: duty_report_appraise(
            report=report,
            user=cast.users["org_admin_p"],
            counts={"good": 6, "fairly_good": 2, "average": 2, "poor": 0},
            questions=["如何提高主题党日质量？"],
        )
    ), Expect("org_admin_p", "A")


def _item(cast):
    return rectification_create(
        organization=cast.A,
        user=cast.users["secretary_a"],
        problem="三会一课记录不完整",
        requirement="补齐会议记录并建立台账",
        owner_name="张伟",
        deadline=today() + timedelta(days=30),
    )


def case_rectification_create(cast):
    return (lambda: _item(cast)), Expect("secretary_a", "A")


def case_rectification_update(cast):
    item = _item(cast)
    return (lambda: rectification_update(item=item, user=cast.users["secretary_a"], owner_name="李娜")), Expect(
        "secretary_a", "A"
    )


def case_rectification_submit(cast):
    item = _item(cast)
    return (
        lambda: rectification_submit(item=item, user=cast.users["secretary_a"], completion_note="已补齐全部会议记录")
    ), Expect("secretary_a", "A")


def case_rectification_sign_off(cast):
    item = _item(cast)
    rectification_submit(item=item, user=cast.users["secretary_a"], completion_note="已补齐全部会议记录")
    return (
        lambda: rectification_sign_off(item=item, user=cast.users["org_admin_p"], accept=True, note="经查已整改到位")
    ), Expect("org_admin_p", "A")


def case_scheme_save(cast):
    return (lambda: scheme_save(organization=cast.P, data=small_scheme_data(), user=cast.users["org_admin_p"])), Expect(
        "org_admin_p", "P"
    )


def case_scheme_activate(cast):
    scheme = scheme_seed(organization=cast.P, data=small_scheme_data())
    return (lambda: scheme_activate(scheme=scheme, user=cast.users["org_admin_p"])), Expect("org_admin_p", "P")


# --- exports (with the row count) ----------------------------------------------------------------------


def case_member_export(cast):
    zhao(cast)  # P's party members: 甲党员, 赵一 (A) and 乙党员 (B)

    def act():
        response = cast.client("org_admin_p").get("/members/export.xlsx", {"org": cast.A.pk})
        assert response.status_code == 200

    return act, Expect("org_admin_p", "A", rows=2)


def case_member_export_unfiltered(cast):
    """The list page's export without a filter spans the user's whole scope: recorded under it."""
    zhao(cast)

    def act():
        response = cast.client("org_admin_p").get("/members/export.xlsx")
        assert response.status_code == 200

    return act, Expect("org_admin_p", "P", rows=3)


def case_dashboard_member_export(cast):
    zhao(cast)  # P's party members: 甲党员, 赵一 (A) and 乙党员 (B)
    facts_rebuild()

    def act():
        response = cast.client("org_admin_p").get(
            f"/organizations/{cast.P.pk}/dashboard/members/export.xlsx", {"metric": "party", "value": ""}
        )
        assert response.status_code == 200

    return act, Expect("org_admin_p", "P", rows=3)


def case_dues_export(cast):
    member = zhao(cast)
    _fix(cast, member)
    _fix(cast, cast.member_a_record)

    def act():
        response = cast.client("secretary_a").get(f"/dues/org/{cast.A.pk}/export.xlsx", {"year": "2025"})
        assert response.status_code == 200

    return act, Expect("secretary_a", "A", rows=2)


def case_study_points(cast):
    from activities.services.study import activity_settings_update, study_points_record

    activity_settings_update(
        user=cast.users["secretary_a"], organization=cast.A, study_points_enabled=True, advisory_summary_enabled=False
    )
    return (
        lambda: study_points_record(
            user=cast.users["member_a"], member=cast.member_a_record, recorded_on=date(2026, 6, 1), points=52
        )
    ), Expect("member_a", "A")


def case_evidence_add(cast):
    from assessments.models import RatingEntry
    from assessments.services.evidence import evidence_add

    rating, _ = _round(cast)
    entry = RatingEntry.objects.filter(rating=rating).first()
    return (
        lambda: evidence_add(user=cast.users["secretary_a"], target=entry, title="台账", name="a.pdf", content=PDF)
    ), Expect("secretary_a", "A")


# --- the table -----------------------------------------------------------------------------------------

ROWS: list[tuple[str, Case]] = [
    # members
    ("member_create", case_member_create),
    ("member_update", case_member_update),
    ("view_full_id", case_member_reveal_id),
    ("view_full_phone", case_member_reveal_phone),
    ("view_full_id", case_member_reveal_page),
    ("member_sanction_record", case_member_sanction),
    ("transfer_issue", case_transfer_issue),
    ("transfer_accept", case_transfer_accept),
    ("transfer_reject", case_transfer_reject),
    ("transfer_cancel", case_transfer_cancel),
    ("transfer_complete", case_transfer_complete),
    ("transfer_incoming", case_transfer_incoming),
    ("member_import_commit", case_member_import_commit),
    ("member_import_rollback", case_member_import_rollback),
    # development steps
    ("development_step_record", case_development_step_record),
    ("development_step_void", case_development_step_void),
    # dues
    ("dues_fixing_create", case_dues_fixing_create),
    ("dues_fixing_replace", case_dues_fixing_replace),
    ("dues_payment_record", case_dues_payment),
    ("dues_payments_record_branch", case_dues_branch_payments),
    ("dues_approval_record", case_dues_approval),
    ("dues_ledger_close", case_dues_ledger_close),
    ("dues_ledger_reopen", case_dues_ledger_reopen),
    ("dues_import_preview", case_dues_import_preview),
    ("dues_import_discard", case_dues_import_discard),
    ("dues_import_commit", case_dues_import_commit),
    ("dues_import_rollback", case_dues_import_rollback),
    # meetings and organizational life
    ("meeting_create", case_meeting_create),
    ("meeting_update", case_meeting_update),
    ("meeting_delete", case_meeting_delete),
    ("attachment_add", case_attachment_add),
    ("attachment_delete", case_attachment_delete),
    ("follow_up_create", case_follow_up_create),
    ("follow_up_update", case_follow_up_update),
    ("talk_create", case_talk_create),
    ("talk_delete", case_talk_delete),
    ("study_record_create", case_study_record_create),
    ("study_record_delete", case_study_record_delete),
    ("study_points_record", case_study_points),
    # ratings
    ("rating_round_open", case_round_open),
    ("rating_self_score", case_rating_self_score),
    ("rating_submit", case_rating_submit),
    ("rating_return", case_rating_return),
    ("rating_review_score", case_rating_review),
    ("rating_start_publicity", case_rating_start_publicity),
    ("rating_comment", case_rating_comment),
    ("rating_finalize", case_rating_finalize),
    ("rating_direct", case_rating_direct),
    ("duty_report_create", case_duty_report_create),
    ("duty_report_update", case_duty_report_update),
    ("duty_report_submit", case_duty_report_submit),
    ("duty_report_appraise", case_duty_report_appraise),
    ("rectification_create", case_rectification_create),
    ("rectification_update", case_rectification_update),
    ("rectification_submit", case_rectification_submit),
    ("rectification_sign_off", case_rectification_sign_off),
    ("assessment_scheme_save", case_scheme_save),
    ("assessment_scheme_activate", case_scheme_activate),
    ("assessment_evidence_add", case_evidence_add),
    # exports
    ("member_export", case_member_export),
    ("member_export", case_member_export_unfiltered),
    ("dashboard_export", case_dashboard_member_export),
    ("dues_export", case_dues_export),
]


def _row_text(event: AuditEvent) -> str:
    """Everything the row stores apart from the hashes, as one string to scan."""
    fields = [event.username, event.roles, event.event, event.object_type, event.object_id, event.request_id]
    return " ".join(fields) + " " + json.dumps(event.detail, ensure_ascii=False, default=str)


@pytest.mark.parametrize(("event_name", "case"), [pytest.param(e, c, id=c.__name__[5:]) for e, c in ROWS])
def test_action_writes_one_audit_event_with_user_org_and_no_personal_data(cast, event_name, case):
    action, expect = case(cast)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    action()
    events = list(AuditEvent.objects.filter(id__gt=last, event=event_name))
    written = list(AuditEvent.objects.filter(id__gt=last).values_list("event", flat=True))
    assert len(events) == 1, f"expected one {event_name!r} event, the action wrote {written}"
    event = events[0]
    user = cast.users[expect.user]
    assert (event.user_id, event.username) == (user.pk, user.username), "the acting user is not recorded"
    assert event.roles, "the acting user's roles are not recorded"
    organization = getattr(cast, expect.org)
    assert event.organization_id == organization.pk, f"organization {event.organization_id}, expected {expect.org}"
    assert event.outcome == "success"
    assert event.created_at is not None and event.row_hash
    text = _row_text(event)
    assert not ID_RE.search(text), f"a full ID number in the audit row: {text}"
    assert not PHONE_RE.search(text), f"a mobile number in the audit row: {text}"
    assert ID_NUMBER not in text and PHONE not in text
    if expect.rows is not None:
        assert event.detail.get("rows") == expect.rows, f"row count missing or wrong: {event.detail}"
    ASSERTED.add(event_name)


def test_zz_coverage_summary(capsys):
    """Runs last (file order): the line the closing note quotes."""
    with capsys.disabled():
        print(f"\naudit coverage: {len(ASSERTED)} event types asserted ({len(ROWS)} rows)")
