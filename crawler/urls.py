"""One spelling per URL, so the crawler never fetches or stores the same article twice.

A news article reaches the crawler through many doors: a feed link with
``utm_source=rss``, a listing link with ``#box_comment``, a sitemap entry with
``:443`` in it, a relative ``href``. :func:`normalize_url` maps all of them to
one absolute form; :func:`same_site` tells whether a link stays on a source's
site. Both are pure string functions (no network, no Scrapy).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

# Query parameters that only say where a click came from; dropping them never changes the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid",
        "twclid", "ttclid", "li_fat_id", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc",
        "_hsmi", "_openstat", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid",
        "__twitter_impression",
    }
)
TRACKING_PREFIXES = ("utm_", "vnn_", "pk_", "mtm_", "hsa_")

DEFAULT_PORTS = {"http": 80, "https": 443}

_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?%:@!$&'()*+,;=-._~"
_STRIP_INSIDE = re.compile(r"[\t\n\r]")
_SITE_PREFIXES = ("www.", "m.", "mobile.", "amp.")


def normalize_url(url: str, base: str | None = None) -> str | None:
    """Return the canonical absolute form of ``url`` (resolved against ``base``), or None.

    - resolves relative links against ``base`` and removes ``.``/``..`` segments;
    - lower-cases scheme and host, drops default ports (``:80``, ``:443``) and the fragment;
    - drops tracking parameters (``utm_*``, ``fbclid``, ``gclid``, … see :data:`TRACKING_PARAMS`)
      and keeps the others in their original order and spelling;
    - percent-encodes spaces and non-ASCII characters so both spellings of a URL compare equal;
    - returns None for anything that is not an http(s) URL: ``mailto:``, ``javascript:``,
      ``tel:``, ``data:``, a relative link without a base, a malformed host or port.

    >>> normalize_url("/tin/a-b-123.html?utm_source=rss&id=5#top", "https://WWW.Example.vn:443/x/")
    'https://www.example.vn/tin/a-b-123.html?id=5'
    """
    if not isinstance(url, str):
        return None
    url = _STRIP_INSIDE.sub("", url.strip())
    if not url:
        return None
    if base and not url[:8].lower().startswith(("http://", "https://")):
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            return None
        host = parts.hostname
        port = parts.port
    except ValueError:  # "http://[::1" or a port that is not a number
        return None
    if not host:
        return None
    host = _normalize_host(host)
    if host is None:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _encode(_remove_dot_segments(parts.path or "/"), _PATH_SAFE)
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def same_site(url: str, other: str) -> bool:
    """True when ``url`` is on the site of ``other`` (the source's page or home URL).

    Hosts are compared without a leading ``www.``/``m.``, and subdomains of the
    source's host count as the same site (``thitruong.nld.com.vn`` is on
    ``nld.com.vn``), but not the other way round. No public-suffix list is
    needed for that rule.

    >>> same_site("https://m.vnexpress.net/a-1.html", "https://vnexpress.net/kinh-doanh")
    True
    >>> same_site("https://websosanh.vn/x", "https://dantri.com.vn/")
    False
    """
    host = _site_host(url)
    source = _site_host(other)
    if not host or not source:
        return False
    return host == source or host.endswith("." + source)


def _site_host(url: str) -> str | None:
    try:
        host = urlsplit(url.strip()).hostname
    except (ValueError, AttributeError):
        return None
    if not host:
        return None
    host = host.rstrip(".")
    for prefix in _SITE_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix):]
    return host


def _normalize_host(host: str) -> str | None:
    """Lower-case, drop a trailing dot, IDNA-encode an internationalised name."""
    host = host.rstrip(".").lower()
    if not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host


def _encode(text: str, safe: str) -> str:
    """Percent-encode what must be encoded; existing escapes are kept, with upper-case hex."""
    text = quote(text, safe=safe, encoding="utf-8", errors="surrogatepass")
    return _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, so ``/a/./b/../c`` and ``/a/c`` are one URL."""
    if "/." not in path and not path.startswith("."):
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
            continue
        output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _clean_query(query: str) -> str:
    """Drop tracking parameters and empty pieces; keep the rest exactly, in order."""
    if not query:
        return ""
    kept = []
    for piece in query.split("&"):
        if not piece:
            continue
        name = unquote_plus(piece.split("=", 1)[0]).strip().lower()
        if name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES):
            continue
        kept.append(_encode(piece, _QUERY_SAFE))
    return "&".join(kept)
