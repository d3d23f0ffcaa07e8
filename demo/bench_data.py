"""The benchmark data set: a province-shaped tree, members, a year of meetings, attendance and dues.

Reuses the demo builders of ``demo.seed`` (tree rows, member rows, roster rows, committee
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

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from activities.choices import MeetingStatus, MeetingType
from core.dates import today
from core.roles import Role
from dashboard.facts import facts_rebuild
from demo import seed
from members.choices import MembershipStatus, Stage
from members.development.models import DevelopmentStep, StepCode
from members.models import Member
from organizations.choices import BRANCH_TYPES, OrgType, UnitRelation
from organizations.models import Organization, RoleAssignment

BENCH_PASSWORD = "Bench@2026x"  # noqa: S105 - scratch benchmark database only
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
    """Root (省直机关工委) → 市 工委 → unit 党委 → 总支/支部 → 党小组, built with seed._TreeBuilder."""
    tree = seed._TreeBuilder(max(n_orgs, 1))
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
        base_name, short = seed.UNITS[unit_no % len(seed.UNITS)]
        unit = f"{city.short_name[:2]}{base_name}（{unit_no // len(seed.UNITS) + 1}）"
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
        departments = rng.sample(seed.DEPARTMENTS, k=rng.randint(3, 7))
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


MEMBER_SQL = """
WITH r AS (
  SELECT random() AS r_org, random() AS r_stage, random() AS r_cat, random() AS r_age, random() AS r_day,
         random() AS r_join, random() AS r_sex, random() AS r_edu, random() AS r_susp, random() AS r_mob,
         random() AS n1, random() AS n2, random() AS n3, random() AS n4
  FROM generate_series(1, %(n)s)
), s AS (
  SELECT r.*, p.org_id,
    CASE WHEN r_stage < 0.80 THEN 'full' WHEN r_stage < 0.85 THEN 'probationary' WHEN r_stage < 0.88 THEN 'candidate'
         WHEN r_stage < 0.93 THEN 'activist' ELSE 'applicant' END AS stage,
    CASE WHEN r_cat < 0.62 THEN 'employed' WHEN r_cat < 0.82 THEN 'retired' WHEN r_cat < 0.86 THEN 'annual_salary'
         WHEN r_cat < 0.89 THEN 'self_employed' WHEN r_cat < 0.93 THEN 'farmer' WHEN r_cat < 0.96 THEN 'student'
         WHEN r_cat < 0.98 THEN 'unemployed' ELSE 'relief' END AS cat
  FROM r JOIN bench_pick p ON p.idx = 1 + floor(r.r_org * %(picks)s)::int
), a AS (
  SELECT s.*, CASE WHEN cat = 'retired' THEN 60 + floor(r_age * 29) WHEN cat = 'student' THEN 18 + floor(r_age * 9)
                   ELSE 22 + floor(r_age * 38) END::int AS age0
  FROM s
), b AS (
  SELECT a.*, CASE WHEN stage IN ('applicant', 'activist', 'candidate') THEN LEAST(age0, 20 + floor(r_join * 21)::int)
                   ELSE age0 END AS age
  FROM a
), c AS (
  SELECT b.*, (%(on)s::date - (age * 365 + floor(r_day * 365)::int)) AS birth FROM b
), d AS (
  SELECT c.*, LEAST(birth + (19 * 365 + floor(r_join * GREATEST(1, (age - 20) * 365))::int), %(on)s::date - 400) AS joined
  FROM c
)
INSERT INTO members_member (name, sex, birth_date, organization_id, stage, membership_status, joined_on, full_on,
  dues_category, ethnicity, id_number_cipher, id_number_masked, education, job_post, phone_cipher, phone_masked,
  home_address, is_lost_contact, is_mobile, mobile_destination, is_abroad, degree, native_place, employer,
  professional_title, is_migrant_worker, created_at, updated_at)
SELECT
  substr(%(surnames)s, 1 + floor(n1 * %(ns)s)::int, 1) || substr(%(given)s, 1 + floor(n2 * %(ng)s)::int, 1)
    || CASE WHEN n3 < 0.7 THEN substr(%(given)s, 1 + floor(n4 * %(ng)s)::int, 1) ELSE '' END,
  CASE WHEN r_sex < 0.58 THEN 'male' ELSE 'female' END,
  birth, org_id, stage,
  CASE WHEN stage = 'full' AND r_susp < 0.01 THEN 'suspended' ELSE 'normal' END,
  CASE WHEN stage = 'full' THEN joined WHEN stage = 'probationary' THEN %(on)s::date - (30 + floor(r_join * 330)::int) END,
  CASE WHEN stage = 'full' THEN joined + 365 END,
  cat, '', '', '',
  CASE WHEN r_edu < 0.12 THEN 'master' WHEN r_edu < 0.60 THEN 'bachelor' WHEN r_edu < 0.78 THEN 'associate'
       WHEN r_edu < 0.84 THEN 'secondary_vocational' WHEN r_edu < 0.92 THEN 'high_school'
       WHEN r_edu < 0.97 THEN 'junior_high' WHEN r_edu < 0.99 THEN 'doctorate' ELSE 'primary_or_below' END,
  '', '', '', '', FALSE, r_mob < 0.02, '', FALSE, '', '', '', '', FALSE, now(), now()
FROM d
"""


def _members(n_members: int, branches: list[Organization], rng: random.Random, on: date) -> int:
    """Members generated by PostgreSQL with the demo's distributions (stage, dues category, age
    by category, uneven branch sizes), so a million rows take seconds, not minutes."""
    picks = [b.pk for b in branches for _ in range(rng.choice([1, 1, 2, 2, 3, 8]))]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_pick (idx integer PRIMARY KEY, org_id bigint)")
        cursor.execute(
            "INSERT INTO bench_pick SELECT ordinality, org_id FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(org_id)",
            [picks],
        )
        cursor.execute("SELECT setseed(%s)", [(rng.random() * 2) - 1])
        cursor.execute(
            MEMBER_SQL,
            {
                "n": n_members,
                "picks": len(picks),
                "on": on,
                "surnames": seed.SURNAMES,
                "ns": len(seed.SURNAMES),
                "given": seed.GIVEN,
                "ng": len(seed.GIVEN),
            },
        )
        count = cursor.rowcount
        cursor.execute("DROP TABLE bench_pick")
    return count


def _memberships(on: date) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO members_organizationmembership (member_id, organization_id, start_on) "
            "SELECT id, organization_id, COALESCE(joined_on, %s::date - 730) FROM members_member",
            [on],
        )
        return cursor.rowcount


def _month_day(rng: random.Random, year: int, month: int, on: date) -> date | None:
    day = date(year, month, rng.randint(1, 28))
    return day if day <= on else None


def _meetings(orgs: list[Organization], rng: random.Random, on: date) -> int:

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


def _dues(rng: random.Random, on: date) -> int:
    """A fixing for every party member for this year (amounts by the DF08 rates on a random base)
    and the ledger from January to this month: most months paid, 3 per cent three months behind, 1 per cent lapsed."""
    year = on.year
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(rng.random() * 2) - 1])
        cursor.execute(
            """
            INSERT INTO members_duesfixing (member_id, organization_id, year, category, base_mode, base_cipher,
              standard_amount, monthly_amount, is_voluntary, start_month, fixed_on, note, created_at)
            SELECT id, organization_id, %(year)s, dues_category, 'none', '', amount, amount, FALSE,
                   make_date(%(year)s, 1, 1), make_date(%(year)s, 1, 5), '', now()
            FROM (
              SELECT m.id, m.organization_id, m.dues_category,
                CASE WHEN m.dues_category IN ('student', 'unemployed', 'relief') THEN 0.20
                     WHEN m.dues_category = 'farmer' THEN 1.00
                     WHEN m.dues_category = 'retired' THEN round(base * CASE WHEN base <= 5000 THEN 0.005 ELSE 0.01 END, 2)
                     ELSE round(base * CASE WHEN base <= 3000 THEN 0.005 WHEN base <= 5000 THEN 0.01
                                            WHEN base <= 10000 THEN 0.015 ELSE 0.02 END, 2) END AS amount
              FROM (SELECT *, (2500 + floor(random() * 11500))::numeric AS base FROM members_member
                    WHERE stage IN ('probationary', 'full') AND membership_status = 'normal') m
            ) x
            """,
            {"year": year},
        )
        cursor.execute(
            """
            INSERT INTO members_duesmonth (member_id, organization_id, fixing_id, month, amount_due, amount_paid, paid_on)
            SELECT member_id, organization_id, id, first, monthly_amount,
                   CASE WHEN paid THEN monthly_amount ELSE 0 END,
                   CASE WHEN paid THEN LEAST(first + floor(random() * 20)::int, %(on)s::date) END
            FROM (
              SELECT f.*, make_date(%(year)s, mth, 1) AS first,
                CASE WHEN mth = %(month)s THEN random() < 0.55
                     WHEN (f.id * 7919) %% 100 < 1 THEN mth < 6
                     WHEN (f.id * 7919) %% 100 < 4 THEN mth < %(month)s - 3
                     ELSE random() < 0.97 END AS paid
              FROM members_duesfixing f CROSS JOIN generate_series(1, %(month)s) AS mth
              WHERE f.year = %(year)s
            ) x
            """,
            {"year": year, "month": on.month, "on": on},
        )
        return cursor.rowcount


def _development(rng: random.Random, on: date) -> int:

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
    DevelopmentStep.objects.bulk_create(rows, batch_size=seed.BATCH)
    return len(rows)


def bench_build(*, n_orgs: int, n_members: int, seed: int, attendance_days: int = 30) -> BuildReport:
    """Build the whole data set into the current (empty, migrated) database."""
    if Organization.objects.exists():
        raise RuntimeError("数据库中已有数据")
    rng = random.Random(seed)
    seed_module = globals()["seed"]  # the demo.seed module (the parameter ``seed`` shadows it here)
    on = today()
    report = BuildReport()
    holder: dict[str, list[Organization]] = {}

    def tree() -> int:
        rows = build_tree(n_orgs, rng)
        Organization.objects.bulk_create(rows, batch_size=seed_module.BATCH)
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
        report.step("组织关系记录", lambda: _memberships(on))
        report.step("委员会届次", lambda: (seed_module._seed_terms(orgs, rng, on), len(orgs))[1])
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

    report.step("汇总表全量重建", lambda: facts_rebuild(reason="bench"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return report
