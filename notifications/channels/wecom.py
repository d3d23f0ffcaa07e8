"""企业微信 application messages: ``gettoken`` with the corp id and the app's secret, then
``message/send`` with ``touser`` and a ``textcard`` carrying the link.

Settings (``PB_WECOM``): ``base_url`` (default https://qyapi.weixin.qq.com), ``corp_id``,
``secret``, ``agent_id``. The vendor's duplicate check (``enable_duplicate_check``) makes a resend
after a killed worker a no-op on their side within ``duplicate_check_interval``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from notifications.channels import InvalidRecipientError, PermanentDeliveryError, tokens

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
TOKEN_EXPIRED = {42001, 40014}  # access_token expired / invalid
TRANSIENT = {-1, 45009, 45033, 45047}  # system busy, frequency limits
INVALID_USER = {60111, 60102, 81013, 40031}  # user id not found / invalid
USERID_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
DUPLICATE_CHECK_SECONDS = 4 * 3600
MAX_USERS_PER_CALL = 1000


@dataclass(frozen=True)
class WecomConfig:
    corp_id: str
    secret: str
    agent_id: int
    base_url: str = DEFAULT_BASE_URL

    @classmethod
    def from_settings(cls) -> WecomConfig | None:
        return cls.from_mapping(getattr(settings, "PB_WECOM", None) or {})

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> WecomConfig | None:
        """From ``PB_WECOM`` or an organization's stored credential; None when incomplete."""
        if not (raw.get("corp_id") and raw.get("secret") and raw.get("agent_id")):
            return None
        return cls(
            str(raw["corp_id"]), str(raw["secret"]), int(raw["agent_id"]), raw.get("base_url") or DEFAULT_BASE_URL
        )

    def __repr__(self) -> str:  # never the secret
        return f"WecomConfig(corp_id={self.corp_id!r}, agent_id={self.agent_id})"


def validate_userid(value: str) -> str:
    value = (value or "").strip()
    if not USERID_RE.match(value):
        raise ValidationError("企业微信账号只能包含字母、数字和 _ . @ -，长度 1–64 个字符")
    return value


API = tokens.WorkApp(
    vendor="wecom",
    label="企业微信",
    auth_path="/cgi-bin/gettoken",
    credentials=lambda config: (config.corp_id, config.secret),
    token_query=lambda config: {"corpid": config.corp_id, "corpsecret": config.secret},
    expired_codes=frozenset(TOKEN_EXPIRED),
    transient_codes=frozenset(TRANSIENT),
    invalid_user_codes=frozenset(INVALID_USER),
)


def send_textcard(config: WecomConfig, *, userids: list[str], title: str, description: str, url: str) -> dict[str, Any]:
    """Send one textcard to up to 1000 users. The token is refreshed once on 42001/40014."""
    for userid in userids:
        try:
            validate_userid(userid)
        except ValidationError as exc:
            raise PermanentDeliveryError(exc.messages[0]) from exc
    payload = {
        "touser": "|".join(userids[:MAX_USERS_PER_CALL]),
        "msgtype": "textcard",
        "agentid": config.agent_id,
        "textcard": {"title": title[:128], "description": description[:512], "url": url or "", "btntxt": "详情"},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
    }
    reply = API.call(config, "/cgi-bin/message/send", payload, stage="企业微信发送")
    if reply.get("invaliduser"):
        raise InvalidRecipientError(f"企业微信账号无效：{reply['invaliduser']}"[:200])
    return reply
