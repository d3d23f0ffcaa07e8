"""The channel-address import page and API (#19 item 4): XLSX or CSV, a preview listing every bad
row by its line number, a commit that saves the previewed file all or nothing; org_admin only."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from notifications.models import ChannelAddress
from notifications.services.addresses import COLUMNS, channel_address_import
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def xlsx(*rows) -> bytes:
    wb = Workbook()
    wb.active.append(list(COLUMNS))
    for row in rows:
        wb.active.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(*rows, encoding="utf-8-sig") -> bytes:
    lines = [",".join(COLUMNS), *(",".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.fixture
def second(cast):
    user = UserFactory(username="member_b")
    MemberFactory(name="乙", organization=cast.B, user=user)
    return user


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_the_encodings_excel_writes(cast, encoding):
    data = csv_bytes(("member_a", "zhangsan", "钉钉号"), encoding=encoding)
    preview = channel_address_import(user=cast.users["org_admin_p"], organization=cast.P, data=data, commit=False)
    assert preview.errors == ["第 2 行：钉钉账号只能包含字母、数字、_ 和 -，长度 1–64 个字符"]
    data = csv_bytes(("member_a", "zhangsan", "ding-1"), encoding=encoding)
    done = channel_address_import(user=cast.users["org_admin_p"], organization=cast.P, data=data, commit=True)
    assert done.saved == 1 and ChannelAddress.objects.get().dingtalk_userid == "ding-1"


def test_page_preview_lists_every_bad_line_and_saves_nothing(cast, second):
    client = cast.client("org_admin_p")
    url = f"/notifications/rules/{cast.P.pk}/addresses/"
    assert "上传并检查" in client.get(url).content.decode()
    data = csv_bytes(("member_a", "zhang san", ""), ("member_b", "ok", "d 1"), ("nobody", "x", ""))
    page = client.post(url, {"file": SimpleUploadedFile("a.csv", data)}).content.decode()
    assert "3 处错误" in page
    for line in ("第 2 行：企业微信账号只能包含", "第 3 行：钉钉账号只能包含", "第 4 行：登录账号“nobody”不存在"):
        assert line in page
    assert 'name="token"' not in page  # nothing to commit
    assert not ChannelAddress.objects.exists()


def test_page_preview_then_commit_the_same_file(cast, second):
    client = cast.client("org_admin_p")
    url = f"/notifications/rules/{cast.P.pk}/addresses/"
    page = client.post(
        url, {"file": SimpleUploadedFile("a.xlsx", xlsx(("member_a", "zs", ""), ("member_b", "", "lisi")))}
    )
    body = page.content.decode()
    assert "共 2 行可导入" in body and "确认导入 2 人" in body and not ChannelAddress.objects.exists()
    token = body.split('name="token" value="')[1].split('"')[0]
    secretary = cast.client("secretary_a")
    assert secretary.post(url, {"action": "commit", "token": token}).status_code == 404  # P: out of reach
    own_branch = f"/notifications/rules/{cast.A.pk}/addresses/"
    assert secretary.post(own_branch, {"action": "commit", "token": token}).status_code == 403
    done = client.post(url, {"action": "commit", "token": token})
    assert done.status_code == 302 and done["Location"] == f"/notifications/rules/{cast.P.pk}/"
    assert dict(ChannelAddress.objects.values_list("user__username", "wecom_userid")) == {
        "member_a": "zs",
        "member_b": "",
    }
    again = client.post(url, {"action": "commit", "token": token}, follow=True)  # used once
    assert "预览已过期或无效" in again.content.decode()
    other_org = client.post(f"/notifications/rules/{cast.A.pk}/addresses/", {"action": "commit", "token": "x" * 32})
    assert other_org.status_code == 302


def test_page_refuses_a_file_that_is_no_sheet(cast):
    client = cast.client("org_admin_p")
    page = client.post(
        f"/notifications/rules/{cast.P.pk}/addresses/", {"file": SimpleUploadedFile("a.pdf", b"%PDF\x00\x01")}
    )
    assert page.status_code == 200 and "不是 XLSX 或 CSV" in page.content.decode()


def test_template_download_is_a_valid_empty_import(cast):
    response = cast.client("org_admin_p").get(f"/notifications/rules/{cast.P.pk}/addresses/template.xlsx")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert tuple(c.value for c in sheet[1]) == COLUMNS
    preview = channel_address_import(
        user=cast.users["org_admin_p"], organization=cast.P, data=response.content, commit=False
    )
    assert preview.errors == ["表格中没有数据行"]


def test_pages_only_for_the_org_admin(cast):
    for who in ("secretary_a", "member_a"):
        assert cast.client(who).get(f"/notifications/rules/{cast.A.pk}/addresses/").status_code in (403, 404)
        assert cast.client(who).get(f"/notifications/rules/{cast.A.pk}/addresses/template.xlsx").status_code in (
            403,
            404,
        )
    assert cast.client("org_admin_p").get(f"/notifications/rules/{cast.Q.pk}/addresses/").status_code == 404


def test_api_preview_then_commit(cast, second):
    api = cast.api("org_admin_p")
    url = "/api/v1/channel-addresses/import/"
    bad = csv_bytes(("member_a", "zhang san", ""), ("member_b", "ok", ""))
    preview = api.post(url, {"organization": cast.P.pk, "file": SimpleUploadedFile("a.csv", bad)}, format="multipart")
    assert preview.status_code == 200
    assert preview.json() == {
        "rows": 2,
        "errors": ["第 2 行：企业微信账号只能包含字母、数字和 _ . @ -，长度 1–64 个字符"],
        "saved": 0,
    }
    refused = api.post(
        url, {"organization": cast.P.pk, "file": SimpleUploadedFile("a.csv", bad), "commit": "true"}, format="multipart"
    )
    assert refused.status_code == 400 and "第 2 行" in refused.json()["file"][0]
    assert not ChannelAddress.objects.exists()
    good = csv_bytes(("member_a", "zhangsan", ""), ("member_b", "lisi", ""))
    done = api.post(
        url,
        {"organization": cast.P.pk, "file": SimpleUploadedFile("a.csv", good), "commit": "true"},
        format="multipart",
    )
    assert done.status_code == 200 and done.json()["saved"] == 2 and ChannelAddress.objects.count() == 2
    assert api.post(url, {"organization": cast.P.pk}, format="multipart").status_code == 400
    secretary = cast.api("secretary_a").post(
        url, {"organization": cast.A.pk, "file": SimpleUploadedFile("a.csv", good)}, format="multipart"
    )
    assert secretary.status_code == 403
    foreign = api.post(url, {"organization": cast.Q.pk, "file": SimpleUploadedFile("a.csv", good)}, format="multipart")
    assert foreign.status_code == 404
