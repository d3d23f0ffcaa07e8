"""党费 and 发展党员 API: the rule endpoint, ledger, payments, fixings, approvals, collection, roll-up,
development steps and pipeline. Gate isolation and constant query counts."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.choices import Stage
from members.development.models import DevelopmentStep
from members.development.services import development_applicant_create
from members.dues.models import DuesFixing, DuesMonth, DuesPayment
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_payment_record
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
D = Decimal
STANDARD = "/api/v1/dues/standard/"


def fix(member, year=2025, base="5100"):
    return dues_fixing_create(member=member, year=year, category="employed", base=D(base), fixed_on=date(year, 1, 5))


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"category": "employed", "base": "5100"}, {"base": "5100.00", "rate": "0.0150", "amount": "76.50"}),
        ({"category": "employed", "base": "4900"}, {"base": "4900.00", "rate": "0.0100", "amount": "49.00"}),
        ({"category": "employed", "base": "3000.00"}, {"base": "3000.00", "rate": "0.0050", "amount": "15.00"}),
        ({"category": "employed", "base": "3000.01"}, {"base": "3000.01", "rate": "0.0100", "amount": "30.00"}),
        ({"category": "employed", "base": "10000.01"}, {"base": "10000.01", "rate": "0.0200", "amount": "200.00"}),
        ({"category": "retired", "base": "5000"}, {"base": "5000.00", "rate": "0.0050", "amount": "25.00"}),
        ({"category": "retired", "base": "5000.01"}, {"base": "5000.01", "rate": "0.0100", "amount": "50.00"}),
        ({"category": "student"}, {"base": None, "rate": None, "amount": "0.20"}),
        ({"category": "farmer", "amount": "0.5"}, {"base": None, "rate": None, "amount": "0.50"}),
    ],
)
def test_standard_endpoint(cast, params, expected):
    response = cast.api("member_a").get(STANDARD, params)
    assert response.status_code == 200, response.json()
    assert response.json() == {"category": params["category"], **expected}


@pytest.mark.parametrize(
    "params,field,text",
    [
        ({}, "category", "请填写党费类别"),
        ({"category": "planet", "base": "1"}, "category", "未知的党费类别"),
        ({"category": "employed"}, "base", "请填写计算基数"),
        ({"category": "employed", "base": "-1"}, "base", "不能为负数"),
        ({"category": "employed", "base": "abc"}, "base", "应为数字"),
        ({"category": "employed", "base": "5100.123"}, "base", "两位小数"),
        ({"category": "employed", "base": "NaN"}, "base", "应为数字"),
        ({"category": "farmer"}, "amount", "由党支部确定"),
        ({"category": "farmer", "amount": "1.5"}, "amount", "0.20元至1.00元"),
        ({"category": "employed", "base": "5000", "amount": "1"}, "amount", "只有农民党员"),
        ({"category": "employed", "base": "5000", "bogus": "1"}, "bogus", "不支持的查询参数"),
    ],
)
def test_standard_endpoint_bad_input_is_400_with_chinese_field_error(cast, params, field, text):
    response = cast.api("member_a").get(STANDARD, params)
    assert response.status_code == 400
    assert text in str(response.json()[field])


def test_standard_endpoint_needs_a_role(cast):
    assert cast.api("anon").get(STANDARD, {"category": "student"}).status_code in (401, 403)
    assert cast.api("outsider").get(STANDARD, {"category": "student"}).status_code == 403


def test_ledger_list_filters_and_isolation(cast):
    fix(cast.member_a_record)
    fix(cast.member_b_record)
    dues_payment_record(member=cast.member_a_record, months=[date(2025, 1, 1)], paid_on=date(2025, 1, 3))
    api = cast.api("secretary_a")
    listing = api.get("/api/v1/dues/ledger/", {"year": "2025"}).json()
    assert listing["count"] == 12 and {r["member_name"] for r in listing["results"]} == {"甲党员"}
    paid = api.get("/api/v1/dues/ledger/", {"status": "paid"}).json()["results"]
    assert [(r["month"], r["amount_paid"], r["recorded_as"]) for r in paid] == [("2025-01", "76.50", "on_behalf")]
    assert api.get("/api/v1/dues/ledger/", {"month": "2025-13"}).status_code == 400
    assert api.get("/api/v1/dues/ledger/", {"status": "owed"}).status_code == 400
    assert api.get("/api/v1/dues/ledger/", {"organization": cast.B.pk}).status_code == 404
    foreign = DuesMonth.objects.filter(member=cast.member_b_record).first()
    assert api.get(f"/api/v1/dues/ledger/{foreign.pk}/").status_code == 404
    org_admin = cast.api("org_admin_p").get("/api/v1/dues/ledger/", {"organization": cast.P.pk, "month": "2025-01"})
    assert {r["member_name"] for r in org_admin.json()["results"]} == {"甲党员", "乙党员"}
    own = cast.api("member_a").get("/api/v1/dues/ledger/").json()
    assert own["count"] == 12


def test_payment_by_secretary_and_by_member_self(cast):
    member = cast.member_a_record
    fix(member)
    response = cast.api("secretary_a").post(
        "/api/v1/dues/payments/",
        {"member": member.pk, "months": ["2025-01", "2025-02"], "paid_on": "2025-01-10"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["total"] == "153.00" and body["recorded_as"] == "on_behalf" and body["months"] == ["2025-01", "2025-02"]
    response = cast.api("member_a").post(
        "/api/v1/dues/payments/",
        {"member": member.pk, "months": ["2025-03"], "amounts": {"2025-03": "80"}, "paid_on": "2025-03-02"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["recorded_as"] == "self"
    assert response.json()["total"] == "80.00"


@pytest.mark.parametrize(
    "payload,field,text",
    [
        ({"months": ["2025-01"], "amounts": {"2025-01": "-5"}}, "amounts", "不能为负数"),
        ({"months": ["2025-01"], "amounts": {"2025-01": "abc"}}, "amounts", "应为数字"),
        ({"months": ["2025-1x"]}, "months", "YYYY-MM"),
        ({"months": ["2025-01"], "paid_on": "2025-10-31"}, "months", "补交党费一般不超过 6 个月"),
        ({"months": ["2025-01"], "extra": 1}, "extra", "不支持的字段"),
        ({"months": []}, "months", ""),
    ],
)
def test_payment_refusals_are_400_and_save_nothing(cast, payload, field, text):
    member = cast.member_a_record
    fix(member)
    payload = {"member": member.pk, "paid_on": "2025-01-10", **payload}
    response = cast.api("secretary_a").post("/api/v1/dues/payments/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert text in str(response.json()[field])
    assert not DuesPayment.objects.exists()


def test_payment_gate(cast):
    fix(cast.member_a_record)
    fix(cast.member_b_record)
    payload = {"member": cast.member_b_record.pk, "months": ["2025-01"], "paid_on": "2025-01-10"}
    assert cast.api("secretary_a").post("/api/v1/dues/payments/", payload, format="json").status_code == 404
    assert cast.api("member_a").post("/api/v1/dues/payments/", payload, format="json").status_code == 404
    own = {"member": cast.member_a_record.pk, "months": ["2025-01"], "paid_on": "2025-01-10"}
    assert cast.api("auditor_p").post("/api/v1/dues/payments/", own, format="json").status_code == 403
    assert cast.api("sysadmin").post("/api/v1/dues/payments/", own, format="json").status_code in (403, 404)
    assert not DuesPayment.objects.exists()


def test_fixing_create_direct_items_and_errors(cast):
    api = cast.api("secretary_a")
    member = cast.member_a_record
    response = api.post(
        "/api/v1/dues/fixings/",
        {
            "member": member.pk,
            "year": 2025,
            "category": "employed",
            "income_items": [
                {"kind": "position_salary", "amount": "6000"},
                {"kind": "reform_subsidy", "amount": "900"},
                {"kind": "social_insurance", "amount": "900"},
            ],
            "fixed_on": "2025-01-06",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["base"] == "5100.00" and body["monthly_amount"] == "76.50" and body["rate"] == "0.0150"
    assert [i["effect"] for i in body["income_items"]] == ["count", "exclude", "deduct"]
    again = api.post(
        "/api/v1/dues/fixings/", {"member": member.pk, "year": 2025, "category": "employed", "base": "1"}, format="json"
    )
    assert again.status_code == 400 and "已核定" in again.json()["year"][0]
    bad = api.post(
        "/api/v1/dues/fixings/",
        {"member": member.pk, "year": 2026, "category": "employed", "base": "-3"},
        format="json",
    )
    assert bad.status_code == 400 and "不能为负数" in bad.json()["base"][0]
    foreign = api.post(
        "/api/v1/dues/fixings/",
        {"member": cast.member_b_record.pk, "year": 2025, "category": "student"},
        format="json",
    )
    assert foreign.status_code == 404
    listing = api.get("/api/v1/dues/fixings/", {"year": "2025"}).json()["results"]
    assert [row["member_name"] for row in listing] == ["甲党员"]


def test_approval_create_and_list(cast):
    member = cast.member_a_record
    fix(member)
    api = cast.api("secretary_a")
    response = api.post(
        "/api/v1/dues/approvals/",
        {
            "member": member.pk,
            "kind": "exempt",
            "start_month": "2025-05",
            "end_month": "2025-06",
            "reason": "低保",
            "approver": "中共测试委员会",
            "approved_on": "2025-04-28",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert DuesMonth.objects.get(member=member, month=date(2025, 5, 1)).amount_due == 0
    missing = api.post(
        "/api/v1/dues/approvals/",
        {"member": member.pk, "kind": "reduce", "start_month": "2025-07", "approved_on": "2025-06-01"},
        format="json",
    )
    assert missing.status_code == 400 and {"reason", "approver"} <= set(missing.json())
    assert len(api.get("/api/v1/dues/approvals/").json()["results"]) == 1
    assert cast.api("secretary_b").get("/api/v1/dues/approvals/").json()["results"] == []


def test_collection_and_rollup(cast):
    fix(cast.member_a_record)
    fix(cast.member_b_record)
    dues_payment_record(member=cast.member_a_record, months=[date(2025, 3, 1)], paid_on=date(2025, 3, 3))
    api = cast.api("org_admin_p")
    data = api.get("/api/v1/dues/collection/", {"organization": cast.A.pk, "month": "2025-03"}).json()
    assert data["summary"]["rate"] == "100.0" and data["members"][0]["status"] == "paid"
    rollup = api.get("/api/v1/dues/rollup/", {"organization": cast.P.pk, "month": "2025-03"}).json()
    assert rollup["total"]["rate"] == "50.0" and rollup["total"]["due_count"] == 2
    assert {c["name"]: c["rate"] for c in rollup["children"]} == {"第一党支部": "100.0", "第二党支部": "0.0"}
    assert cast.api("secretary_b").get("/api/v1/dues/collection/", {"organization": cast.A.pk}).status_code == 404
    assert cast.api("member_a").get("/api/v1/dues/collection/", {"organization": cast.A.pk}).status_code == 403
    assert api.get("/api/v1/dues/collection/", {}).status_code == 400
    assert api.get("/api/v1/dues/rollup/", {"organization": "x"}).status_code == 400


def _grow(cast, n, year=2025):
    for _ in range(n):
        member = MemberFactory(organization=cast.A)
        fix(member, year=year)
        dues_payment_record(member=member, months=[date(year, 1, 1)], paid_on=date(year, 1, 2))
        person = development_applicant_create(
            organization=cast.A, name="申请人", sex="male", birth_date=date(1990, 1, 1), applied_on=date(2024, 1, 2)
        )
        assert person.stage == Stage.APPLICANT


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/dues/ledger/?page_size=200",
        "/api/v1/dues/payments/?page_size=200",
        "/api/v1/dues/fixings/?page_size=200",
        "/api/v1/dues/approvals/",
        "/api/v1/dues/collection/?organization={A}&month=2025-01",
        "/api/v1/dues/rollup/?organization={P}&month=2025-01",
        "/api/v1/development/steps/?page_size=200",
        "/api/v1/development/pipeline/?organization={A}",
    ],
)
def test_list_endpoints_take_constant_queries(cast, url):
    api = cast.api("org_admin_p")
    target = url.format(A=cast.A.pk, P=cast.P.pk)
    _grow(cast, 2)
    api.get(target)
    with CaptureQueriesContext(connection) as small:
        assert api.get(target).status_code == 200
    _grow(cast, 8)
    with CaptureQueriesContext(connection) as large:
        response = api.get(target)
        assert response.status_code == 200
    assert len(large) == len(small), (len(small), len(large))
    assert len(large) <= 10


def test_development_step_api(cast):
    person = development_applicant_create(
        organization=cast.A, name="申请人", sex="female", birth_date=date(1995, 5, 5), applied_on=date(2024, 1, 10)
    )
    api = cast.api("secretary_a")
    late = api.post(
        "/api/v1/development/steps/",
        {"member": person.pk, "step": "talk", "occurred_on": "2024-02-20", "decided_by": "王书记"},
        format="json",
    )
    assert late.status_code == 201, late.json()
    assert "一个月内派人谈话" in late.json()["warnings"][0]
    early = api.post(
        "/api/v1/development/steps/",
        {"member": person.pk, "step": "candidate", "occurred_on": "2024-03-01"},
        format="json",
    )
    assert early.status_code == 400 and "请先登记“确定入党积极分子”" in early.json()["step"][0]
    unknown = api.post(
        "/api/v1/development/steps/",
        {"member": person.pk, "step": "talk", "occurred_on": "2024-02-20", "stage": "full"},
        format="json",
    )
    assert unknown.status_code == 400 and "stage" in unknown.json()
    foreign_people = api.post(
        "/api/v1/development/steps/",
        {"member": person.pk, "step": "activist", "occurred_on": "2024-03-01", "people": [cast.member_b_record.pk]},
        format="json",
    )
    assert foreign_people.status_code == 400 and "people" in foreign_people.json()
    assert (
        cast.api("secretary_b")
        .post(
            "/api/v1/development/steps/",
            {"member": person.pk, "step": "activist", "occurred_on": "2024-03-01"},
            format="json",
        )
        .status_code
        == 404
    )
    assert cast.api("secretary_b").get("/api/v1/development/steps/").json()["results"] == []
    rows = api.get("/api/v1/development/steps/", {"member": person.pk}).json()["results"]
    assert [r["step"] for r in rows] == ["application", "talk"]
    assert DevelopmentStep.objects.filter(member=person).count() == 2
    pipeline = api.get("/api/v1/development/pipeline/", {"organization": cast.A.pk}).json()
    assert pipeline["people"][0]["stage"] == "applicant"
    assert api.get("/api/v1/development/pipeline/", {"organization": cast.A.pk, "stage": "x"}).status_code == 400


def test_fixing_list_shows_base_only_inside_the_gate(cast):
    fix(cast.member_b_record, base="8000")
    assert cast.api("secretary_a").get("/api/v1/dues/fixings/").json()["results"] == []
    assert DuesFixing.objects.count() == 1
