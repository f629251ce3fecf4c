"""One HTML page in, one :class:`~crawler.items.ExtractedArticle` out: the crawl's hot path.

The steps, each cheap and each site-independent:

1. decode bytes properly (BOM, the HTTP charset if the caller knows it, the page's
   ``<meta charset>``, UTF-8, then a statistical guess) and parse once with lxml;
2. read title, author, language and publication date from that one tree (meta
   tags, JSON-LD, the headline's neighbourhood; see :mod:`crawler.dates`);
3. take the body with trafilatura (no comments, no tables, page footers, ``<nav>``
   and ``<aside>`` pruned first; ``fast`` mode, retried in full mode only when it
   finds almost nothing);
4. put back the lead paragraph ("sapo") that Vietnamese sites print outside the
   body container, recognised because the page's own description repeats it;
5. drop the headline if the body repeats it and clean the text with
   :func:`crawler.cleanup.clean_article_text`.

Metadata comes from the same lxml tree, not from a second trafilatura pass:
on the fixture pages the whole function costs about what a plain
``trafilatura.extract`` costs (0.95-0.96x over two runs), while
``bare_extraction(with_metadata=True)`` costs 1.27-1.37x. The quality gate is ``tests/test_extraction_eval.py``. Junk input
never raises: it gives an article with empty text.
"""

from __future__ import annotations

import codecs
import gzip
import html as html_entities
import logging
import re
import unicodedata
import zlib
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from crawler.cleanup import clean_article_text, strip_dateline
from crawler.dates import DEFAULT_UTC_OFFSET, find_published, headline_element, json_ld_objects, parse_utc_offset
from crawler.items import ExtractedArticle
from crawler.language import detect_language

LOGGER = logging.getLogger(__name__)

NEWSMON_EXTRACTION_REVISION = 1  # bump when this module's output changes for the same page


def _trafilatura_version() -> str:
    try:
        return version("trafilatura")
    except PackageNotFoundError:  # pragma: no cover - trafilatura is a hard dependency
        return "unknown"


EXTRACTOR_VERSION = f"trafilatura-{_trafilatura_version()}+newsmon-{NEWSMON_EXTRACTION_REVISION}"

LANGUAGES = ("vi", "en", "ru")
CHARSET_SCAN_BYTES = 64 * 1024  # some sites put <meta charset> after 18 KB of inline CSS
MIN_FAST_BODY_CHARS = 250  # below this, retry trafilatura with its fallback extractors
MIN_LEAD_CHARS = 40
MAX_LEAD_CHARS = 1500
LEAD_PREFIX_CHARS = 50  # how much of the description must match the lead element
TITLE_SEARCH_LINES = 3
MAX_BYLINE_WORDS = 8  # "Duy Trinh (PV TTXVN tại Nga)"

TRAFILATURA_OPTIONS = {
    "include_comments": False,
    "include_tables": False,
    "include_images": False,
    "include_links": False,
    "include_formatting": False,
    "deduplicate": False,
    "with_metadata": False,
    "output_format": "txt",
}


def _class_prefix(*prefixes: str) -> str:
    return " or ".join(f'contains(concat(" ", normalize-space(@class), " "), " {p}")' for p in prefixes)


# Page furniture removed before trafilatura looks for the body; without it the
# footer's "Tải ứng dụng:" block can win the body search on some pages.
# Lists whose every item is just a link are headline lists ("Tin nóng", "TIN LIÊN QUAN"),
# not story text.
PRUNE_XPATH = [
    "//footer",
    "//nav",
    "//aside",
    f"//*[{_class_prefix('footer', 'site-footer')}]",
    "//*[self::ul or self::ol][count(li) >= 2][not(li[.//text()[normalize-space()][not(ancestor::a)]])]",
]

_LEAD_CLASS_XPATH = (
    "//body//*[self::p or self::h2 or self::h3 or self::div or self::span or self::section]"
    "[contains(@class, 'sapo') or contains(@class, 'lead') or contains(@class, 'description')"
    " or contains(@class, 'summary') or contains(@class, 'excerpt') or contains(@class, 'intro')"
    " or contains(@class, 'standfirst') or contains(@class, 'chapo') or contains(@class, 'abstract')"
    " or contains(@class, 'teaser') or contains(@class, 'subtitle') or contains(@class, 'second-title')]"
)

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_UNPARSEABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DOMAIN_LIKE = re.compile(r"^(?:https?://)?[\w-]+(?:\.[\w-]+)+/?$", re.IGNORECASE)
_NOT_NAME = re.compile(r"[\d@/:|]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Labels browsers treat as windows-1252 (WHATWG Encoding Standard).
_WINDOWS_1252_ALIASES = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "l1", "cp819"}


def extract_article(
    html: bytes | str,
    url: str | None = None,
    utc_offset: str = DEFAULT_UTC_OFFSET,
    *,
    encoding: str | None = None,
) -> ExtractedArticle:
    """Extract title, author, publication date, language and clean body text from one page.

    ``html`` is the page as fetched (bytes: the encoding is detected; ``encoding``
    is the HTTP ``charset`` when known and wins over the page's ``<meta>``; gzip is undone) or as
    text. ``utc_offset`` is the source's local offset for dates printed without one.
    All text is NFC. Nothing is raised for junk input: the result then has text "".
    """
    parse_utc_offset(utc_offset)  # a bad offset is the caller's bug: fail loudly, not per page
    empty = ExtractedArticle(title=None, author=None, published=None, lang=None, text="", extractor_version=EXTRACTOR_VERSION)
    if html is None:
        return empty
    if isinstance(html, (bytes, bytearray)):
        html = _gunzip(bytes(html))  # raw pages are kept gzipped in the store
        if html is None:
            return empty
    markup = decode_html(html, encoding) if isinstance(html, bytes) else str(html)
    tree = parse_html(markup)
    if tree is None:
        return empty
    title = find_title(tree)
    author = find_author(tree, url)
    published = find_published(tree, utc_offset)
    body = _body_text(tree, url)
    lead = find_lead(tree)
    text = clean_article_text(_assemble(lead, body, title))
    return ExtractedArticle(
        title=title,
        author=author,
        published=published,
        lang=_language(tree, text, title),
        text=text,
        extractor_version=EXTRACTOR_VERSION,
    )


# ---- decoding and parsing -----------------------------------------------------------------


def _gunzip(data: bytes) -> bytes | None:
    """Gzipped pages are decompressed; None when the gzip data is broken."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return None


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Decode a page's bytes: BOM, then ``declared`` (HTTP charset), then ``<meta charset>``,
    then strict UTF-8, then charset-normalizer's guess; never raises.

    Bytes that are valid UTF-8 and not plain ASCII are UTF-8 whatever the labels say:
    a server's default ``charset=iso-8859-1`` or ``windows-1251`` in front of a UTF-8
    page is a common misconfiguration, while legacy-encoded text that happens to be
    valid UTF-8 is all but impossible.
    """
    data = bytes(data)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    meta = _META_CHARSET.search(data[:CHARSET_SCAN_BYTES])
    candidates = [declared, meta.group(1).decode("ascii", "ignore") if meta else None, "utf-8"]
    for label in candidates:
        codec = _codec_name(label)
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[: 4 * CHARSET_SCAN_BYTES]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace")
    except ImportError:  # pragma: no cover - installed with trafilatura
        pass
    return data.decode("utf-8", errors="replace")


def _codec_name(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _WINDOWS_1252_ALIASES:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


_PARSER = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)


def parse_html(markup: str):
    """Parse page text into an lxml tree; None when there is no document to speak of."""
    markup = _UNPARSEABLE.sub("", _XML_DECLARATION.sub("", markup, count=1))
    if not markup.strip():
        return None
    try:
        tree = lxml_html.document_fromstring(markup, parser=_PARSER)
    except (etree.ParserError, ValueError, TypeError):
        return None
    if tree is None or tree.find("body") is None and len(tree) == 0:
        return None
    return tree


# ---- metadata from the tree ---------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = unicodedata.normalize("NFC", " ".join(html_entities.unescape(value).split()))
    return value or None


def _meta(tree, *keys: str) -> str | None:
    wanted = {key.lower() for key in keys}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv") or ""
        if key.strip().lower() in wanted:
            value = _clean(meta.get("content"))
            if value:
                return value
    return None


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def find_title(tree) -> str | None:
    """The headline: the page's ``<h1>`` when it agrees with its meta title, else ``og:title``,
    else the ``<title>`` without the site name."""
    meta_title = _meta(tree, "og:title", "twitter:title")
    page_title = _clean(tree.findtext(".//title"))
    headline = headline_element(tree)
    headline_text = _clean(headline.text_content()) if headline is not None else None
    if headline_text:
        references = [t for t in (meta_title, page_title) if t]
        if not references or any(_overlap(headline_text, ref) >= 0.5 for ref in references):
            return headline_text
    if meta_title:
        return meta_title
    if page_title:
        return _strip_site_name(page_title)
    return headline_text


def _overlap(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / max(1, min(len(wa), len(wb)))


def _strip_site_name(title: str) -> str:
    parts = re.split(r"\s+[|–—-]\s+", title)
    return max(parts, key=len) if len(parts) > 1 else title


def _fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Báo Dân Trí" -> "baodantri"."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in text if not unicodedata.combining(c)).lower())


def find_author(tree, url: str | None = None) -> str | None:
    """The article's author(s) as printed ("Tri Túc", "NHẬT XUÂN, NGHI VŨ"); None when the page
    names only itself (``<meta name="author" content="VnExpress">``)."""
    objects = json_ld_objects(tree)
    site_names = _site_names(tree, objects, url)
    for item in objects:
        if "author" not in item:
            continue
        names = [_clean(name) for name in _person_names(item["author"])]
        names = [_strip_credit_word(n) for n in names if n and _is_person_name(n, site_names)]
        if names:
            return ", ".join(dict.fromkeys(names))
    for key in ("article:author", "dable:author", "author", "byl"):
        value = _meta(tree, key)
        if not value:
            continue
        names = [_strip_credit_word(n.strip()) for n in re.split(r"[;]", value)]
        names = [n for n in names if n and _is_person_name(n, site_names)]
        if names:
            return ", ".join(names)
    return _byline_near_headline(tree, site_names)


def _person_names(author) -> list[str]:
    if isinstance(author, str):
        return [author]
    if isinstance(author, dict):
        kind = author.get("@type")
        if kind and kind != "Person" and not (isinstance(kind, list) and "Person" in kind):
            return []
        name = author.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(author, list):
        return [name for entry in author for name in _person_names(entry)]
    return []


def _strip_credit_word(name: str) -> str:
    return re.sub(r"^(?:theo|by|автор:?)\s+", "", name, flags=re.IGNORECASE).strip()


def _site_names(tree, objects: list[dict], url: str | None) -> tuple[list[str], list[str]]:
    """The outlet's names and host names, folded, and its initials ("Báo Quân đội nhân dân" ->
    "bqdnd", "qdnd"): an "author" that is one of them is the outlet, not a person."""
    names = [_meta(tree, "og:site_name", "application-name", "apple-mobile-web-app-title") or ""]
    for item in objects:
        publisher = item.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            names.append(publisher["name"])
    for address in (url, _meta(tree, "og:url")):
        if address:
            names.append(urlsplit(address).hostname or "")
    initials = []
    for name in names:
        words = [_fold(word) for word in name.split()]
        if len(words) >= 3:
            initials += ["".join(w[:1] for w in words), "".join(w[:1] for w in words[1:])]
    return [n for n in (_fold(name) for name in names) if n], initials


def _is_person_name(name: str, site: tuple[list[str], list[str]]) -> bool:
    """A printed name that is not the outlet itself (its name, domain or initials)."""
    if len(name) > 80 or _DOMAIN_LIKE.match(name) or _NOT_NAME.search(name):
        return False
    folded = _fold(name)
    if len(folded) < 2:
        return False
    names, initials = site
    if folded in initials:
        return False
    return not any(len(n) >= 4 and (folded in n or n in folded) for n in names)


# class names of byline elements: "author", "article__author", "detail-author", "byline", "tac-gia"
_BYLINE_CLASS = re.compile(r"author(?!-?(?:avatar|image|img|link|share|list))|byline|tac-?gia", re.IGNORECASE)


def _byline_near_headline(tree, site_names: tuple[list[str], list[str]]) -> str | None:
    headline = headline_element(tree)
    if headline is None:
        return None
    scope = headline
    for _ in range(4):
        parent = scope.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        scope = parent
        for element in scope.iter():
            if not isinstance(element.tag, str) or not _BYLINE_CLASS.search(element.get("class") or ""):
                continue
            name = _clean(element.text_content())
            if name:
                name = _strip_credit_word(name)
            if name and len(name.split()) <= MAX_BYLINE_WORDS and _is_person_name(name, site_names):
                return name
    return None


def _language(tree, text: str, title: str | None) -> str | None:
    """``<html lang>`` when it names vi/en/ru and agrees with the script of the text."""
    declared = (tree.get("lang") or _meta(tree, "content-language", "language", "og:locale") or "").lower()
    declared = re.split(r"[-_]", declared.strip())[0] if declared else ""
    detected = detect_language(text or title or "")
    if declared in LANGUAGES:
        if detected is None or (declared == "ru") == (detected == "ru"):
            return declared
    return detected


# ---- body ---------------------------------------------------------------------------------


def _body_text(tree, url: str | None) -> str:
    import trafilatura  # imported here: reading commands must not pay for it

    try:
        text = trafilatura.extract(tree, url=url, fast=True, prune_xpath=PRUNE_XPATH, **TRAFILATURA_OPTIONS) or ""
        if len(text) < MIN_FAST_BODY_CHARS:
            fuller = trafilatura.extract(tree, url=url, fast=False, prune_xpath=PRUNE_XPATH, **TRAFILATURA_OPTIONS)
            if fuller and len(fuller) > len(text):
                text = fuller
    except Exception:  # noqa: BLE001 - one odd page must not stop a crawl
        LOGGER.warning("trafilatura failed on %s", url or "a page", exc_info=True)
        return ""
    return text


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def find_lead(tree) -> str | None:
    """The lead paragraph as printed on the page, found through the page's own description.

    Vietnamese sites print the lead ("sapo") in the article header, outside the
    container trafilatura takes the body from. An element is the lead when its text
    starts like ``og:description``/``description``, so a site's SEO blurb that is not
    on the page is never added.
    """
    description = _meta(tree, "og:description", "description", "twitter:description")
    if not description or len(description) < MIN_LEAD_CHARS:
        return None
    prefix = _normalised(strip_dateline(description))[:LEAD_PREFIX_CHARS]
    for element in tree.xpath(_LEAD_CLASS_XPATH):
        if element.getparent() is not None and element.getparent().tag == "a":
            continue
        text = _clean(element.text_content())
        if text and MIN_LEAD_CHARS <= len(text) <= MAX_LEAD_CHARS:
            if _normalised(strip_dateline(text)).startswith(prefix):
                return text
    return None


def _assemble(lead: str | None, body: str, title: str | None) -> str:
    body = unicodedata.normalize("NFC", body)
    lines = body.split("\n")
    if lead:
        lead_start = _normalised(strip_dateline(lead))[:LEAD_PREFIX_CHARS]
        if lead_start not in _normalised(body[: 4 * MAX_LEAD_CHARS]):
            lines.insert(0, lead)
    if title:
        wanted = _normalised(title)
        for index, line in enumerate(lines[:TITLE_SEARCH_LINES]):
            if _normalised(line) == wanted:
                del lines[index]
                break
    return "\n".join(lines)
