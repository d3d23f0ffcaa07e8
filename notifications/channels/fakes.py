"""Fake vendor servers for tests and the demo: one small threaded HTTP server on loopback that
speaks the SMS gateway, 企业微信 and 钉钉 APIs the adapters use, records every request and can
answer with the vendors' real error codes.

    fake = FakeVendors.start()            # 127.0.0.1, a free port (or port=81xx)
    fake.fail("wecom_send", 45009)        # the next send answers "frequency limit"
    fake.expire_tokens()                  # tokens issued so far answer 42001 (wecom) / 40014 (钉钉)
    fake.delivered["wecom"]               # what reached a person (after the vendor's dedupe)
    fake.stop()

Scripted failures (``fail(endpoint, code)``): endpoints ``sms``, ``wecom_token``, ``wecom_send``,
``dingtalk_token``, ``dingtalk_send``. Known users (``wecom_users`` / ``dingtalk_users``): other
ids are invalid (企业微信 ``invaliduser``, 钉钉 33012). The SMS gateway drops a repeated
``msgid`` and answers ``{"code": "0"}``; errors come as HTTP 200 with ``{"code": "<n>"}``."""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ERRMSG = {
    -1: "system busy",
    40014: "invalid access_token",
    42001: "access_token expired",
    45009: "reach max api daily quota limit",
    60111: "userid not found",
    88: "不合法的access_token",
    90018: "应用调用接口频率超过限制",
    33012: "无效的USERID",
    1001: "系统繁忙",
    1002: "请求过于频繁",
    2001: "号码无效",
}


class FakeVendors(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.delivered: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.scripted: dict[str, deque[int]] = defaultdict(deque)
        self.tokens: dict[str, str] = {}  # token → vendor, valid ones only
        self.expired: set[str] = set()
        self.seen_keys: set[str] = set()
        self.wecom_users: set[str] | None = None
        self.dingtalk_users: set[str] | None = None
        self.thread: threading.Thread | None = None

    @classmethod
    def start(cls, port: int = 0) -> FakeVendors:
        server = cls(port)
        server.thread = threading.Thread(target=server.serve_forever, daemon=True)
        server.thread.start()
        return server

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def fail(self, endpoint: str, *codes: int) -> None:
        with self.lock:
            self.scripted[endpoint].extend(codes)

    def expire_tokens(self) -> None:
        with self.lock:
            self.expired.update(self.tokens)
            self.tokens.clear()

    def calls(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    # --- handlers (called with the lock held) ---

    def _scripted(self, endpoint: str) -> int | None:
        queue = self.scripted.get(endpoint)
        return queue.popleft() if queue else None

    def _token(self, vendor: str) -> dict[str, Any]:
        code = self._scripted(f"{vendor}_token")
        if code is not None:
            return {"errcode": code, "errmsg": ERRMSG.get(code, "error")}
        token = uuid.uuid4().hex
        self.tokens[token] = vendor
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def _check_token(self, vendor: str, query: dict[str, str]) -> dict[str, Any] | None:
        token = query.get("access_token", "")
        if self.tokens.get(token) == vendor:
            return None
        code = (42001 if vendor == "wecom" else 88) if token in self.expired else 40014
        return {"errcode": code, "errmsg": ERRMSG.get(code, "error")}

    def handle_api(self, method: str, path: str, query: dict[str, str], body: bytes, headers: Any) -> Any:
        record = {"method": method, "path": path, "query": query, "body": body.decode("utf-8", "replace")}
        self.requests.append(record)
        if path == "/cgi-bin/gettoken":
            return self._token("wecom")
        if path == "/gettoken":
            return self._token("dingtalk")
        if path == "/cgi-bin/message/send":
            return self._wecom_send(query, json.loads(body or b"{}"))
        if path == "/topapi/message/corpconversation/asyncsend_v2":
            return self._dingtalk_send(query, json.loads(body or b"{}"))
        if path == "/sms/send":
            return self._sms(body, headers, query)
        return None

    def _wecom_send(self, query: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        error = self._check_token("wecom", query)
        if error:
            return error
        code = self._scripted("wecom_send")
        if code is not None:
            return {"errcode": code, "errmsg": ERRMSG.get(code, "error")}
        users = payload.get("touser", "").split("|")
        invalid = [u for u in users if self.wecom_users is not None and u not in self.wecom_users]
        valid = [u for u in users if u not in invalid]
        card = payload.get("textcard", {})
        for user in valid:
            key = f"wecom:{user}:{card.get('title')}:{card.get('description')}"
            if payload.get("enable_duplicate_check") and key in self.seen_keys:
                continue  # the vendor's duplicate check: accepted, not delivered again
            self.seen_keys.add(key)
            self.delivered["wecom"].append({"user": user, **card})
        reply: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "msgid": uuid.uuid4().hex}
        if invalid:
            reply["invaliduser"] = "|".join(invalid)
        return reply

    def _dingtalk_send(self, query: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        error = self._check_token("dingtalk", query)
        if error:
            return error
        code = self._scripted("dingtalk_send")
        if code is not None:
            return {"errcode": code, "errmsg": ERRMSG.get(code, "error")}
        users = [u for u in str(payload.get("userid_list", "")).split(",") if u]
        if len(users) > 100:
            return {"errcode": 33001, "errmsg": "userid_list 超过 100"}
        if self.dingtalk_users is not None and any(u not in self.dingtalk_users for u in users):
            return {"errcode": 33012, "errmsg": ERRMSG[33012]}
        for user in users:
            self.delivered["dingtalk"].append({"user": user, "msg": payload.get("msg")})
        return {"errcode": 0, "errmsg": "ok", "task_id": len(self.requests)}

    def _sms(self, body: bytes, headers: Any, query: dict[str, str]) -> dict[str, Any]:
        content_type = headers.get("Content-Type", "")
        if body and "json" in content_type:
            fields = json.loads(body)
        elif body:
            fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        else:
            fields = query
        code = self._scripted("sms")
        if code is not None:
            return {"code": str(code), "msg": ERRMSG.get(code, "error")}
        msgid = fields.get("msgid", "")
        if msgid and f"sms:{msgid}" in self.seen_keys:
            return {"code": "0", "msg": "duplicate ignored"}
        self.seen_keys.add(f"sms:{msgid}")
        self.delivered["sms"].append(fields)
        return {"code": "0", "msg": "ok"}


class _Handler(BaseHTTPRequestHandler):
    server: FakeVendors

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            reply = self.server.handle_api(method, parts.path, query, body, self.headers)
        data = json.dumps(reply if reply is not None else {"errcode": 404}, ensure_ascii=False).encode()
        self.send_response(200 if reply is not None else 404)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def log_message(self, *args: Any) -> None:  # quiet
        pass
