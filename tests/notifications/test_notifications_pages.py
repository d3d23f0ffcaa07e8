"""Inbox, notices and settings pages and API: gate isolation (a user never sees others'
notifications; notices only to reachable targets), read receipts without ranking, forms with
Chinese errors, and query counts that do not grow with the rows."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from notifications import selectors
from notifications.models import Notice, NoticeRecipient, Notification, ReminderSetting, WebhookEndpoint
from notifications.services.notices import notice_send
from notifications.services.runs import reminder_run_inline
from organizations.choices import OrgType
from organizations.services import committee_term_start
from tests.factories import MemberFactory, UserFactory, assign, make_org

pytestmark = pytest.mark.django_db


def note(user, title="提醒", **extra) -> Notification:
    return Notification.objects.create(recipient=user, category="reminder", title=title, body="正文", **extra)


def send(cast, sender="secretary_a", org=None, **kwargs) -> Notice:
    kwargs.setdefault("title", "学习安排")
    kwargs.setdefault("body", "请于周五前完成第一章学习。")
    return notice_send(sender=cast.users[sender], organization=org or cast.A, **kwargs)


# --- inbox -----------------------------------------------------------------------------------


def test_inbox_shows_only_my_notifications_and_the_header_badge(cast):
    note(cast.users["member_a"], "甲的提醒")
    note(cast.users["secretary_a"], "书记的提醒")
    page = cast.client("member_a").get("/notifications/").content.decode()
    assert "甲的提醒" in page and "书记的提醒" not in page
    assert 'class="inbox-count">1<' in page


def test_foreign_notifications_are_404(cast):
    other = note(cast.users["secretary_a"], "书记的提醒")
    client = cast.client("member_a")
    assert client.get(f"/notifications/{other.pk}/").status_code == 404
    assert client.post(f"/notifications/{other.pk}/read/").status_code == 404
    other.refresh_from_db()
    assert other.read_at is None
    api = cast.api("member_a")
    assert api.get(f"/api/v1/notifications/{other.pk}/").status_code == 404
    assert api.post(f"/api/v1/notifications/{other.pk}/read/").status_code == 404


def test_open_marks_read_and_links_to_the_thing_to_do(cast):
    committee_term_start(org=cast.A, elected_on=date(2020, 1, 1))
    reminder_run_inline(on=date(2026, 1, 6))
    item = Notification.objects.filter(recipient=cast.users["secretary_a"], rule="term_overdue").get()
    response = cast.client("secretary_a").get(f"/notifications/{item.pk}/")
    body = response.content.decode()
    assert response.status_code == 200 and f'href="/organizations/{cast.A.pk}/"' in body and "去处理" in body
    item.refresh_from_db()
    assert item.read_at is not None


def test_mark_read_and_read_all(cast):
    first, second = note(cast.users["member_a"]), note(cast.users["member_a"])
    client = cast.client("member_a")
    assert client.post(f"/notifications/{first.pk}/read/").status_code == 302
    first.refresh_from_db()
    assert first.read_at is not None
    assert "未读（1）" in client.get("/notifications/").content.decode()
    client.post("/notifications/read-all/")
    second.refresh_from_db()
    assert second.read_at is not None
    unread = client.get("/notifications/?show=unread").content.decode()
    assert "没有未读消息" in unread


def test_read_next_parameter_cannot_redirect_off_site(cast):
    item = note(cast.users["member_a"])
    response = cast.client("member_a").post(f"/notifications/{item.pk}/read/", {"next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"


def test_inbox_bad_query_is_400(cast):
    assert cast.client("member_a").get("/notifications/?show=everything").status_code == 400


def test_users_without_a_role_still_have_an_inbox(cast):
    note(cast.users["outsider"], "欢迎")
    assert "欢迎" in cast.client("outsider").get("/notifications/").content.decode()


def test_inbox_takes_constant_queries(cast):
    client = cast.client("member_a")
    client.get("/notifications/")
    for _ in range(3):
        note(cast.users["member_a"])
    with CaptureQueriesContext(connection) as small:
        assert client.get("/notifications/").status_code == 200
    for _ in range(25):
        note(cast.users["member_a"])
    with CaptureQueriesContext(connection) as large:
        assert client.get("/notifications/").status_code == 200
    assert len(small) == len(large) <= 12


# --- notices ---------------------------------------------------------------------------------


def test_secretary_sends_a_notice_to_the_branch_and_sees_who_read_it(cast):
    MemberFactory(name="无账号党员", organization=cast.A)
    notice = send(cast, kind="study_list")
    assert notice.recipient_count == 1 and notice.offline_count == 1
    received = Notification.objects.get(recipient=cast.users["member_a"], notice=notice)
    assert "学习清单" in received.title
    detail = cast.client("secretary_a").get(f"/notifications/notices/{notice.pk}/").content.decode()
    assert "已读 0 人，未读 1 人" in detail and "未开通账号 1 人" in detail
    # the member opens it from the inbox
    member = cast.client("member_a")
    assert member.get(f"/notifications/{received.pk}/").status_code == 302
    assert "请于周五前完成第一章学习" in member.get(f"/notifications/notices/{notice.pk}/read/").content.decode()
    detail = cast.client("secretary_a").get(f"/notifications/notices/{notice.pk}/").content.decode()
    assert "已读 1 人，未读 0 人" in detail


def test_notice_reaches_only_the_targets_the_sender_may_change(cast):
    MemberFactory(name="乙支部党员", organization=cast.B, user=UserFactory(username="b_member"))
    with pytest.raises(Exception) as exc:
        send(cast, org=cast.B)
    assert "无权" in str(exc.value)
    with pytest.raises(Exception) as exc:
        send(cast, target="members", member_ids=[cast.member_b_record.pk])
    assert "不在您的管理范围内" in str(exc.value)
    assert not Notice.objects.exists()
    # the org_admin of P reaches the whole subtree
    notice = send(cast, sender="org_admin_p", org=cast.P, target="subtree")
    names = set(NoticeRecipient.objects.filter(notice=notice).values_list("name", flat=True))
    assert {"甲党员", "乙党员", "乙支部党员"} <= names


def test_notice_to_chosen_members(cast):
    extra = MemberFactory(name="丙", organization=cast.A1, user=UserFactory(username="c_member"))
    notice = send(cast, target="members", member_ids=[extra.pk])
    assert list(Notification.objects.filter(notice=notice).values_list("recipient__username", flat=True)) == [
        "c_member"
    ]


def test_notice_to_the_secretaries_of_a_subtree(cast):
    notice = send(
        cast, sender="org_admin_p", org=cast.P, target="subtree", audience="secretaries", kind="work_arrangement"
    )
    recipients = set(Notification.objects.filter(notice=notice).values_list("recipient__username", flat=True))
    assert recipients == {"secretary_a", "secretary_b"}


def test_notice_resubmitted_is_sent_once(cast):
    token = uuid.uuid4()
    first = send(cast, client_token=token)
    again = send(cast, client_token=token)
    assert first.pk == again.pk and Notice.objects.count() == 1


def test_notice_form_redisplays_with_chinese_errors(cast):
    client = cast.client("secretary_a")
    response = client.post(
        "/notifications/notices/new/",
        {
            "organization": cast.A.pk,
            "target": "members",
            "audience": "members",
            "kind": "reminder_letter",
            "title": "提醒函草稿",
            "body": "内容",
            "client_token": str(uuid.uuid4()),
        },
    )
    body = response.content.decode()
    assert response.status_code == 200 and "请选择至少一名党员" in body and "提醒函草稿" in body
    assert not Notice.objects.exists()


def test_notice_form_sends(cast):
    response = cast.client("secretary_a").post(
        "/notifications/notices/new/",
        {
            "organization": cast.A.pk,
            "target": "organization",
            "audience": "members",
            "kind": "work_arrangement",
            "title": "周五主题党日",
            "body": "下午三点，三楼会议室。",
            "client_token": str(uuid.uuid4()),
        },
    )
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/notifications/notices/{notice.pk}/"


def test_members_cannot_send_notices(cast):
    assert cast.client("member_a").get("/notifications/notices/new/").status_code == 403
    assert cast.client("auditor_p").get("/notifications/notices/new/").status_code == 403


def test_notice_pages_are_gated(cast):
    notice = send(cast)
    assert cast.client("secretary_b").get(f"/notifications/notices/{notice.pk}/").status_code == 404
    assert cast.client("org_admin_p").get(f"/notifications/notices/{notice.pk}/").status_code == 200
    assert "学习安排" not in cast.client("secretary_b").get("/notifications/notices/").content.decode()
    assert cast.client("outsider").get(f"/notifications/notices/{notice.pk}/read/").status_code == 404
    assert cast.api("secretary_b").get(f"/api/v1/notices/{notice.pk}/").status_code == 404
    assert cast.api("secretary_b").get(f"/api/v1/notices/{notice.pk}/recipients/").status_code == 404


def test_read_receipts_are_never_ranked(cast):
    people = [MemberFactory(name=f"党员{i}", organization=cast.A, user=UserFactory(username=f"m{i}")) for i in range(3)]
    notice = send(cast)
    Notification.objects.filter(notice=notice, recipient__username="m2").update(read_at="2026-01-01T08:00:00Z")
    rows = cast.api("secretary_a").get(f"/api/v1/notices/{notice.pk}/recipients/").json()["results"]
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)  # by name, not by reading
    assert all(set(r) == {"id", "name", "organization", "organization_name", "status"} for r in rows)
    assert {r["status"] for r in rows} == {"read", "unread"}
    assert len(people) == 3


@pytest.mark.parametrize("url", ["/notifications/notices/{pk}/", "/notifications/notices/"])
def test_notice_pages_take_constant_queries(cast, url):
    client = cast.client("secretary_a")

    def grow(n):
        for _ in range(n):
            MemberFactory(organization=cast.A, user=UserFactory())
        return send(cast, client_token=uuid.uuid4())

    notice = grow(3)
    target = url.format(pk=notice.pk)
    client.get(target)
    with CaptureQueriesContext(connection) as small:
        assert client.get(target).status_code == 200
    notice = grow(25)
    target = url.format(pk=notice.pk)
    client.get(target)
    with CaptureQueriesContext(connection) as large:
        assert client.get(target).status_code == 200
    assert len(small) == len(large) <= 14


# --- rules and webhook pages -----------------------------------------------------------------


def test_rules_page_editable_by_org_admin_read_only_for_secretary(cast):
    admin_page = cast.client("org_admin_p").get(f"/notifications/rules/{cast.A.pk}/").content.decode()
    assert "调整" in admin_page and "任期届满前换届提醒" in admin_page
    secretary_page = cast.client("secretary_a").get(f"/notifications/rules/{cast.A.pk}/").content.decode()
    assert "任期届满前换届提醒" in secretary_page and "调整</a>" not in secretary_page
    assert cast.client("secretary_a").get(f"/notifications/rules/{cast.A.pk}/term_ending/").status_code == 403
    assert cast.client("org_admin_p").get(f"/notifications/rules/{cast.Q.pk}/").status_code == 404


def test_rule_form_refuses_an_impossible_day_and_keeps_the_input(cast):
    client = cast.client("org_admin_p")
    response = client.post(
        f"/notifications/rules/{cast.P.pk}/dues_collection/", {"enabled": "on", "day_of_month": "31"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "31 日并非每个月都有" in body and 'value="31"' in body
    assert not ReminderSetting.objects.exists()
    response = client.post(f"/notifications/rules/{cast.P.pk}/term_ending/", {"offset": "-2"})
    assert "不能为负数" in response.content.decode()
    ok = client.post(f"/notifications/rules/{cast.P.pk}/dues_collection/", {"enabled": "on", "day_of_month": "last"})
    assert ok.status_code == 302 and ReminderSetting.objects.get().day_of_month == "last"


def test_rules_page_switches_organization_by_query(cast):
    client = cast.client("org_admin_p")
    assert client.get(f"/notifications/rules/?org={cast.A.pk}")["Location"] == f"/notifications/rules/{cast.A.pk}/"
    assert client.get("/notifications/rules/?org=abc").status_code == 400


def test_webhook_page_validates_and_masks_the_secret(cast):
    client = cast.client("org_admin_p")
    bad = client.post(f"/notifications/rules/{cast.A.pk}/webhook/", {"kind": "wecom", "url": "ftp://x/y"})
    assert "必须以 http:// 或 https:// 开头" in bad.content.decode()
    ok = client.post(
        f"/notifications/rules/{cast.A.pk}/webhook/",
        {
            "kind": "dingtalk",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=t",
            "secret": "SECabcdef12",
            "enabled": "on",
        },
    )
    assert ok.status_code == 302
    page = client.get(f"/notifications/rules/{cast.A.pk}/").content.decode()
    assert "SECabcdef12" not in page and "SEC****" in page
    assert cast.client("secretary_a").get(f"/notifications/rules/{cast.A.pk}/webhook/").status_code == 403
    # deleting needs the confirmation box
    client.post(f"/notifications/rules/{cast.A.pk}/webhook/", {"remove": "1"})
    assert WebhookEndpoint.objects.exists()
    client.post(f"/notifications/rules/{cast.A.pk}/webhook/", {"remove": "1", "confirm": "1"})
    assert not WebhookEndpoint.objects.exists()


def test_preferences_page(cast):
    client = cast.client("member_a")
    assert client.post("/notifications/settings/", {"muted_rules": ["political_birthday"]}).status_code == 302
    assert selectors.preference_for(user=cast.users["member_a"]).muted_rules == ["political_birthday"]
    bad = client.post("/notifications/settings/", {"muted_rules": ["term_overdue"]})
    assert bad.status_code == 200 and "有效的选项" in bad.content.decode()


# --- API -------------------------------------------------------------------------------------


def test_api_inbox_is_mine_only_with_filters(cast):
    mine = note(cast.users["member_a"], "我的")
    note(cast.users["secretary_a"], "别人的")
    api = cast.api("member_a")
    rows = api.get("/api/v1/notifications/").json()["results"]
    assert [r["title"] for r in rows] == ["我的"]
    assert api.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert api.post(f"/api/v1/notifications/{mine.pk}/read/").json()["is_read"] is True
    assert api.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 0
    assert api.get("/api/v1/notifications/", {"unread": "maybe"}).status_code == 400
    assert api.get("/api/v1/notifications/", {"bogus": "1"}).status_code == 400
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked": 0}


def test_api_notice_create_and_errors(cast):
    api = cast.api("secretary_a")
    ok = api.post(
        "/api/v1/notices/",
        {"organization": cast.A.pk, "title": "通知", "body": "正文", "kind": "work_arrangement"},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["recipient_count"] == 1
    assert (
        api.post("/api/v1/notices/", {"organization": cast.B.pk, "title": "x", "body": "y"}, format="json").status_code
        == 404
    )
    read_only = cast.api("auditor_p").post(
        "/api/v1/notices/", {"organization": cast.A.pk, "title": "x", "body": "y"}, format="json"
    )
    # A read-only role is refused before its input is read (the access matrix's rule for the auditor).
    assert read_only.status_code == 403 and "只读" in read_only.json()["detail"]
    assert (
        api.post("/api/v1/notices/", {"organization": cast.Q.pk, "title": "x", "body": "y"}, format="json").status_code
        == 404
    )
    unknown = api.post(
        "/api/v1/notices/", {"organization": cast.A.pk, "title": "x", "body": "y", "sender": 1}, format="json"
    )
    assert unknown.status_code == 400 and "sender" in unknown.json()
    assert cast.api("member_a").get("/api/v1/notices/").json()["count"] == 0


def test_api_reminder_settings(cast):
    admin = cast.api("org_admin_p")
    rows = admin.get("/api/v1/reminder-settings/", {"organization": cast.A.pk}).json()
    assert {r["rule"] for r in rows} >= {"term_ending", "compliance_escalation", "study_pace"}
    bad = admin.post(
        "/api/v1/reminder-settings/",
        {"organization": cast.P.pk, "rule": "dues_collection", "day_of_month": "30"},
        format="json",
    )
    assert bad.status_code == 400 and "并非每个月都有" in bad.json()["day_of_month"][0]
    ok = admin.post(
        "/api/v1/reminder-settings/", {"organization": cast.P.pk, "rule": "term_ending", "offset": 4}, format="json"
    )
    row = next(r for r in ok.json() if r["rule"] == "term_ending")
    assert row["offset"] == 4 and row["overridden_here"] is True
    inherited = admin.get("/api/v1/reminder-settings/", {"organization": cast.A.pk}).json()
    assert next(r for r in inherited if r["rule"] == "term_ending")["inherited_from"] == cast.P.pk
    assert (
        cast.api("secretary_a")
        .post(
            "/api/v1/reminder-settings/",
            {"organization": cast.A.pk, "rule": "term_ending", "enabled": False},
            format="json",
        )
        .status_code
        == 403
    )
    assert admin.get("/api/v1/reminder-settings/", {"organization": cast.Q.pk}).status_code == 404
    assert admin.get("/api/v1/reminder-settings/").status_code == 400


def test_api_preferences(cast):
    api = cast.api("member_a")
    assert api.put(
        "/api/v1/notification-preferences/", {"email_enabled": False, "muted_rules": ["study_pace"]}, format="json"
    ).json() == {"email_enabled": False, "muted_rules": ["study_pace"]}
    bad = api.put(
        "/api/v1/notification-preferences/", {"email_enabled": True, "muted_rules": ["term_overdue"]}, format="json"
    )
    assert bad.status_code == 400


def test_escalation_reaches_admin_of_parent_even_in_a_deep_tree(cast):
    general = make_org("机关总支", OrgType.GENERAL_BRANCH, parent=cast.P)
    branch = make_org("总支下属支部", OrgType.BRANCH, parent=general)
    admin_g = UserFactory(username="admin_g")
    assign(admin_g, general, Role.ORG_ADMIN)
    committee_term_start(org=branch, elected_on=date(2020, 1, 1))
    reminder_run_inline(on=date(2026, 1, 6))
    # no secretary on the branch: its nearest org_admin (the general branch) hears about it
    assert Notification.objects.filter(recipient=admin_g, rule="term_overdue").count() == 1
    assert not Notification.objects.filter(recipient=cast.users["org_admin_p"], organization=branch).exists()
