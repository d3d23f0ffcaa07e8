"""组织关系转接: states, who may do what, refusals, history and the roster on each side."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from core.dates import add_months, today
from members.choices import MembershipStatus, Stage, TransferKind, TransferStatus
from members.models import MemberTransfer
from members.selectors import member_away_without_transfer, member_lost_contact_due, member_roster_on
from members.services import (
    member_create,
    transfer_accept,
    transfer_cancel,
    transfer_complete_outgoing,
    transfer_issue,
    transfer_reject,
)
from organizations.choices import OrgType
from tests.factories import MemberFactory, make_org
from tests.member_helpers import make_id, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def mover(cast):
    return member_create(organization=cast.A, start_on=date(2015, 1, 1), **record(name="调动者", party_group=cast.A1))


def _issue(cast, member, who="org_admin_p", **kwargs):
    defaults = {"kind": TransferKind.INTERNAL, "to_organization": cast.B, "issued_on": today() - timedelta(days=10)}
    defaults.update(kwargs)
    return transfer_issue(member=member, user=cast.users[who], **defaults)


def _names(org, on):
    return {m.name for m in member_roster_on(organization=org, on=on)}


def test_internal_transfer_member_stays_until_accepted_then_roster_moves(cast, mover):
    transfer = _issue(cast, mover)
    assert transfer.status == TransferStatus.PENDING
    mover.refresh_from_db()
    assert mover.organization == cast.A  # the sending side stays responsible
    accept_on = today() - timedelta(days=3)
    transfer_accept(transfer=transfer, user=cast.users["secretary_b"], on=accept_on)
    transfer.refresh_from_db()
    mover.refresh_from_db()
    assert transfer.status == TransferStatus.ACCEPTED and transfer.decided_on == accept_on
    assert mover.organization == cast.B and mover.party_group is None
    assert "调动者" in _names(cast.A, accept_on - timedelta(days=1))
    assert "调动者" not in _names(cast.A, accept_on)
    assert "调动者" in _names(cast.B, accept_on)
    assert [(r.organization_id, r.end_on) for r in mover.memberships.order_by("start_on")] == [
        (cast.A.pk, accept_on),
        (cast.B.pk, None),
    ]
    assert list(AuditEvent.objects.filter(event__startswith="transfer_").values_list("event", flat=True)) == [
        "transfer_accept",
        "transfer_issue",
    ]


def test_receiving_secretary_sees_pending_transfer_but_not_the_member_page(cast, mover):
    transfer = _issue(cast, mover)
    client = cast.client("secretary_b")
    listing = client.get("/members/transfers/", {"direction": "in", "status": "pending"}).content.decode()
    assert "调动者" in listing
    detail = client.get(f"/members/transfers/{transfer.pk}/").content.decode()
    assert "接收" in detail and "退回" in detail and mover.id_number_masked in detail
    assert client.get(f"/members/{mover.pk}/").status_code == 404
    assert cast.client("secretary_a").get(f"/members/transfers/{transfer.pk}/").status_code == 200
    assert cast.client("outsider").get(f"/members/transfers/{transfer.pk}/").status_code == 404


def test_accept_through_page(cast, mover):
    transfer = _issue(cast, mover)
    response = cast.client("secretary_b").post(
        f"/members/transfers/{transfer.pk}/", {"action": "accept", "on": today().isoformat()}
    )
    assert response.status_code == 302
    mover.refresh_from_db()
    assert mover.organization == cast.B


def test_reject_needs_reason_and_leaves_member_in_place(cast, mover):
    transfer = _issue(cast, mover)
    with pytest.raises(ValidationError, match="退回原因"):
        transfer_reject(transfer=transfer, user=cast.users["secretary_b"], reason="  ")
    page = cast.client("secretary_b").post(f"/members/transfers/{transfer.pk}/", {"action": "reject", "reason": ""})
    assert "请填写退回原因" in page.content.decode()
    transfer_reject(transfer=transfer, user=cast.users["secretary_b"], reason="介绍信抬头有误")
    transfer.refresh_from_db()
    mover.refresh_from_db()
    assert transfer.status == TransferStatus.REJECTED and transfer.reason == "介绍信抬头有误"
    assert mover.organization == cast.A and mover.memberships.get().end_on is None
    with pytest.raises(ValidationError, match="不能再办理"):
        transfer_accept(transfer=transfer, user=cast.users["secretary_b"], on=today())


def test_only_each_side_may_do_its_part(cast, mover):
    transfer = _issue(cast, mover)
    with pytest.raises(ValidationError, match="只有接收党组织"):
        transfer_accept(transfer=transfer, user=cast.users["secretary_a"], on=today())
    with pytest.raises(ValidationError, match="只有转出党组织"):
        transfer_cancel(transfer=transfer, user=cast.users["secretary_b"], reason="x")
    response = cast.client("auditor_p").post(f"/members/transfers/{transfer.pk}/", {"action": "accept"})
    assert response.status_code == 403
    transfer_cancel(transfer=transfer, user=cast.users["secretary_a"], reason="党员暂缓调动")
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED


def test_accept_date_checks(cast, mover):
    transfer = _issue(cast, mover)
    with pytest.raises(ValidationError, match="不能早于"):
        transfer_accept(transfer=transfer, user=cast.users["secretary_b"], on=transfer.issued_on - timedelta(days=1))
    with pytest.raises(ValidationError, match="不能晚于今天"):
        transfer_accept(transfer=transfer, user=cast.users["secretary_b"], on=today() + timedelta(days=1))


def test_transfer_to_unreachable_org_refused(cast, mover):
    # secretary_a sees only A and its groups: B (sibling) and Q (another committee) are out of reach.
    for target in (cast.B, cast.Q):
        with pytest.raises(ValidationError) as exc:
            _issue(cast, mover, who="secretary_a", to_organization=target)
        assert "无权向其转接" in exc.value.message_dict["to_organization"][0]
    page = cast.client("secretary_a").post(
        f"/members/{mover.pk}/transfer/",
        {"kind": "internal", "to_organization": cast.Q.code, "issued_on": today().isoformat()},
    )
    assert page.status_code == 200 and "无权向其转接" in page.content.decode()
    assert not MemberTransfer.objects.exists()
    assert cast.client("secretary_b").get(f"/members/{mover.pk}/transfer/").status_code == 404


@pytest.mark.parametrize(
    "setup,message",
    [
        ({"stage": Stage.ACTIVIST, "joined_on": None, "full_on": None}, "没有党员组织关系"),
        ({"membership_status": MembershipStatus.SUSPENDED, "suspended_on": date(2024, 1, 1)}, "停止党籍"),
    ],
)
def test_refused_for_non_members_and_suspended(cast, setup, message):
    member = MemberFactory(organization=cast.A, **setup)
    with pytest.raises(ValidationError, match=message):
        _issue(cast, member)


def test_target_must_be_a_branch_and_not_the_same(cast, mover):
    with pytest.raises(ValidationError, match="党支部或联合党支部"):
        _issue(cast, mover, to_organization=cast.P)
    with pytest.raises(ValidationError, match="当前所在"):
        _issue(cast, mover, to_organization=cast.A)
    temp = make_org("临时党支部", OrgType.TEMPORARY_BRANCH, parent=cast.P)
    with pytest.raises(ValidationError, match="党支部或联合党支部"):
        _issue(cast, mover, to_organization=temp)


def test_one_pending_transfer_at_a_time(cast, mover):
    _issue(cast, mover)
    with pytest.raises(ValidationError, match="待接收"):
        _issue(cast, mover)


def test_outgoing_needs_letter_and_completes_on_receipt(cast, mover):
    with pytest.raises(ValidationError) as exc:
        _issue(cast, mover, kind=TransferKind.OUTGOING, to_organization=None)
    assert {"external_organization", "letter_number", "dues_paid_until"} <= set(exc.value.message_dict)
    transfer = _issue(
        cast,
        mover,
        who="secretary_a",
        kind=TransferKind.OUTGOING,
        to_organization=None,
        external_organization="中共某省某县委员会组织部",
        letter_number="青组转〔2026〕7号",
        dues_paid_until=date(2026, 3, 17),
    )
    assert transfer.dues_paid_until == date(2026, 3, 1) and transfer.to_organization is None
    mover.refresh_from_db()
    assert mover.membership_status == MembershipStatus.NORMAL  # still ours until the 回执
    receipt = today() - timedelta(days=2)
    transfer_complete_outgoing(transfer=transfer, user=cast.users["secretary_a"], receipt_on=receipt)
    mover.refresh_from_db()
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED and transfer.receipt_on == receipt
    assert mover.membership_status == MembershipStatus.TRANSFERRED_OUT
    assert "调动者" in _names(cast.A, receipt - timedelta(days=1))
    assert "调动者" not in _names(cast.A, receipt)


def test_history_lists_every_transfer(cast, mover):
    first = _issue(cast, mover)
    transfer_reject(transfer=first, user=cast.users["secretary_b"], reason="请先补交党费")
    second = _issue(cast, mover)
    transfer_accept(transfer=second, user=cast.users["secretary_b"], on=today())
    page = cast.client("org_admin_p").get(f"/members/{mover.pk}/").content.decode()
    assert page.count("系统内转接") == 2 and "请先补交党费" in page and "已接收" in page


def test_lost_contact_and_away_selectors(cast, mover):
    on = today()
    lost = member_create(
        organization=cast.A,
        **record(name="失联者", id_number=make_id(date(1985, 3, 15), seq=60), is_lost_contact=True,
                 lost_contact_since=add_months(on, -6)),
    )  # fmt: skip
    away = member_create(
        organization=cast.A,
        **record(name="外出者", id_number=make_id(date(1985, 3, 15), seq=62), is_mobile=True,
                 mobile_destination="上海市浦东新区", mobile_since=add_months(on, -6)),
    )  # fmt: skip
    assert list(member_lost_contact_due(on=on)) == [lost]
    assert list(member_lost_contact_due(on=on - timedelta(days=1))) == []
    assert list(member_away_without_transfer(on=on)) == [away]
    page = cast.client("secretary_a").get("/members/", {"flag": "attention"}).content.decode()
    assert "失联者" in page and "外出者" in page and "调动者" not in page and "建议按规定停止党籍" in page
    _issue(cast, away, kind=TransferKind.OUTGOING, to_organization=None, external_organization="上海某党委",
           letter_number="1", dues_paid_until=on)  # fmt: skip
    assert list(member_away_without_transfer(on=on)) == []


def test_transfer_list_constant_queries(cast):
    client = cast.client("org_admin_p")
    url = "/members/transfers/"
    client.get(url)

    def grow(n, offset):
        for i in range(n):
            member = member_create(
                organization=cast.A,
                **record(name=f"转{offset + i}", id_number=make_id(date(1985, 3, 15), seq=2 * (offset + i) + 100)),
            )
            _issue(cast, member)

    grow(2, 0)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(15, 50)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(small) == len(large)


# --- The dues ledger follows an accepted transfer (JY §25: the sender is responsible until accepted) ---


def _fixed_year(member):
    from decimal import Decimal

    from members.dues.services.fixings import dues_fixing_create
    from members.dues.services.payments import dues_payment_record

    year = today().year
    dues_fixing_create(member=member, year=year, category="employed", base=Decimal("5100"), fixed_on=date(year, 1, 5))
    dues_payment_record(member=member, months=[date(year, 1, 1)], paid_on=date(year, 1, 10))
    return year


def test_accept_moves_the_dues_ledger_from_the_month_of_acceptance(cast, mover):
    from members.dues.models import DuesMonth

    year = _fixed_year(mover)
    transfer = _issue(cast, mover, issued_on=today() - timedelta(days=1))
    on = today()
    transfer_accept(transfer=transfer, user=cast.users["secretary_b"], on=on)
    ledger = {row.month: row.organization_id for row in DuesMonth.objects.filter(member=mover)}
    assert len(ledger) == 12
    for month, org_id in ledger.items():
        expected = cast.B.pk if (month.year, month.month) >= (on.year, on.month) else cast.A.pk
        assert org_id == expected, month
    assert DuesMonth.objects.get(member=mover, month=date(year, 1, 1)).organization_id == cast.A.pk
    event = AuditEvent.objects.get(event="transfer_accept")
    assert event.detail["dues_months_moved"] == 12 - on.month + 1
    assert AuditEvent.objects.filter(event="dues_ledger_move").count() == 1


def test_rejected_or_pending_transfer_moves_no_dues_month(cast, mover):
    from members.dues.models import DuesMonth

    _fixed_year(mover)
    transfer = _issue(cast, mover)
    assert set(DuesMonth.objects.filter(member=mover).values_list("organization_id", flat=True)) == {cast.A.pk}
    transfer_reject(transfer=transfer, user=cast.users["secretary_b"], reason="人员信息有误")
    assert set(DuesMonth.objects.filter(member=mover).values_list("organization_id", flat=True)) == {cast.A.pk}
    assert not AuditEvent.objects.filter(event="dues_ledger_move").exists()
