"""Member pages: list, filters, masking, export, forms, full-number view, own page, query counts."""

import io
import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from audit.models import AuditEvent
from members.choices import Stage
from members.models import Member
from members.services import member_create
from organizations.choices import OrgType
from tests.factories import MemberFactory, make_org
from tests.member_helpers import make_id, record

pytestmark = pytest.mark.django_db

ID_A = make_id(date(1985, 3, 15), seq=102)
ID_B = make_id(date(1990, 6, 1), male=False, seq=202)
PHONE_A = "13812345678"
PHONE_B = "13998765432"


@pytest.fixture
def people(cast):
    a = member_create(organization=cast.A, **record(name="赵一", id_number=ID_A, phone=PHONE_A, party_group=cast.A1))
    b = member_create(
        organization=cast.B,
        **record(name="钱二", sex="female", birth_date=date(1990, 6, 1), id_number=ID_B, phone=PHONE_B),
    )
    return a, b


def _body(response) -> str:
    return response.content.decode()


def _assert_no_clear_pi(text: str) -> None:
    for secret in (ID_A, ID_B, PHONE_A, PHONE_B):
        assert secret not in text


def test_list_shows_own_scope_masked(cast, people):
    body = _body(cast.client("secretary_a").get("/members/"))
    assert "赵一" in body and "甲党员" in body and "钱二" not in body
    assert f"{ID_A[:2]}{'*' * 14}{ID_A[-2:]}" in body and "138****5678" in body
    _assert_no_clear_pi(body)
    wide = _body(cast.client("org_admin_p").get("/members/"))
    assert "赵一" in wide and "钱二" in wide
    _assert_no_clear_pi(wide)


def test_list_filters_and_search(cast, people):
    client = cast.client("org_admin_p")
    assert "钱二" not in _body(client.get("/members/", {"org": cast.A.pk}))
    assert "钱二" in _body(client.get("/members/", {"org": cast.B.pk}))
    assert "赵一" in _body(client.get("/members/", {"q": "赵"}))
    assert "钱二" not in _body(client.get("/members/", {"q": "赵"}))
    # A full number in the GET search matches nothing (exact lookups are POST find/, #21.4).
    assert "钱二" not in _body(client.get("/members/", {"q": ID_B}))
    assert "钱二" not in _body(client.get("/members/", {"q": PHONE_B}))
    MemberFactory(name="积极分子丙", organization=cast.A, stage=Stage.ACTIVIST, joined_on=None, full_on=None)
    activists = _body(client.get("/members/", {"stage": "activist"}))
    assert "积极分子丙" in activists and "赵一" not in activists
    assert "没有符合条件的党员" in _body(client.get("/members/", {"q": "不存在"}))


@pytest.mark.parametrize("params", [{"org": "x"}, {"stage": "nope"}, {"status": "?"}, {"flag": "bad"}, {"page": "0"}])
def test_list_bad_params_are_400(cast, params):
    assert cast.client("org_admin_p").get("/members/", params).status_code == 400


def test_list_foreign_org_filter_is_404(cast):
    assert cast.client("secretary_a").get("/members/", {"org": cast.B.pk}).status_code == 404


def test_members_and_outsiders_get_no_list(cast):
    assert cast.client("member_a").get("/members/").status_code == 404
    assert cast.client("outsider").get("/members/").status_code == 404
    assert cast.client("anon").get("/members/").status_code == 302


def test_export_is_masked_scoped_and_audited(cast, people):
    response = cast.client("secretary_a").get("/members/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert "导出人：secretary_a" in rows[0][0]
    text = json.dumps(rows, ensure_ascii=False, default=str)
    assert "赵一" in text and "钱二" not in text and f"{ID_A[:2]}{'*' * 14}{ID_A[-2:]}" in text
    _assert_no_clear_pi(text)
    event = AuditEvent.objects.get(event="member_export")
    assert event.detail["rows"] == len(rows) - 2 == 2  # 赵一 and 甲党员


def test_detail_masked_and_other_branch_is_404(cast, people):
    a, b = people
    body = _body(cast.client("secretary_a").get(f"/members/{a.pk}/"))
    assert "赵一" in body and "查看完整号码" in body and "第一党支部第一党小组" in body
    _assert_no_clear_pi(body)
    assert cast.client("secretary_a").get(f"/members/{b.pk}/").status_code == 404
    auditor = _body(cast.client("auditor_p").get(f"/members/{a.pk}/"))
    assert "赵一" in auditor and "查看完整号码" not in auditor
    _assert_no_clear_pi(auditor)


def test_reveal_one_field_audited_and_refused_for_others(cast, people):
    a, _ = people
    client = cast.client("secretary_a")
    response = client.post(f"/members/{a.pk}/reveal/", {"field": "id_number"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and ID_A in _body(response) and PHONE_A not in _body(response)
    assert "no-store" in response["Cache-Control"]
    page = client.post(f"/members/{a.pk}/reveal/", {"field": "phone"})
    assert PHONE_A in _body(page) and ID_A not in _body(page)
    assert AuditEvent.objects.filter(event="view_full_id").count() == 1
    assert AuditEvent.objects.filter(event="view_full_phone").count() == 1
    assert cast.client("auditor_p").post(f"/members/{a.pk}/reveal/", {"field": "id_number"}).status_code == 403
    assert cast.client("secretary_b").post(f"/members/{a.pk}/reveal/", {"field": "id_number"}).status_code == 404
    assert client.post(f"/members/{a.pk}/reveal/", {"field": "home_address"}).status_code == 400
    assert client.get(f"/members/{a.pk}/reveal/").status_code == 405
    assert AuditEvent.objects.filter(event__startswith="view_full").count() == 2


def _form_data(cast, **overrides):
    data = {
        "name": "孙三",
        "sex": "male",
        "ethnicity": "01",
        "id_number": make_id(date(1988, 8, 8), seq=300),
        "birth_date": "1988-08-08",
        "organization": cast.A.pk,
        "party_group": "",
        "stage": "full",
        "joined_on": "2012-07-01",
        "full_on": "2013-07-01",
        "dues_category": "employed",
        "membership_status": "normal",
        "phone": "0536-82345678",
        "education": "master",
    }
    data.update(overrides)
    return data


def test_create_form_errors_in_chinese_keep_input(cast):
    client = cast.client("secretary_a")
    bad = _form_data(cast, id_number="370781198808080000", joined_on="2013-08-01", full_on="2013-07-01", phone="123")
    response = client.post("/members/new/", bad)
    body = _body(response)
    assert response.status_code == 200
    assert "校验位不正确" in body and "不能早于加入党组织日期" in body and "联系电话格式不正确" in body
    assert 'value="孙三"' in body and 'value="2013-08-01"' in body  # the user's input is kept
    assert not Member.objects.filter(name="孙三").exists()
    missing = _body(client.post("/members/new/", _form_data(cast, name="", id_number="")))
    assert missing.count("必填项") >= 2


def test_create_then_edit(cast):
    client = cast.client("secretary_a")
    response = client.post("/members/new/", _form_data(cast, party_group=cast.A1.pk))
    assert response.status_code == 302
    member = Member.objects.get(name="孙三")
    assert member.party_group == cast.A1 and member.phone_masked == "0536-****5678"
    edit = client.get(f"/members/{member.pk}/edit/")
    assert make_id(date(1988, 8, 8), seq=300) not in _body(edit)  # the form never shows the number
    data = _form_data(cast, name="孙三丰", id_number="", phone="")
    data.pop("organization")
    assert client.post(f"/members/{member.pk}/edit/", data).status_code == 302
    member.refresh_from_db()
    assert member.name == "孙三丰" and member.decrypt_id_number() == make_id(date(1988, 8, 8), seq=300)
    assert member.phone_masked == "0536-****5678"  # blank = unchanged


def test_create_in_foreign_org_refused(cast):
    response = cast.client("secretary_a").post("/members/new/", _form_data(cast, organization=cast.B.pk))
    assert response.status_code == 200 and not Member.objects.filter(name="孙三").exists()
    assert cast.client("secretary_a").get(f"/members/new/?org={cast.B.pk}").status_code == 404


def test_create_with_incoming_letter_records_transfer(cast):
    data = _form_data(
        cast,
        incoming="on",
        in_external_organization="中共某省某市某局机关委员会",
        in_letter_number="鲁组转字〔2026〕12号",
        in_issued_on="2026-01-05",
        in_received_on="2026-01-10",
        in_dues_paid_until="2025-12",
    )
    assert cast.client("secretary_a").post("/members/new/", data).status_code == 302
    member = Member.objects.get(name="孙三")
    transfer = member.transfers.get()
    assert (
        transfer.kind == "incoming" and transfer.status == "completed" and transfer.dues_paid_until == date(2025, 12, 1)
    )
    assert member.memberships.get().start_on == date(2026, 1, 10)
    missing = _form_data(cast, name="周四", incoming="on")
    body = _body(cast.client("secretary_a").post("/members/new/", missing))
    assert "从系统外转入的，请填写介绍信编号" in body


def test_edit_of_foreign_member_is_404_and_auditor_is_403(cast, people):
    a, b = people
    assert cast.client("secretary_a").get(f"/members/{b.pk}/edit/").status_code == 404
    assert cast.client("auditor_p").get(f"/members/{a.pk}/edit/").status_code == 403


def test_own_page_masked_with_sections_and_download(cast):
    own = cast.member_a_record
    from members.services import member_update

    member_update(member=own, id_number=make_id(own.birth_date, seq=404), phone=PHONE_A)
    client = cast.client("member_a")
    body = _body(client.get("/members/me/"))
    assert "甲党员" in body and "138****5678" in body and PHONE_A not in body
    assert "我的党费" in body and "我参加的组织生活" in body and "我的学习记录" in body
    assert make_id(own.birth_date, seq=404) not in body
    data = json.loads(client.get("/members/me/download/?format=json").content)
    assert data["基本信息"]["姓名"] == "甲党员" and data["基本信息"]["联系电话"] == "138****5678"
    text = json.dumps(data, ensure_ascii=False)
    assert "乙党员" not in text and PHONE_A not in text
    xlsx = client.get("/members/me/download/?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content))["基本信息"]
    assert ("姓名", "甲党员") in list(sheet.iter_rows(values_only=True))
    assert AuditEvent.objects.filter(event="member_self_export").count() == 2
    assert client.get("/members/me/download/?format=pdf").status_code == 400


def test_member_gets_404_on_other_members_and_own_detail_masked(cast):
    client = cast.client("member_a")
    assert client.get(f"/members/{cast.member_b_record.pk}/").status_code == 404
    assert client.get(f"/members/{cast.member_b_record.pk}/edit/").status_code == 404
    assert client.post(f"/members/{cast.member_a_record.pk}/reveal/", {"field": "id_number"}).status_code == 403
    assert cast.client("secretary_a").get("/members/me/").status_code == 404  # no linked record


def _grow(cast, n):
    branch = make_org(f"扩展支部{n}", OrgType.BRANCH, parent=cast.P)
    group = make_org(f"扩展支部{n}党小组", OrgType.GROUP, parent=branch)
    for i in range(n):
        member_create(
            organization=branch,
            **record(
                name=f"成员{n}-{i}",
                birth_date=date(1980, 1, 1),
                id_number=make_id(date(1980, 1, 1), seq=2 * (n * 10 + i)),
                party_group=group,
            ),
        )


@pytest.mark.parametrize(
    "url", ["/members/", "/members/?flag=attention", "/members/transfers/", "/members/export.xlsx"]
)
def test_pages_take_constant_queries(cast, url):
    client = cast.client("org_admin_p")
    client.get(url)
    _grow(cast, 3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(cast, 25)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small), (len(small), len(large))
    # 15 before this round, +1 the export rate count (audit.throttle, #21.17), +1 the audit chain head
    # locked by the export's audit event (#17.1).
    assert len(large) <= 17


def test_filter_by_party_group_lists_its_members(cast, people):
    body = _body(cast.client("secretary_a").get("/members/", {"org": cast.A1.pk}))
    assert "赵一" in body and "甲党员" not in body


def test_own_page_shows_the_development_section_for_probationary_members(cast):
    from members.choices import Stage
    from tests.factories import UserFactory, assign

    user = UserFactory(username="probationer")
    assign(user, cast.A, "member")
    MemberFactory(name="预备者", organization=cast.A, stage=Stage.PROBATIONARY, full_on=None, user=user)
    client = cast.client("anon")
    client.force_login(user)
    body = _body(client.get("/members/me/"))
    assert "我的入党进程" in body and "我的党费" in body and "我的学习记录" in body
    full = _body(cast.client("member_a").get("/members/me/"))
    assert "我的入党进程" not in full


def test_no_page_or_endpoint_shows_a_clear_id_or_phone(cast, people):
    """Crawl every GET page, export and endpoint of the members app as each role: only masks."""
    a, b = people
    from core.dates import today
    from members.choices import TransferKind
    from members.services import transfer_issue

    transfer = transfer_issue(
        member=a, user=cast.users["org_admin_p"], kind=TransferKind.INTERNAL, to_organization=cast.B, issued_on=today()
    )
    urls = [
        "/members/",
        "/members/?flag=attention",
        "/members/export.xlsx",
        f"/members/{a.pk}/",
        f"/members/{b.pk}/",
        f"/members/{a.pk}/edit/",
        f"/members/{a.pk}/transfer/",
        "/members/transfers/",
        f"/members/transfers/{transfer.pk}/",
        "/members/import/",
        "/members/me/",
        "/members/me/download/?format=json",
        "/members/me/download/?format=xlsx",
        "/api/v1/members/",
        f"/api/v1/members/{a.pk}/",
        f"/api/v1/members/{b.pk}/",
        "/api/v1/transfers/",
        f"/api/v1/transfers/{transfer.pk}/",
    ]
    checked = 0
    for who in ("secretary_a", "secretary_b", "org_admin_p", "auditor_p", "member_a"):
        client = cast.client(who)
        for url in urls:
            response = client.get(url)
            content = response.content
            if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
                rows = load_workbook(io.BytesIO(content)).worksheets
                content = json.dumps([list(ws.iter_rows(values_only=True)) for ws in rows], default=str).encode()
            text = content.decode("utf-8", "replace")
            _assert_no_clear_pi(text)
            checked += response.status_code == 200
    assert checked > 40


def test_17_3_a_version_that_is_no_plain_number_is_read_as_none_not_a_500(cast):
    """version_parse read "²" with isdigit() and int() raised: every versioned page form was a 500."""
    client = cast.client("secretary_a")
    assert client.post("/members/new/", _form_data(cast)).status_code == 302
    member = Member.objects.get(name="孙三")
    data = _form_data(cast, name="孙三丙", id_number="", phone="")
    data.pop("organization")
    assert client.post(f"/members/{member.pk}/edit/", {**data, "row_version": "²"}).status_code == 302
    member.refresh_from_db()
    assert member.name == "孙三丙"


def test_17_3_stale_edit_form_shows_what_changed_and_keeps_what_was_typed(cast):
    client = cast.client("secretary_a")
    assert client.post("/members/new/", _form_data(cast)).status_code == 302
    member = Member.objects.get(name="孙三")
    assert 'name="row_version" value="1"' in _body(client.get(f"/members/{member.pk}/edit/"))
    first = _form_data(cast, name="孙三甲", id_number="", phone="")
    first.pop("organization")
    assert client.post(f"/members/{member.pk}/edit/", {**first, "row_version": "1"}).status_code == 302
    stale = {**first, "name": "孙三乙", "row_version": "1"}
    response = client.post(f"/members/{member.pk}/edit/", stale)
    body = _body(response)
    assert response.status_code == 409 and "他人已保存" in body and "孙三甲" in body and 'value="孙三乙"' in body
    assert 'name="row_version" value="2"' in body
    member.refresh_from_db()
    assert member.name == "孙三甲"
