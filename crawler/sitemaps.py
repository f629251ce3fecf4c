"""Read XML sitemaps — urlsets, sitemap indexes and Google News sitemaps — keeping the news fields.

Scrapy's ``SitemapSpider`` reduces a sitemap to bare URLs, but a news sitemap
says much more: ``<news:publication_date>``, ``<news:title>`` and
``<news:keywords>`` let the spider apply the date window and the title
pre-filter before fetching an article. :func:`parse_sitemap` keeps them
(falling back to ``<lastmod>`` as the date), handles ``.xml.gz`` bodies with a
cap on the inflated size, matches elements by local name because sites get the
namespaces wrong, and returns at most ``max_urls`` entries and child sitemaps.

Search engines also accept an RSS/Atom feed or a plain text list of URLs as a
sitemap; both are read too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from crawler.entries import Entry, NewestEntries, parse_entry_date
from crawler.feeds import RECORD_NAMES as FEED_RECORD_NAMES
from crawler.feeds import FEED_ROOTS, entry_from_record
from crawler.safe_xml import (
    DEFAULT_MAX_BYTES,
    GZIP_MAGIC,
    MAX_RECORDS,
    RefusedInput,
    XMLInputError,
    iter_records,
    local_name,
)
from crawler.urls import normalize_url

__all__ = ["SitemapError", "SitemapPage", "parse_sitemap"]

SITEMAP_RECORD_NAMES = frozenset({"url", "sitemap"})


class SitemapError(ValueError):
    """The body is not a readable sitemap; the message says why in a few words."""


@dataclass(frozen=True)
class SitemapPage:
    """What one sitemap document yielded.

    ``entries``: article URLs (from a urlset, or a feed used as a sitemap);
    ``child_sitemaps``: the ``<sitemap>`` entries of a sitemap index, with their
    ``<lastmod>`` as ``published`` so the spider can skip old monthly children;
    ``total``/``skipped``: records read / records without a usable URL (or repeated);
    ``truncated``: reading stopped at :data:`~crawler.safe_xml.MAX_RECORDS` records
    (the protocol's limit per sitemap file).
    """

    entries: list[Entry] = field(default_factory=list)
    child_sitemaps: list[Entry] = field(default_factory=list)
    total: int = 0
    skipped: int = 0
    truncated: bool = False

    @property
    def children(self) -> list[str]:
        """URLs of the child sitemaps (sitemap index ``<sitemap><loc>``)."""
        return [child.url for child in self.child_sitemaps]

    @property
    def dropped(self) -> int:
        """Records left out by the ``max_urls`` cap."""
        return self.total - self.skipped - len(self.entries) - len(self.child_sitemaps)


def parse_sitemap(
    body: bytes, base_url: str, max_urls: int, max_bytes: int = DEFAULT_MAX_BYTES
) -> SitemapPage:
    """Parse a sitemap body (plain or gzip) fetched from ``base_url``.

    ``<url>`` records become entries: ``loc`` normalised; from ``<news:news>``
    the publication date, title and keywords; otherwise ``<lastmod>`` as the
    date. ``<sitemap>`` records become child sitemaps (a child pointing back at
    ``base_url`` itself is skipped). When more than ``max_urls`` entries (or
    children) are listed, the newest ``max_urls`` are kept, in document order;
    at most :data:`~crawler.safe_xml.MAX_RECORDS` records are read at all.
    A gzip body that inflates past ``max_bytes`` (50 MiB, the protocol's limit)
    is refused. Raises :class:`SitemapError` on anything unreadable.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise SitemapError("sitemap body must be bytes")
    if not body.strip():
        raise SitemapError("empty body")
    body = bytes(body)
    self_url = normalize_url(base_url)
    try:
        return _collect(body, base_url, self_url, max_urls, max_bytes, recover=False)
    except RefusedInput as refused:
        raise SitemapError(str(refused)) from None
    except XMLInputError as strict_error:
        if _looks_like_text_sitemap(body):
            return _text_sitemap(body, max_urls)
        try:
            return _collect(body, base_url, self_url, max_urls, max_bytes, recover=True)
        except XMLInputError:
            raise SitemapError(str(strict_error)) from None


def _collect(
    body: bytes, base_url: str, self_url: str | None, max_urls: int, max_bytes: int, recover: bool
) -> SitemapPage:
    records = iter_records(
        body,
        SITEMAP_RECORD_NAMES | FEED_RECORD_NAMES,
        base_url=base_url,
        recover=recover,
        max_bytes=max_bytes,
    )
    root = next(records, None)
    if root is None:
        raise SitemapError("empty document")
    root_name = local_name(root)
    is_feed = root_name in FEED_ROOTS
    if root_name not in ("urlset", "sitemapindex") and not is_feed:
        raise SitemapError(f"root element is <{root_name or root.tag}>, expected <urlset> or <sitemapindex>")
    entries = NewestEntries(max(0, max_urls))
    children = NewestEntries(max(0, max_urls))
    total = skipped = 0
    seen: set[str] = set()
    truncated = False
    for record in records:
        name = local_name(record)
        if is_feed != (name in FEED_RECORD_NAMES):
            continue  # a <url> inside a feed, an <item> inside a urlset: not records of this document
        if total == MAX_RECORDS:
            truncated = True
            break
        total += 1
        entry = entry_from_record(record, base_url) if is_feed else _entry_from_url(record, base_url)
        if entry is None or entry.url in seen or (name == "sitemap" and entry.url == self_url):
            skipped += 1
            continue
        seen.add(entry.url)
        (children if name == "sitemap" else entries).offer(entry)
    return SitemapPage(
        entries=entries.in_document_order(),
        child_sitemaps=children.in_document_order(),
        total=total,
        skipped=skipped,
        truncated=truncated,
    )


def _entry_from_url(record: etree._Element, base_url: str) -> Entry | None:
    """A ``<url>`` or ``<sitemap>`` record; news fields win over ``<lastmod>``."""
    loc = lastmod = None
    news_date = news_title = None
    keywords = ""
    for child in record:
        name = local_name(child)
        if name == "loc":
            loc = loc or _text(child)
        elif name == "lastmod":
            lastmod = lastmod or _text(child)
        elif name == "news":
            for part in child.iter():
                part_name = local_name(part)
                if part_name == "publication_date":
                    news_date = news_date or _text(part)
                elif part_name == "title":
                    news_title = news_title or _text(part)
                elif part_name == "keywords":
                    keywords = keywords or (_text(part) or "")
    url = normalize_url(loc, record.base or base_url) if loc else None
    if url is None:
        return None
    published = parse_entry_date(news_date) or parse_entry_date(lastmod)
    title = " ".join(news_title.split()) if news_title else None
    return Entry(url=url, title=title or None, published=published, keywords=" ".join(keywords.split()))


def _text(element: etree._Element) -> str | None:
    text = "".join(element.itertext()).strip()
    return text or None


def _looks_like_text_sitemap(body: bytes) -> bool:
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return body[:2] != GZIP_MAGIC and head.startswith((b"http://", b"https://"))


def _text_sitemap(body: bytes, max_urls: int) -> SitemapPage:
    """A plain-text sitemap: one absolute URL per line."""
    entries: list[Entry] = []
    seen: set[str] = set()
    total = skipped = 0
    for line in body.decode("utf-8", errors="replace").splitlines():
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        total += 1
        url = normalize_url(line) if line.lower().startswith(("http://", "https://")) else None
        if url is None or url in seen:
            skipped += 1
            continue
        seen.add(url)
        if len(entries) < max_urls:
            entries.append(Entry(url=url, title=None, published=None))
        if total == MAX_RECORDS:
            return SitemapPage(entries=entries, total=total, skipped=skipped, truncated=True)
    return SitemapPage(entries=entries, total=total, skipped=skipped)
