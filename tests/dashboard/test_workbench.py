"""工作台 (issue 14.1): each role's home lists what is due with one-tap links, says what is fine when
nothing is, and costs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from activities.compliance import Item
from activities.defaults import compliance_defaults_install
from audit.services import audit_log
from core.dates import today
from dashboard.workbench.member import study_pace
from dashboard.workbench.secretary import record_url
from members.development.services import development_applicant_create
from members.dues.services.fixings import dues_fixing_create
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(db):
    compliance_defaults_install()


def _sections(response):
    return {s.key: s for b in response.context["bench"].boards for s in b.sections}


def test_secretary_sees_due_items_with_prefilled_links_and_quick_actions(cast, rules):
    response = cast.client("secretary_a").get("/")
    assert response.status_code == 200
    body = response.content.decode()
    sections = _sections(response)
    compliance = sections["compliance"]
    assert compliance.entries, "the default rules make items due in every period"
    first = compliance.entries[0]
    assert first.action in ("去记录", "去办理", "查看")
    recordable = [e for e in compliance.entries if e.action == "去记录"]
    assert recordable and f"/activities/org/{cast.A.pk}/meetings/new/?type=" in recordable[0].url
    assert "&amp;date=" in body or "&date=" in recordable[0].url
    for label in ("记录会议", "登记党费", "发通知"):
        assert label in body
    # Nothing else is open: the empty states say what is fine.
    assert "没有连续欠交 3 个月以上的党员" in body
    assert "会议决定事项和整改问题均已落实" in body
    assert "我负责的党组织" in body


def test_secretary_sees_arrears_and_overdue_development_steps(cast, rules):
    dues_fixing_create(
        member=cast.member_a_record,
        year=today().year - 1,
        category="employed",
        base=Decimal("5100"),
        fixed_on=dt.date(today().year - 1, 1, 5),
    )
    applicant = development_applicant_create(
        organization=cast.A,
        name="丁申请人",
        sex="female",
        birth_date=dt.date(2000, 1, 1),
        applied_on=today() - dt.timedelta(days=60),
    )
    sections = _sections(cast.client("secretary_a").get("/"))
    arrears = sections["arrears"].entries
    assert [e.title for e in arrears] == ["甲党员"]
    assert arrears[0].url == f"/dues/member/{cast.member_a_record.pk}/" and arrears[0].level == "danger"
    steps = sections["development"].entries
    assert steps and steps[0].title.startswith("丁申请人") and steps[0].level == "danger"
    assert steps[0].url == f"/development/member/{applicant.pk}/"


def test_member_sees_dues_study_pace_and_empty_states(cast, rules):
    response = cast.client("member_a").get("/")
    body = response.content.decode()
    sections = _sections(response)
    assert "党费已按月交清" in body
    assert "目前没有公示" in body
    assert set(sections) == {"dues", "study", "meetings", "publicity"}
    assert "记录会议" not in body  # quick actions are the secretary's


def test_org_admin_sees_overdue_organizations_with_links(cast, rules):
    response = cast.client("org_admin_p").get("/")
    sections = _sections(response)
    overdue = sections["overdue_orgs"]
    urls = {e.url for e in overdue.entries}
    if today() > dt.date(today().year, (today().month - 1) // 3 * 3 + 1, 1):
        assert overdue.entries and all("项逾期" in e.when for e in overdue.entries)
        assert f"/activities/org/{cast.A.pk}/compliance/" in urls
    assert {"overdue_orgs", "terms", "reviews", "batches"} <= set(sections)
    assert "没有等待审核的整改或星级评定" in response.content.decode()


def test_auditor_sees_recent_access_denials(cast):
    audit_log(event="access_denied", user=cast.users["secretary_b"], organization=cast.A, outcome="failure")
    response = cast.client("auditor_p").get("/")
    sections = _sections(response)
    assert [e.title for e in sections["denied"].entries] == ["secretary_b：越权访问被拒绝"]
    assert "近期没有数据导出" in response.content.decode()


def test_admins_and_users_without_roles_get_a_plain_page(cast):
    assert "系统管理" in cast.client("sysadmin").get("/").content.decode()
    assert "尚未分配角色" in cast.client("outsider").get("/").content.decode()
    assert cast.client("anon").get("/").status_code == 302


@pytest.mark.parametrize(
    ("who", "queries"),
    # Scope from the shared cache and no session write per request (#20.1): 5 fewer than before;
    # the managed organizations' subtree totals first ask whether the summary tables are current (2).
    [("secretary_a", 20), ("org_admin_p", 20), ("member_a", 11), ("auditor_p", 9)],
)
def test_workbench_query_count_is_fixed_per_role(cast, rules, who, queries, django_assert_num_queries):
    client = cast.client(who)
    client.get("/")  # warm the session and the scope
    for _ in range(5):
        MemberFactory(organization=cast.A)
    with django_assert_num_queries(queries):
        assert client.get("/").status_code == 200


def test_org_admin_workbench_queries_do_not_grow_with_the_subtree(cast, rules):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.choices import OrgType
    from tests.factories import make_org

    def grow(n):
        for i in range(n):
            branch = make_org(f"扩展支部{n}-{i}", OrgType.BRANCH, parent=cast.P)
            MemberFactory.create_batch(2, organization=branch)

    client = cast.client("org_admin_p")
    client.get("/")
    grow(2)
    with CaptureQueriesContext(connection) as small:
        client.get("/")
    grow(12)
    with CaptureQueriesContext(connection) as large:
        body = client.get("/").content.decode()
    assert len(large) == len(small)
    assert "扩展支部12-0" in body or "下属党组织本季度组织生活均未逾期" in body


def test_record_url_prefills_type_and_a_date_inside_the_period():
    on = dt.date(2026, 5, 20)
    item = Item(
        organization_id=1,
        kind="general_assembly",
        period="quarter",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 3, 31),
        deadline=dt.date(2026, 3, 31),
        required=1,
        held=0,
        status="overdue",
    )

    class Org:
        pk = 7

    assert record_url(Org(), item, on) == "/activities/org/7/meetings/new/?type=general_assembly&date=2026-03-31"
    item.period_end = dt.date(2026, 6, 30)
    assert record_url(Org(), item, on).endswith("date=2026-05-20")


def test_study_pace_is_even_over_the_year():
    assert study_pace(Decimal("32"), dt.date(2026, 12, 31)) == Decimal("32.0")
    assert study_pace(Decimal("36.5"), dt.date(2026, 1, 1)) == Decimal("0.1")
