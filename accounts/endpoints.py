"""Which endpoint URLs an AWS account may point the portal at (no SSRF through them).

Checked when an account is saved (the model field's validator) AND whenever a client is built or
a request is sent (accounts/aws.py), because a host name can resolve to another address later
(DNS rebinding) and rows saved before these rules existed are not trusted either.

Rules: https (http only where AWS_ENDPOINT_ALLOW_HTTP is on); no user info, query or fragment;
no whitespace or control characters anywhere in the raw string (urlsplit silently drops CR/LF);
IPv4 only in dotted decimal; every address the host resolves to must be public, unless it lies in
AWS_ENDPOINT_ALLOWED_NETWORKS. Cloud metadata names and addresses are refused always.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
        "metadata.tencentyun.com",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, ...
        "169.254.170.2",  # ECS task credentials
        "169.254.169.253",  # AWS DNS
        "169.254.169.123",  # AWS time
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::253",
        "100.100.100.200",  # Alibaba Cloud
    )
)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_PREFIX = ipaddress.ip_network("64:ff9b:1::/48")
# Something that looks like a number-based IPv4 spelling: 2852039166, 0xa9fea9fe, 0251.0376.0.1,
# 127.1 ... (resolvers accept them; ipaddress does not, so they would slip past a literal check).
NUMERIC_HOST_RE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?$", re.IGNORECASE)


class EndpointError(ValueError):
    """The endpoint URL is refused; the message says why (never what an endpoint answered)."""


def _clip(value: str) -> str:
    return repr(value[:120])


def parse_endpoint(raw: str) -> SplitResult:
    """The URL's parts, after the checks that need no network."""
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in raw):
        raise EndpointError(
            f"The endpoint URL {_clip(raw)} contains whitespace or control characters "
            "(e.g. a line break): remove them."
        )
    parts = urlsplit(raw)
    allowed = {"https", "http"} if settings.AWS_ENDPOINT_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        what = "an http(s)" if settings.AWS_ENDPOINT_ALLOW_HTTP else "an https://"
        raise EndpointError(f"{_clip(raw)} is not {what} URL (e.g. https://s3.example.com).")
    if "@" in parts.netloc:
        raise EndpointError("The endpoint URL must not contain credentials (user@host).")
    if "?" in raw or "#" in raw:
        raise EndpointError("The endpoint URL must not have a query (?...) or fragment (#...).")
    if not parts.hostname:
        raise EndpointError(f"{_clip(raw)} has no host name.")
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as exc:
        raise EndpointError(f"{_clip(raw)} has an invalid port.") from exc
    return parts


@lru_cache(maxsize=8)
def _allowed_networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in spec if c.strip())


def allowed_networks() -> tuple[IPNetwork, ...]:
    return _allowed_networks(tuple(settings.AWS_ENDPOINT_ALLOWED_NETWORKS))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo, compatible)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_PREFIX or address in NAT64_LOCAL_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated ::a.b.c.d
        return ipaddress.IPv4Address(int(address))
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why the portal must not send requests to `address` (None: it may)."""
    inner = _embedded_ipv4(address)
    for candidate in (address, inner):
        if candidate is not None and candidate in METADATA_ADDRESSES:
            return "a cloud metadata service"
    target = inner or address
    # The allowlist matches the address as written: an IPv4-mapped or NAT64 spelling of an
    # allowlisted IPv4 address is still judged by the IPv4 rules below.
    if any(address in net for net in allowed_networks()):
        return None
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, label in checks:
        if getattr(target, attribute):
            return label
    if isinstance(target, ipaddress.IPv4Address) and target in ipaddress.ip_network(
        "100.64.0.0/10"
    ):
        return "a carrier-grade NAT address"
    if not target.is_global:
        return "not a public address"
    return None


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests replace this function with their own resolver)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]).split("%", 1)[0] for info in infos})


def host_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses a request to `host` would go to; refuses odd IPv4 spellings and names."""
    name = host.strip("[]").rstrip(".").lower()
    if name in METADATA_HOSTS:
        raise EndpointError(f"{host} is a cloud metadata service: the portal never calls it.")
    try:
        return [ipaddress.ip_address(name)]
    except ValueError:
        pass
    if NUMERIC_HOST_RE.match(name):
        raise EndpointError(
            f"{host} is an IPv4 address in a non-standard spelling (decimal, octal or hex): "
            "write it as four decimal numbers, e.g. 203.0.113.10."
        )
    try:
        resolved = resolve_host(name, port)
    except (OSError, UnicodeError) as exc:
        raise EndpointError(f"The endpoint host {host} does not resolve.") from exc
    if not resolved:
        raise EndpointError(f"The endpoint host {host} does not resolve.")
    return [ipaddress.ip_address(a) for a in resolved]


def _is_name(host: str) -> bool:
    """A host name (resolved through DNS), not an IP address literal."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return True
    return False


def check_host(host: str, port: int) -> list[IPAddress]:
    """The addresses `host` resolves to now, every one allowed; raises EndpointError otherwise.

    Called when an account is saved, a client built, a request sent, and a socket opened
    (pinned_http.py connects to exactly these addresses).
    """
    addresses = host_addresses(host, port)
    for address in addresses:
        reason = refusal_reason(address)
        if reason:
            verb = "resolved to" if _is_name(host) else "is"
            raise EndpointError(
                f"The endpoint host {host} {verb} {reason} ({address}): the portal does not "
                "send requests there. A platform administrator can allow a network with "
                "AWS_ENDPOINT_ALLOWED_NETWORKS."
            )
    return addresses


def check_endpoint(raw: str) -> SplitResult:
    """All the rules, including resolving the host now. Raises EndpointError."""
    parts = parse_endpoint(raw)
    default_port = 443 if parts.scheme == "https" else 80
    check_host(parts.hostname or "", parts.port or default_port)
    return parts


def check_request_url(url: str) -> None:
    """Before a request leaves: its host (which may be bucket.endpoint) must still be allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError("The request URL has no usable host.")
    check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
