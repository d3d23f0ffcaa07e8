"""One object of every kind a route takes as a parameter, all belonging to organization A of the cast.

The role × endpoint × verb matrix requests each parameterised route with the id of the object of
the kind that route serves, so an outcome says what a role may do to *that* object — not to
whatever row happened to share a number with organization A's id (which made the matrix depend on
database sequences, and so on the tests that ran before it).

``ROUTE_OBJECTS`` maps a route name to the key of its object in the dict ``seed_objects`` returns;
a value may also be a callable ``(objects) -> value | {parameter: value}``. A parameterised route
missing from the map fails the matrix test with the line to add.
"""

from __future__ import annotations

import uuid
from datetime import date, time
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile

from organizations.choices import PositionCode
from organizations.models import Organization


def seed_objects(cast: Any) -> dict[str, Any]:
    """The cast's objects: organization A's rows (and its committee P's, where the object is P's)."""
    return seed_org_objects(
        org=cast.A,
        parent=cast.P,
        other_org=cast.B,
        secretary=cast.users["secretary_a"],
        member=cast.member_a_record,
        member_user=cast.users["member_a"],
    )


def seed_org_objects(
    *, org: Any, parent: Any, other_org: Any, secretary: Any, member: Any, member_user: Any, marker: str = ""
) -> dict[str, Any]:
    """One row of every kind for ``org`` (a branch): ``parent`` is its committee, ``secretary`` its
    secretary's user, ``member`` a member record whose user is ``member_user``; ``other_org`` receives
    a pending transfer. Every free-text field starts with ``marker`` (the canary crawl looks for it)."""
    from activities.calendar import calendar_feed_create
    from activities.elections.models import Election, ElectionTiming
    from activities.models import Attachment, FollowUp, Plan, StudyRecord, Talk
    from activities.services.inputs import AttendanceInput, MeetingInput
    from activities.services.meetings import meeting_save
    from assessments.models import (
        AssessmentRound,
        DutyReport,
        Evidence,
        InspectionReport,
        LedgerBatch,
        Rating,
        RectificationItem,
        ReportBatch,
    )
    from members.development.models import DevelopmentStep
    from members.dues.models import DuesApproval, DuesFixing, DuesImportBatch, DuesMonth, DuesPayment
    from members.models import ImportBatch, MemberTransfer
    from notifications.models import Notice, NoticeRecipient, Notification
    from organizations.services import committee_term_start, position_assign
    from tests.assessments.helpers import active_scheme
    from tests.factories import MemberFactory

    A, P, m = org, parent, marker
    other = MemberFactory(name=f"{m}丙党员", organization=A)
    applicant = MemberFactory(name=f"{m}丁申请人", organization=A, stage="applicant")
    term = committee_term_start(org=A, elected_on=date(2024, 1, 5), note=f"{m}届次备注")
    position = position_assign(
        term=term, position=PositionCode.SECRETARY, person_name=f"{m}甲书记", start_on=date(2024, 1, 5)
    )
    meeting = meeting_save(
        user=secretary,
        organization=A,
        data=MeetingInput(
            meeting_type="general_assembly",
            title=f"{m}支部党员大会",
            held_on=date(2026, 3, 10),
            start_time=time(14, 30),
            end_time=time(16, 0),
            place=f"{m}会议室",
        ),
        attendance=[AttendanceInput(member_id=p.pk, status="present", reason="") for p in (member, other)],
        resolutions=[],
    )
    attachment = Attachment.objects.create(
        organization=A,
        meeting=meeting,
        original_name=f"{m}纪要.pdf",
        stored_name=f"{uuid.uuid4().hex}.pdf",
        content_type="application/pdf",
        size=4,
        sha256="0" * 64,
    )
    follow_up = FollowUp.objects.create(
        organization=A, body_type="general_assembly", title=f"{m}落实会议决定", opened_on=date(2026, 3, 10)
    )
    talk = Talk.objects.create(
        organization=A, held_on=date(2026, 4, 1), initiator=member, counterpart=other, topic=f"{m}谈心谈话"
    )
    study = StudyRecord.objects.create(
        organization=A,
        member=member,
        source="self_study",
        studied_on=date(2026, 4, 2),
        hours=Decimal("2.0"),
        title=f"{m}党章学习",
    )
    plan = Plan.objects.create(organization=A, year=2026, quarter=2)
    _feed, feed_token = calendar_feed_create(user=secretary)
    notification = Notification.objects.create(recipient=secretary, category="notice", title=f"{m}通知")
    notice = Notice.objects.create(
        organization=A,
        sender_name=f"{m}甲书记",
        title=f"{m}学习安排",
        body=f"{m}请按时参加学习。",
        target="organization",
        client_token=uuid.uuid4(),
        sender=secretary,
    )
    NoticeRecipient.objects.create(notice=notice, organization=A, name=member.name, user=member_user)
    transfer = MemberTransfer.objects.create(
        member=other, kind="internal", issued_on=date(2026, 11, 1), from_organization=A, to_organization=other_org
    )
    import_batch = ImportBatch.objects.create(organization=A, file_name=f"{m}members.xlsx", created_by=secretary)
    fixing = DuesFixing.objects.create(
        member=member,
        organization=A,
        year=2026,
        category="employed",
        base_mode="direct",
        standard_amount=Decimal("76.50"),
        monthly_amount=Decimal("76.50"),
        start_month=date(2026, 1, 1),
        fixed_on=date(2026, 1, 5),
    )
    dues_month = DuesMonth.objects.create(
        member=member, organization=A, fixing=fixing, month=date(2026, 1, 1), amount_due=Decimal("76.50")
    )
    payment = DuesPayment.objects.create(
        member=member,
        organization=A,
        paid_on=date(2026, 1, 20),
        total=Decimal("76.50"),
        months_count=1,
        recorded_as="on_behalf",
    )
    approval = DuesApproval.objects.create(
        member=member,
        organization=A,
        kind="reduce",
        start_month=date(2026, 1, 1),
        end_month=date(2026, 12, 1),
        reason=f"{m}家庭困难",
        approver="支部委员会",
        approved_on=date(2026, 1, 5),
    )
    dues_batch = DuesImportBatch.objects.create(organization=A, year=2026, filename=f"{m}bases.xlsx")
    step = DevelopmentStep.objects.create(
        member=applicant,
        organization=A,
        step="application",
        number=1,
        occurred_on=date(2026, 2, 1),
        attachment=ContentFile(b"%PDF", name="application.pdf"),
    )
    scheme = active_scheme(P, year=2026, name=f"{m}测试方案")
    round_ = AssessmentRound.objects.create(organization=P, scheme=scheme, year=2026)
    rating = Rating.objects.create(round=round_, organization=A, year=2026)
    evidence = Evidence.objects.create(
        organization=A, title=f"{m}台账照片", file=ContentFile(b"%PDF", name="evidence.pdf")
    )
    duty = DutyReport.objects.create(organization=A, year=2026, secretary_name=f"{m}甲书记", text=f"{m}述职报告")
    batch = ReportBatch.objects.create(organization=P, year=2026, quarter=3)
    ledger_batch = LedgerBatch.objects.create(organization=P, year=2026, status="running", total=2)
    report = InspectionReport.objects.create(
        organization=A,
        batch=batch,
        year=2026,
        quarter=3,
        period_start=date(2026, 7, 1),
        period_end=date(2026, 9, 30),
    )
    rectification = RectificationItem.objects.create(
        organization=A,
        problem=f"{m}会议记录不全",
        requirement=f"{m}补齐记录",
        owner_name=f"{m}甲书记",
        deadline=date(2026, 12, 31),
    )
    return {
        "org": A,
        "member": member,
        "applicant": applicant,
        "position": position,
        "meeting": meeting,
        "attachment": attachment,
        "follow_up": follow_up,
        "talk": talk,
        "study": study,
        "plan": plan,
        "feed_token": feed_token,
        "notification": notification,
        "notice": notice,
        "transfer": transfer,
        "import_batch": import_batch,
        "fixing": fixing,
        "dues_month": dues_month,
        "payment": payment,
        "approval": approval,
        "dues_batch": dues_batch,
        "step": step,
        "scheme": scheme,
        "round": round_,
        "rating": rating,
        "evidence": evidence,
        "duty": duty,
        "batch": batch,
        "ledger_batch": ledger_batch,
        "report": report,
        "rectification": rectification,
        "election": Election.objects.create(
            organization=org, timing=ElectionTiming.ON_TIME, opened_on=date(2026, 3, 1), committee_seats=5
        ),
        "user": secretary,
        "role": secretary.roles.first(),
        "api_token": _api_token(secretary),
    }


def _pending_reset(user: Any) -> Any:
    from accounts.models import PasswordReset, ResetStatus

    return PasswordReset.objects.create(user=user, privileged=True, status=ResetStatus.PENDING_APPROVAL)


def _api_token(user: Any) -> str:
    """The lookup prefix of an API token of ``user`` (#21.11: only its owner may delete it)."""
    from knox.models import AuthToken

    row, _ = AuthToken.objects.create(user=user)
    return row.token_key


ROUTE_OBJECTS: dict[str, Any] = {
    "api-token-detail": lambda objects: {"prefix": objects["api_token"]},  # the secretary's own token
    # #21.14: a reset waiting for a secadmin; a reset link (any token: the page refuses a dead one)
    "accounts:reset_decide": lambda objects: {"pk": _pending_reset(objects["user"]).pk, "decision": "approve"},
    "accounts:password_reset_link": lambda objects: {"token": "x" * 43},
    # 换届选举 (#16) and the delivery report (#19)
    "activities:election_open": "org",
    "activities:election": "election",
    "activities:election_pdf": lambda objects: {"pk": objects["election"].pk, "kind": "candidates"},
    "notifications:deliveries": "org",
    "election-detail": "election",
    "election-assembly": "election",
    "election-candidates": "election",
    "election-candidates-approval": "election",
    "election-candidates-submit": "election",
    "election-leave-empty": "election",
    "election-officers": "election",
    "election-report": "election",
    "election-request-approval": "election",
    "election-request-record": "election",
    "election-result-approval": "election",
    "election-rounds": "election",
    # organizations
    "organizations:detail": "org",
    "organizations:edit": "org",
    "organizations:term-start": "org",
    "organizations:term-extend": "org",
    "organizations:position-assign": "org",
    "organizations:position-end": lambda o: {"pk": o["org"].pk, "position_id": o["position"].pk},
    "dashboard:page": "org",
    "dashboard:members": "org",
    "dashboard:members-export": "org",
    "dashboard:orgs": "org",
    "dashboard:orgs-export": "org",
    "api-dashboard": "org",
    "api-dashboard-members": "org",
    "api-dashboard-organizations": "org",
    "api-organization-compliance": "org",
    "organization-detail": "org",
    "organization-terms": "org",
    # activities
    "activities:meetings": "org",
    "activities:meeting_new": "org",
    "activities:compliance": "org",
    "activities:rollup": "org",
    "activities:waive": "org",
    "activities:rules": "org",
    "activities:follow_ups": "org",
    "activities:talks": "org",
    "activities:study": "org",
    "activities:committee_study": "org",
    "activities:plans": "org",
    "activities:meeting": "meeting",
    "activities:meeting_edit": "meeting",
    "activities:meeting_delete": "meeting",
    "activities:attachment_upload": "meeting",
    "activities:appraisal": "meeting",
    "activities:attachment_download": "attachment",
    "activities:attachment_delete": "attachment",
    "activities:follow_up_update": "follow_up",
    "activities:study_record_delete": "study",
    "activities:feed": lambda o: {"token": o["feed_token"]},
    "meeting-detail": "meeting",
    "meeting-appraisal": "meeting",
    "meeting-attachments": "meeting",
    "attachment-detail": "attachment",
    "attachment-download": "attachment",
    "follow-up-detail": "follow_up",
    "talk-detail": "talk",
    "study-record-detail": "study",
    "plan-detail": "plan",
    # notifications
    "notifications:open": "notification",
    "notifications:read": "notification",
    "notifications:rules-org": "org",
    "notifications:webhook": "org",
    "notifications:addresses": "org",
    "notifications:addresses-template": "org",
    "notifications:credentials": lambda o: {
        "pk": Organization.objects.get(path=o["org"].path[: Organization.steplen]).pk
    },  # a top-level organization's
    "notifications:rule-edit": lambda o: {"pk": o["org"].pk, "code": "dues_collection"},
    "notifications:notice-detail": "notice",
    "notifications:notice-read": "notice",
    "notification-detail": "notification",
    "notification-read": "notification",
    "notice-detail": "notice",
    "notice-recipients": "notice",
    # members, transfers, imports
    "members:detail": "member",
    "members:edit": "member",
    "members:reveal": "member",
    "members:transfer-new": "member",
    "members:transfer-detail": "transfer",
    "members:import-batch": "import_batch",
    "member-detail": "member",
    "member-reveal": "member",
    "members:discipline": "member",
    "members:party-statistics": "org",
    "api-member-sanctions": "member",
    "api-member-rights-suspensions": "member",
    "api-member-status-changes": "member",
    "api-organization-party-statistics": "org",
    "member-history": "member",
    "transfer-detail": "transfer",
    "transfer-accept": "transfer",
    "transfer-cancel": "transfer",
    "transfer-receipt": "transfer",
    "transfer-reject": "transfer",
    # dues
    "dues:org": "org",
    "dues:record": "org",
    "dues:arrears": "org",
    "dues:year": "org",
    "dues:export": "org",
    "dues:fixings": "org",
    "dues:import": "org",
    "dues:import-template": "org",
    "dues:import-batch": "dues_batch",
    "dues:member": "member",
    "dues:fix": "member",
    "dues:member-pay": "member",
    "dues:member-approval": "member",
    "dues-ledger-detail": "dues_month",
    "dues-payment-detail": "payment",
    "dues-fixing-detail": "fixing",
    "dues-approval-detail": "approval",
    # development
    "development:pipeline": "org",
    "development:applicant-new": "org",
    "development:person": "applicant",
    "development:attachment": "step",
    "development-step-detail": "step",
    # assessments
    "assessments:scheme-detail": "scheme",
    "assessments:scheme-edit": "scheme",
    "assessments:round-detail": "round",
    "assessments:rating-detail": "rating",
    "assessments:evidence-download": "evidence",
    "assessments:duty-edit": lambda o: {"org_pk": o["org"].pk},
    "assessments:duty-detail": "duty",
    "assessments:report-retry": "report",
    "assessments:report-download": lambda o: {"pk": o["report"].pk, "fmt": "pdf"},
    "assessments:batch-detail": "batch",
    "assessments:report-detail": "report",
    "assessments:report-heading": lambda o: {"org_pk": o["org"].pk},
    "assessments:ledger-batch-new": lambda o: {"org_pk": o["org"].pk},
    "assessments:ledger-batch": "ledger_batch",
    "assessments:ledger-batch-download": "ledger_batch",
    "assessments:meeting-record-print": "meeting",
    "api-organization-ledger": "org",
    "inspection-report-confirm-findings": "report",
    "assessments:rectification-detail": "rectification",
    "assessment-scheme-detail": "scheme",
    "assessment-scheme-activate": "scheme",
    "assessment-scheme-new-version": "scheme",
    "assessment-round-detail": "round",
    "assessment-round-direct": "round",
    "rating-detail": "rating",
    "rating-comments": "rating",
    "rating-finalize": "rating",
    "rating-refresh": "rating",
    "rating-return-": "rating",
    "rating-review": "rating",
    "rating-self-score": "rating",
    "rating-start-publicity": "rating",
    "rating-steps": "rating",
    "rating-submit": "rating",
    "duty-report-detail": "duty",
    "duty-report-appraise": "duty",
    "duty-report-submit": "duty",
    "inspection-report-detail": "report",
    "inspection-report-pdf": "report",
    "inspection-report-retry": "report",
    "inspection-report-xlsx": "report",
    "report-batch-detail": "batch",
    "rectification-detail": "rectification",
    "rectification-sign-off": "rectification",
    "rectification-submit": "rectification",
    # accounts (三员)
    "accounts:user_detail": "user",
    "accounts:role_grant": "user",
    "accounts:user_action": lambda o: {"pk": o["user"].pk, "action": "unlock"},
    "accounts:role_revoke": "role",
}


def route_value(name: str, objects: dict[str, Any]) -> Any:
    """The URL parameter value(s) for ``name``, or None when the route is not in ROUTE_OBJECTS."""
    spec = ROUTE_OBJECTS.get(name)
    if spec is None:
        return None
    if callable(spec):
        return spec(objects)
    return objects[spec].pk
