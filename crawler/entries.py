"""What feeds and sitemaps announce: an article URL with an optional title, date and keywords.

:class:`Entry` is the common currency of :mod:`crawler.feeds` and
:mod:`crawler.sitemaps`; the spider uses ``published`` for the date window
before fetching and ``title``/``keywords`` for the optional relevance
pre-filter. :func:`parse_entry_date` reads the two date families those formats
use (RFC 822 in RSS, ISO 8601 / W3C datetime in Atom, RDF and sitemaps).
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class Entry:
    """One announced article. ``published`` is timezone-aware UTC, or None when unknown."""

    url: str
    title: str | None
    published: datetime | None
    keywords: str = ""


# "GMT+7", "UTC+07:00", "+07:00" at the end of an RFC 822 date → "+0700", which email.utils understands.
_RFC822_OFFSET = re.compile(r"\s*(?:(?:GMT|UTC)\s*)?([+-])(\d{1,2}):?(\d{2})?\s*$", re.IGNORECASE)
_GMT_OFFSET = re.compile(r"\s*(?:GMT|UTC)\s*([+-])(\d{1,2})\s*$", re.IGNORECASE)
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
_OLDEST_PLAUSIBLE_YEAR = 1970
_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


def parse_entry_date(text: str | None) -> datetime | None:
    """Parse an RFC 822 or ISO 8601 date into an aware UTC datetime; None when unknown.

    A date without a zone is taken as UTC (feeds that omit it are rare and the
    error is hours, not days). Dates before 1970 are treated as placeholders.

    >>> parse_entry_date("Sat, 07 Mar 2026 08:00:00 +0700")
    datetime.datetime(2026, 3, 7, 1, 0, tzinfo=datetime.timezone.utc)
    >>> parse_entry_date("2026-03-07T08:00:00+07:00") == parse_entry_date("Sat, 07 Mar 2026 08:00:00 GMT+7")
    True
    """
    if not text:
        return None
    text = " ".join(text.split())
    if not text:
        return None
    parsed = _parse_iso(text)
    if parsed is None:
        parsed = _parse_rfc822(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        parsed = parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    if parsed.year < _OLDEST_PLAUSIBLE_YEAR:
        return None
    return parsed


def _parse_iso(text: str) -> datetime | None:
    if not text[:1].isdigit():
        return None
    candidate = _LONG_FRACTION.sub(r"\1", text)
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _parse_rfc822(text: str) -> datetime | None:
    match = _GMT_OFFSET.search(text)
    if match:
        text = text[: match.start()] + f" {match.group(1)}{int(match.group(2)):02d}00"
    else:
        match = _RFC822_OFFSET.search(text)
        if match and match.group(3) is not None:
            text = text[: match.start()] + f" {match.group(1)}{int(match.group(2)):02d}{match.group(3)}"
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class NewestEntries:
    """Keep the ``limit`` newest entries offered (undated count as oldest; ties keep the earlier one).

    Memory stays O(limit) however many entries a feed or sitemap lists; the
    kept ones come back in the order they were offered.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.heap: list[tuple[datetime, int, Entry]] = []
        self.position = 0

    def offer(self, entry: Entry) -> None:
        key = (entry.published or _OLDEST, -self.position, entry)
        self.position += 1
        if self.limit == 0:
            return
        if len(self.heap) < self.limit:
            heapq.heappush(self.heap, key)
        elif key[:2] > self.heap[0][:2]:
            heapq.heapreplace(self.heap, key)

    def in_document_order(self) -> list[Entry]:
        return [entry for _, _, entry in sorted(self.heap, key=lambda item: -item[1])]
