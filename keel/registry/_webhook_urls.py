"""Webhook target URLs: the allowlist, and which resolved addresses a delivery may connect to.

The allowlist is a list of URL prefixes. An entry ``https://hooks.example.com`` allows every
path on that origin; ``https://hooks.example.com/keel/`` allows only paths under ``/keel/``.
A target matches an entry when scheme, host and port are equal (no wildcards, no subdomains;
the default port is filled in) and the target's path starts with the entry's path at a ``/``
boundary. ``https`` is required, except ``http`` to a loopback host (``127.0.0.0/8``, ``::1``,
``localhost``). URLs carrying a user name or password are refused.

Addresses (checked on every delivery, after resolving the host once; see
:func:`address_refusal`):

- link-local (``169.254.0.0/16``, ``fe80::/10``), cloud metadata endpoints
  (``169.254.169.254``, ``169.254.170.2``, ``fd00:ec2::254``, ``100.100.100.200``), multicast,
  unspecified and reserved addresses are always refused;
- public (globally routable) addresses are allowed;
- every other address (private, loopback, shared ``100.64.0.0/10``, unique-local) is allowed
  only when the target names it literally (``http://127.0.0.1:8080``), or the host is
  ``localhost`` and the address is loopback. An allowlisted *name* that starts resolving to a
  private address (DNS rebinding) is therefore refused, and the delivery connects to the address
  that was checked, never to a second lookup.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from keel.errors import InvalidArgument

__all__ = ["ParsedURL", "address_refusal", "is_ip", "parse_webhook_url", "resolve_host"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_ip(host: str) -> bool:
    """Whether ``host`` is an IP literal (no brackets)."""
    return _literal(host) is not None


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    ip = _literal(host)
    return ip is not None and _unmapped(ip).is_loopback


@dataclass(frozen=True)
class ParsedURL:
    """A checked webhook URL; ``host`` is lower-case, without IPv6 brackets."""

    scheme: str
    host: str
    port: int
    path: str
    query: str

    @property
    def default_port(self) -> bool:
        return _DEFAULT_PORTS[self.scheme] == self.port

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.default_port else f"{host}:{self.port}"

    @property
    def display(self) -> str:
        """Origin and path, without the query (which may carry a token): safe for logs."""
        return f"{self.scheme}://{self.host_header}{self.path}"

    def pinned(self, address: str) -> str:
        """This URL with the host replaced by ``address`` (the resolved, checked IP)."""
        host = f"[{address}]" if ":" in address else address
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{host}:{self.port}{self.path}{query}"

    def within(self, prefix: ParsedURL) -> bool:
        if (self.scheme, self.host, self.port) != (prefix.scheme, prefix.host, prefix.port):
            return False
        base = prefix.path
        if base == "/":
            return True
        if base.endswith("/"):
            return self.path.startswith(base)
        return self.path == base or self.path.startswith(base + "/")


def parse_webhook_url(url: str, *, what: str = "webhook URL") -> ParsedURL:
    """Parse and check ``url`` (scheme, host, no credentials); raises InvalidArgument."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InvalidArgument(f"{what} {url!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        raise InvalidArgument(f"{what} {url!r} must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidArgument(f"{what} {url!r} must not carry a user name or password")
    if parts.fragment:
        raise InvalidArgument(f"{what} {url!r} must not have a #fragment")
    path = parts.path or "/"
    segments = path.split("/")
    encoded = path.lower()
    if "." in segments or ".." in segments or "%2e" in encoded or "%2f" in encoded:
        raise InvalidArgument(f"{what} {url!r} must not contain dot segments or encoded / or .")
    if scheme == "http" and not _is_loopback_host(host):
        raise InvalidArgument(
            f"{what} {url!r} must use https (plain http is allowed only to 127.0.0.1, ::1 "
            "or localhost)"
        )
    return ParsedURL(
        scheme=scheme,
        host=host,
        port=port if port is not None else _DEFAULT_PORTS[scheme],
        path=path,
        query=parts.query,
    )


def address_refusal(address: str, host: str) -> str | None:
    """Why a delivery to ``host`` must not connect to ``address``, or None when it may.

    See the module docstring for the rules."""
    try:
        ip = _unmapped(ipaddress.ip_address(address))
    except ValueError:
        return f"{address!r} is not an IP address"
    if ip in _METADATA:
        return f"{ip} is a cloud metadata address"
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or (
        ip.is_reserved and not ip.is_loopback
    ):
        return f"{ip} is a link-local, multicast, unspecified or reserved address"
    if ip.is_global:
        return None
    literal = _literal(host.strip("[]"))
    if literal is not None and _unmapped(literal) == ip:
        return None
    if host == "localhost" and ip.is_loopback:
        return None
    return f"{ip} is a non-public address and {host!r} does not name it literally"


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (TCP), in resolver order, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen
