"""党费基数导入: the last committed batch can be rolled back while nothing has happened since."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from members.dues.imports import dues_import_rollback, dues_import_rollback_blockers
from members.dues.models import DuesFixing, DuesImportBatch, DuesMonth
from members.dues.services.approvals import dues_approval_record
from members.dues.services.ledger import dues_ledger_move
from members.dues.services.payments import dues_payment_record
from tests.factories import MemberFactory
from tests.members.dues.test_dues_pages import _xlsx

pytestmark = pytest.mark.django_db


def commit(cast, rows, who="secretary_a"):
    client = cast.client(who)
    response = client.post(f"/dues/org/{cast.A.pk}/import/", {"year": "2025", "file": _xlsx(rows)})
    assert response.status_code == 302
    assert client.post(response["Location"], {"action": "commit"}).status_code == 302
    return DuesImportBatch.objects.order_by("-pk").first()


@pytest.fixture
def batch(cast):
    m2 = MemberFactory(organization=cast.A, name="丙党员", dues_category="employed")
    return commit(
        cast,
        [
            [cast.member_a_record.pk, "甲党员", "在职", 5100, None, None, None],
            [m2.pk, "丙党员", "学生", None, None, None, None],
        ],
    )


def test_rollback_from_the_batch_page_removes_the_fixings_and_restores_categories(cast, batch):
    assert batch.status == "committed" and DuesFixing.objects.filter(import_batch=batch).count() == 2
    assert DuesMonth.objects.count() == 24
    client = cast.client("secretary_a")
    page = client.get(f"/dues/import/{batch.pk}/").content.decode()
    assert 'value="rollback"' in page and "data-confirm=" in page
    response = client.post(f"/dues/import/{batch.pk}/", {"action": "rollback"})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "rolled_back" and batch.rolled_back_at is not None
    assert not DuesFixing.objects.exists() and not DuesMonth.objects.exists()
    assert MemberFactory._meta.model.objects.get(name="丙党员").dues_category == "employed"
    event = AuditEvent.objects.get(event="dues_import_rollback")
    assert event.detail == {"year": 2025, "rows": 2}
    page = client.get(f"/dues/import/{batch.pk}/").content.decode()
    assert "已撤销" in page and 'value="rollback"' not in page
    with pytest.raises(ValidationError) as exc:
        dues_import_rollback(batch=batch, user=cast.users["secretary_a"])
    assert "只有已导入的批次可以撤销" in exc.value.message_dict["batch"][0]


def test_a_payment_since_blocks_the_rollback(cast, batch):
    dues_payment_record(member=cast.member_a_record, months=[date(2025, 1, 1)], paid_on=date(2025, 1, 10))
    assert dues_import_rollback_blockers(batch=batch) == ["导入后已有党员缴纳了党费"]
    client = cast.client("secretary_a")
    page = client.get(f"/dues/import/{batch.pk}/").content.decode()
    assert "该批次已不能撤销：导入后已有党员缴纳了党费" in page and 'value="rollback"' not in page
    refused = client.post(f"/dues/import/{batch.pk}/", {"action": "rollback"})
    assert refused.status_code == 400 and "导入后已有党员缴纳了党费" in refused.content.decode()
    assert DuesFixing.objects.filter(import_batch=batch).count() == 2
    batch.refresh_from_db()
    assert batch.status == "committed"


def test_only_the_latest_batch_can_be_rolled_back(cast, batch):
    m3 = MemberFactory(organization=cast.A, name="丁党员")
    later = commit(cast, [[m3.pk, "丁党员", "在职", 3000, None, None, None]])
    assert dues_import_rollback_blockers(batch=batch) == ["之后又导入了新的批次，只能撤销最近一次导入"]
    assert dues_import_rollback_blockers(batch=later) == []
    dues_import_rollback(batch=later, user=cast.users["secretary_a"])
    assert dues_import_rollback_blockers(batch=batch) == []


def test_an_amount_approval_since_blocks_the_rollback(cast, batch):
    member = cast.member_a_record
    dues_approval_record(
        member=member,
        kind="reduce",
        start_month=date(2025, 3, 1),
        end_month=date(2025, 12, 1),
        amount=Decimal("10"),
        reason="家庭困难",
        approver="中共测试委员会",
        approved_on=date(2025, 2, 20),
    )
    assert dues_import_rollback_blockers(batch=batch) == ["导入后已登记了党费调整或少交、免交审批"]


def test_a_transfer_since_blocks_the_rollback(cast, batch):
    dues_ledger_move(member=cast.member_a_record, organization=cast.B, from_month=date(2025, 6, 1))
    assert dues_import_rollback_blockers(batch=batch) == ["导入后已有党员办理了组织关系转接，党费台账已转到新的党支部"]
    with pytest.raises(ValidationError):
        dues_import_rollback(batch=batch, user=cast.users["secretary_a"])
    assert DuesFixing.objects.filter(import_batch=batch).count() == 2


def test_rollback_needs_the_right_to_change(cast, batch):
    response = cast.client("auditor_p").post(f"/dues/import/{batch.pk}/", {"action": "rollback"})
    assert response.status_code in (403, 404)
    assert DuesFixing.objects.filter(import_batch=batch).count() == 2
