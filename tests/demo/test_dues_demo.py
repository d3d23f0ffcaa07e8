"""Demo 党费 and 发展党员 data: deterministic, consistent with the rules, flags visible."""

from datetime import date

import pytest

from demo.dues import seed_dues_demo
from demo.seed import seed_demo
from members.development.models import DevelopmentStep
from members.development.services import development_state
from members.dues.models import DuesFixing, DuesMonth
from members.dues.selectors import dues_arrears_flags

pytestmark = pytest.mark.django_db


def test_seed_dues_demo(settings):
    seed_demo(n_orgs=12, n_members=400, seed=3)
    on = date.today()
    counts = seed_dues_demo(on=on, seed=3)
    assert counts["fixings"] == DuesFixing.objects.filter(year=on.year).count() > 0
    assert DuesMonth.objects.filter(paid_on__isnull=False).count() == counts["payments"]
    assert not DuesMonth.objects.filter(paid_on__gt=on).exists()
    for fixing in DuesFixing.objects.all()[:50]:
        assert fixing.monthly_amount == fixing.standard_amount
    flags = dues_arrears_flags(member_ids=list(DuesFixing.objects.values_list("member_id", flat=True)), on=on)
    assert any(status.warning for status in flags.values()) or on.month < 4
    assert not DevelopmentStep.objects.filter(occurred_on__gt=on).exists()
    for step in DevelopmentStep.objects.filter(step="candidate").select_related("member")[:20]:
        state = development_state(step.member)
        assert step.occurred_on >= date(state.activist_on.year + 1, state.activist_on.month, 1)


def test_members_with_dues_and_steps_can_be_deleted():
    from members.dues.models import DuesPayment
    from members.models import Member

    seed_demo(n_orgs=8, n_members=120, seed=5)
    seed_dues_demo(on=date.today(), seed=5)
    assert DuesPayment.objects.exists() and DevelopmentStep.objects.exists()
    Member.objects.all().delete()
    assert not DuesMonth.objects.exists() and not DuesPayment.objects.exists() and not DevelopmentStep.objects.exists()
