"""Outbound HTTP to addresses users configure (group-chat robots, later other channels): SSRF guard.

A URL an org_admin saves is fetched by the worker, inside the network. Without a guard,
``http://127.0.0.1:6379/``, ``http://[::1]/``, ``http://169.254.169.254/`` (cloud metadata), the
legacy spellings ``http://0177.0.0.1/`` and ``http://2130706433/``, or ``http://localhost./`` make
the worker talk to itself or the intranet (#21.7). Rules:

- when saved (``check_url_host``): a literal address (in any spelling ``inet_aton`` accepts) or a
  ``localhost`` name that is not public is refused;
- when sent (``pinned_connection``): the host is resolved, *every* address must be public, and the
  connection goes to the address that was checked (no second lookup, so DNS rebinding between the
  check and the connect does not help);
- a host named in the allow-list (``PB_WEBHOOK_ALLOWED_HOSTS`` for robots) is exempt: that is how
  an intranet robot relay is permitted. A non-empty allow-list also admits no other host.

Public means ``ipaddress``' ``is_global``: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7),
link-local (169.254/16, fe80::/10), shared (100.64/10), unspecified, reserved, documentation and
multicast ranges are refused; an IPv4-mapped IPv6 address is judged by its IPv4 address.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable
from typing import Any

NOT_PUBLIC = "地址指向本机、内网或保留地址，已拒绝（确需使用内网地址的，请由系统管理员将该主机加入允许列表）"
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(ValueError):
    """The destination is not a public address and not in the allow-list."""


def normalise_host(host: str) -> str:
    return (host or "").strip().strip("[]").rstrip(".").lower()


def host_in(host: str, allowed: Iterable[str]) -> bool:
    return normalise_host(host) in {normalise_host(item) for item in allowed}


def literal_address(host: str) -> IPAddress | None:
    """The address a host spells literally, also in the legacy forms (octal, hex, one number)."""
    host = normalise_host(host)
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError as exc:
            raise UnsafeDestination("主机地址无效") from exc
    return None


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url_host(host: str, *, allowed: Iterable[str]) -> None:
    """Save-time check of a host (no DNS lookup): raises ``UnsafeDestination``."""
    allowed = list(allowed)
    if host_in(host, allowed):
        return
    if allowed:
        raise UnsafeDestination(f"只允许以下主机：{'、'.join(allowed)}")
    name = normalise_host(host)
    if name == "localhost" or name.endswith(".localhost"):
        raise UnsafeDestination(NOT_PUBLIC)
    address = literal_address(name)
    if address is not None and not is_public(address):
        raise UnsafeDestination(NOT_PUBLIC)


def resolve_checked(host: str, port: int, *, allowed: Iterable[str]) -> str:
    """Send-time check: the address to connect to. Every address the host resolves to must be
    public unless the host is in the allow-list."""
    allowed = list(allowed)
    check_url_host(host, allowed=allowed)
    name = normalise_host(host)
    literal = literal_address(name)
    if literal is not None:
        return str(literal)
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise OSError(f"无法解析主机名：{exc.__class__.__name__}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise OSError("无法解析主机名")
    if not host_in(host, allowed) and not all(is_public(address) for address in addresses):
        raise UnsafeDestination(NOT_PUBLIC)
    return str(addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, *, address: str, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, *, address: str, **kwargs: Any) -> None:
        super().__init__(host, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # certificate checked for the name


def pinned_connection(
    scheme: str, host: str, port: int | None, *, allowed: Iterable[str], timeout: float
) -> http.client.HTTPConnection:
    """An HTTP(S) connection to ``host`` that connects only to the address checked here.
    Raises ``UnsafeDestination`` (refused) or ``OSError`` (name not resolved)."""
    port = port or (443 if scheme == "https" else 80)
    address = resolve_checked(host, port, allowed=allowed)
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    return cls(normalise_host(host), port=port, timeout=timeout, address=address)
