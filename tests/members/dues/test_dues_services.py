"""党费 services: yearly fixing, approvals, payments, 补交 limits, arrears flags, refusal messages."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from audit.models import AuditEvent
from members.choices import Stage
from members.dues.models import DuesApproval, DuesFixing, DuesIncomeItem, DuesMonth, DuesPayment
from members.dues.selectors import arrears_status, dues_collection, member_dues_summary
from members.dues.services.approvals import dues_approval_record
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.ledger import dues_ledger_move
from members.dues.services.payments import dues_branch_payments_record, dues_payment_record
from organizations.choices import OrgType
from tests.factories import MemberFactory, make_org

pytestmark = pytest.mark.django_db
D = Decimal


def fix(member, year=2025, base="5100", category="employed", **kw):
    return dues_fixing_create(
        member=member, year=year, category=category, base=D(base) if base else None, fixed_on=date(year, 1, 5), **kw
    )


def months(year, *numbers):
    return [date(year, n, 1) for n in numbers]


def test_fixing_opens_twelve_months_at_the_fixed_amount(cast):
    member = cast.member_a_record
    fixing = fix(member)
    assert fixing.monthly_amount == D("76.50") and fixing.rate == D("0.015") and fixing.base == D("5100.00")
    rows = list(DuesMonth.objects.filter(member=member).order_by("month"))
    assert len(rows) == 12 and {r.amount_due for r in rows} == {D("76.50")}
    assert rows[0].month == date(2025, 1, 1) and rows[-1].month == date(2025, 12, 1)
    assert AuditEvent.objects.filter(event="dues_fixing_create").count() == 1


def test_base_is_encrypted_at_rest(cast):
    from django.db import connection

    fix(cast.member_a_record, base="5432.10")
    with connection.cursor() as cursor:
        cursor.execute("SELECT base_cipher FROM members_duesfixing")
        (stored,) = cursor.fetchone()
    assert "5432" not in stored and stored.startswith("v1:")


def test_fixing_from_income_items_keeps_excluded_items_visible(cast):
    fixing = dues_fixing_create(
        member=cast.member_a_record,
        year=2025,
        category="employed",
        income_items=[("position_salary", D("5000")), ("incentive_performance", D("2000")), ("income_tax", D("100"))],
        fixed_on=date(2025, 1, 5),
    )
    assert fixing.base == D("4900.00") and fixing.monthly_amount == D("49.00")
    items = {i.kind: (i.amount, i.effect) for i in DuesIncomeItem.objects.filter(fixing=fixing)}
    assert items["incentive_performance"] == (D("2000.00"), "exclude")
    assert items["income_tax"] == (D("100.00"), "deduct")


def test_amount_holds_all_year_second_fixing_refused(cast):
    member = cast.member_a_record
    fix(member)
    with pytest.raises(ValidationError) as exc:
        fix(member, base="9000")
    assert "已核定" in exc.value.message_dict["year"][0]
    assert DuesFixing.objects.get(member=member).monthly_amount == D("76.50")


def test_replace_allowed_until_something_is_paid(cast):
    member = cast.member_a_record
    fix(member)
    fix(member, base="9000", replace=True)
    assert DuesFixing.objects.get(member=member).monthly_amount == D("135.00")
    assert DuesMonth.objects.filter(member=member).count() == 12
    dues_payment_record(member=member, months=months(2025, 1), paid_on=date(2025, 1, 10))
    with pytest.raises(ValidationError) as exc:
        fix(member, base="3000", replace=True)
    assert "已有缴纳记录" in exc.value.message_dict["year"][0]


def test_probationary_member_owes_from_the_month_of_the_vote(cast):
    member = MemberFactory(organization=cast.A, stage=Stage.PROBATIONARY, joined_on=date(2025, 4, 30), full_on=None)
    fixing = fix(member)
    assert fixing.start_month == date(2025, 4, 1)
    assert DuesMonth.objects.filter(member=member).count() == 9
    with pytest.raises(ValidationError) as exc:
        fix(member, year=2024)
    assert "不缴纳党费" in exc.value.message_dict["year"][0]


def test_non_members_and_temporary_branches_are_refused(cast):
    applicant = MemberFactory(organization=cast.A, stage=Stage.APPLICANT, joined_on=None, full_on=None)
    with pytest.raises(ValidationError) as exc:
        fix(applicant)
    assert "不核定党费" in exc.value.message_dict["member"][0]
    temp = make_org("临时党支部", OrgType.TEMPORARY_BRANCH, parent=cast.P)
    member = MemberFactory(organization=temp)
    with pytest.raises(ValidationError) as exc:
        fix(member)
    assert "临时党支部不收缴党费" in exc.value.message_dict["member"][0]
    assert not DuesFixing.objects.exists()


def test_fixed_and_farmer_categories(cast):
    student = MemberFactory(organization=cast.A)
    assert fix(student, category="student", base=None).monthly_amount == D("0.20")
    farmer = MemberFactory(organization=cast.A)
    assert fix(farmer, category="farmer", base=None, amount=D("0.50")).monthly_amount == D("0.50")
    with pytest.raises(ValidationError):
        fix(MemberFactory(organization=cast.A), category="farmer", base=None, amount=D("2"))
    with pytest.raises(ValidationError) as exc:
        fix(MemberFactory(organization=cast.A), category="student", base="3000")
    assert "无需填写基数" in exc.value.message_dict["base"][0]


def test_voluntary_more_than_the_standard(cast):
    member = cast.member_a_record
    with pytest.raises(ValidationError) as exc:
        fix(member, voluntary_amount=D("50"))
    assert "不能低于" in exc.value.message_dict["voluntary_amount"][0]
    fixing = fix(member, voluntary_amount=D("1200"))
    assert fixing.monthly_amount == D("1200.00") and fixing.is_voluntary and fixing.standard_amount == D("76.50")


def test_hardship_reduction_needs_approver_reason_and_date(cast):
    member = cast.member_a_record
    fix(member)
    with pytest.raises(ValidationError) as exc:
        dues_approval_record(
            member=member,
            kind="reduce",
            start_month=date(2025, 3, 1),
            amount=D("10"),
            reason="",
            approver="",
            approved_on=date(2025, 2, 20),
        )
    assert set(exc.value.message_dict) >= {"reason", "approver"}
    approval = dues_approval_record(
        member=member,
        kind="reduce",
        start_month=date(2025, 3, 1),
        end_month=date(2025, 6, 1),
        amount=D("10"),
        reason="大病住院，家庭困难",
        approver="中共测试委员会",
        approved_on=date(2025, 2, 20),
    )
    dues = dict(DuesMonth.objects.filter(member=member).values_list("month", "amount_due"))
    assert dues[date(2025, 2, 1)] == D("76.50")
    assert dues[date(2025, 3, 1)] == D("10.00") and dues[date(2025, 6, 1)] == D("10.00")
    assert dues[date(2025, 7, 1)] == D("76.50")
    assert DuesMonth.objects.filter(approval=approval).count() == 4


def test_exemption_and_adjustment(cast):
    member = cast.member_a_record
    fix(member)
    dues_payment_record(member=member, months=months(2025, 1), paid_on=date(2025, 1, 10))
    dues_approval_record(
        member=member,
        kind="exempt",
        start_month=date(2025, 1, 1),
        end_month=date(2025, 2, 1),
        reason="低保",
        approver="党委",
        approved_on=date(2025, 1, 20),
    )
    dues = dict(DuesMonth.objects.filter(member=member).values_list("month", "amount_due"))
    assert dues[date(2025, 1, 1)] == D("76.50")  # already paid: stays as it was
    assert dues[date(2025, 2, 1)] == D("0.00")
    dues_approval_record(
        member=member,
        kind="change",
        start_month=date(2025, 7, 1),
        amount=D("90"),
        reason="岗位调整，经支委会研究",
        approver="支委会",
        approved_on=date(2025, 6, 25),
    )
    assert DuesMonth.objects.get(member=member, month=date(2025, 12, 1)).amount_due == D("90.00")
    with pytest.raises(ValidationError) as exc:
        dues_approval_record(
            member=member,
            kind="reduce",
            start_month=date(2025, 8, 1),
            amount=D("100"),
            reason="x",
            approver="y",
            approved_on=date(2025, 7, 1),
        )
    assert "低于核定" in exc.value.message_dict["amount"][0]


def test_payment_prepay_several_months_and_recorded_by(cast):
    member = cast.member_a_record
    fix(member)
    secretary = cast.users["secretary_a"]
    payment = dues_payment_record(
        member=member, months=months(2025, 1, 2, 3, 4, 5, 6), paid_on=date(2025, 1, 8), recorded_by=secretary
    )
    assert payment.total == D("459.00") and payment.months_count == 6 and payment.recorded_as == "on_behalf"
    own = dues_payment_record(
        member=member, months=months(2025, 7), paid_on=date(2025, 1, 8), recorded_by=cast.users["member_a"]
    )
    assert own.recorded_as == "self"
    assert DuesMonth.objects.filter(member=member, paid_on=date(2025, 1, 8)).count() == 7


@pytest.mark.parametrize(
    "kwargs,field,message",
    [
        ({"months": [date(2025, 1, 1)], "amounts": {date(2025, 1, 1): D("-1")}}, "months", "不能为负数"),
        ({"months": [date(2025, 1, 1)], "amounts": {date(2025, 1, 1): D("70")}}, "months", "少于应交"),
        ({"months": [date(2026, 1, 1)]}, "months", "尚未核定"),
        ({"months": []}, "months", "请选择"),
        ({"months": [date(2025, 1, 1)], "paid_on": date(2099, 1, 1)}, "paid_on", "不能晚于今天"),
        ({"months": [date(2025, 1, 1)], "method": "barter"}, "method", "未知"),
    ],
)
def test_payment_refusals_save_nothing(cast, kwargs, field, message):
    member = cast.member_a_record
    fix(member)
    kwargs.setdefault("paid_on", date(2025, 1, 10))
    with pytest.raises(ValidationError) as exc:
        dues_payment_record(member=member, **kwargs)
    assert message in " ".join(exc.value.message_dict[field])
    assert not DuesPayment.objects.exists() and not DuesMonth.objects.filter(paid_on__isnull=False).exists()


def test_paid_month_cannot_be_paid_twice(cast):
    member = cast.member_a_record
    fix(member)
    dues_payment_record(member=member, months=months(2025, 1), paid_on=date(2025, 1, 10))
    with pytest.raises(ValidationError) as exc:
        dues_payment_record(member=member, months=months(2025, 1, 2), paid_on=date(2025, 2, 10))
    assert "已于 2025-01-10 缴纳" in exc.value.message_dict["months"][0]
    assert DuesPayment.objects.count() == 1


def test_back_pay_six_months_allowed_seven_needs_approval(cast):
    member = cast.member_a_record
    fix(member)
    # paid in October: April is 6 months back (allowed), March is 7 (refused without approval)
    dues_payment_record(member=member, months=months(2025, 4), paid_on=date(2025, 10, 31))
    with pytest.raises(ValidationError) as exc:
        dues_payment_record(member=member, months=months(2025, 3), paid_on=date(2025, 10, 31))
    assert "补交党费一般不超过 6 个月" in exc.value.message_dict["months"][0]
    dues_approval_record(
        member=member,
        kind="late_payment",
        start_month=date(2025, 1, 1),
        end_month=date(2025, 3, 1),
        reason="长期出国",
        approver="党委",
        approved_on=date(2025, 10, 20),
    )
    payment = dues_payment_record(member=member, months=months(2025, 1, 2, 3), paid_on=date(2025, 10, 31))
    assert payment.months_count == 3


@override_settings(PB_DUES_BACKPAY_MONTHS=3)
def test_back_pay_limit_is_a_setting(cast):
    member = cast.member_a_record
    fix(member)
    with pytest.raises(ValidationError):
        dues_payment_record(member=member, months=months(2025, 6), paid_on=date(2025, 10, 1))
    dues_payment_record(member=member, months=months(2025, 7), paid_on=date(2025, 10, 1))


def _unpaid(*numbers, year=2025):
    return [(date(year, n, 1), D("10")) for n in numbers]


@pytest.mark.parametrize(
    "unpaid,warning,lapse,run",
    [
        (_unpaid(1, 2), False, False, 2),
        (_unpaid(1, 2, 3), True, False, 3),
        (_unpaid(1, 3, 5), True, False, 1),
        (_unpaid(1, 2, 3, 4, 5), True, False, 5),
        (_unpaid(1, 2, 3, 4, 5, 6), True, True, 6),
        (_unpaid(1, 2, 3, 5, 6, 7, 9), True, False, 3),  # 7 months unpaid but never 6 in a row
        (_unpaid(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), True, True, 10),  # November has not ended yet
    ],
)
def test_arrears_flags_at_three_and_six_months(unpaid, warning, lapse, run):
    status = arrears_status(unpaid, [], on=date(2025, 11, 15))
    assert (status.warning, status.lapse, status.longest_run) == (warning, lapse, run)


def test_consecutive_run_crosses_the_year_end():
    status = arrears_status(_unpaid(10, 11, 12, year=2024) + _unpaid(1, 2, 3), [], on=date(2025, 4, 2))
    assert status.lapse and status.longest_run == 6


def test_excused_months_break_the_run(cast):
    member = cast.member_a_record
    fix(member)
    approval = dues_approval_record(
        member=member,
        kind="excused",
        start_month=date(2025, 3, 1),
        reason="重病住院",
        approver="支委会",
        approved_on=date(2025, 9, 1),
    )
    status = arrears_status(_unpaid(1, 2, 3, 4, 5, 6, 7), [approval], on=date(2025, 8, 15))
    assert status.unpaid_count == 7 and status.longest_run == 4 and not status.lapse and status.warning


def test_branch_batch_is_all_or_nothing(cast):
    m1, m2 = cast.member_a_record, MemberFactory(organization=cast.A, name="丙党员")
    fix(m1)
    fix(m2, base="3000")
    with pytest.raises(ValidationError) as exc:
        dues_branch_payments_record(
            organization=cast.A,
            month=date(2025, 3, 1),
            paid_on=date(2025, 3, 5),
            entries=[(m1.pk, None), (m2.pk, D("-5"))],
        )
    assert f"member_{m2.pk}" in exc.value.message_dict
    assert not DuesPayment.objects.exists()
    payments = dues_branch_payments_record(
        organization=cast.A,
        month=date(2025, 3, 1),
        paid_on=date(2025, 3, 5),
        entries=[(m1.pk, None), (m2.pk, D("20"))],
        recorded_by=cast.users["secretary_a"],
    )
    assert [p.total for p in payments] == [D("76.50"), D("20.00")]
    summary = dues_collection(organization=cast.A, month=date(2025, 3, 1), on=date(2025, 3, 6))["summary"]
    assert (summary.due_count, summary.paid_count, summary.rate) == (2, 2, D("100.0"))


def test_branch_batch_refuses_members_of_another_branch(cast):
    fix(cast.member_b_record)
    with pytest.raises(ValidationError) as exc:
        dues_branch_payments_record(
            organization=cast.A,
            month=date(2025, 3, 1),
            paid_on=date(2025, 3, 5),
            entries=[(cast.member_b_record.pk, None)],
        )
    assert "未在本支部核定" in exc.value.message_dict[f"member_{cast.member_b_record.pk}"][0]


def test_collection_lists_unfixed_members_and_rates(cast):
    m1 = cast.member_a_record
    m2 = MemberFactory(organization=cast.A, name="丁党员")
    MemberFactory(organization=cast.A, name="戊党员")  # no fixing: listed as 未核定
    fix(m1)
    fix(m2)
    dues_payment_record(member=m1, months=months(2025, 5), paid_on=date(2025, 5, 3))
    data = dues_collection(organization=cast.A, month=date(2025, 5, 1), on=date(2025, 5, 20))
    statuses = {line.member.name: line.status for line in data["lines"]}
    assert statuses == {"甲党员": "paid", "丁党员": "unpaid", "戊党员": "unfixed"}
    summary = data["summary"]
    assert (summary.members, summary.due_count, summary.paid_count, summary.unfixed) == (3, 2, 1, 1)
    assert summary.rate == D("50.0") and summary.due_total == D("153.00") and summary.paid_total == D("76.50")


def test_member_summary_what_i_owe(cast):
    member = cast.member_a_record
    fix(member, year=2025)
    dues_payment_record(member=member, months=months(2025, 1, 2), paid_on=date(2025, 2, 1))
    summary = member_dues_summary(member, on=date(2025, 6, 10))
    assert summary["fixing"].monthly_amount == D("76.50")
    assert [r.month.month for r in summary["owed_months"]] == [3, 4, 5, 6]
    assert summary["owed_total"] == D("306.00")
    assert summary["arrears"].warning and not summary["arrears"].lapse
    assert summary["paid_until"] == date(2025, 2, 1)


def test_ledger_move_after_transfer(cast):
    member = cast.member_a_record
    fix(member)
    dues_payment_record(member=member, months=months(2025, 1, 2), paid_on=date(2025, 2, 1))
    moved = dues_ledger_move(member=member, organization=cast.B, from_month=date(2025, 3, 1))
    assert moved == 10
    assert DuesMonth.objects.filter(member=member, organization=cast.A).count() == 2


def test_approval_unknown_fields_and_range(cast):
    member = cast.member_a_record
    fix(member)
    with pytest.raises(ValidationError) as exc:
        dues_approval_record(
            member=member,
            kind="reduce",
            start_month=date(2025, 6, 1),
            end_month=date(2025, 3, 1),
            amount=D("1"),
            reason="x",
            approver="y",
            approved_on=date(2025, 1, 1),
        )
    assert "end_month" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        dues_approval_record(
            member=member,
            kind="late_payment",
            start_month=date(2025, 1, 1),
            amount=D("1"),
            reason="x",
            approver="y",
            approved_on=date(2025, 1, 1),
        )
    assert "amount" in exc.value.message_dict
    assert not DuesApproval.objects.exists()


def test_fixings_create_many_all_or_nothing_with_one_audit_record(cast):
    from members.dues.services.fixings import FixingSpec, dues_fixings_create_many

    m1, m2 = cast.member_a_record, MemberFactory(organization=cast.A, name="丙党员")
    applicant = MemberFactory(organization=cast.A, stage=Stage.APPLICANT, joined_on=None, full_on=None)
    specs = [
        FixingSpec(member=m1, category="employed", base=D("5100"), key=2),
        FixingSpec(member=m2, category="farmer", amount=D("0.3"), key=3),
        FixingSpec(member=applicant, category="student", key=4),
    ]
    with pytest.raises(ValidationError) as exc:
        dues_fixings_create_many(specs=specs, year=2025, fixed_on=date(2025, 1, 3))
    assert list(exc.value.message_dict) == ["4"]
    assert not DuesFixing.objects.exists() and not DuesMonth.objects.exists()
    fixings = dues_fixings_create_many(specs=specs[:2], year=2025, fixed_on=date(2025, 1, 3))
    assert [f.monthly_amount for f in fixings] == [D("76.50"), D("0.30")]
    assert DuesMonth.objects.count() == 24
    event = AuditEvent.objects.get(event="dues_fixing_create_many")
    assert event.detail["count"] == 2 and event.detail["member_ids"] == [m1.pk, m2.pk]
