"""Deterministic demo data: an organization tree, members over every stage and dues category,
committee terms, and one demo login per role. Bulk inserts throughout, so 100,000 members take
seconds, not minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import OuterRef, Subquery

from assessments.seeds import assessments_reset
from core.dates import add_years, today
from core.roles import Role
from members.choices import DuesCategory, MembershipStatus, Sex, Stage
from members.models import Member, OrganizationMembership
from members.services import member_create
from members.validators import id_check_digit
from organizations.choices import OrgType, PositionCode, TermKind, UnitRelation
from organizations.models import CommitteeTerm, Organization, Position, RoleAssignment

DEMO_PASSWORD = "Dangjian@2026"  # noqa: S105 - demo data only; printed by seed_demo, documented in README

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂兰玲辉鹏建国文斌宇浩凯琳晨欣怡俊峰志红霞云飞海波亮婷雪梅丹宁琪佳颖嘉瑞思博"
    "晓东晗睿泽鑫淑珍慧娇玉凤春燕萍晶琦彬振新永德福荣庆立成亚"
)
CITY = "青州市"
UNITS = [
    ("市发展和改革委员会", "发改委"),
    ("市教育局", "教育局"),
    ("市财政局", "财政局"),
    ("市人力资源和社会保障局", "人社局"),
    ("市自然资源和规划局", "自然资源局"),
    ("市生态环境局", "生态环境局"),
    ("市住房和城乡建设局", "住建局"),
    ("市交通运输局", "交通局"),
    ("市农业农村局", "农业农村局"),
    ("市商务局", "商务局"),
    ("市文化和旅游局", "文旅局"),
    ("市卫生健康委员会", "卫健委"),
    ("市应急管理局", "应急局"),
    ("市审计局", "审计局"),
    ("市市场监督管理局", "市场监管局"),
    ("市统计局", "统计局"),
    ("市医疗保障局", "医保局"),
    ("市人民医院", "人民医院"),
    ("市第一中学", "一中"),
    ("市城市投资集团有限公司", "城投集团"),
    ("市水务集团有限公司", "水务集团"),
    ("市公共交通有限公司", "公交公司"),
    ("青州职业技术学院", "职业学院"),
    ("市图书馆", "图书馆"),
]
DEPARTMENTS = [
    "办公室",
    "综合科",
    "政策法规科",
    "规划科",
    "财务科",
    "人事科",
    "业务一科",
    "业务二科",
    "信息中心",
    "执法大队",
    "服务中心",
    "离退休干部",
]
STAGE_WEIGHTS = [
    (Stage.FULL, 80),
    (Stage.PROBATIONARY, 5),
    (Stage.CANDIDATE, 3),
    (Stage.ACTIVIST, 5),
    (Stage.APPLICANT, 7),
]
DUES_WEIGHTS = [
    (DuesCategory.EMPLOYED, 62),
    (DuesCategory.RETIRED, 20),
    (DuesCategory.ANNUAL_SALARY, 4),
    (DuesCategory.SELF_EMPLOYED, 3),
    (DuesCategory.FARMER, 4),
    (DuesCategory.STUDENT, 3),
    (DuesCategory.UNEMPLOYED, 2),
    (DuesCategory.RELIEF, 2),
]
BATCH = 5000


@dataclass
class DemoResult:
    organizations: int
    members: int
    logins: list[tuple[str, str, str]]  # (role label, username, where)


def _weighted(rng: random.Random, weights: list[tuple[str, int]]) -> str:
    return rng.choices([w[0] for w in weights], [w[1] for w in weights])[0]


def _path(parent_path: str, index: int) -> str:
    key = Organization._int2str(index)
    return f"{parent_path}{'0' * (Organization.steplen - len(key))}{key}"


class _TreeBuilder:
    """Builds Organization rows with materialized paths, without per-row queries."""

    def __init__(self, limit: int) -> None:
        self.rows: list[Organization] = []
        self.children: dict[str, int] = {}
        self.limit = limit

    @property
    def full(self) -> bool:
        return len(self.rows) >= self.limit

    def add(self, parent: Organization | None, **fields: object) -> Organization | None:
        if self.full:
            return None
        parent_path = parent.path if parent else ""
        index = self.children.get(parent_path, 0) + 1
        self.children[parent_path] = index
        org = Organization(
            path=_path(parent_path, index),
            depth=(parent.depth + 1) if parent else 1,
            numchild=0,
            code=f"Q{len(self.rows) + 1:07d}",
            **fields,
        )
        self.rows.append(org)
        return org

    def finish(self) -> list[Organization]:
        for org in self.rows:
            org.numchild = self.children.get(org.path, 0)
        return self.rows


def _build_tree(n_orgs: int, rng: random.Random) -> list[Organization]:
    tree = _TreeBuilder(max(n_orgs, 1))
    root = tree.add(
        None,
        name=f"中共{CITY}直属机关工作委员会",
        short_name="市直机关工委",
        org_type=OrgType.COMMITTEE,
        unit_name=f"{CITY}直属机关",
        unit_relation=UnitRelation.LEGAL_ENTITY,
        established_on=date(1984, 7, 1),
        contact_name="组织部",
    )
    unit_no = 0
    while not tree.full:
        base_name, short = UNITS[unit_no % len(UNITS)]
        round_no = unit_no // len(UNITS)
        unit = f"{CITY[:-1]}{base_name}" if round_no == 0 else f"{CITY[:-1]}{base_name}（第{round_no + 1}分部）"
        unit_short = short if round_no == 0 else f"{short}{round_no + 1}"
        unit_no += 1
        committee = tree.add(
            root,
            name=f"中共{unit}{'机关' if base_name.endswith(('局', '委员会')) else ''}委员会",
            short_name=f"{unit_short}党委",
            org_type=OrgType.COMMITTEE,
            unit_name=unit,
            unit_relation=UnitRelation.LEGAL_ENTITY,
            established_on=date(1990 + rng.randrange(30), rng.randrange(1, 13), 1),
        )
        departments = rng.sample(DEPARTMENTS, k=rng.randint(3, 6))
        general = None
        if len(departments) >= 5:
            general = tree.add(
                committee,
                name=f"中共{unit}机关总支部委员会",
                short_name=f"{unit_short}机关总支",
                org_type=OrgType.GENERAL_BRANCH,
                unit_name=unit,
            )
        for i, dept in enumerate(departments):
            parent = general if (general is not None and i < 2) else committee
            if parent is None:
                break
            branch = tree.add(
                parent,
                name=f"中共{unit}{dept}支部委员会",
                short_name=f"{unit_short}{dept}支部",
                org_type=OrgType.BRANCH,
                unit_name=unit,
                established_on=date(2000 + rng.randrange(24), rng.randrange(1, 13), 1),
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


def _person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _member(rng: random.Random, org: Organization, on: date) -> Member:
    stage = _weighted(rng, STAGE_WEIGHTS)
    category = _weighted(rng, DUES_WEIGHTS)
    if category == DuesCategory.RETIRED:
        age = rng.randint(60, 88)
    elif category == DuesCategory.STUDENT:
        age = rng.randint(18, 26)
    else:
        age = rng.randint(22, 59)
    if stage in (Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE):
        age = min(age, rng.randint(20, 40))
    birth = on - timedelta(days=age * 365 + rng.randrange(365))
    joined = full = None
    if stage == Stage.FULL:
        joined = birth + timedelta(days=rng.randint(19 * 365, max(19 * 365 + 1, (age - 1) * 365)))
        joined = min(joined, on - timedelta(days=400))
        full = joined + timedelta(days=365)
    elif stage == Stage.PROBATIONARY:
        joined = on - timedelta(days=rng.randint(30, 360))
    status = MembershipStatus.NORMAL
    if stage == Stage.FULL and rng.random() < 0.01:
        status = MembershipStatus.SUSPENDED
    member = Member(
        name=_person_name(rng),
        sex=Sex.MALE if rng.random() < 0.58 else Sex.FEMALE,
        birth_date=birth,
        organization=org,
        stage=stage,
        membership_status=status,
        joined_on=joined,
        full_on=full,
        dues_category=category,
    )
    _fill_record(rng, member, on)
    return member


# --- the rest of the 党员基本信息采集表 (members records issue) -------------------------------
REGIONS = ["370781", "370702", "370703", "370705", "370725", "370784", "370786"]  # 青州 and 潍坊 districts
NATIVE_PLACES = ["山东青州", "山东潍坊", "山东临朐", "山东寿光", "山东昌乐", "山东淄博", "河北保定", "江苏徐州"]
STREETS = ["云门山街道", "王府街道", "益都街道", "黄楼街道", "东夏镇", "谭坊镇", "邵庄镇", "何官镇"]
DESTINATIONS = ["广东省深圳市南山区", "上海市浦东新区", "浙江省杭州市西湖区", "北京市海淀区", "江苏省苏州市工业园区"]
EDUCATION_WEIGHTS = [
    ("master", 12),
    ("bachelor", 48),
    ("associate", 20),
    ("secondary_vocational", 7),
    ("high_school", 8),
    ("junior_high", 4),
    ("doctorate", 1),
]
DEGREE_OF = {"doctorate": "doctor", "master": "master", "bachelor": "bachelor"}
JOB_OF_CATEGORY = {
    DuesCategory.RETIRED: "retired",
    DuesCategory.STUDENT: "student",
    DuesCategory.FARMER: "farmer",
    DuesCategory.UNEMPLOYED: "no_fixed_job",
    DuesCategory.RELIEF: "no_fixed_job",
    DuesCategory.SELF_EMPLOYED: "other",
}
JOB_WEIGHTS = [
    ("party_government", 45),
    ("institution_management", 12),
    ("institution_professional", 20),
    ("institution_worker", 4),
    ("public_enterprise_management", 8),
    ("public_enterprise_professional", 8),
    ("public_enterprise_worker", 3),
]
_used_ids: set[str] = set()


def _demo_id_number(rng: random.Random, birth: date, male: bool) -> str:
    """A valid 公民身份号码 (GB 11643 check digit) agreeing with the birth date and sex."""
    while True:
        seq = rng.randrange(0, 999, 2) + (1 if male else 0)
        first17 = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{seq:03d}"
        if first17 not in _used_ids:
            _used_ids.add(first17)
            return first17 + id_check_digit(first17)


def _demo_phone(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"0536-{rng.randint(2, 8)}{rng.randrange(10**6):06d}"
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _fill_record(rng: random.Random, member: Member, on: date) -> None:
    birth = member.birth_date
    member.ethnicity = "01" if rng.random() < 0.94 else rng.choice(["02", "03", "08", "11"])
    member.set_id_number(_demo_id_number(rng, birth, member.sex == Sex.MALE))
    member.set_phone(_demo_phone(rng))
    member.education = _weighted(rng, EDUCATION_WEIGHTS)
    member.degree = DEGREE_OF.get(member.education, "")
    member.job_post = JOB_OF_CATEGORY.get(member.dues_category) or _weighted(rng, JOB_WEIGHTS)
    member.employer = "" if member.job_post in ("retired", "no_fixed_job") else member.organization.unit_name
    member.native_place = rng.choice(NATIVE_PLACES)
    member.home_address = f"{CITY}{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.randint(1, 20)}-{rng.randint(1, 6)}"
    if rng.random() < 0.6:
        member.league_joined_on = birth + timedelta(days=rng.randint(14 * 366, 17 * 365))
    if member.dues_category != DuesCategory.STUDENT and on - birth > timedelta(days=23 * 365):
        member.work_started_on = birth + timedelta(days=rng.randint(18 * 366, 23 * 365))
    if member.joined_on and member.joined_on < birth + timedelta(days=18 * 366):
        member.joined_on = birth + timedelta(days=18 * 366)  # 党章: at least 18 when admitted
        if member.full_on:
            member.full_on = member.joined_on + timedelta(days=365)
            if member.full_on > on:  # admitted less than a year ago: still 预备党员
                member.stage, member.full_on = Stage.PROBATIONARY, None
    if member.membership_status == MembershipStatus.SUSPENDED:
        member.suspended_on = on - timedelta(days=rng.randint(30, 900))
        member.is_lost_contact = True
        member.lost_contact_since = member.suspended_on - timedelta(days=rng.randint(183, 400))
    elif member.stage in (Stage.FULL, Stage.PROBATIONARY):
        roll = rng.random()
        if roll < 0.005:
            member.is_lost_contact = True
            member.lost_contact_since = on - timedelta(days=rng.randint(30, 500))
        elif roll < 0.025:
            member.is_mobile = True
            member.mobile_destination = rng.choice(DESTINATIONS)
            member.mobile_since = on - timedelta(days=rng.randint(20, 700))
        elif roll < 0.028:
            member.is_abroad = True
            member.abroad_since = on - timedelta(days=rng.randint(60, 2500))


def _seed_memberships(on: date) -> None:
    """One open roster row per member, from the join date (or two years ago for non-members)."""
    fallback = on - timedelta(days=730)
    rows = (
        OrganizationMembership(member_id=pk, organization_id=org_id, start_on=joined or fallback)
        for pk, org_id, joined in Member.objects.values_list("pk", "organization_id", "joined_on").iterator(
            chunk_size=BATCH
        )
    )
    batch: list[OrganizationMembership] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            OrganizationMembership.objects.bulk_create(batch)
            batch = []
    OrganizationMembership.objects.bulk_create(batch)


def _seed_party_groups(orgs: list[Organization], rng: random.Random) -> None:
    """Most members of a branch with 党小组 are placed in one of them (one UPDATE per group)."""
    groups: dict[str, list[Organization]] = {}
    for org in orgs:
        if org.org_type == OrgType.GROUP:
            groups.setdefault(org.parent_path, []).append(org)
    branch_paths = {org.pk: org.path for org in orgs if org.path in groups}
    members = Member.objects.filter(organization_id__in=list(branch_paths)).order_by("pk")
    chosen: dict[int, list[int]] = {}
    for pk, org_id in members.values_list("pk", "organization_id").iterator(chunk_size=BATCH):
        if rng.random() < 0.8:
            branch_groups = groups[branch_paths[org_id]]
            chosen.setdefault(branch_groups[rng.randrange(len(branch_groups))].pk, []).append(pk)
    for group_id, pks in chosen.items():
        Member.objects.filter(pk__in=pks).update(party_group_id=group_id)


def _seat_holders(orgs: list[Organization], on: date) -> dict[int, list[tuple[int, str]]]:
    """Who may hold each organization's committee seats: its 正式党员 in normal standing with at
    least a year of 党龄 (ZB §23), of the branch itself or, for a 党委/党总支, of its subtree. One query."""
    by_path: dict[str, list[tuple[int, str]]] = {}
    rows = (
        Member.objects.filter(
            stage=Stage.FULL, membership_status=MembershipStatus.NORMAL, full_on__lte=add_years(on, -1)
        )
        .order_by("pk")
        .values_list("pk", "name", "organization__path")
    )
    for pk, name, path in rows.iterator(chunk_size=BATCH):
        by_path.setdefault(path, []).append((pk, name))
    holders: dict[int, list[tuple[int, str]]] = {}
    paths = sorted(by_path)
    for org in orgs:
        if org.org_type in (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH):
            people = [p for path in paths if path.startswith(org.path) for p in by_path[path][:2]]
        else:
            people = by_path.get(org.path, [])
        holders[org.pk] = people[:7]
    return holders


def _seed_terms(orgs: list[Organization], rng: random.Random, on: date) -> None:
    terms: list[CommitteeTerm] = []
    for org in orgs:
        if org.org_type == OrgType.GROUP:
            continue
        years = 5 if org.org_type == OrgType.COMMITTEE else 3
        # Spread elections so that some terms end soon and a few are overdue.
        elected = on - timedelta(days=rng.randint(30, years * 365 + 200))
        terms.append(
            CommitteeTerm(
                organization=org,
                number=rng.randint(1, 6),
                kind=TermKind.ELECTED,
                elected_on=elected,
                term_years=years,
                expires_on=add_years(elected, years),
            )
        )
    CommitteeTerm.objects.bulk_create(terms, batch_size=BATCH)
    term_ids = dict(CommitteeTerm.objects.values_list("organization_id", "pk"))
    holders = _seat_holders(orgs, on)
    positions: list[Position] = []
    for org in orgs:
        term_id = term_ids.get(org.pk)
        if term_id is None:
            continue
        codes = [PositionCode.SECRETARY]
        if org.org_type != OrgType.BRANCH or rng.random() < 0.7:
            codes += [PositionCode.ORGANIZATION, PositionCode.PROPAGANDA, PositionCode.DISCIPLINE]
            if rng.random() < 0.5:
                codes.append(PositionCode.DEPUTY_SECRETARY)
        people = holders.get(org.pk, [])
        for i, code in enumerate(codes):
            pk, name = people[i] if i < len(people) else (None, _person_name(rng))
            positions.append(Position(term_id=term_id, position=code, member_id=pk, person_name=name, start_on=on))
    Position.objects.bulk_create(positions, batch_size=BATCH)
    # A position starts on its term's election day: one UPDATE instead of a query per term.
    Position.objects.update(
        start_on=Subquery(CommitteeTerm.objects.filter(pk=OuterRef("term_id")).values("elected_on")[:1])
    )


@transaction.atomic
def seed_demo(*, n_orgs: int, n_members: int, seed: int) -> DemoResult:
    if Organization.objects.exists():
        raise RuntimeError("数据库中已有党组织数据；如需重建演示数据请加 --reset")
    rng = random.Random(seed)
    on = today()
    _used_ids.clear()
    orgs = _build_tree(n_orgs, rng)
    Organization.objects.bulk_create(orgs, batch_size=BATCH)
    orgs = list(Organization.objects.order_by("path"))
    branches = [o for o in orgs if o.org_type == OrgType.BRANCH]
    if not branches:
        branches = orgs[-1:]
    # Uneven branch sizes: a few large branches (>50) and many small ones.
    weights = [rng.choice([1, 1, 2, 2, 3, 8]) for _ in branches]
    batch: list[Member] = []
    created = 0
    for _ in range(n_members):
        org = rng.choices(branches, weights)[0]
        batch.append(_member(rng, org, on))
        if len(batch) >= BATCH:
            Member.objects.bulk_create(batch, batch_size=BATCH)
            created += len(batch)
            batch = []
    if batch:
        Member.objects.bulk_create(batch, batch_size=BATCH)
        created += len(batch)
    _seed_memberships(on)
    _seed_party_groups(orgs, rng)
    _seed_terms(orgs, rng, on)
    logins = _demo_logins(orgs, branches)
    return DemoResult(organizations=len(orgs), members=created, logins=logins)


def _demo_logins(orgs: list[Organization], branches: list[Organization]) -> list[tuple[str, str, str]]:
    User = get_user_model()
    root = orgs[0]
    branch_a = branches[0]
    committee_of_a = next(
        (
            o
            for o in reversed(orgs)
            if o.org_type == OrgType.COMMITTEE and branch_a.path.startswith(o.path) and o.pk != root.pk
        ),
        root,
    )
    secretary_member = _branch_secretary_member(branch_a)
    member_a = (
        Member.objects.filter(organization=branch_a, stage=Stage.FULL, membership_status=MembershipStatus.NORMAL)
        .exclude(pk=secretary_member.pk)
        .order_by("pk")
        .first()
    )
    if member_a is None:
        member_a = member_create(
            name="演示党员",
            sex=Sex.MALE,
            birth_date=date(1985, 5, 4),
            organization=branch_a,
            stage=Stage.FULL,
            joined_on=date(2008, 7, 1),
            full_on=date(2009, 7, 1),
        )
    specs = [
        ("组织部门（全市）", "orgadmin", "组织部 王明", Role.ORG_ADMIN, root),
        ("基层党委", "committee", "党委 李华", Role.ORG_ADMIN, committee_of_a),
        ("支部书记", "secretary", f"书记 {secretary_member.name}", Role.SECRETARY, branch_a),
        ("党员", "member", member_a.name, Role.MEMBER, branch_a),
        ("审计员", "auditor", "审计 赵敏", Role.AUDITOR, root),
        ("系统管理员", "sysadmin", "系统管理员", Role.SYSADMIN, root),
        ("安全管理员", "secadmin", "安全管理员", Role.SECADMIN, root),
    ]
    logins = []
    for label, username, full_name, role, org in specs:
        user = User.objects.create_user(username=username, password=DEMO_PASSWORD, first_name=full_name)
        RoleAssignment.objects.create(user=user, organization=org, role=role)
        if role == Role.MEMBER:
            member_a.user = user
            member_a.save(update_fields=["user"])
        elif username == "secretary":  # the branch's 书记 is this login's own member record
            secretary_member.user = user
            secretary_member.save(update_fields=["user"])
        logins.append((label, username, str(org)))
    return logins


def _branch_secretary_member(branch: Organization) -> Member:
    """The member holding the 书记 seat of the demo branch's current term, on its roster: the
    seat's holder if it has one, else a 正式党员 of the branch (or a new record) put in the seat."""
    on = today()
    term = CommitteeTerm.objects.filter(organization=branch, ended_on__isnull=True).order_by("-number").first()
    if term is None:
        term = CommitteeTerm.objects.create(
            organization=branch,
            number=1,
            kind=TermKind.ELECTED,
            elected_on=on - timedelta(days=400),
            term_years=3,
            expires_on=add_years(on - timedelta(days=400), 3),
        )
    seat = Position.objects.filter(term=term, position=PositionCode.SECRETARY, end_on__isnull=True).first()
    if seat is not None and seat.member_id:
        return seat.member
    member = (
        Member.objects.filter(
            organization=branch, stage=Stage.FULL, membership_status=MembershipStatus.NORMAL, full_on__lte=add_years(on, -1)
        )
        .order_by("pk")
        .first()
    )
    if member is None:
        member = member_create(
            name="张伟",
            sex=Sex.MALE,
            birth_date=date(1978, 9, 12),
            organization=branch,
            stage=Stage.FULL,
            joined_on=date(2003, 7, 1),
            full_on=date(2004, 7, 1),
        )
    if seat is None:
        Position.objects.create(
            term=term, position=PositionCode.SECRETARY, member=member, person_name=member.name, start_on=term.elected_on
        )
    else:
        seat.member, seat.person_name = member, member.name
        seat.save(update_fields=["member", "person_name"])
    return member


@transaction.atomic
def demo_reset() -> None:
    """Remove demo data (every organization, member and non-superuser account)."""
    assessments_reset()
    from demo.activities import activities_demo_reset  # meetings, talks, study (they protect orgs/members)

    activities_demo_reset()
    Position.objects.all().delete()
    CommitteeTerm.objects.all().delete()
    RoleAssignment.objects.all().delete()
    OrganizationMembership.objects.all().delete()
    Member.objects.all().delete()
    Organization.objects.all().delete()
    get_user_model().objects.filter(is_superuser=False).delete()
