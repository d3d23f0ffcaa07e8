"""The personal channel adapters (#19.1, #19.4) against the fake vendor servers: token cached and
refreshed on the expiry code, busy/rate limit transient, invalid user permanent, a 200 with an
error body is a failure, the SMS segment budget, URL safety of the gateway."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from notifications.channels import PermanentDeliveryError, TransientDeliveryError, dingtalk, sms, transport, wecom


@pytest.fixture
def fake(vendors):
    return vendors


def wecom_config(fake) -> wecom.WecomConfig:
    return wecom.WecomConfig(corp_id="ww1", secret="s3cret-wecom", agent_id=1000002, base_url=fake.base_url)


def dingtalk_config(fake) -> dingtalk.DingtalkConfig:
    return dingtalk.DingtalkConfig(app_key="dk1", app_secret="s3cret-ding", agent_id=42, base_url=fake.base_url)


def sms_config(fake, **kw) -> sms.SmsConfig:
    return sms.SmsConfig(
        url=f"{fake.base_url}/sms/send",
        params={
            "mobile": "${mobile}",
            "content": "${content}",
            "msgid": "${msgid}",
            "sign": "${sign}",
            "ts": "${timestamp}",
        },
        secret="gw-secret",
        transient_pattern=r'"code":\s*"100[12]"',
        **kw,
    )


# --- 企业微信 ---


def test_wecom_token_cached_between_sends(fake):
    config = wecom_config(fake)
    wecom.send_textcard(config, userids=["zhangsan"], title="缴纳党费", description="请缴纳", url="https://x/")
    wecom.send_textcard(config, userids=["lisi"], title="缴纳党费", description="请缴纳", url="https://x/")
    assert len(fake.calls("/cgi-bin/gettoken")) == 1
    assert [d["user"] for d in fake.delivered["wecom"]] == ["zhangsan", "lisi"]
    sent = json.loads(fake.calls("/cgi-bin/message/send")[0]["body"])
    assert sent["msgtype"] == "textcard" and sent["touser"] == "zhangsan" and sent["agentid"] == 1000002


def test_wecom_token_refreshed_on_expiry_code(fake):
    config = wecom_config(fake)
    wecom.send_textcard(config, userids=["zhangsan"], title="t1", description="d", url="")
    fake.expire_tokens()
    wecom.send_textcard(config, userids=["zhangsan"], title="t2", description="d", url="")
    assert len(fake.calls("/cgi-bin/gettoken")) == 2
    assert len(fake.delivered["wecom"]) == 2


@pytest.mark.parametrize("code", [-1, 45009])
def test_wecom_busy_or_rate_limited_is_transient(fake, code):
    fake.fail("wecom_send", code)
    with pytest.raises(TransientDeliveryError):
        wecom.send_textcard(wecom_config(fake), userids=["zhangsan"], title="t", description="d", url="")
    assert fake.delivered["wecom"] == []


def test_wecom_invalid_user_is_permanent(fake):
    fake.wecom_users = {"zhangsan"}
    with pytest.raises(PermanentDeliveryError, match="企业微信账号无效"):
        wecom.send_textcard(wecom_config(fake), userids=["nobody"], title="t", description="d", url="")


def test_wecom_resend_is_not_delivered_twice(fake):
    config = wecom_config(fake)
    for _ in range(2):  # a worker killed after the vendor accepted: the outbox sends again
        wecom.send_textcard(config, userids=["zhangsan"], title="t", description="same", url="")
    assert len(fake.calls("/cgi-bin/message/send")) == 2
    assert len(fake.delivered["wecom"]) == 1


def test_wecom_bad_user_id_refused_before_sending(fake):
    with pytest.raises(PermanentDeliveryError, match="企业微信账号只能包含"):
        wecom.send_textcard(wecom_config(fake), userids=["张 三"], title="t", description="d", url="")
    assert fake.requests == []


def test_wecom_secret_not_in_repr_or_errors(fake):
    config = wecom_config(fake)
    fake.fail("wecom_token", 40001)
    with pytest.raises(PermanentDeliveryError) as exc:
        wecom.send_textcard(config, userids=["zhangsan"], title="t", description="d", url="")
    assert "s3cret" not in str(exc.value) and "s3cret" not in repr(config)


# --- 钉钉 ---


def test_dingtalk_batches_of_100(fake):
    users = [f"u{i}" for i in range(230)]
    replies = dingtalk.send_work_notice(dingtalk_config(fake), userids=users, title="会议", text="明天开会", url="")
    calls = fake.calls("/topapi/message/corpconversation/asyncsend_v2")
    assert len(replies) == len(calls) == 3
    assert [len(json.loads(c["body"])["userid_list"].split(",")) for c in calls] == [100, 100, 30]
    assert len(fake.delivered["dingtalk"]) == 230


def test_dingtalk_token_refresh_and_errors(fake):
    config = dingtalk_config(fake)
    dingtalk.send_work_notice(config, userids=["u1"], title="t", text="x", url="https://x/")
    fake.expire_tokens()
    dingtalk.send_work_notice(config, userids=["u1"], title="t", text="x", url="")
    assert len(fake.calls("/gettoken")) == 2
    fake.fail("dingtalk_send", 90018)
    with pytest.raises(TransientDeliveryError):
        dingtalk.send_work_notice(config, userids=["u1"], title="t", text="x", url="")
    fake.dingtalk_users = {"u1"}
    with pytest.raises(PermanentDeliveryError, match="钉钉账号无效"):
        dingtalk.send_work_notice(config, userids=["ghost"], title="t", text="x", url="")


# --- the shared token protocol (both vendors) ---


def _send(vendor, fake, **kw):
    if vendor == "wecom":
        return wecom.send_textcard(wecom_config(fake), userids=["u1"], title="t", description="d", url="", **kw)
    return dingtalk.send_work_notice(dingtalk_config(fake), userids=["u1"], title="t", text="d", url="", **kw)


TOKEN_PATH = {"wecom": "/cgi-bin/gettoken", "dingtalk": "/gettoken"}
SEND_PATH = {"wecom": "/cgi-bin/message/send", "dingtalk": "/topapi/message/corpconversation/asyncsend_v2"}
EXPIRY_CODE = {"wecom": 42001, "dingtalk": 88}


@pytest.mark.parametrize("vendor", ["wecom", "dingtalk"])
def test_token_refreshed_once_only_then_transient(fake, vendor):
    fake.fail(f"{vendor}_send", EXPIRY_CODE[vendor], EXPIRY_CODE[vendor])  # expired, and again after refresh
    with pytest.raises(TransientDeliveryError, match=str(EXPIRY_CODE[vendor])):
        _send(vendor, fake)
    assert len(fake.calls(TOKEN_PATH[vendor])) == 2 and len(fake.calls(SEND_PATH[vendor])) == 2
    _send(vendor, fake)  # the bad token was dropped: the next send fetches a fresh one and succeeds
    assert len(fake.calls(TOKEN_PATH[vendor])) == 3 and len(fake.delivered[vendor]) == 1


@pytest.mark.parametrize(
    ("vendor", "code", "error"),
    [
        ("wecom", 45009, TransientDeliveryError),
        ("dingtalk", 90002, TransientDeliveryError),
        ("wecom", 40013, PermanentDeliveryError),
        ("dingtalk", 40089, PermanentDeliveryError),
    ],
)
def test_token_fetch_errors_mapped_by_vendor_code(fake, vendor, code, error):
    fake.fail(f"{vendor}_token", code)
    with pytest.raises(
        error, match=f"获取{wecom.API.label if vendor == 'wecom' else dingtalk.API.label}令牌失败：{code}"
    ):
        _send(vendor, fake)
    assert fake.calls(SEND_PATH[vendor]) == []


def test_token_cache_key_per_credentials_without_the_secret():
    a = wecom.WecomConfig(corp_id="ww1", secret="s3cret-a", agent_id=1)
    b = wecom.WecomConfig(corp_id="ww1", secret="s3cret-b", agent_id=1)
    assert wecom.API.key(a) != wecom.API.key(b) != dingtalk.API.key(dingtalk.DingtalkConfig("ww1", "s3cret-a", 1))
    assert "s3cret" not in wecom.API.key(a)


# --- SMS ---


def test_sms_sent_with_signature_and_success_pattern(fake):
    sms.send_sms(sms_config(fake), mobile="138 0013 8000", content="【党建提醒】请缴纳党费。", msgid="pb-outbox-1")
    [fields] = fake.delivered["sms"]
    assert fields["mobile"] == "13800138000" and fields["msgid"] == "pb-outbox-1"
    assert fields["sign"] == sms.signature("gw-secret", fields["ts"], fields["mobile"], fields["content"])


def test_sms_200_with_error_body_is_failure(fake):
    fake.fail("sms", 2001)
    with pytest.raises(PermanentDeliveryError, match="短信网关拒绝"):
        sms.send_sms(sms_config(fake), mobile="13800138000", content="x", msgid="pb-outbox-2")
    fake.fail("sms", 1001)
    with pytest.raises(TransientDeliveryError, match="繁忙"):
        sms.send_sms(sms_config(fake), mobile="13800138000", content="x", msgid="pb-outbox-2")


def test_sms_resend_with_same_msgid_not_doubled(fake):
    for _ in range(2):
        sms.send_sms(sms_config(fake), mobile="13800138000", content="x", msgid="pb-outbox-3")
    assert len(fake.delivered["sms"]) == 1


def test_sms_form_and_get_formats(fake):
    sms.send_sms(sms_config(fake, format="form"), mobile="13800138000", content="表单", msgid="a")
    sms.send_sms(sms_config(fake, method="GET"), mobile="13800138000", content="查询", msgid="b")
    assert [f["content"] for f in fake.delivered["sms"]] == ["表单", "查询"]


def test_sms_segments_counted():
    assert sms.segments("字" * 70) == 1
    assert sms.segments("字" * 71) == 2
    assert sms.segments("字" * 134) == 2
    assert sms.segments("字" * 135) == 3


def test_sms_template_rules():
    allowed = {"title", "hint"}
    assert sms.validate_template("【党建提醒】{title}。{hint}", allowed=allowed)
    with pytest.raises(ValidationError, match="变量“name”不存在"):
        sms.validate_template("{name}你好", allowed=allowed)
    with pytest.raises(ValidationError, match="短信模板过长"):
        sms.validate_template("长" * 141, allowed=allowed)
    with pytest.raises(ValidationError, match="短信内容过长"):
        sms.render("{title}", {"title": "字" * 135})
    assert sms.render("【党建】{title}", {"title": "缴费"}) == "【党建】缴费"


def test_sms_bad_mobile_refused():
    with pytest.raises(ValidationError, match="手机号码格式不正确"):
        sms.validate_mobile("010-12345678")
    assert sms.validate_mobile("+86 139-0000-0000") == "13900000000"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/sms",
        "http://10.0.0.5/sms",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "http://localhost/",
    ],
)
def test_gateway_url_to_private_address_refused(settings, url):
    settings.PB_CHANNEL_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError, match="内网"):
        transport.validate_gateway_url(url, label="短信网关地址")
    with pytest.raises(PermanentDeliveryError):
        sms.send_sms(sms.SmsConfig(url=url), mobile="13800138000", content="x", msgid="m")


def test_gateway_unknown_param_variable_refused(settings):
    settings.PB_CHANNEL_ALLOWED_HOSTS = []
    config = sms.SmsConfig(url="https://sms.example.gov.cn/send", params={"to": "${phone}"})
    with pytest.raises(ValidationError, match="变量“phone”不存在"):
        config.validate()


# --- per-vendor rate limits ---


def test_rate_limit_per_second_and_minute(settings):
    from notifications.channels import ratelimit

    cache.clear()
    settings.PB_CHANNEL_RATE_LIMITS = {"sms": (2, 3)}
    ratelimit.take("sms", now=1000.0)
    ratelimit.take("sms", now=1000.5)
    with pytest.raises(TransientDeliveryError, match="每秒 2 条"):
        ratelimit.take("sms", now=1000.7)
    ratelimit.take("sms", now=1001.0)  # a new second: the minute's third call
    with pytest.raises(TransientDeliveryError, match="每分钟 3 条"):
        ratelimit.take("sms", now=1001.5)
    ratelimit.take("sms", now=1080.0)  # a new minute
    ratelimit.take("wecom", now=1000.0)  # another vendor's own limits
    cache.clear()
