"""Load the peer's database from a ``bench`` database: same names, branches, meetings and dues months.

The peer's tables are created by the peer's own code (``Base.metadata.create_all`` of its
SQLAlchemy models, run with its interpreter in its checkout); this module only fills them, with
``COPY (SELECT …) TO STDOUT`` from the bench database piped into ``COPY … FROM STDIN``. Its ids
are UUIDs derived from ours (``md5('member:' || id)::uuid``), so a row can be traced back.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from activities.choices import MeetingType
from members.choices import Education, MembershipStatus, Sex, Stage

PEER_USER = "bench_peer"
# The peer's schema: its own models, created by its own code.
CREATE_SCHEMA = (
    "import src.main  # noqa: registers every model\n"
    "from src.database import Base, engine\n"
    "Base.metadata.drop_all(engine)\n"
    "Base.metadata.create_all(engine)\n"
)
# A token the peer accepts, minted by the peer's own AuthService (HS256, 24 hours).
MINT_SNIPPET = (
    "import sys, types\n"
    "from src.services.auth_service import AuthService\n"
    "print(AuthService().generate_token(types.SimpleNamespace(user_id=sys.argv[1])))\n"
)
THREE_MEETINGS_ONE_LECTURE = {
    MeetingType.GENERAL_ASSEMBLY,
    MeetingType.COMMITTEE,
    MeetingType.GROUP,
    MeetingType.LECTURE,
}


@dataclass
class PeerSetup:
    """Where the peer lives and how to reach its database."""

    peer_dir: str  # the peer's backend/ directory (its ``src`` package)
    peer_python: str  # the interpreter of the peer's own venv
    peer_url: str  # postgres://…/pb_peer (ours, psycopg2 form)
    jwt_secret: str

    def sqlalchemy_url(self) -> str:
        parsed = urlparse(self.peer_url)
        return parsed._replace(scheme="postgresql+psycopg").geturl()

    def env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
            "DATABASE_URL": self.sqlalchemy_url(),
            "JWT_SECRET_KEY": self.jwt_secret,
            "PYTHONPATH": self.peer_dir,
        }

    def run_python(self, code: str, *args: str) -> str:
        result = subprocess.run(  # noqa: S603 - the peer's interpreter, our fixed snippets
            [self.peer_python, "-c", code, *args],
            cwd=self.peer_dir,
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()


@dataclass
class LoadReport:
    steps: list[tuple[str, int, float]] = field(default_factory=list)  # (table, rows, seconds)


def _case(column: str, choices: Any, default: str = "") -> str:
    """A SQL CASE mapping our stored codes to their Chinese labels (the peer stores labels)."""
    arms = " ".join(f"WHEN '{value}' THEN '{label}'" for value, label in choices.choices)
    return f"CASE {column} {arms} ELSE '{default}' END"


def _uuid(kind: str, column: str) -> str:
    return f"md5('{kind}:' || {column})::uuid"


def member_select() -> str:
    stage_label = _case("m.stage", Stage)
    member_type = f"CASE WHEN m.stage = 'full' THEN '正式党员' WHEN m.stage = 'probationary' THEN '预备党员' ELSE {stage_label} END"
    return f"""
    SELECT {_uuid("member", "m.id")}, m.name, {_case("m.sex", Sex, "男")}, m.birth_date,
           NULLIF({_case("m.education", Education)}, ''), NULLIF(m.phone_masked, ''), NULLIF(m.home_address, ''),
           NULLIF(m.employer, ''), COALESCE(m.joined_on, m.created_at::date), o.name, {member_type},
           m.full_on, m.is_mobile, {_case("m.membership_status", MembershipStatus, "正常")},
           {_uuid("org", "o.id")}, m.created_at AT TIME ZONE 'Asia/Shanghai', m.updated_at AT TIME ZONE 'Asia/Shanghai'
    FROM members_member m JOIN organizations_organization o ON o.id = m.organization_id
    """  # noqa: S608 - fixed SQL from our own choice labels, no input


MEMBER_COLUMNS = [
    "member_id",
    "name",
    "gender",
    "birth_date",
    "education",
    "phone",
    "address",
    "work_unit",
    "join_date",
    "party_branch",
    "member_type",
    "full_member_date",
    "is_mobile",
    "status",
    "branch_id",
    "created_at",
    "updated_at",
]


def meeting_select() -> str:
    lectures = ", ".join(f"'{kind}'" for kind in sorted(THREE_MEETINGS_ONE_LECTURE))
    return f"""
    SELECT {_uuid("meeting", "mt.id")},
           CASE WHEN mt.meeting_type IN ({lectures}) THEN '三会一课' ELSE {_case("mt.meeting_type", MeetingType)} END,
           {_case("mt.meeting_type", MeetingType)}, mt.title,
           mt.held_on + COALESCE(mt.start_time, TIME '09:00'), NULLIF(mt.place, ''), NULLIF(mt.chair_name, ''),
           NULLIF(mt.recorder_name, ''), mt.expected_count, mt.present_count, NULLIF(mt.minutes, ''), o.name,
           {_uuid("org", "o.id")}, mt.created_at AT TIME ZONE 'Asia/Shanghai', mt.updated_at AT TIME ZONE 'Asia/Shanghai'
    FROM activities_meeting mt JOIN organizations_organization o ON o.id = mt.organization_id
    """  # noqa: S608 - fixed SQL from our own choice labels, no input


MEETING_COLUMNS = [
    "life_id",
    "activity_type",
    "meeting_type",
    "title",
    "activity_date",
    "location",
    "host",
    "recorder",
    "expected_count",
    "participants_count",
    "content",
    "organizer",
    "branch_id",
    "created_at",
    "updated_at",
]

FEE_SELECT = f"""
    SELECT {_uuid("dues", "d.id")}, {_uuid("member", "d.member_id")}, m.name,
           CASE WHEN d.paid_on IS NOT NULL THEN d.amount_paid ELSE d.amount_due END,
           COALESCE(d.paid_on, d.month)::timestamp, '现金', to_char(d.month, 'YYYY-MM'),
           CASE WHEN d.paid_on IS NOT NULL THEN '已缴' ELSE '欠缴' END, {_uuid("org", "d.organization_id")},
           COALESCE(d.paid_on, d.month)::timestamp, COALESCE(d.paid_on, d.month)::timestamp
    FROM members_duesmonth d JOIN members_member m ON m.id = d.member_id
"""  # noqa: S608 - fixed SQL, no input
FEE_COLUMNS = [
    "fee_id",
    "member_id",
    "member_name",
    "amount",
    "payment_date",
    "payment_method",
    "fee_month",
    "status",
    "branch_id",
    "created_at",
    "updated_at",
]


def _pipe(source: Any, target: Any, select: str, table: str, columns: list[str]) -> int:
    with tempfile.TemporaryFile(mode="w+b") as buffer:
        with source.cursor() as cursor:
            cursor.copy_expert(f"COPY ({select}) TO STDOUT", buffer)
        buffer.seek(0)
        with target.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
            return cursor.fetchone()[0]


def load_peer(*, bench_url: str, setup: PeerSetup) -> LoadReport:
    """(Re)create the peer's schema in its database and fill it from the bench database."""
    import psycopg2

    report = LoadReport()
    started = time.perf_counter()
    setup.run_python(CREATE_SCHEMA)
    report.steps.append(("schema (peer's create_all)", 0, time.perf_counter() - started))
    source = psycopg2.connect(bench_url)
    target = psycopg2.connect(setup.peer_url)
    try:
        for table, select, columns in (
            ("party_members", member_select(), MEMBER_COLUMNS),
            ("organization_lives", meeting_select(), MEETING_COLUMNS),
            ("party_fees", FEE_SELECT, FEE_COLUMNS),
        ):
            started = time.perf_counter()
            rows = _pipe(source, target, select, table, columns)
            target.commit()
            report.steps.append((table, rows, time.perf_counter() - started))
        with target.cursor() as cursor:
            # One account for the token; its password hash is unusable (the token is minted directly).
            cursor.execute(
                "INSERT INTO users (user_id, username, nickname, password_hash, is_admin, created_at) "
                "VALUES (md5('user:' || %s)::uuid, %s, %s, '!', TRUE, now())",
                [PEER_USER, PEER_USER, "基准测试"],
            )
        target.commit()
        target.autocommit = True
        started = time.perf_counter()
        with target.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        report.steps.append(("VACUUM ANALYZE", 0, time.perf_counter() - started))
    finally:
        source.close()
        target.close()
    return report


def peer_token(setup: PeerSetup) -> str:
    import psycopg2

    with psycopg2.connect(setup.peer_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT user_id FROM users WHERE username = %s", [PEER_USER])
        row = cursor.fetchone()
    conn.close()
    if row is None:
        raise RuntimeError("对方数据库中没有基准账号，请先用 --load 装载")
    return setup.run_python(MINT_SNIPPET, row[0].strip())
