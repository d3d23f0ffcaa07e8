"""Member and transfer API: gate, filters, masking, strict input, reveal, transfers, query counts."""

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from core.dates import today
from members.models import Member, MemberTransfer
from members.services import member_create
from organizations.choices import OrgType
from tests.api_helpers import if_match
from tests.factories import make_org
from tests.member_helpers import make_id, record

pytestmark = pytest.mark.django_db

ID_A = make_id(date(1985, 3, 15), seq=502)
PHONE_A = "13712345678"


@pytest.fixture
def zhao(cast):
    return member_create(organization=cast.A, **record(name="赵一", id_number=ID_A, phone=PHONE_A))


def _payload(cast, **overrides):
    data = {
        "organization": cast.A.pk,
        "name": "接口新党员",
        "sex": "female",
        "birth_date": "1992-02-29",
        "id_number": make_id(date(1992, 2, 29), male=False, seq=600),
        "stage": "probationary",
        "joined_on": (today() - timedelta(days=100)).isoformat(),
        "phone": "13600001111",
        "ethnicity": "03",
    }
    data.update(overrides)
    return data


def test_list_scoped_and_masked(cast, zhao):
    response = cast.api("secretary_a").get("/api/v1/members/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {r["name"] for r in rows} == {"赵一", "甲党员"}
    text = json.dumps(response.json(), ensure_ascii=False)
    assert ID_A not in text and PHONE_A not in text
    zhao_row = next(r for r in rows if r["name"] == "赵一")
    assert (
        zhao_row["id_number_masked"] == f"{ID_A[:2]}{'*' * 14}{ID_A[-2:]}" and zhao_row["phone_masked"] == "137****5678"
    )
    assert "id_number" not in zhao_row and "phone" not in zhao_row


def test_filters(cast, zhao):
    api = cast.api("org_admin_p")
    names = lambda params: {r["name"] for r in api.get("/api/v1/members/", params).json()["results"]}  # noqa: E731
    assert names({"organization": cast.B.pk}) == {"乙党员"}
    assert names({"organization": cast.P.pk}) == {"赵一", "甲党员", "乙党员"}
    assert names({"search": "赵"}) == {"赵一"}
    assert names({"search": ID_A}) == set()  # full numbers only through POST find/ (#21.4)
    assert names({"stage": "activist"}) == set()
    assert names({"status": "normal", "organization": cast.A.pk}) == {"赵一", "甲党员"}
    assert api.get("/api/v1/members/", {"organization": cast.Q.pk}).status_code == 404


@pytest.mark.parametrize(
    "params,field",
    [
        ({"organization": "x"}, "organization"),
        ({"organization": "0"}, "organization"),
        ({"stage": "boss"}, "stage"),
        ({"status": "?"}, "status"),
        ({"flag": "x"}, "flag"),
        ({"bogus": "1"}, "bogus"),
    ],
)
def test_bad_query_params_are_400(cast, params, field):
    response = cast.api("org_admin_p").get("/api/v1/members/", params)
    assert response.status_code == 400 and field in response.json()


def test_retrieve_foreign_is_404_and_member_sees_only_self(cast, zhao):
    assert cast.api("secretary_b").get(f"/api/v1/members/{zhao.pk}/").status_code == 404
    assert cast.api("secretary_a").get(f"/api/v1/members/{zhao.pk}/").status_code == 200
    own = cast.api("member_a").get("/api/v1/members/").json()["results"]
    assert [r["name"] for r in own] == ["甲党员"]
    assert cast.api("member_a").get(f"/api/v1/members/{zhao.pk}/").status_code == 404
    assert cast.api("outsider").get("/api/v1/members/").status_code == 403
    assert cast.api("anon").get("/api/v1/members/").status_code in (401, 403)


def test_create_masked_and_audited(cast):
    response = cast.api("secretary_a").post("/api/v1/members/", _payload(cast), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phone_masked"] == "136****1111" and "id_number" not in body
    member = Member.objects.get(pk=body["id"])
    assert member.organization == cast.A and member.decrypt_phone() == "13600001111"
    assert AuditEvent.objects.filter(event="member_create", object_id=str(member.pk)).exists()


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"id_number": "370781199202290000"}, "id_number"),
        ({"id_number": make_id(date(1992, 2, 28), male=False, seq=600)}, "id_number"),
        ({"birth_date": "1992-02-30"}, "birth_date"),
        ({"phone": "555"}, "phone"),
        ({"stage": "full"}, "full_on"),
        ({"joined_on": "2099-01-01"}, "joined_on"),
        ({"sex": "x"}, "sex"),
        ({"organization": 999999}, "organization"),
        ({"id_number": None}, "id_number"),
        ({"is_admin": True}, "is_admin"),
        ({"user": 1}, "user"),
    ],
)
def test_create_bad_input_is_400_with_field_and_nothing_saved(cast, overrides, field):
    response = cast.api("secretary_a").post("/api/v1/members/", _payload(cast, **overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Member.objects.filter(name="接口新党员").exists()


def test_create_in_unreachable_org_is_400(cast):
    response = cast.api("secretary_a").post("/api/v1/members/", _payload(cast, organization=cast.B.pk), format="json")
    assert response.status_code == 400 and "无权" in response.json()["organization"][0]
    response = cast.api("secretary_a").post("/api/v1/members/", "not json", content_type="application/json")
    assert response.status_code == 400


def test_update_and_refusals(cast, zhao):
    api = cast.api("secretary_a")
    url = f"/api/v1/members/{zhao.pk}/"
    response = api.patch(url, {"employer": "青州市财政局", "phone": ""}, format="json", **if_match(api, url))
    assert response.status_code == 200 and response.json()["employer"] == "青州市财政局"
    assert response.json()["phone_masked"] == ""
    moved = api.patch(url, {"organization": cast.A.pk}, format="json", **if_match(api, url))
    assert moved.status_code == 400 and "组织关系转接" in json.dumps(moved.json(), ensure_ascii=False)
    assert cast.api("auditor_p").patch(f"/api/v1/members/{zhao.pk}/", {"name": "x"}, format="json").status_code == 403
    assert cast.api("secretary_b").patch(f"/api/v1/members/{zhao.pk}/", {"name": "x"}, format="json").status_code == 404
    assert api.delete(f"/api/v1/members/{zhao.pk}/").status_code == 405


def test_reveal_endpoint(cast, zhao):
    response = cast.api("org_admin_p").post(f"/api/v1/members/{zhao.pk}/reveal/", {"field": "id_number"}, format="json")
    assert response.status_code == 200 and response.json() == {"field": "id_number", "value": ID_A}
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(event="view_full_id").count() == 1
    assert cast.api("auditor_p").post(f"/api/v1/members/{zhao.pk}/reveal/", {"field": "id_number"}).status_code == 403
    assert cast.api("secretary_b").post(f"/api/v1/members/{zhao.pk}/reveal/", {"field": "phone"}).status_code == 404
    bad = cast.api("org_admin_p").post(f"/api/v1/members/{zhao.pk}/reveal/", {"field": "name"}, format="json")
    assert bad.status_code == 400
    assert AuditEvent.objects.filter(event__startswith="view_full").count() == 1


def test_transfer_api_flow(cast, zhao):
    api = cast.api("org_admin_p")
    issued = (today() - timedelta(days=5)).isoformat()
    response = api.post(
        "/api/v1/transfers/",
        {"member": zhao.pk, "kind": "internal", "to_organization": cast.B.pk, "issued_on": issued},
        format="json",
    )
    assert response.status_code == 201, response.json()
    transfer_id = response.json()["id"]
    incoming = cast.api("secretary_b").get("/api/v1/transfers/", {"direction": "in", "status": "pending"}).json()
    assert [t["id"] for t in incoming["results"]] == [transfer_id]
    assert (
        cast.api("secretary_a").post(f"/api/v1/transfers/{transfer_id}/accept/", {}, format="json").status_code == 400
    )
    assert cast.api("outsider").post(f"/api/v1/transfers/{transfer_id}/accept/", {}, format="json").status_code == 403
    accepted = cast.api("secretary_b").post(f"/api/v1/transfers/{transfer_id}/accept/", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    zhao.refresh_from_db()
    assert zhao.organization == cast.B
    history = api.get("/api/v1/transfers/", {"member": zhao.pk}).json()["results"]
    assert [h["status"] for h in history] == ["accepted"]


def test_transfer_api_refusals(cast, zhao):
    api = cast.api("secretary_a")
    base = {"member": zhao.pk, "kind": "internal", "issued_on": today().isoformat()}
    unreachable = api.post("/api/v1/transfers/", {**base, "to_organization": cast.Q.pk}, format="json")
    assert unreachable.status_code == 400 and "to_organization" in unreachable.json()
    foreign_member = cast.api("secretary_b").post(
        "/api/v1/transfers/", {**base, "to_organization": cast.B.pk}, format="json"
    )
    assert foreign_member.status_code == 400 and "member" in foreign_member.json()
    outgoing = api.post("/api/v1/transfers/", {**base, "kind": "outgoing"}, format="json")
    assert outgoing.status_code == 400 and "letter_number" in outgoing.json()
    unknown = api.post("/api/v1/transfers/", {**base, "kind": "internal", "priority": 1}, format="json")
    assert unknown.status_code == 400 and "priority" in unknown.json()
    assert not MemberTransfer.objects.exists()
    assert api.get("/api/v1/transfers/", {"status": "maybe"}).status_code == 400
    assert api.get("/api/v1/transfers/", {"member": "x"}).status_code == 400
    assert api.get("/api/v1/transfers/999999/").status_code == 404


def test_reject_and_incoming_via_api(cast, zhao):
    api = cast.api("org_admin_p")
    created = api.post(
        "/api/v1/transfers/",
        {"member": zhao.pk, "kind": "internal", "to_organization": cast.B.pk, "issued_on": today().isoformat()},
        format="json",
    ).json()
    no_reason = cast.api("secretary_b").post(f"/api/v1/transfers/{created['id']}/reject/", {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    rejected = cast.api("secretary_b").post(
        f"/api/v1/transfers/{created['id']}/reject/", {"reason": "材料不全"}, format="json"
    )
    assert rejected.json()["status"] == "rejected"
    incoming = cast.api("secretary_a").post(
        "/api/v1/transfers/",
        {
            "member": cast.member_a_record.pk,
            "kind": "incoming",
            "external_organization": "外省某党委",
            "letter_number": "外组〔2026〕3号",
            "issued_on": (today() - timedelta(days=9)).isoformat(),
            "received_on": today().isoformat(),
        },
        format="json",
    )
    assert incoming.status_code == 201 and incoming.json()["status"] == "completed"


def _grow(cast, n, offset):
    branch = make_org(f"接口支部{offset}", OrgType.BRANCH, parent=cast.P)
    group = make_org(f"接口支部{offset}小组", OrgType.GROUP, parent=branch)
    for i in range(n):
        member = member_create(
            organization=branch,
            **record(name=f"接口{offset}-{i}", id_number=make_id(date(1985, 3, 15), seq=2 * (offset + i) + 700),
                     party_group=group),
        )  # fmt: skip
        MemberTransfer.objects.create(
            member=member, kind="internal", from_organization=branch, to_organization=cast.B, issued_on=today()
        )


@pytest.mark.parametrize("url", ["/api/v1/members/", "/api/v1/transfers/", "/api/v1/members/?flag=attention"])
def test_list_endpoints_take_constant_queries(cast, url):
    api = cast.api("org_admin_p")
    api.get(url)
    _grow(cast, 2, 0)
    with CaptureQueriesContext(connection) as small:
        assert api.get(url).status_code == 200
    _grow(cast, 20, 100)
    with CaptureQueriesContext(connection) as large:
        assert api.get(url).status_code == 200
    assert len(small) == len(large), (len(small), len(large))
    assert len(large) <= 10


def test_odd_inputs_are_400_or_404_never_500(cast, zhao):
    api = cast.api("org_admin_p")
    assert api.get("/api/v1/members/", {"search": "a\x00b"}).status_code == 400
    assert api.get("/api/v1/members/99999999999999999999/").status_code == 404
    assert api.get("/api/v1/members/", {"organization": "99999999999999999999"}).status_code == 404
    assert api.post(f"/api/v1/members/{zhao.pk}/reveal/", ["id_number"], format="json").status_code == 400
    url = f"/api/v1/members/{zhao.pk}/"
    assert api.patch(url, {"name": "x\x00"}, format="json", **if_match(api, url)).status_code == 400
    assert cast.client("org_admin_p").get("/members/", {"q": "a\x00"}).status_code == 400
