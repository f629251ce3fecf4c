"""Find the article links (and the next page) on a news listing page, for any site, without per-site rules.

Many sources have no usable feed or sitemap, only section pages ("Kinh doanh",
"Quân sự", "Армия") that list headlines. :func:`find_article_links` reads such
a page once with lxml and keeps the links that look like articles:

1. same site (subdomains included), normalised, deduplicated in page order;
2. never navigation: links inside ``<nav>``/``<footer>``/menus/breadcrumbs/pagination,
   ``rel=tag|author|category``, the home page, the page itself and its other pages,
   tag/topic/author/login/search/contact/static paths, images, PDFs and other files;
3. an article-shaped URL, judged against the page's own convention: when several
   links carry a numeric article id (``…-5047621.html``, ``…-d538952.html``,
   ``/politika/21612345``) the site uses ids, and only id (or dated) links count —
   which rejects category pages with long names such as
   ``/chi-dao-quyet-dinh-cua-chinh-phu-thu-tuong-chinh-phu.htm``; when several
   carry a date path (``/2024/08/14/``, ``/20240814/``) dates decide; otherwise a
   hyphenated slug of three or more words with a headline-like anchor text (five or
   more words, 25+ characters) counts.

With a source's ``article_pattern`` only step 1 applies, plus the regular
expression (searched in the normalised URL), which then decides alone.

:func:`find_next_page` follows pagination: ``rel=next``, a link whose text is
"Trang sau"/"Tiếp"/"Next"/"Следующая"…, or the link to page N+1 of the same
listing (``?page=3``, ``/page/3``, ``/trang-3.htm``, ``-p3``, ``-page2``…).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.etree
import lxml.html

from crawler.urls import normalize_url, same_site

__all__ = ["find_article_links", "find_next_page", "decode_html"]

# --- what is never an article --------------------------------------------------

# Path segments (extension removed) that mark navigation, taxonomy, account or utility pages.
NON_ARTICLE_SEGMENTS = frozenset(
    {
        # taxonomy
        "tag", "tags", "tu-khoa", "tukhoa", "topic", "topics", "chu-de", "chude", "category", "categories",
        "chuyen-muc", "chuyenmuc", "danh-muc", "event", "events", "collection", "collections", "rubric",
        "theme", "themes", "label", "keyword", "keywords", "teg", "tegi", "temy",
        # people
        "author", "authors", "tac-gia", "tacgia", "user", "users", "profile", "member", "avtor", "avtory",
        # account and commerce
        "login", "logout", "signin", "sign-in", "signup", "sign-up", "register", "dang-nhap", "dang-ky",
        "dang-xuat", "account", "tai-khoan", "thong-tin-tai-khoan", "cart", "checkout", "subscribe",
        "subscription", "dat-bao", "quen-mat-khau", "password",
        # utility
        "search", "tim-kiem", "timkiem", "poisk", "rss", "feed", "feeds", "sitemap", "contact", "contacts",
        "lien-he", "about", "about-us", "gioi-thieu", "privacy", "privacy-policy", "terms", "dieu-khoan",
        "chinh-sach-bao-mat", "quang-cao", "advertise", "advertising", "lien-he-quang-cao", "toa-soan",
        "thong-tin-toa-soan", "download-app", "tai-ung-dung", "e-paper", "epaper", "lich-van-nien",
        "weather", "thoi-tiet", "print", "share", "comments", "comment", "static", "assets", "cdn-cgi",
        "wp-admin", "wp-login", "wp-content", "wp-json", "xmlrpc",
    }
)
FILE_EXTENSIONS = frozenset(
    {
        "jpg", "jpeg", "png", "gif", "webp", "svg", "bmp", "ico", "avif", "tif", "tiff",
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "rtf", "txt", "csv",
        "zip", "rar", "7z", "gz", "tar", "exe", "apk", "dmg",
        "mp3", "mp4", "m4a", "m4v", "wav", "ogg", "webm", "avi", "mov", "flv", "m3u8",
        "css", "js", "json", "xml", "rss", "atom", "woff", "woff2", "ttf", "eot",
    }
)
# Class/id words (split on "-" and "_") of containers that hold navigation, not headlines.
NAVIGATION_WORDS = frozenset(
    {"nav", "navbar", "navigation", "menu", "submenu", "megamenu", "breadcrumb", "breadcrumbs",
     "footer", "pagination", "paging", "pager"}
)
NAVIGATION_TAGS = frozenset({"nav", "footer"})
NON_ARTICLE_RELS = frozenset({"tag", "author", "category", "search", "license", "help", "privacy-policy", "terms-of-service"})

# --- what an article URL looks like ---------------------------------------------

# A numeric article id ending the last path segment: "-5047621", "-d538952", "/21612345", "_123456".
_TRAILING_ID = re.compile(r"(?:^|[-_.])(?:\d{5,}|[a-z]{1,2}\d{6,})$", re.IGNORECASE)
_LEADING_ID = re.compile(r"^\d{5,}[-_]")
_ID_QUERY_KEYS = frozenset({"id", "newsid", "news_id", "articleid", "article_id", "aid", "nid", "storyid", "p", "post"})
_DATE_PATH = re.compile(
    r"/(?:19|20)\d{2}(?:[/-](?:0?[1-9]|1[0-2])(?:[/-](?:0?[1-9]|[12]\d|3[01]))?|(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]))/."
)
_WORD = re.compile(r"\w+", re.UNICODE)

MIN_CONVENTION_LINKS = 3  # links with ids (or dates) on a page before that convention is trusted
MIN_SLUG_WORDS = 3  # "rossiya-vetnam-soglashenie"; shorter slugs are section names
MIN_HEADLINE_WORDS = 5  # "Россия и Вьетнам подписали соглашение"; menu labels are shorter
MIN_HEADLINE_CHARS = 25

# --- pagination -----------------------------------------------------------------

NEXT_WORDS = frozenset(
    {
        "next", "next page", "older", "older posts", "older entries",
        "trang sau", "trang tiếp", "trang tiếp theo", "tiếp", "tiếp theo", "sau", "xem tiếp", "trang kế",
        "следующая", "следующая страница", "далее", "вперед", "вперёд", "дальше",
    }
)
NEXT_ARROWS = frozenset({"›", "»", ">", ">>", "→", "⟩", "❯", "〉", "▶", "►"})
_PAGE_QUERY_KEYS = ("page", "p", "pg", "paged", "trang", "pageindex", "page_no", "pagenum", "pagenumber", "start_page")
_PAGE_IN_PATH = (
    re.compile(r"/(?:page|trang|p|pages|stranitsa|str)/(\d{1,4})/?$", re.IGNORECASE),  # /page/3, /trang/3, /p/3
    re.compile(r"/(?:page|trang|p)-?(\d{1,4})(\.[a-z]{2,5})?/?$", re.IGNORECASE),  # /trang-3.htm, /p3, /page-3
    re.compile(r"-(?:page|trang|p)-?(\d{1,4})(\.[a-z]{2,5})?/?$", re.IGNORECASE),  # -p3, -page2, -trang-3.html
)


def find_article_links(html: bytes | str, base_url: str, pattern: str | None = None) -> list[str]:
    """Normalised URLs of the articles a listing page links to, in page order, without repeats.

    ``base_url`` is the page's own URL (relative links and "same site" are judged
    against it; a ``<base href>`` in the page wins). Without ``pattern`` the
    generic heuristic in the module docstring decides; with ``pattern`` (a
    regular expression) a same-site link is an article exactly when the pattern
    is found in its normalised URL (an invalid pattern raises :class:`re.error`;
    the config loader rejects those). Returns ``[]`` for an empty or unparsable page.

    >>> find_article_links(
    ...     b'<ul class="menu"><li><a href="/the-gioi.htm">The gioi</a></li></ul>'
    ...     b'<h3><a href="/nga-va-viet-nam-ky-thoa-thuan-quoc-phong-20260307080054340.htm">'
    ...     b'Nga va Viet Nam ky thoa thuan quoc phong</a></h3>',
    ...     "https://example.vn/the-gioi.htm")
    ['https://example.vn/nga-va-viet-nam-ky-thoa-thuan-quoc-phong-20260307080054340.htm']
    """
    document = _parse(html)
    if document is None:
        return []
    page_url = normalize_url(base_url) or base_url
    base = _document_base(document, page_url)
    listing_key = _listing_key(page_url)
    matcher = _compile(pattern) if pattern else None

    links: dict[str, _Link] = {}
    for anchor, url in _site_links(document, base, page_url):
        if matcher is not None:
            if url not in links and matcher.search(url):
                links[url] = _Link(url)
            continue
        link = links.get(url)
        if link is None:
            link = links[url] = _Link(url)
        link.add(anchor)

    if matcher is not None:
        return list(links)
    candidates = [link for link in links.values() if link.allowed(listing_key)]
    with_id = sum(1 for link in candidates if link.shape.has_id)
    with_date = sum(1 for link in candidates if link.shape.has_date)
    if with_id >= MIN_CONVENTION_LINKS:
        accept = _accept_on_id_site
    elif with_date >= MIN_CONVENTION_LINKS:
        accept = _accept_on_date_site
    else:
        accept = _accept_on_slug_site
    return [link.url for link in candidates if accept(link)]


def find_next_page(html: bytes | str, base_url: str) -> str | None:
    """The URL of the listing's next page, or None on the last (or only) page.

    Tried in order: ``<link rel="next">``/``<a rel="next">`` (unless it goes
    back to an earlier page of the listing); a link whose text,
    ``title`` or ``aria-label`` says "next" (Vietnamese, English, Russian); the
    link to page N+1 of the same listing, where N is read from the current URL
    (no number means the first page; 0-based numbering is recognised when the
    page links to page 0); finally an arrow link ("›", "»"). A worded or arrow
    link to another page number of the same listing than N+1 is ignored
    (arrows often mean "last page", and a "next" link never goes back).
    """
    document = _parse(html)
    if document is None:
        return None
    page_url = normalize_url(base_url) or base_url
    base = _document_base(document, page_url)

    current_key, current_number = _page_number(page_url)
    for element in document.iter("link", "a"):
        rels = (element.get("rel") or "").lower().split()
        if "next" in rels:
            url = normalize_url(element.get("href") or "", base)
            if url and url != page_url and same_site(url, page_url):
                key, number = _page_number(url)
                if current_number is None or number is None or key != current_key or number > current_number:
                    return url

    numbered: dict[int, str] = {}
    worded: list[tuple[str, str, int | None]] = []
    arrows: list[tuple[str, str, int | None]] = []
    for anchor, url in _site_links(document, base, page_url):
        key, number = _page_number(url)
        if number is not None and key == current_key:
            numbered.setdefault(number, url)
        label = _label(anchor)
        if label in NEXT_WORDS:
            worded.append((url, key, number))
        elif label in NEXT_ARROWS:
            arrows.append((url, key, number))

    wanted = (1 if 0 in numbered else 2) if current_number is None else current_number + 1
    for url, key, number in worded:
        if number is None or key != current_key or number == wanted:
            return url
    if wanted in numbered:
        return numbered[wanted]
    for url, key, number in arrows:  # arrows often mean "last page": only an unnumbered or the N+1 one
        if number is None or key != current_key or number == wanted:
            return url
    return None


def decode_html(body: bytes) -> str:
    """Decode an HTML body: BOM, else UTF-8 when the bytes are valid UTF-8, else the
    ``<meta charset>`` found in the first 64 KB, else windows-1252.

    libxml2 only honours a ``<meta charset>`` it meets early, and many Vietnamese
    pages declare it after kilobytes of scripts; and a page whose bytes are valid
    UTF-8 is UTF-8 whatever it declares (real cp1251 or windows-1258 text never is).
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(body[:65536])
    if declared:
        try:
            encoding = codecs.lookup(declared.group(1).decode("ascii", errors="ignore")).name
        except LookupError:
            encoding = None
        if encoding and not encoding.startswith("utf-16"):
            return body.decode(encoding, errors="replace")
    return body.decode("windows-1252", errors="replace")


# --- internals ------------------------------------------------------------------

_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]{2,40})", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def _parse(html: bytes | str) -> lxml.html.HtmlElement | None:
    """One lxml parse of the page; None when there is nothing to parse."""
    if isinstance(html, (bytes, bytearray)):
        html = decode_html(bytes(html))
    if not isinstance(html, str):
        return None
    html = _XML_DECLARATION.sub("", html, count=1).replace("\x00", "")
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None


def _site_links(
    document: lxml.html.HtmlElement, base: str, page_url: str
) -> Iterator[tuple[lxml.html.HtmlElement, str]]:
    """Each ``<a href>`` leading to another page of the same site, with its normalised URL."""
    resolved: dict[str, str | None] = {}
    for anchor in document.iter("a"):
        href = anchor.get("href")
        if not href:
            continue
        if href not in resolved:
            url = normalize_url(href, base)
            resolved[href] = url if url and url != page_url and same_site(url, page_url) else None
        url = resolved[href]
        if url is not None:
            yield anchor, url


def _document_base(document: lxml.html.HtmlElement, page_url: str) -> str:
    for base in document.iter("base"):
        href = base.get("href")
        if href:
            resolved = normalize_url(href, page_url)
            if resolved:
                return resolved
        break
    return page_url


@lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class _Shape:
    """What a URL's form says about it."""

    __slots__ = ("has_id", "has_date", "slug_words", "is_file", "is_home", "is_navigation")

    def __init__(self, url: str):
        parts = urlsplit(url)
        path = parts.path
        segments = [segment for segment in path.split("/") if segment]
        last = segments[-1] if segments else ""
        stem, _, extension = last.rpartition(".") if "." in last else (last, "", "")
        extension = extension.lower()
        self.is_home = not segments and not parts.query
        self.is_file = extension in FILE_EXTENSIONS
        stems = [segment.rsplit(".", 1)[0].lower() for segment in segments]
        self.is_navigation = any(stem_ in NON_ARTICLE_SEGMENTS for stem_ in stems)
        query_id = any(
            key.lower() in _ID_QUERY_KEYS and value.isdigit() and len(value) >= 4
            for key, value in parse_qsl(parts.query)
        )
        self.has_id = bool(_TRAILING_ID.search(stem) or _LEADING_ID.search(stem) or query_id)
        self.has_date = bool(_DATE_PATH.search(path))
        self.slug_words = max((len([w for w in re.split(r"[-_+]", s) if w]) for s in stems), default=0)


class _Link:
    """One distinct URL on the page and everything its anchors say about it."""

    __slots__ = ("url", "shape", "best_text", "in_content", "bad_rel")

    def __init__(self, url: str):
        self.url = url
        self.shape: _Shape | None = None
        self.best_text = ""
        self.in_content = False  # linked at least once from outside menus, breadcrumbs, footers
        self.bad_rel = False

    def add(self, anchor: lxml.html.HtmlElement) -> None:
        if self.shape is None:
            self.shape = _Shape(self.url)
        text = " ".join(anchor.text_content().split()) or _attribute_text(anchor)
        if len(text) > len(self.best_text):
            self.best_text = text
        if not self.in_content and not _in_navigation(anchor):
            self.in_content = True
        rel = (anchor.get("rel") or "").lower().split()
        if any(value in NON_ARTICLE_RELS for value in rel):
            self.bad_rel = True

    def allowed(self, listing_key: str) -> bool:
        shape = self.shape
        if shape is None or shape.is_home or shape.is_file or shape.is_navigation or self.bad_rel:
            return False
        if not self.in_content:
            return False
        return _page_number(self.url)[0] != listing_key

    @property
    def headline_like(self) -> bool:
        text = self.best_text
        return len(text) >= MIN_HEADLINE_CHARS and len(_WORD.findall(text)) >= MIN_HEADLINE_WORDS


def _attribute_text(anchor: lxml.html.HtmlElement) -> str:
    """For an anchor without text (a thumbnail): its title, or its image's alt text."""
    title = anchor.get("title")
    if title and title.strip():
        return " ".join(title.split())
    for image in anchor.iter("img"):
        alt = image.get("alt")
        if alt and alt.strip():
            return " ".join(alt.split())
    return ""


def _accept_on_id_site(link: _Link) -> bool:
    return link.shape.has_id or link.shape.has_date


def _accept_on_date_site(link: _Link) -> bool:
    return link.shape.has_date or link.shape.has_id


def _accept_on_slug_site(link: _Link) -> bool:
    shape = link.shape
    if shape.has_id or shape.has_date:
        return link.headline_like or shape.slug_words >= MIN_SLUG_WORDS
    return shape.slug_words >= MIN_SLUG_WORDS and link.headline_like


def _in_navigation(element: lxml.html.HtmlElement) -> bool:
    """True when the element sits in a nav/footer element or a menu/breadcrumb/pagination container."""
    for ancestor in element.iterancestors():
        tag = ancestor.tag
        if not isinstance(tag, str):
            continue
        if tag in NAVIGATION_TAGS:
            return True
        if tag in ("body", "html"):
            return False
        names = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''} {ancestor.get('role') or ''}"
        if names.strip() and any(word in NAVIGATION_WORDS for word in _class_words(names)):
            return True
    return False


def _class_words(names: str) -> Iterator[str]:
    for name in names.lower().split():
        yield from re.split(r"[-_]", name)


def _label(anchor: lxml.html.HtmlElement) -> str:
    """What the anchor says, for pagination: an arrow from NEXT_ARROWS, a phrase from NEXT_WORDS, or ""."""
    for raw in (anchor.text_content(), anchor.get("aria-label") or "", anchor.get("title") or ""):
        text = " ".join(raw.split()).lower()
        if text in NEXT_ARROWS:
            return text
        trimmed = text.strip(" ›»>→⟩❯〉▶►.…:")
        if trimmed in NEXT_WORDS:
            return trimmed
    return ""


def _page_number(url: str) -> tuple[str, int | None]:
    """(the listing's identity without its page number, the page number or None)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    query = parse_qsl(parts.query, keep_blank_values=True)
    number = None
    kept_query = []
    for key, value in query:
        if number is None and key.lower() in _PAGE_QUERY_KEYS and value.isdigit() and len(value) <= 4:
            number = int(value)
            continue
        kept_query.append((key, value))
    path = parts.path
    if number is None:
        for regex in _PAGE_IN_PATH:
            match = regex.search(path)
            if match:
                number = int(match.group(1))
                extension = match.group(2) if match.lastindex and match.lastindex >= 2 else None
                path = path[: match.start()] + (extension or "")
                break
    path = path.rstrip("/") or "/"
    key = urlunsplit(("", host, path, urlencode(kept_query), ""))
    return key, number


def _listing_key(page_url: str) -> str:
    return _page_number(page_url)[0]
