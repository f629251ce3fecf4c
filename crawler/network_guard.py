"""Refuse requests to private, loopback, link-local and metadata addresses (SSRF guard).

A feed, sitemap or redirect can point anywhere; unless ``allow_private_networks``
is set, a host that resolves to a non-public address is never contacted. The
check runs on every request, redirects included, after DNS resolution.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest


class PrivateAddressRefused(IgnoreRequest):
    """The request's host resolves to an address newsmon will not contact."""


def is_public_address(address: str) -> bool:
    """True when ``address`` is a globally routable unicast address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return ()  # unresolvable: let the downloader report the DNS error itself
    return tuple(sorted({info[4][0] for info in infos}))


def refused_address(url: str) -> str | None:
    """The first non-public address ``url``'s host resolves to, or None."""
    host = urlsplit(url).hostname
    if not host:
        return None
    for address in _resolve(host):
        if not is_public_address(address):
            return address
    return None


class PrivateNetworkGuard:
    """Downloader middleware applying :func:`refused_address` unless private networks are allowed."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getbool("NEWSMON_ALLOW_PRIVATE_NETWORKS"))

    def process_request(self, request):
        if self.allow_private:
            return None
        address = refused_address(request.url)
        if address:
            raise PrivateAddressRefused(
                f"refused {request.url}: resolves to non-public address {address} (allow_private_networks = false)"
            )
        return None
