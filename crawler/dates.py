"""Publication dates: parse the formats Vietnamese, Russian and English news use, find the page's own.

:func:`parse_published` turns one date string into a timezone-aware UTC datetime:
ISO 8601 (``2024-08-14T10:30:00+07:00``), RFC 822 from feeds
(``Wed, 14 Aug 2024 10:30:00 +0700``), and the day-before-month forms printed on
pages (``Thứ Hai, 14/8/2024 - 10:30 (GMT+7)``, ``14/08/2024 10:30``,
``14.08.2024``, ``14 августа 2024, 10:30``, ``14 August 2024``). A time printed
without an offset is in the source's local time, given as ``utc_offset``.

:func:`find_published` finds the date of the article a page is about, in order of
trust: ``<meta property="article:published_time">`` and its siblings,
``itemprop="datePublished"``, JSON-LD ``datePublished`` of the page's article, a
``<time datetime>`` in the article header, the header's date text. The header
is the headline's neighbourhood; dates in sidebars, related-article lists and
footers are never read, because on news pages they belong to other stories.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime

from lxml import html as lxml_html

DEFAULT_UTC_OFFSET = "+07:00"

_OFFSET_RE = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
# An offset printed next to a time: "(GMT+7)", "GMT+07:00", "UTC+3", "+07:00", "МСК".
_TEXT_OFFSET_RE = re.compile(
    r"(?:\(?\s*(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*\)?)|(\bмск\b)", re.IGNORECASE
)
_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE,
)
_NUMERIC_DATE_RE = re.compile(r"(?<![\d/.-])(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4})(?![\d/.-])")
_TIME_RE = re.compile(r"(?<![\d:])(\d{1,2})\s*[:hH]\s*(\d{2})(?::(\d{2}))?(?![\d:])")
_WORD_MONTH_RE = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+([^\W\d_]+)\.?,?\s+(\d{4})(?!\d)", re.UNICODE)
_MONTH_WORD_FIRST_RE = re.compile(r"\b([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)")
_VI_WORDS_RE = re.compile(r"(\d{1,2})\s+tháng\s+(\d{1,2}),?\s+(?:năm\s+)?(\d{4})", re.IGNORECASE)

_MONTHS = {
    # Russian genitive (as printed in dates) and nominative, with common abbreviations
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7,
    "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
    "январь": 1, "февраль": 2, "март": 3, "апрель": 4, "май": 5, "июнь": 6, "июль": 7,
    "август": 8, "сентябрь": 9, "октябрь": 10, "ноябрь": 11, "декабрь": 12,
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "июн": 6, "июл": 7, "авг": 8, "сен": 9,
    "сент": 9, "окт": 10, "ноя": 11, "нояб": 11, "дек": 12,
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_RFC822_START = re.compile(r"^\s*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?\d{1,2}\s+[A-Za-z]{3}", re.IGNORECASE)


def parse_utc_offset(text: str) -> timezone:
    """``"+07:00"``, ``"+0700"``, ``"+7"``, ``"UTC+3"`` or ``"-05:30"`` as a :class:`timezone`.

    Raises ValueError for anything else.
    """
    match = _OFFSET_RE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a UTC offset; use the form +07:00 or -05:30")
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes >= 60:
        raise ValueError(f"{text!r} is not a UTC offset; hours must be 0-14 and minutes 0-59")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)


def parse_published(text: str, utc_offset: str = DEFAULT_UTC_OFFSET) -> datetime | None:
    """Parse one date string as printed by a news site or feed; UTC-aware datetime or None.

    Day comes before month in numeric dates. A time without an offset is local
    time at ``utc_offset``; a date without a time is taken at local midnight.

    >>> parse_published("Thứ Hai, 14/8/2024 - 10:30 (GMT+7)").isoformat()
    '2024-08-14T03:30:00+00:00'
    >>> parse_published("14 августа 2024, 10:30", "+03:00").isoformat()
    '2024-08-14T07:30:00+00:00'
    """
    if not text or not isinstance(text, str):
        return None
    local = parse_utc_offset(utc_offset)
    text = " ".join(text.split())
    if len(text) > 200:  # a date is short; long text is a paragraph that mentions dates
        return None
    found = _parse_iso(text, local)
    if found is None and _RFC822_START.match(text):
        found = _parse_rfc822(text, local)
    if found is None:
        found = _parse_printed(text, local)
    if found is None:
        return None
    return found.astimezone(timezone.utc)


def _parse_iso(text: str, local: timezone) -> datetime | None:
    match = _ISO_RE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    zone = local
    if offset:
        zone = timezone.utc if offset.upper() == "Z" else parse_utc_offset(offset)
    return _build(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), zone)


def _parse_rfc822(text: str, local: timezone) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000" or no zone: local time of the source
        parsed = parsed.replace(tzinfo=local)
    return parsed


def _parse_printed(text: str, local: timezone) -> datetime | None:
    day_month_year = None
    date_span = None
    for pattern in (_NUMERIC_DATE_RE, _VI_WORDS_RE):
        match = pattern.search(text)
        if match:
            groups = match.groups()
            if pattern is _NUMERIC_DATE_RE:
                day_month_year = (int(groups[0]), int(groups[2]), int(groups[3]))
            else:
                day_month_year = (int(groups[0]), int(groups[1]), int(groups[2]))
            date_span = match.span()
            break
    if day_month_year is None:
        for match in _WORD_MONTH_RE.finditer(text):
            month = _MONTHS.get(match.group(2).lower().rstrip("."))
            if month:
                day_month_year = (int(match.group(1)), month, int(match.group(3)))
                date_span = match.span()
                break
    if day_month_year is None:
        for match in _MONTH_WORD_FIRST_RE.finditer(text):
            month = _MONTHS.get(match.group(1).lower())
            if month:
                day_month_year = (int(match.group(2)), month, int(match.group(3)))
                date_span = match.span()
                break
    if day_month_year is None:
        return None
    # the time may come before ("09:08 - 14/08/2024") or after the date
    rest = text[: date_span[0]] + " " * (date_span[1] - date_span[0]) + text[date_span[1] :]
    hour = minute = second = 0
    time_match = _TIME_RE.search(rest)
    if time_match:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        second = int(time_match.group(3) or 0)
    zone = local
    offset_match = _TEXT_OFFSET_RE.search(text)
    if offset_match:
        if offset_match.group(4):  # МСК, Moscow time
            zone = timezone(timedelta(hours=3))
        else:
            zone = parse_utc_offset(
                f"{offset_match.group(1)}{offset_match.group(2)}:{offset_match.group(3) or '00'}"
            )
    day, month, year = day_month_year
    return _build(year, month, day, hour, minute, second, zone)


def _build(year: int, month: int, day: int, hour: int, minute: int, second: int, zone: timezone) -> datetime | None:
    if not 1990 <= year <= 2100:
        return None
    try:
        return datetime.combine(date(year, month, day), time(hour, minute, min(second, 59)), tzinfo=zone)
    except ValueError:
        return None


# ---- finding the article's own date in a page ---------------------------------------------

_META_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)
_ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "blogposting",
    "report", "webpage", "liveblogposting", "opinionnewsarticle", "backgroundnewsarticle",
}
# containers whose dates belong to other stories
_OTHER_STORIES = re.compile(
    r"related|relate|sidebar|aside|widget|recommend|most-?read|popular|trending|"
    r"footer|comment|tin-?lien-?quan|box-category|list-news|news-list|other",
    re.IGNORECASE,
)
_DATE_CLASS = re.compile(r"date|time|publish|post-?time|posted|ngay|thoi-?gian", re.IGNORECASE)
HEADER_DEPTH = 4  # how far above the headline the article header may start
NEAR_SIBLINGS = 3  # when the headline sits at the page's top level: elements either side of it
_OTHER_STORY_TAGS = ("aside", "footer", "nav", "li")


def find_published(tree_or_html, utc_offset: str = DEFAULT_UTC_OFFSET) -> datetime | None:
    """The publication date of the article a page is about, or None; never a sidebar item's date.

    ``tree_or_html`` is an lxml HTML element or the page as str/bytes.
    """
    tree = _as_tree(tree_or_html)
    if tree is None:
        return None
    for finder in (_from_meta, _from_itemprop, _from_json_ld, _from_header):
        found = finder(tree, utc_offset)
        if found is not None:
            return found
    return None


def _as_tree(tree_or_html):
    if isinstance(tree_or_html, (str, bytes)):
        try:
            return lxml_html.document_fromstring(tree_or_html)
        except (ValueError, lxml_html.etree.ParserError):
            return None
    return tree_or_html


def _from_meta(tree, utc_offset: str) -> datetime | None:
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key in _META_KEYS and key not in found and meta.get("content"):
            found[key] = meta.get("content")
    for key in _META_KEYS:
        if key in found:
            parsed = parse_published(found[key], utc_offset)
            if parsed is not None:
                return parsed
    return None


def _from_itemprop(tree, utc_offset: str) -> datetime | None:
    for element in tree.xpath('//*[@itemprop="datePublished"]'):
        if _in_other_story(element):
            continue
        value = element.get("content") or element.get("datetime") or element.text_content()
        parsed = parse_published(value, utc_offset)
        if parsed is not None:
            return parsed
    return None


def _from_json_ld(tree, utc_offset: str) -> datetime | None:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        for item in _json_ld_items(script.text or ""):
            types = item.get("@type")
            types = types if isinstance(types, list) else [types]
            if not any(isinstance(t, str) and t.lower() in _ARTICLE_TYPES for t in types):
                continue
            value = item.get("datePublished")
            if isinstance(value, str):
                parsed = parse_published(value, utc_offset)
                if parsed is not None:
                    return parsed
    return None


def json_ld_objects(tree) -> list[dict]:
    """All top-level JSON-LD objects of a page (``@graph`` flattened); broken blocks are skipped."""
    objects: list[dict] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        objects.extend(_json_ld_items(script.text or ""))
    return objects


def _json_ld_items(source: str) -> list[dict]:
    try:
        data = json.loads(source, strict=False)
    except ValueError:
        return []
    items = data if isinstance(data, list) else [data]
    flat: list[dict] = []
    for item in items:
        if isinstance(item, dict):
            flat.append(item)
            graph = item.get("@graph")
            if isinstance(graph, list):
                flat.extend(node for node in graph if isinstance(node, dict))
    return flat


def headline_element(tree):
    """The element holding the article's headline: the first ``<h1>``, else a "title" element
    whose text is the page's ``og:title``; None when neither exists."""
    for h1 in tree.iter("h1"):
        if h1.text_content().strip() and not any(a.tag in _OTHER_STORY_TAGS for a in h1.iterancestors()):
            return h1
    og_title = tree.xpath('string(//meta[@property="og:title"]/@content)')
    wanted = " ".join(og_title.split()).lower()
    if not wanted:
        return None
    for element in tree.xpath('//body//*[contains(@class, "title")]'):
        if " ".join(element.text_content().split()).lower() == wanted:
            return element
    return None


def _from_header(tree, utc_offset: str) -> datetime | None:
    """Look around the headline, widening one ancestor at a time (its ancestors hold the
    article, whatever their class says); at the page's top level only the headline
    block's near siblings count."""
    headline = headline_element(tree)
    if headline is None:
        return None
    scope = headline
    for _ in range(HEADER_DEPTH):
        parent = scope.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return _date_near(scope, utc_offset)
        scope = parent
        found = _date_in_scope(scope, utc_offset)
        if found is not None:
            return found
    return None


def _date_near(block, utc_offset: str) -> datetime | None:
    neighbours = [block]
    neighbours += [s for _, s in zip(range(NEAR_SIBLINGS), block.itersiblings(preceding=True))]
    neighbours += [s for _, s in zip(range(NEAR_SIBLINGS), block.itersiblings())]
    for element in neighbours:
        if not isinstance(element.tag, str) or _is_other_story(element):
            continue
        found = _date_in_scope(element, utc_offset)
        if found is not None:
            return found
    return None


def _date_in_scope(scope, utc_offset: str) -> datetime | None:
    for element in scope.iter("time"):
        if _in_other_story(element, stop=scope):
            continue
        parsed = parse_published(element.get("datetime") or "", utc_offset) or parse_published(
            element.text_content(), utc_offset
        )
        if parsed is not None:
            return parsed
    for element in scope.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "a"):
            continue
        if not _DATE_CLASS.search(element.get("class") or "") or _in_other_story(element, stop=scope):
            continue
        parsed = parse_published(element.text_content(), utc_offset)
        if parsed is not None:
            return parsed
    return None


def _is_other_story(element) -> bool:
    if element.tag in _OTHER_STORY_TAGS:
        return True
    label = f"{element.get('class') or ''} {element.get('id') or ''}"
    return bool(_OTHER_STORIES.search(label))


def _in_other_story(element, stop=None) -> bool:
    node = element
    while node is not None and node is not stop:
        if _is_other_story(node):
            return True
        node = node.getparent()
    return False
