"""billingdash's SSRF guard: the only way the alerts app sends HTTP to a URL a user gave.

`check_url(url)` accepts a URL only with https (no userinfo) and a host whose every
A/AAAA answer is a public address; it answers a `Target` (the checked address included)
or a `Refused` with the reason in words ("refused: 127.0.0.1 is a loopback address").
`post(target, body, headers)` then connects to that very address (pinned: a DNS answer
that changes between the check and the connection, "DNS rebinding", cannot send us
inside), with TLS SNI, certificate check and Host header still the hostname, short
connect/read timeouts, no proxy from the environment, no redirect followed and at most
`ALERTS_HTTP_MAX_RESPONSE_BYTES` of the answer read.

The demo's and tests' exceptions (`ALERTS_ALLOWED_PRIVATE_NETWORKS`, `ALERTS_ALLOW_HTTP`)
are explained in billingdash/settings_alerts.py.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (socket.getaddrinfo by default; a test may
# give its own, as a DNS server would answer).
Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2048
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Refused:
    """Why a URL is not used; `str()` is the sentence the API answers with a 400."""

    reason: str

    def __str__(self) -> str:
        return f"refused: {self.reason}"


@dataclass(frozen=True)
class Target:
    """A checked URL and the address it will be sent to."""

    url: str
    scheme: str
    hostname: str
    port: int
    address: str  # the checked IP: the connection goes there and nowhere else

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return host if self.port == default else f"{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in answers))


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _allowed_networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def allowed_networks() -> tuple[Network, ...]:
    return _allowed_networks(tuple(settings.ALERTS_ALLOWED_PRIVATE_NETWORKS))


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv6 one that reaches it: IPv4-mapped (::ffff:a.b.c.d),
    6to4 (2002::/16) and the NAT64 well-known prefix (64:ff9b::/96)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address ("a loopback address"), or None when it is."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        problem = address_problem(inner)
        return f"{problem} (inside the IPv6 address)" if problem else None
    checks: list[tuple[bool, str]] = [
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a carrier-grade NAT address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL, "a unique-local address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a public address"),
    ]
    return next((words for failed, words in checks if failed), None)


def _check_address(ip: IPAddress, host: str) -> Refused | None:
    problem = address_problem(ip)
    if problem is None:
        return None
    # 0.0.0.0 and :: mean "this machine" to connect(): never allowed, whatever the list.
    if not ip.is_unspecified and any(ip in net for net in allowed_networks()):
        return None
    shown = str(ip)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        shown = f"::ffff:{ip.ipv4_mapped}"
    if host == str(ip):
        return Refused(f"{shown} is {problem}")
    return Refused(f"{host} resolves to {shown}, which is {problem}")


def _parse(url: str) -> SplitResult | Refused:
    if not isinstance(url, str) or not url.strip():
        return Refused("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        return Refused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return Refused("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return Refused("the URL cannot be parsed (check its host and port)")
    allowed = ("https", "http") if settings.ALERTS_ALLOW_HTTP else ("https",)
    if parts.scheme.lower() not in allowed:
        return Refused("only https:// URLs are accepted")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return Refused("the URL must not contain a user name or password")
    if not parts.hostname:
        return Refused("the URL has no host")
    return parts


def _hostname(parts: SplitResult) -> str | Refused:
    host = parts.hostname or ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return Refused(f"{host!r} is not a valid host name")
    if not ascii_host:
        return Refused("the URL has no host")
    return ascii_host


def check_url(url: str, *, resolver: Resolver | None = None) -> Target | Refused:
    """Accept `url` (see the module docstring) and pin the address it resolves to now."""
    parts = _parse(url)
    if isinstance(parts, Refused):
        return parts
    host = _hostname(parts)
    if isinstance(host, Refused):
        return host
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = (resolver or system_resolver)(host, port)
        except (OSError, UnicodeError):
            return Refused(f"{host} does not resolve to an address")
    if not addresses:
        return Refused(f"{host} does not resolve to an address")
    for text in addresses:
        refused = _check_address(ipaddress.ip_address(text), host)
        if refused is not None:
            return refused
    return Target(url=url, scheme=scheme, hostname=host, port=port, address=addresses[0])


# --- sending -----------------------------------------------------------------------------


class _PinnedAdapter(HTTPAdapter):
    """Connects to `target.address`, whatever the URL's host resolves to meanwhile;
    TLS (SNI and the certificate's name) is checked against the hostname."""

    def __init__(self, target: Target) -> None:
        self.target = target
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        if host_params["host"].strip("[]").lower() != self.target.hostname:
            raise requests.exceptions.InvalidURL("the request left the checked host")
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = self.target.hostname
            pool_kwargs["assert_hostname"] = self.target.hostname
        return self.poolmanager.connection_from_host(
            host=self.target.address,
            port=host_params["port"],
            scheme=host_params["scheme"],
            pool_kwargs=pool_kwargs,
        )


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes  # at most ALERTS_HTTP_MAX_RESPONSE_BYTES


def post(target: Target, body: bytes, headers: Mapping[str, str]) -> HttpAnswer:
    """POST `body` to the checked target. Raises `requests.RequestException` on network
    errors and timeouts; a redirect is an answer like any other (never followed)."""
    session = requests.Session()
    session.trust_env = False  # no HTTP(S)_PROXY, no .netrc: nothing else sees the URL
    adapter = _PinnedAdapter(target)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    verify: Any = settings.ALERTS_CA_BUNDLE or True
    timeout = (settings.ALERTS_HTTP_CONNECT_TIMEOUT, settings.ALERTS_HTTP_READ_TIMEOUT)
    send_headers = {**headers, "Host": target.host_header}
    limit = settings.ALERTS_HTTP_MAX_RESPONSE_BYTES
    with session:
        response = session.post(
            target.url,
            data=body,
            headers=send_headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            verify=verify,
        )
        with response:
            chunks, size = [], 0
            for chunk in response.iter_content(chunk_size=8192):
                chunks.append(chunk)
                size += len(chunk)
                if size >= limit:
                    break
            return HttpAnswer(
                status=response.status_code,
                headers=dict(response.headers),
                body=b"".join(chunks)[:limit],
            )
