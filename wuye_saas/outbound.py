"""Requests this server makes to addresses a district configured: webhook receivers, SMS and
WeChat endpoints. A district admin types those addresses, so they must not become a way into the
server's own network (loopback, private ranges, link-local — a cloud's metadata service at
169.254.169.254 —, multicast, reserved):

- an address is allowed when it is public, or inside a network the operator allowed
  (`OUTBOUND_ALLOWED_NETWORKS`, e.g. the 政务外网 range where a city's 12345 platform lives);
- plain http only to such an allowed network: to the internet the bodies (residents' demands,
  phone numbers) go over https;
- every request resolves the host itself, checks every address it gets and connects to the
  address it checked, so a DNS answer cannot change between the check and the connection;
- no redirect is followed (a 3xx is an answer like any other).
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from flask import current_app


class Refused(ValueError):
    """The address may not be reached from this server; message in Chinese for the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotSent(OSError):
    """No connection was made: nothing went out, trying again is safe."""


def _networks():
    return [ipaddress.ip_network(n, strict=False) for n in current_app.config.get("OUTBOUND_ALLOWED_NETWORKS") or []]


def _plain(ip):
    return ip.ipv4_mapped if getattr(ip, "ipv4_mapped", None) else ip


def allowed_network(ip) -> bool:
    ip = _plain(ip)
    return any(ip.version == n.version and ip in n for n in _networks())


def allowed(ip) -> bool:
    ip = _plain(ip)
    return allowed_network(ip) or (ip.is_global and not ip.is_multicast)


def _addresses(host: str, port: int) -> list:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise NotSent(f"无法解析域名 {host}") from e
    return list(dict.fromkeys(ipaddress.ip_address(i[4][0].split("%")[0]) for i in infos))


def _target(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Refused("请填写以 https:// 开头的完整地址。")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("地址中的端口号无效。") from None
    if parts.username or parts.password:
        raise Refused("地址中不能包含用户名或密码。")
    return parts.scheme, parts.hostname, port


def _check(scheme: str, host: str, addrs: list) -> None:
    for ip in addrs:
        if not allowed(ip):
            raise Refused(f"该地址指向内部网络（{ip}），本系统不向其发送。如确需发往政务内网，请运维在 "
                          "OUTBOUND_ALLOWED_NETWORKS 中放行该网段。")
    if scheme == "http" and not all(allowed_network(ip) for ip in addrs):
        raise Refused("发往互联网的地址必须使用 https://。")


def check_url(url: str) -> None:
    """For a form: refuse what can be refused now. A name that does not resolve yet is accepted
    (it may resolve later); each request checks again."""
    scheme, host, port = _target(url)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    try:
        addrs = [literal] if literal is not None else _addresses(host, port)
    except NotSent:
        if scheme == "http":
            raise Refused("发往互联网的地址必须使用 https://。") from None
        return
    _check(scheme, host, addrs)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        self.ssl_context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.ssl_context)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def request(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 10, limit: int = 65536) -> tuple[int, bytes]:
    """(status, the first `limit` bytes of the answer). Raises Refused (not allowed), NotSent
    (no connection: safe to try again) or TimeoutError (the request went out, no answer came)."""
    scheme, host, port = _target(url)
    addrs = _addresses(host, port)
    _check(scheme, host, addrs)
    cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = cls(host, port, str(addrs[0]), timeout)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        try:
            conn.connect()
        except (OSError, ssl.SSLError) as e:
            raise NotSent(f"无法连接 {host}：{e}") from e
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read(limit)
        except (socket.timeout, TimeoutError) as e:
            raise TimeoutError(str(e) or "timed out") from e
    finally:
        conn.close()
