"""#21.7: the group-chat robot URL cannot point the worker at the host or the intranet.

The attack: with the default empty allow-list, ``http://127.0.0.1:6379/``, ``http://[::1]/``,
``http://169.254.169.254/``, ``http://0177.0.0.1/``, ``http://2130706433/`` and
``http://localhost./`` were accepted and the worker POSTed to them. Now they are refused when
saved, and at send time the host is resolved, every address checked, and the connection made to
the checked address (a name that resolves to a private address is refused too).
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from core.outbound import UnsafeDestination, check_url_host, resolve_checked
from notifications.channels import PermanentDeliveryError, post_webhook
from notifications.models import WebhookEndpoint
from notifications.services.webhooks import webhook_configure

pytestmark = pytest.mark.django_db

ATTACKS = [
    "http://127.0.0.1:6379/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0177.0.0.1/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://localhost./",
    "http://LOCALHOST/",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
]


@pytest.fixture
def listener():
    """A loopback server that counts what reaches it (nothing may)."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("url", ATTACKS)
def test_21_7_internal_robot_urls_are_refused_when_saved(cast, settings, url):
    settings.PB_WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError) as exc:
        webhook_configure(user=cast.users["org_admin_p"], organization=cast.A, kind="wecom", url=url)
    assert "内网" in exc.value.message_dict["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_21_7_the_worker_never_posts_to_an_internal_address(settings, listener):
    port, hits = listener
    settings.PB_WEBHOOK_ALLOWED_HOSTS = []
    for url in (f"http://127.0.0.1:{port}/", f"http://0177.0.0.1:{port}/", f"http://2130706433:{port}/"):
        with pytest.raises(PermanentDeliveryError):
            post_webhook(url=url, kind="generic", secret="", payload={"x": 1}, idempotency_key="k")
    assert hits == []


def test_21_7_a_name_resolving_to_a_private_address_is_refused_at_send_time(settings, listener, monkeypatch):
    """DNS: a public-looking name that resolves to loopback (or rebinds to it) is refused."""
    port, hits = listener
    settings.PB_WEBHOOK_ALLOWED_HOSTS = []
    check_url_host("robot.example.com", allowed=[])  # the name itself passes the save-time check

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(PermanentDeliveryError):
        post_webhook(
            url=f"http://robot.example.com:{port}/", kind="generic", secret="", payload={}, idempotency_key="k"
        )
    assert hits == []


def test_21_7_an_allow_listed_intranet_host_is_delivered_to(settings, listener):
    port, hits = listener
    settings.PB_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    post_webhook(url=f"http://127.0.0.1:{port}/hook?key=1", kind="generic", secret="", payload={}, idempotency_key="k")
    assert hits == ["/hook?key=1"]


def test_21_7_public_addresses_pass():
    assert resolve_checked("93.184.216.34", 80, allowed=[]) == "93.184.216.34"
    check_url_host("qyapi.weixin.qq.com", allowed=[])
    with pytest.raises(UnsafeDestination):
        resolve_checked("169.254.169.254", 80, allowed=[])
