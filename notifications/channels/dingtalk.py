"""钉钉 工作通知: ``gettoken`` with the app key and secret, then
``topapi/message/corpconversation/asyncsend_v2`` to ``userid_list`` (up to 100 ids a call).

Settings (``PB_DINGTALK``): ``base_url`` (default https://oapi.dingtalk.com), ``app_key``,
``app_secret``, ``agent_id``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from notifications.channels import PermanentDeliveryError, tokens

DEFAULT_BASE_URL = "https://oapi.dingtalk.com"
TOKEN_EXPIRED = {40014, 42001, 88}  # invalid / expired access_token
TRANSIENT = {-1, 90002, 90018, 143106}  # system busy, frequency limits
INVALID_USER = {33012, 60121}  # invalid userid / user not found
USERID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_USERS_PER_CALL = 100
SEND_PATH = "/topapi/message/corpconversation/asyncsend_v2"


@dataclass(frozen=True)
class DingtalkConfig:
    app_key: str
    app_secret: str
    agent_id: int
    base_url: str = DEFAULT_BASE_URL

    @classmethod
    def from_settings(cls) -> DingtalkConfig | None:
        return cls.from_mapping(getattr(settings, "PB_DINGTALK", None) or {})

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> DingtalkConfig | None:
        """From ``PB_DINGTALK`` or an organization's stored credential; None when incomplete."""
        if not (raw.get("app_key") and raw.get("app_secret") and raw.get("agent_id")):
            return None
        return cls(
            str(raw["app_key"]), str(raw["app_secret"]), int(raw["agent_id"]), raw.get("base_url") or DEFAULT_BASE_URL
        )

    def __repr__(self) -> str:  # never the secret
        return f"DingtalkConfig(app_key={self.app_key!r}, agent_id={self.agent_id})"


def validate_userid(value: str) -> str:
    value = (value or "").strip()
    if not USERID_RE.match(value):
        raise ValidationError("钉钉账号只能包含字母、数字、_ 和 -，长度 1–64 个字符")
    return value


API = tokens.WorkApp(
    vendor="dingtalk",
    label="钉钉",
    auth_path="/gettoken",
    credentials=lambda config: (config.app_key, config.app_secret),
    token_query=lambda config: {"appkey": config.app_key, "appsecret": config.app_secret},
    expired_codes=frozenset(TOKEN_EXPIRED),
    transient_codes=frozenset(TRANSIENT),
    invalid_user_codes=frozenset(INVALID_USER),
)


def chunks(userids: list[str]) -> list[list[str]]:
    return [userids[i : i + MAX_USERS_PER_CALL] for i in range(0, len(userids), MAX_USERS_PER_CALL)]


def send_work_notice(
    config: DingtalkConfig, *, userids: list[str], title: str, text: str, url: str
) -> list[dict[str, Any]]:
    """Send one work notice to the users, 100 ids a call. The token is refreshed once on expiry."""
    for userid in userids:
        try:
            validate_userid(userid)
        except ValidationError as exc:
            raise PermanentDeliveryError(exc.messages[0]) from exc
    if url:
        msg = {
            "msgtype": "action_card",
            "action_card": {"title": title, "markdown": text, "single_title": "查看详情", "single_url": url},
        }
    else:
        msg = {"msgtype": "text", "text": {"content": f"【{title}】\n{text}"}}
    replies = []
    for batch in chunks(userids):
        payload = {"agent_id": config.agent_id, "userid_list": ",".join(batch), "msg": msg}
        replies.append(API.call(config, SEND_PATH, payload, stage="钉钉发送"))
    return replies
