"""Read RSS 2.0, RSS 1.0 (RDF) and Atom feeds into :class:`~crawler.entries.Entry` lists.

A feed is the cheapest way to learn a source's new articles: one request gives
URLs, headlines and dates, so the spider can apply the date window and the
title pre-filter before fetching anything. Parsing is safe against hostile XML
(see :mod:`crawler.safe_xml`), tolerant of the usual breakage (undeclared
namespaces, stray ``&`` — retried in libxml2's recover mode), and bounded: at
most ``max_items`` entries are returned however long the feed is.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from lxml import etree

from crawler.entries import Entry, NewestEntries, parse_entry_date
from crawler.safe_xml import MAX_RECORDS, RefusedInput, XMLInputError, iter_records, local_name
from crawler.urls import normalize_url

__all__ = ["Entry", "FeedError", "FeedPage", "parse_feed", "parse_feed_page"]

FEED_ROOTS = frozenset({"rss", "RDF", "feed", "channel"})
RECORD_NAMES = frozenset({"item", "entry"})

_TAG = re.compile(r"<[^>]{0,2000}>")


class FeedError(ValueError):
    """The body is not a readable RSS/Atom feed; the message says why in a few words."""


@dataclass(frozen=True)
class FeedPage:
    """What one feed document yielded.

    ``total`` counts the items read, ``skipped`` those without a usable http(s)
    link (or repeating an earlier one), ``dropped`` those left out by the
    ``max_items`` cap; ``truncated`` says reading stopped at
    :data:`~crawler.safe_xml.MAX_RECORDS` items.
    """

    entries: list[Entry] = field(default_factory=list)
    total: int = 0
    skipped: int = 0
    truncated: bool = False

    @property
    def dropped(self) -> int:
        return self.total - self.skipped - len(self.entries)


def parse_feed(body: bytes, base_url: str, max_items: int) -> list[Entry]:
    """The feed's entries (at most ``max_items``), links normalised; raise :class:`FeedError` on garbage.

    See :func:`parse_feed_page` for the counts of skipped and dropped items.
    """
    return parse_feed_page(body, base_url, max_items).entries


def parse_feed_page(body: bytes, base_url: str, max_items: int) -> FeedPage:
    """Parse an RSS 2.0 / RSS 1.0 (RDF) / Atom document.

    Each item becomes ``Entry(url, title, published, keywords)``: the link is
    resolved against ``xml:base`` and ``base_url`` and normalised; the title is
    plain text (markup and entities removed); ``published`` comes from
    ``pubDate``, ``dc:date``, ``published`` or ``updated`` (aware UTC, None when
    missing or unreadable); keywords are the item's categories joined with ", ".

    When the feed holds more than ``max_items`` usable items, the newest
    ``max_items`` are kept (undated ones count as oldest), in document order;
    at most :data:`~crawler.safe_xml.MAX_RECORDS` items are read at all.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise FeedError("feed body must be bytes")
    if not body.strip():
        raise FeedError("empty body")
    try:
        return _collect(bytes(body), base_url, max_items, recover=False)
    except RefusedInput as refused:
        raise FeedError(str(refused)) from None
    except XMLInputError as strict_error:
        try:
            return _collect(bytes(body), base_url, max_items, recover=True)
        except XMLInputError:
            raise FeedError(str(strict_error)) from None


def _collect(body: bytes, base_url: str, max_items: int, recover: bool) -> FeedPage:
    records = iter_records(body, RECORD_NAMES, base_url=base_url, recover=recover)
    root = next(records, None)
    if root is None:
        raise FeedError("empty document")
    root_name = local_name(root)
    if root_name not in FEED_ROOTS:
        raise FeedError(f"root element is <{root_name or root.tag}>, expected <rss>, <rdf:RDF> or <feed>")
    kept = NewestEntries(max(0, max_items))
    total = skipped = 0
    seen: set[str] = set()
    truncated = False
    for record in records:
        if total == MAX_RECORDS:
            truncated = True
            break
        total += 1
        entry = entry_from_record(record, base_url)
        if entry is None or entry.url in seen:
            skipped += 1
            continue
        seen.add(entry.url)
        kept.offer(entry)
    return FeedPage(entries=kept.in_document_order(), total=total, skipped=skipped, truncated=truncated)


def entry_from_record(record: etree._Element, base_url: str) -> Entry | None:
    """One RSS ``<item>`` or Atom ``<entry>`` as an :class:`Entry`; None without a usable link."""
    link = orig_link = guid = None
    guid_is_link = True
    title = None
    dates: dict[str, str] = {}
    categories: list[str] = []
    for child in record:
        name = local_name(child)
        if name == "link":
            link = link or _link_of(child)
        elif name == "origLink":  # FeedBurner keeps the publisher's own URL here
            orig_link = orig_link or _text(child)
        elif name in ("guid", "id"):
            guid = _text(child)
            guid_is_link = child.get("isPermaLink", "true").strip().lower() != "false"
        elif name == "title":
            title = title or _plain_text(child)
        elif name in ("pubDate", "date", "published", "updated", "issued", "modified"):
            dates.setdefault(name, _text(child) or "")
        elif name in ("category", "subject", "keywords"):
            term = child.get("term") or child.get("label") or _text(child)
            if term:
                categories.extend(part.strip() for part in term.split(",") if part.strip())
    base = record.base or base_url
    candidates = [orig_link, link]
    if guid_is_link:
        candidates.append(guid)
    url = None
    for candidate in candidates:
        if candidate:
            url = normalize_url(candidate, base)
            if url:
                break
    if url is None:
        return None
    published = None
    for name in ("pubDate", "published", "date", "issued", "updated", "modified"):
        published = parse_entry_date(dates.get(name))
        if published is not None:
            break
    return Entry(url=url, title=title, published=published, keywords=", ".join(dict.fromkeys(categories)))


def _link_of(element: etree._Element) -> str | None:
    """RSS ``<link>text</link>``, or Atom ``<link rel="alternate" href>`` (rel missing means alternate)."""
    href = element.get("href")
    if href is not None:
        rel = (element.get("rel") or "alternate").strip().lower()
        kind = (element.get("type") or "text/html").lower()
        if rel == "alternate" and ("html" in kind or kind.startswith("text/")):
            return href.strip() or None
        return None
    return _text(element)


def _text(element: etree._Element) -> str | None:
    text = "".join(element.itertext()).strip()
    return text or None


def _plain_text(element: etree._Element) -> str | None:
    """A title as readable text: HTML tags and (double-)escaped entities removed, spaces collapsed."""
    text = "".join(element.itertext())
    if "<" in text or "&" in text:
        text = html.unescape(_TAG.sub(" ", html.unescape(text)))
    text = " ".join(text.split())
    return text or None
