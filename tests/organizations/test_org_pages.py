"""Organization pages: tree, search, detail, edit forms with Chinese errors, query counts."""

import pytest

from organizations.choices import OrgType
from organizations.models import Organization
from tests.factories import MemberFactory, make_org

pytestmark = pytest.mark.django_db


def test_tree_lists_visible_orgs_and_searches(cast):
    client = cast.client("org_admin_p")
    page = client.get("/organizations/").content.decode()
    assert "第一党支部" in page and "第二党支部" in page and "其他单位" not in page
    found = client.get("/organizations/", {"q": "第二"}).content.decode()
    assert "第二党支部" in found and "第一党支部第一党小组" not in found
    empty = client.get("/organizations/", {"q": "不存在的名字"}).content.decode()
    assert "没有找到" in empty


def test_tree_bad_query_params_are_400(cast):
    client = cast.client("org_admin_p")
    assert client.get("/organizations/", {"org_type": "nonsense"}).status_code == 400
    assert client.get("/organizations/", {"page": "abc"}).status_code == 400


def test_detail_shows_flags_children_and_terms(cast):
    MemberFactory.create_batch(7, organization=cast.A)
    page = cast.client("secretary_a").get(f"/organizations/{cast.A.pk}/").content.decode()
    assert "应设立支部委员会" in page
    assert "第一党支部第一党小组" in page
    assert "尚未登记委员会届次" in page


def test_detail_pages_and_searches_children(cast):
    """A committee with thousands of branches: its page lists them 50 at a time, with a name search."""
    for i in range(52):
        make_org(f"分页支部{i:02d}", OrgType.BRANCH, parent=cast.P)
    client = cast.client("org_admin_p")
    first = client.get(f"/organizations/{cast.P.pk}/").content.decode()
    assert "共 54 个" in first  # A, B and the 52 new ones
    assert first.count('class="tag tag-branch"') == 50
    assert "第 1 / 2 页" in first
    second = client.get(f"/organizations/{cast.P.pk}/", {"page": 2}).content.decode()
    assert second.count('class="tag tag-branch"') == 4
    found = client.get(f"/organizations/{cast.P.pk}/", {"q": "分页支部07"}).content.decode()
    assert "分页支部07" in found and "分页支部08" not in found and "共 1 个" in found
    none = client.get(f"/organizations/{cast.P.pk}/", {"q": "没有这个"}).content.decode()
    assert "没有名称包含“没有这个”的下级组织" in none
    assert client.get(f"/organizations/{cast.P.pk}/", {"page": "x"}).status_code == 400


def test_edit_into_cycle_redisplays_form_with_chinese_error(cast):
    client = cast.client("org_admin_p")
    data = {
        "parent_code": cast.A1.code,
        "name": "中共测试委员会（改）",
        "code": cast.P.code,
        "org_type": OrgType.COMMITTEE,
        "unit_relation": "same_as_parent",
    }
    response = client.post(f"/organizations/{cast.P.pk}/edit/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "不能设在" in body or "循环" in body
    assert "中共测试委员会（改）" in body  # the user's input is kept
    cast.P.refresh_from_db()
    assert cast.P.name == "中共测试委员会"


def test_create_group_under_committee_refused(cast):
    client = cast.client("org_admin_p")
    data = {
        "parent_code": cast.P.code,
        "name": "错误的小组",
        "code": "G1",
        "org_type": OrgType.GROUP,
        "unit_relation": "same_as_parent",
    }
    response = client.post("/organizations/new/", data)
    assert response.status_code == 200
    assert "党小组不能设在党委之下" in response.content.decode()
    assert not Organization.objects.filter(code="G1").exists()


def test_create_under_foreign_parent_refused(cast):
    data = {
        "parent_code": cast.B.code,
        "name": "越权",
        "code": "X1",
        "org_type": OrgType.GROUP,
        "unit_relation": "same_as_parent",
    }
    response = cast.client("secretary_a").post("/organizations/new/", data)
    assert "找不到该上级组织" in response.content.decode()
    assert not Organization.objects.filter(code="X1").exists()


def test_create_group_in_own_branch(cast):
    data = {
        "parent_code": cast.A.code,
        "name": "第二党小组",
        "code": "A2",
        "org_type": OrgType.GROUP,
        "unit_relation": "same_as_parent",
    }
    response = cast.client("secretary_a").post("/organizations/new/", data)
    assert response.status_code == 302
    assert Organization.objects.parent_of(Organization.objects.get(code="A2")) == cast.A


def _grow(cast, n):
    for i in range(n):
        branch = make_org(f"扩展支部{n}-{i}", OrgType.BRANCH, parent=cast.P)
        MemberFactory.create_batch(2, organization=branch)


@pytest.mark.parametrize("url", ["/organizations/", "/organizations/{P}/"])  # "/" (工作台): tests/dashboard
def test_pages_take_constant_queries(cast, url, django_assert_max_num_queries):
    client = cast.client("org_admin_p")
    target = url.format(P=cast.P.pk)
    client.get(target)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _grow(cast, 3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(target).status_code == 200
    _grow(cast, 20)
    with CaptureQueriesContext(connection) as large:
        assert client.get(target).status_code == 200
    assert len(large) == len(small), (len(small), len(large))
    assert (
        len(large) <= 15
    )  # 12 + 1 for the children pager COUNT on the org page + 1 for the header's unread-notification badge (one COUNT) + 1 for the 组织生活 panel (open follow-ups)
