"""The benchmark data set: a province-shaped tree, members, a year of meetings, attendance and dues.

Reuses the demo builders of ``organizations.demo`` (tree rows, member rows, roster rows, committee
terms) and adds what the other apps record, with bulk inserts and PostgreSQL COPY so a million
members take minutes. Deterministic for a seed. Never used by the application itself.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from members.choices import DuesCategory, Education, MembershipStatus, Stage
from members.models import Member
from organizations import demo
from organizations.choices import BRANCH_TYPES, OrgType, Role, UnitRelation
from organizations.dates import today
from organizations.models import Organization, RoleAssignment

BENCH_PASSWORD = "Bench@2026x"  # noqa: S105 - scratch benchmark database only
EDUCATION_WEIGHTS = [
    (Education.MASTER, 12),
    (Education.BACHELOR, 48),
    (Education.ASSOCIATE, 18),
    (Education.SECONDARY_VOCATIONAL, 6),
    (Education.HIGH_SCHOOL, 8),
    (Education.JUNIOR_HIGH, 5),
    (Education.DOCTORATE, 2),
    (Education.PRIMARY_OR_BELOW, 1),
]
CITIES = "济南青岛淄博枣庄东营烟台潍坊济宁泰安威海日照临沂德州聊城滨州菏泽"


@dataclass
class BuildReport:
    timings: list[tuple[str, float, int]] = field(default_factory=list)  # (step, seconds, rows)

    def step(self, name: str, func: Callable[[], int]) -> int:
        started = time.perf_counter()
        rows = func()
        self.timings.append((name, time.perf_counter() - started, rows))
        return rows


def _copy(table: str, columns: list[str], rows: Iterable[tuple], chunk: int = 200_000) -> int:
    """COPY rows into ``table`` (PostgreSQL), in chunks; returns the row count."""
    total = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    pending = 0

    def flush() -> None:
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
            )
        buffer.seek(0)
        buffer.truncate()

    for row in rows:
        writer.writerow(["\\N" if value is None else value for value in row])
        pending += 1
        total += 1
        if pending >= chunk:
            flush()
            pending = 0
    if pending:
        flush()
    return total


def build_tree(n_orgs: int, rng: random.Random) -> list[Organization]:
    """Root (省直机关工委) → 市 工委 → unit 党委 → 总支/支部 → 党小组, built with demo._TreeBuilder."""
    tree = demo._TreeBuilder(max(n_orgs, 1))
    root = tree.add(
        None,
        name="中共某省直属机关工作委员会",
        short_name="省直机关工委",
        org_type=OrgType.COMMITTEE,
        unit_name="省直属机关",
        unit_relation=UnitRelation.LEGAL_ENTITY,
        established_on=date(1984, 7, 1),
    )
    n_cities = max(1, min(len(CITIES) // 2 * 8, round(n_orgs / 400)))
    cities = []
    for i in range(n_cities):
        city = CITIES[(2 * i) % len(CITIES) : (2 * i) % len(CITIES) + 2]
        suffix = "" if i < len(CITIES) // 2 else f"（第{i // (len(CITIES) // 2) + 1}片区）"
        cities.append(
            tree.add(
                root,
                name=f"中共{city}市直属机关工作委员会{suffix}",
                short_name=f"{city}市直机关工委{suffix}",
                org_type=OrgType.COMMITTEE,
                unit_name=f"{city}市直属机关",
                unit_relation=UnitRelation.LEGAL_ENTITY,
            )
        )
    unit_no = 0
    while not tree.full:
        city = cities[unit_no % n_cities]
        base_name, short = demo.UNITS[unit_no % len(demo.UNITS)]
        unit = f"{city.short_name[:2]}{base_name}（{unit_no // len(demo.UNITS) + 1}）"
        unit_no += 1
        committee = tree.add(
            city,
            name=f"中共{unit}委员会",
            short_name=f"{city.short_name[:2]}{short}{unit_no}党委",
            org_type=OrgType.COMMITTEE,
            unit_name=unit,
            unit_relation=UnitRelation.LEGAL_ENTITY,
        )
        if committee is None:
            break
        departments = rng.sample(demo.DEPARTMENTS, k=rng.randint(3, 7))
        general = None
        if len(departments) >= 6:
            general = tree.add(
                committee,
                name=f"中共{unit}机关总支部委员会",
                short_name=f"{short}{unit_no}总支",
                org_type=OrgType.GENERAL_BRANCH,
                unit_name=unit,
            )
        for i, dept in enumerate(departments):
            parent = general if (general is not None and i < 3) else committee
            branch = tree.add(
                parent,
                name=f"中共{unit}{dept}支部委员会",
                short_name=f"{short}{unit_no}{dept}支部",
                org_type=OrgType.BRANCH,
                unit_name=unit,
            )
            if branch is None:
                break
            for g in range(rng.choice([0, 0, 1, 2])):
                tree.add(
                    branch,
                    name=f"{branch.short_name}第{'一二三'[g]}党小组",
                    short_name=f"第{'一二三'[g]}党小组",
                    org_type=OrgType.GROUP,
                    unit_name=unit,
                )
    return tree.finish()


def _members(n_members: int, branches: list[Organization], rng: random.Random, on: date) -> int:
    weights = [rng.choice([1, 1, 2, 2, 3, 8]) for _ in branches]
    created = 0
    batch: list[Member] = []
    for _ in range(n_members):
        member = demo._member(rng, rng.choices(branches, weights)[0], on)
        member.education = demo._weighted(rng, EDUCATION_WEIGHTS)
        member.is_mobile = rng.random() < 0.02
        batch.append(member)
        if len(batch) >= demo.BATCH:
            Member.objects.bulk_create(batch, batch_size=demo.BATCH)
            created += len(batch)
            batch = []
    if batch:
        Member.objects.bulk_create(batch, batch_size=demo.BATCH)
        created += len(batch)
    return created


def _month_day(rng: random.Random, year: int, month: int, on: date) -> date | None:
    day = date(year, month, rng.randint(1, 28))
    return day if day <= on else None


def _meetings(orgs: list[Organization], rng: random.Random, on: date) -> int:
    from activities.choices import MeetingStatus, MeetingType

    year = on.year
    now = timezone.now()
    rows: list[tuple] = []
    for org in orgs:
        plan: list[tuple[str, int, float]] = []
        if org.org_type in BRANCH_TYPES:
            for month in range(1, on.month + 1):
                plan += [(MeetingType.THEME_DAY, month, 0.9), (MeetingType.COMMITTEE, month, 0.8)]
            for quarter in range(1, (on.month - 1) // 3 + 2):
                plan += [
                    (MeetingType.GENERAL_ASSEMBLY, 3 * quarter - rng.randint(0, 2), 0.85),
                    (MeetingType.LECTURE, 3 * quarter - rng.randint(0, 2), 0.8),
                ]
        elif org.org_type == OrgType.GROUP:
            plan += [(MeetingType.GROUP, month, 0.75) for month in range(1, on.month + 1)]
        else:
            plan += [(MeetingType.COMMITTEE, month, 0.85) for month in range(1, on.month + 1)]
        for kind, month, chance in plan:
            if month > on.month or rng.random() > chance:
                continue
            held = _month_day(rng, year, month, on)
            if held is None:
                continue
            rows.append((org.pk, kind, held))
    table = "activities_meeting"
    columns = [
        "organization_id",
        "meeting_type",
        "also_counts_as",
        "title",
        "held_on",
        "place",
        "chair_name",
        "recorder_name",
        "lecturer_name",
        "agenda",
        "minutes",
        "first_topic",
        "first_topic_material",
        "is_center_group",
        "status",
        "finalized_at",
        "expected_count",
        "present_count",
        "leave_count",
        "absent_count",
        "nonvoting_count",
        "voters_expected",
        "voters_present",
        "quorum",
        "created_at",
        "updated_at",
    ]
    labels = dict(MeetingType.choices)
    count = _copy(
        table,
        columns,
        (
            (
                org_id,
                kind,
                "[]",
                f"{held:%m}月{labels[kind]}",
                held,
                "会议室",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                False,
                MeetingStatus.FINAL,
                now,
                20,
                18,
                1,
                1,
                0,
                0,
                0,
                "not_applicable",
                now,
                now,
            )
            for org_id, kind, held in rows
        ),
    )
    # The derived credits the compliance calendar counts (what meeting_save writes).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO activities_meetingcredit (meeting_id, organization_id, kind, held_on, recorded_on) "
            "SELECT id, organization_id, meeting_type, held_on, LEAST(held_on + (id %% 4) * INTERVAL '1 day', %s) "
            "FROM activities_meeting",
            [on],
        )
    return count


def _attendance(on: date, days: int) -> int:
    """Attendance of every party member at each branch meeting of the last ``days`` days."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO activities_attendance (meeting_id, member_id, name, status, reason, is_expected, is_voter, "
            "is_guest, is_speaker, speech_topic) "
            "SELECT mt.id, m.id, m.name, CASE WHEN (m.id + mt.id) %% 10 = 0 THEN 'leave' ELSE 'present' END, '', "
            "TRUE, m.stage = 'full', FALSE, FALSE, '' "
            "FROM activities_meeting mt JOIN members_member m ON m.organization_id = mt.organization_id "
            "WHERE mt.held_on > %s AND m.stage IN ('probationary', 'full') AND m.membership_status = 'normal'",
            [on - timedelta(days=days)],
        )
        return cursor.rowcount


def _monthly_amount(category: str, rng: random.Random) -> Decimal:
    if category in (DuesCategory.STUDENT, DuesCategory.UNEMPLOYED, DuesCategory.RELIEF):
        return Decimal("0.20")
    if category == DuesCategory.FARMER:
        return Decimal("1.00")
    base = Decimal(rng.randint(2500, 14000))
    rate = (
        Decimal("0.005")
        if base <= 3000
        else Decimal("0.01")
        if base <= 5000
        else Decimal("0.015")
        if base <= 10000
        else Decimal("0.02")
    )
    if category == DuesCategory.RETIRED:
        rate = Decimal("0.005") if base <= 5000 else Decimal("0.01")
    return (base * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _dues(rng: random.Random, on: date) -> int:
    """A fixing for every party member for this year and the ledger from January to this month."""
    year = on.year
    now = timezone.now()
    people = list(
        Member.objects.filter(stage__in=[Stage.PROBATIONARY, Stage.FULL], membership_status=MembershipStatus.NORMAL)
        .values_list("pk", "organization_id", "dues_category")
        .iterator(chunk_size=20000)
    )
    amounts = {pk: _monthly_amount(cat, rng) for pk, _, cat in people}
    _copy(
        "members_duesfixing",
        [
            "member_id",
            "organization_id",
            "year",
            "category",
            "base_mode",
            "base_cipher",
            "rate",
            "standard_amount",
            "monthly_amount",
            "is_voluntary",
            "start_month",
            "fixed_on",
            "note",
            "created_at",
        ],
        (
            (
                pk,
                org,
                year,
                cat,
                "none",
                "",
                None,
                amounts[pk],
                amounts[pk],
                False,
                date(year, 1, 1),
                date(year, 1, 5),
                "",
                now,
            )
            for pk, org, cat in people
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT member_id, id FROM members_duesfixing WHERE year = %s", [year])
        fixing = dict(cursor.fetchall())

    def ledger():
        for pk, org, _ in people:
            profile = rng.random()
            amount = amounts[pk]
            for month in range(1, on.month + 1):
                first = date(year, month, 1)
                if month == on.month:
                    paid = rng.random() < 0.55
                elif profile < 0.01:  # lapsed: nothing since June
                    paid = month < 6
                elif profile < 0.04:  # three recent months behind
                    paid = month < on.month - 3
                else:
                    paid = rng.random() < 0.97
                paid_on = first + timedelta(days=rng.randint(0, 20)) if paid else None
                if paid_on and paid_on > on:
                    paid_on = on
                yield (pk, org, fixing[pk], first, amount, amount if paid else Decimal("0.00"), paid_on)

    return _copy(
        "members_duesmonth",
        ["member_id", "organization_id", "fixing_id", "month", "amount_due", "amount_paid", "paid_on"],
        ledger(),
    )


def _development(rng: random.Random, on: date) -> int:
    from members.models_development import DevelopmentStep, StepCode

    rows = []
    for pk, org, stage in (
        Member.objects.filter(stage__in=[Stage.APPLICANT, Stage.ACTIVIST], membership_status=MembershipStatus.NORMAL)
        .values_list("pk", "organization_id", "stage")
        .iterator(chunk_size=20000)
    ):
        applied = on - timedelta(days=rng.randint(5, 120 if stage == Stage.APPLICANT else 900))
        rows.append(
            DevelopmentStep(member_id=pk, organization_id=org, step=StepCode.APPLICATION, number=1, occurred_on=applied)
        )
        if stage == Stage.ACTIVIST or rng.random() < 0.6:
            rows.append(
                DevelopmentStep(
                    member_id=pk,
                    organization_id=org,
                    step=StepCode.TALK,
                    number=2,
                    occurred_on=min(on, applied + timedelta(days=rng.randint(5, 40))),
                )
            )
        if stage == Stage.ACTIVIST:
            rows.append(
                DevelopmentStep(
                    member_id=pk,
                    organization_id=org,
                    step=StepCode.ACTIVIST,
                    number=3,
                    occurred_on=min(on, applied + timedelta(days=rng.randint(60, 200))),
                )
            )
    DevelopmentStep.objects.bulk_create(rows, batch_size=demo.BATCH)
    return len(rows)


def bench_build(*, n_orgs: int, n_members: int, seed: int, attendance_days: int = 30) -> BuildReport:
    """Build the whole data set into the current (empty, migrated) database."""
    if Organization.objects.exists():
        raise RuntimeError("数据库中已有数据")
    rng = random.Random(seed)
    on = today()
    report = BuildReport()
    holder: dict[str, list[Organization]] = {}

    def tree() -> int:
        rows = build_tree(n_orgs, rng)
        Organization.objects.bulk_create(rows, batch_size=demo.BATCH)
        holder["orgs"] = list(Organization.objects.order_by("path"))
        return len(rows)

    # A scratch database: foreign-key triggers off while loading (the builder keeps every reference
    # valid by construction); PostgreSQL would otherwise queue millions of deferred checks for COMMIT.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    with transaction.atomic():
        report.step("党组织树", tree)
        orgs = holder["orgs"]
        branches = [o for o in orgs if o.org_type == OrgType.BRANCH] or orgs[-1:]
        report.step("党员", lambda: _members(n_members, branches, rng, on))
        report.step("组织关系记录", lambda: (demo._seed_memberships(on), Member.objects.count())[1])
        report.step("委员会届次", lambda: (demo._seed_terms(orgs, rng, on), len(orgs))[1])
        report.step("一年的会议", lambda: _meetings(orgs, rng, on))
        report.step(f"近 {attendance_days} 天会议出席记录", lambda: _attendance(on, attendance_days))
        report.step("党费核定与月台账", lambda: _dues(rng, on))
        report.step("发展党员步骤", lambda: _development(rng, on))
        User = get_user_model()
        admin = User.objects.create_user(username="bench_admin", password=BENCH_PASSWORD)
        RoleAssignment.objects.create(user=admin, organization=orgs[0], role=Role.ORG_ADMIN)
        secretary = User.objects.create_user(username="bench_secretary", password=BENCH_PASSWORD)
        RoleAssignment.objects.create(user=secretary, organization=branches[0], role=Role.SECRETARY)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
    from organizations.dashboard.facts import facts_rebuild

    report.step("汇总表全量重建", lambda: facts_rebuild())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return report
