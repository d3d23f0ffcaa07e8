"""SMS through a generic HTTP gateway (a provincial 政务短信 platform or an operator's gateway).

Settings (``PB_SMS``):

- ``url``, ``method`` (POST/GET), ``format`` (``json`` or ``form``);
- ``params``: the request fields, each value a string with ``${mobile}``, ``${content}``,
  ``${msgid}`` (the outbox idempotency key: gateways drop a repeated 客户流水号), ``${timestamp}``,
  ``${sign}`` and any ``extra`` value (account, sign name);
- ``secret``: ``${sign}`` = hex HMAC-SHA256(secret, timestamp + mobile + content);
- ``success_pattern``: a regular expression the reply body must match; an HTTP 200 whose body
  does not match is a failure; ``transient_pattern`` marks the failures worth retrying (busy,
  rate limited).

Texts are approved templates with ``{variable}`` placeholders (``PB_SMS_TEMPLATES`` or the
defaults below). A segment is 70 characters; longer texts are sent as concatenated segments of 67
and each segment is counted (and billed)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import string
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from notifications.channels import PermanentDeliveryError, TransientDeliveryError, transport

SEGMENT_CHARS = 70
LONG_SEGMENT_CHARS = 67
MAX_SEGMENTS = 2
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PLACEHOLDER_RE = re.compile(r"\$\{([a-z_]+)\}")

# Approved texts: {variable} placeholders only. Keep them short: one segment each where possible.
DEFAULT_TEMPLATES = {
    "reminder": "【党建提醒】{title}。{hint}",
    "notice": "【党建通知】{title}，请登录系统查看。",
}


def segments(text: str) -> int:
    """The SMS segments a text takes: 70 characters fit one; a longer text goes in parts of 67."""
    n = len(text)
    if n <= SEGMENT_CHARS:
        return 1
    return math.ceil(n / LONG_SEGMENT_CHARS)


def template_variables(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def validate_template(template: str, *, allowed: set[str], max_segments: int = MAX_SEGMENTS) -> str:
    """An approved template: known variables only, its fixed text within the segment budget."""
    try:
        names = template_variables(template)
    except ValueError as exc:
        raise ValidationError({"template": "短信模板格式错误：花括号不成对"}) from exc
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValidationError(
            {"template": f"短信模板中的变量“{unknown[0]}”不存在，可用变量：{'、'.join(sorted(allowed))}"}
        )
    fixed = PLACEHOLDER_RE.sub("", re.sub(r"\{[^{}]*\}", "", template))
    if len(fixed) > SEGMENT_CHARS * max_segments:
        raise ValidationError({"template": f"短信模板过长：不超过 {SEGMENT_CHARS * max_segments} 个字"})
    return template


def render(template: str, variables: dict[str, str], *, max_segments: int = MAX_SEGMENTS) -> str:
    """The text of one SMS. A missing variable or a text beyond the budget is refused."""
    names = template_variables(template)
    missing = [n for n in names if n not in variables]
    if missing:
        raise ValidationError({"template": f"短信模板中的变量“{missing[0]}”不存在"})
    text = template.format(**{n: str(variables[n]) for n in names})
    if segments(text) > max_segments:
        limit = LONG_SEGMENT_CHARS * max_segments
        raise ValidationError({"template": f"短信内容过长：{len(text)} 个字，超过 {max_segments} 条（{limit} 个字）"})
    return text


def validate_mobile(value: str) -> str:
    value = re.sub(r"[\s-]", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    if not MOBILE_RE.match(value):
        raise ValidationError("手机号码格式不正确（11 位大陆手机号）")
    return value


@dataclass(frozen=True)
class SmsConfig:
    url: str
    method: str = "POST"
    format: str = "json"
    params: dict[str, str] = field(default_factory=dict)
    secret: str = ""
    success_pattern: str = r'"code"\s*:\s*"?0"?'
    transient_pattern: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls) -> SmsConfig | None:
        return cls.from_mapping(getattr(settings, "PB_SMS", None) or {})

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> SmsConfig | None:
        """From ``PB_SMS`` or an organization's stored credential; None without a URL."""
        if not raw.get("url"):
            return None
        return cls(
            url=raw["url"],
            method=str(raw.get("method", "POST")).upper(),
            format=raw.get("format", "json"),
            params=dict(raw.get("params") or {"mobile": "${mobile}", "content": "${content}", "msgid": "${msgid}"}),
            secret=raw.get("secret", ""),
            success_pattern=raw.get("success_pattern") or cls.success_pattern,
            transient_pattern=raw.get("transient_pattern", ""),
            extra=dict(raw.get("extra") or {}),
        )

    def __repr__(self) -> str:  # never the secret
        return f"SmsConfig(url={self.url!r}, method={self.method!r})"

    def validate(self) -> None:
        transport.validate_gateway_url(self.url, label="短信网关地址")
        if self.method not in ("GET", "POST") or self.format not in ("json", "form"):
            raise ValidationError({"method": "短信网关只支持 GET/POST，参数格式 json 或 form"})
        known = {"mobile", "content", "msgid", "timestamp", "sign", *self.extra}
        for value in self.params.values():
            for name in PLACEHOLDER_RE.findall(value):
                if name not in known:
                    raise ValidationError({"params": f"短信网关参数中的变量“{name}”不存在"})
        try:
            re.compile(self.success_pattern)
            re.compile(self.transient_pattern)
        except re.error as exc:
            raise ValidationError({"success_pattern": "成功判定规则不是有效的正则表达式"}) from exc


def signature(secret: str, timestamp: str, mobile: str, content: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}{mobile}{content}".encode(), hashlib.sha256).hexdigest()


def build_request(
    config: SmsConfig, *, mobile: str, content: str, msgid: str, timestamp: str | None = None
) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    values = {"mobile": mobile, "content": content, "msgid": msgid, "timestamp": timestamp, **config.extra}
    values["sign"] = signature(config.secret, timestamp, mobile, content) if config.secret else ""
    return {
        key: PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), ""), value) for key, value in config.params.items()
    }


def send_sms(config: SmsConfig, *, mobile: str, content: str, msgid: str) -> None:
    """Send one text; raises a delivery error unless the gateway's reply matches the success pattern."""
    try:
        mobile = validate_mobile(mobile)
        config.validate()
    except ValidationError as exc:
        raise PermanentDeliveryError("；".join(exc.messages)) from exc
    fields = build_request(config, mobile=mobile, content=content, msgid=msgid)
    if config.method == "GET":
        _, text = transport.call("GET", config.url, query=fields)
    elif config.format == "form":
        body = urllib.parse.urlencode(fields).encode()
        _, text = transport.call("POST", config.url, body=body, content_type="application/x-www-form-urlencoded")
    else:
        _, text = transport.call("POST", config.url, body=json.dumps(fields, ensure_ascii=False).encode("utf-8"))
    reply = text.decode("utf-8", errors="replace")
    if re.search(config.success_pattern, reply):
        return
    if config.transient_pattern and re.search(config.transient_pattern, reply):
        raise TransientDeliveryError(f"短信网关繁忙：{reply[:100]}")
    raise PermanentDeliveryError(f"短信网关拒绝：{reply[:100]}")
