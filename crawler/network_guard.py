"""Refuse requests to private, loopback, link-local and metadata addresses (SSRF guard).

A feed, sitemap or redirect can point anywhere; unless ``allow_private_networks``
is set, a host that resolves to a non-public address is never contacted. Two
layers, both on by default:

- :class:`PrivateNetworkGuard`, a downloader middleware, resolves every
  request's host (redirects and robots.txt included) before it is queued, off
  the reactor thread, and refuses it with a message naming the address;
- :class:`PublicOnlyResolver`, the Twisted DNS resolver of the crawl, checks
  the address the connection will actually use, so a DNS answer that changes
  between the two lookups (DNS rebinding) cannot slip through.

Non-public means anything but a global unicast address, with IPv4 addresses
embedded in IPv6 (``::ffff:10.0.0.1``, 6to4 ``2002::/16``, NAT64
``64:ff9b::/96``, the old ``::/96``) judged by their IPv4 part.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class PrivateAddressRefused(IgnoreRequest):
    """The request's host resolves to an address newsmon will not contact."""


def is_public_address(address: str) -> bool:
    """True when ``address`` is a globally routable unicast address.

    >>> is_public_address("93.184.216.34"), is_public_address("169.254.169.254"), is_public_address("::ffff:10.0.0.1")
    (True, False, False)
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _NAT64) or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        return ()  # unresolvable: let the downloader report the DNS error itself
    return tuple(sorted({info[4][0] for info in infos}))


def refused_address(url: str) -> str | None:
    """The first non-public address ``url``'s host resolves to, or None (a blocking DNS lookup)."""
    host = urlsplit(url).hostname
    if not host:
        return None
    for address in _resolve(host):
        if not is_public_address(address):
            return address
    return None


def refusal_message(url: str, address: str) -> str:
    return f"refused {url}: its host resolves to non-public address {address} (allow_private_networks = false)"


class PrivateNetworkGuard:
    """Downloader middleware applying :func:`refused_address` unless private networks are allowed."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getbool("NEWSMON_ALLOW_PRIVATE_NETWORKS"))

    async def process_request(self, request, spider=None):
        if self.allow_private:
            return None
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.threads import deferToThread

        address = await maybe_deferred_to_future(deferToThread(refused_address, request.url))
        if address:
            raise PrivateAddressRefused(refusal_message(request.url, address))
        return None


class NonPublicAddressError(DNSLookupError):
    """A host name resolved, but to an address newsmon will not contact."""


class PublicOnlyResolver(CachingThreadedResolver):
    """Scrapy's caching DNS resolver, failing lookups that give a non-public address.

    Installed (``TWISTED_DNS_RESOLVER``) only when private networks are not
    allowed. IP-literal URLs never reach a resolver; the middleware handles them.
    """

    def getHostByName(self, name, timeout=()):
        deferred = super().getHostByName(name, timeout)
        deferred.addCallback(self._check, name)
        return deferred

    @staticmethod
    def _check(address: str, name: str) -> str:
        if not is_public_address(address):
            raise NonPublicAddressError(f"{name} resolves to non-public address {address}")
        return address
