"""Demo 党费 and 发展党员 data on top of ``seed_demo``: this year's fixing for every party member,
the ledger with most months paid (some members behind by 3 and by 6+ months, so the flags show),
and dated development steps for everyone in the pipeline consistent with their stage.

Bulk inserts (no per-row services) so large demo sets stay quick; amounts come from the same
rules (``dues_rules.dues_standard``). Deterministic for a seed.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from core.dates import add_months, add_years
from members.choices import DuesCategory, MembershipStatus, Stage
from members.development.models import STEP_NUMBERS, Decision, DevelopmentStep, StepCode
from members.dues.models import BaseMode, DuesFixing, DuesMonth, DuesPayment, RecordedAs
from members.dues.rules import BASE_CATEGORIES, dues_standard, month_from_index, month_index, month_start
from members.models import Member
from organizations.models import Organization

BASES = {
    DuesCategory.EMPLOYED: (2800, 14000),
    DuesCategory.ANNUAL_SALARY: (8000, 30000),
    DuesCategory.SELF_EMPLOYED: (2000, 9000),
    DuesCategory.RETIRED: (3000, 8000),
}
BATCH = 5000


CHUNK_MEMBERS = 5_000


@transaction.atomic
def seed_dues_demo(*, on: date, seed: int = 1) -> dict[str, int]:
    rng = random.Random(seed)
    year = on.year
    collecting = {o.pk: o for o in Organization.objects.all() if o.can_collect_dues}
    members = list(
        Member.objects.filter(
            stage__in=[Stage.PROBATIONARY, Stage.FULL],
            membership_status=MembershipStatus.NORMAL,
            joined_on__lte=on,
            organization_id__in=list(collecting),
        ).order_by("pk")
    )
    DuesFixing.objects.filter(year=year, member__in=members).delete()
    fixings = []
    for member in members:
        category = member.dues_category
        base = amount = None
        if category in BASE_CATEGORIES:
            low, high = BASES[category]
            base = Decimal(rng.randrange(low, high, 50))
        elif category == DuesCategory.FARMER:
            amount = Decimal(rng.choice(["0.20", "0.50", "1.00"]))
        standard = dues_standard(category=category, base=base, amount=amount)
        fixing = DuesFixing(
            member=member,
            organization_id=member.organization_id,
            year=year,
            category=category,
            base_mode=BaseMode.DIRECT if base is not None else BaseMode.NONE,
            rate=standard.rate,
            standard_amount=standard.amount,
            monthly_amount=standard.amount,
            start_month=max(date(year, 1, 1), month_start(member.joined_on)),
            fixed_on=date(year, 1, 10) if date(year, 1, 10) <= on else on,
        )
        fixing.set_base(base)
        fixings.append(fixing)
    DuesFixing.objects.bulk_create(fixings, batch_size=BATCH)

    current = month_index(on)
    n_months = n_payments = 0
    # A chunk of members at a time: the ledger of 100,000 members is about a million rows, which
    # held at once cost gigabytes of Python objects. The random draws keep their order.
    for start in range(0, len(fixings), CHUNK_MEMBERS):
        months: list[DuesMonth] = []
        payments: list[tuple[DuesPayment, list[DuesMonth]]] = []
        for fixing in fixings[start : start + CHUNK_MEMBERS]:
            behind = rng.choices([0, 1, 3, 7], [85, 8, 5, 2])[0]  # months unpaid at the end
            paid_rows = []
            for index in range(month_index(fixing.start_month), month_index(date(year, 12, 1)) + 1):
                row = DuesMonth(
                    member_id=fixing.member_id,
                    organization_id=fixing.organization_id,
                    fixing=fixing,
                    month=month_from_index(index),
                    amount_due=fixing.monthly_amount,
                )
                if index < current - behind + (1 if behind == 0 and rng.random() < 0.6 else 0):
                    row.amount_paid = fixing.monthly_amount
                    row.paid_on = min(on, month_from_index(index) + timedelta(days=rng.randint(2, 25)))
                    paid_rows.append(row)
                months.append(row)
            payments.extend(
                (
                    DuesPayment(
                        member_id=fixing.member_id,
                        organization_id=fixing.organization_id,
                        paid_on=row.paid_on,
                        total=row.amount_paid,
                        months_count=1,
                        recorded_as=RecordedAs.ON_BEHALF,
                    ),
                    [row],
                )
                for row in paid_rows
            )
        DuesPayment.objects.bulk_create([p for p, _ in payments], batch_size=BATCH)
        for payment, rows in payments:
            for row in rows:
                row.payment = payment
        DuesMonth.objects.bulk_create(months, batch_size=BATCH)
        n_months += len(months)
        n_payments += len(payments)
    steps = _seed_development(rng, on)
    return {"fixings": len(fixings), "months": n_months, "payments": n_payments, "steps": steps}


def _step(member: Member, code: str, on: date, **extra) -> DevelopmentStep:
    return DevelopmentStep(
        member=member,
        organization_id=member.organization_id,
        step=code,
        number=STEP_NUMBERS[code],
        occurred_on=on,
        decision=extra.pop("decision", Decision.DONE),
        **extra,
    )


def _seed_development(rng: random.Random, on: date) -> int:
    """Steps consistent with each person's stage (dates before today, rules respected)."""
    people = list(
        Member.objects.filter(
            stage__in=[Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY],
            membership_status=MembershipStatus.NORMAL,
        ).exclude(development_steps__isnull=False)
    )
    votes = {"votes_expected": 12, "votes_present": 11, "votes_for": 11, "votes_against": 0, "votes_abstain": 0}
    rows: list[DevelopmentStep] = []
    for person in people:
        if person.stage == Stage.PROBATIONARY and person.joined_on:
            vote = person.joined_on
            activist = add_years(vote, -2)
        elif person.stage == Stage.CANDIDATE:
            activist = on - timedelta(days=rng.randint(400, 700))
            vote = None
        elif person.stage == Stage.ACTIVIST:
            activist = on - timedelta(days=rng.randint(20, 340))
            vote = None
        else:
            applied = on - timedelta(days=rng.randint(3, 120))
            if applied < add_years(person.birth_date, 18):
                continue
            rows.append(_step(person, StepCode.APPLICATION, applied))
            if applied + timedelta(days=30) < on and rng.random() < 0.8:
                rows.append(_step(person, StepCode.TALK, applied + timedelta(days=rng.randint(7, 28))))
            continue
        applied = activist - timedelta(days=rng.randint(120, 240))
        if applied < add_years(person.birth_date, 18):
            continue
        rows.append(_step(person, StepCode.APPLICATION, applied))
        rows.append(_step(person, StepCode.TALK, applied + timedelta(days=rng.randint(7, 28))))
        rows.append(_step(person, StepCode.ACTIVIST, activist, decided_by="支委会"))
        rows.append(_step(person, StepCode.ACTIVIST_FILED, activist + timedelta(days=10)))
        end = on if vote is None else add_years(vote, -1) + timedelta(days=30)
        review = add_months(activist, 6)
        while review <= end:
            rows.append(_step(person, StepCode.ACTIVIST_REVIEW, review - timedelta(days=rng.randint(0, 10))))
            review = add_months(review, 6)
        if person.stage == Stage.ACTIVIST:
            continue
        candidate = add_years(activist, 1) + timedelta(days=rng.randint(1, 20))
        rows.append(_step(person, StepCode.CANDIDATE, candidate, decided_by="支委会"))
        if person.stage == Stage.CANDIDATE:
            continue
        rows += [
            _step(person, StepCode.CANDIDATE_FILED, candidate + timedelta(days=7)),
            _step(person, StepCode.POLITICAL_REVIEW, candidate + timedelta(days=40), decision=Decision.APPROVED),
            _step(person, StepCode.TRAINING, candidate + timedelta(days=60), training_days=Decimal("3")),
            _step(person, StepCode.COMMITTEE_REVIEW, vote - timedelta(days=40), decision=Decision.APPROVED),
            _step(person, StepCode.PRE_REVIEW, vote - timedelta(days=30), decision=Decision.APPROVED),
            _step(person, StepCode.APPLICATION_FORM, vote - timedelta(days=14)),
            _step(person, StepCode.ADMISSION_VOTE, vote, decision=Decision.APPROVED, **votes),
            _step(person, StepCode.APPROVAL_TALK, vote + timedelta(days=14)),
        ]
        if vote + timedelta(days=45) <= on:
            rows.append(
                _step(person, StepCode.ADMISSION_APPROVAL, vote + timedelta(days=45), decision=Decision.APPROVED)
            )
            rows.append(_step(person, StepCode.OATH, vote + timedelta(days=60)))
    DevelopmentStep.objects.bulk_create([r for r in rows if r.occurred_on <= on], batch_size=BATCH)
    return len(rows)
