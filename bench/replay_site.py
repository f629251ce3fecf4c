"""The replay news site the benchmarks crawl, with demo-weight or real-weight article pages.

The bundled demo site (:mod:`crawler.demo_site`) has what a crawl needs: six
outlets with feeds, news sitemaps, paginated listings, robots.txt, conditional
GET, on- and off-topic articles and reprints, and ``scale=100`` gives about 2,400
article pages. Its article pages are light, though: ~10 KB, extracted in ~2 ms,
where real Vietnamese news pages are 65-500 KB of menus, scripts, sidebars and
"most read" boxes and take 10-25 ms (``tests/fixtures/vn-pages``, PERF-NOTES).
Page weight decides what share of a crawl extraction is, so the throughput
benchmark runs both:

- ``weight="demo"``: the demo site's pages as they are;
- ``weight="real"``: every article page set inside the chrome of one of the nine
  real article pages in ``tests/fixtures/vn-pages`` (chosen by the article's
  number): the real page's ``<head>`` (scripts, styles) and everything around
  its article body (header, menus, related and most-read boxes, footer), with
  the body container replaced by the demo page's own ``<body>`` content and
  the real page's headline, title, meta tags and JSON-LD removed, so the
  article's title, date and text are still the demo article's.

Feeds, sitemaps, listings and robots.txt are the demo site's, rendered by its
public :class:`~crawler.demo_site.pages.SiteRenderer`; only the server differs
(it keeps the time of every request). Both weights are served by this one
server, so they differ in nothing but the article pages.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from crawler.demo_site.catalog import build_catalog
from crawler.demo_site.model import DemoArticle
from crawler.demo_site.pages import Page, SiteRenderer, render_text
from crawler.demo_site.server import HOST, PageServer, ServedSite
ROOT = Path(__file__).resolve().parent.parent
REAL_PAGES = ROOT / "tests" / "fixtures" / "vn-pages"
GOLD_TEXTS = ROOT / "tests" / "fixtures" / "extraction_gold"
WEIGHTS = ("demo", "real")
_BODY_MARK = "\x00NEWSMON-DEMO-BODY\x00"
_HEAD_MARK = "\x00NEWSMON-DEMO-HEAD\x00"
_SPACES = re.compile(r"\s+")
_HTML_LANG = re.compile(r'<html[^>]*\slang="([^"]+)"')


@dataclass(frozen=True)
class Chrome:
    """A real article page cut around its body container: ``head`` + demo head + ``middle`` + demo body + ``tail``."""

    name: str
    head: str
    middle: str
    tail: str

    @property
    def size(self) -> int:
        return len(self.head) + len(self.middle) + len(self.tail)


def _norm(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _cut_chrome(path: Path) -> Chrome:
    """Find the real page's body container (the common ancestor of the paragraphs its gold text
    lists) and cut the page around it; drop what would tell a different title or date."""
    from lxml import etree
    from lxml import html as lxml_html

    gold = _norm((GOLD_TEXTS / f"{path.stem}.txt").read_text(encoding="utf-8"))
    doc = lxml_html.document_fromstring(path.read_bytes().decode("utf-8"))
    paragraphs = [p for p in doc.iter("p") if len(_norm(p.text_content())) >= 40 and _norm(p.text_content())[:40] in gold]
    if not paragraphs:
        raise ValueError(f"{path.name}: no paragraph of its gold text found")
    common = [paragraphs[0], *paragraphs[0].iterancestors()]
    for paragraph in paragraphs[1:]:
        ancestors = {id(e) for e in (paragraph, *paragraph.iterancestors())}
        common = [e for e in common if id(e) in ancestors]
    container = common[0]
    # What would give the page another title or date than the demo article's.
    for element in doc.xpath("//h1 | //title | //head/meta | //link[@rel='canonical' or @rel='alternate'] | "
                             "//script[@type='application/ld+json'] | //base"):
        if element.getparent() is not None:
            element.drop_tree()
    for element in doc.xpath("//*[@itemprop]"):
        del element.attrib["itemprop"]
    for attribute in ("lang", "{http://www.w3.org/XML/1998/namespace}lang"):
        doc.attrib.pop(attribute, None)  # the demo page's language goes in instead
    marker = etree.Comment("body-mark")
    container.addprevious(marker)
    container.drop_tree()
    head = doc.find("head")
    head.insert(0, etree.Comment("head-mark"))
    text = lxml_html.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")
    text = text.replace("<!--head-mark-->", _HEAD_MARK, 1).replace("<!--body-mark-->", _BODY_MARK, 1)
    before_head, rest = text.split(_HEAD_MARK)
    middle, tail = rest.split(_BODY_MARK)
    return Chrome(path.stem, before_head, middle, tail)


@lru_cache(maxsize=1)
def real_chromes() -> tuple[Chrome, ...]:
    """The nine real article pages of ``tests/fixtures/vn-pages``, cut (about 1 s, once)."""
    return tuple(_cut_chrome(path) for path in sorted(REAL_PAGES.glob("*_article*.html")))


def _between(text: str, start_tag: str, end_tag: str) -> str:
    """The inner text of the first ``start_tag...>`` ... ``end_tag`` element (demo pages are regular)."""
    start = text.index(start_tag)
    start = text.index(">", start) + 1
    return text[start:text.rindex(end_tag)]


def weigh_page(body: bytes, charset: str, chrome: Chrome) -> bytes:
    """The demo article page ``body`` set inside ``chrome`` (a real page), in the demo page's charset."""
    page = body.decode(charset)
    head = _between(page, "<head", "</head>")
    inner = _between(page, "<body", "</body>")
    lang = _HTML_LANG.search(page)
    before_head = chrome.head.replace("<html", f'<html lang="{lang.group(1)}"', 1) if lang else chrome.head
    text = before_head + head + chrome.middle + inner + chrome.tail
    return text.encode(charset, errors="xmlcharrefreplace")


class ReplaySite(ServedSite):
    """The demo catalogue served on 127.0.0.1 with article pages of ``weight`` "demo" or "real"."""

    def __init__(self, scale: int = 100, weight: str = "demo", port: int = 0):
        if weight not in WEIGHTS:
            raise ValueError(f"weight must be one of {', '.join(WEIGHTS)}, got {weight!r}")
        self.weight = weight
        self.chromes = real_chromes() if weight == "real" else ()
        self._server = PageServer((HOST, port), self)
        self.base_url = f"http://{HOST}:{self._server.server_port}"
        self.catalog = build_catalog(self.base_url, datetime.now(UTC), scale)
        self._renderer = SiteRenderer(self.catalog)
        self._charsets = {o.name: o.style.charset for o in self.catalog.outlets}
        self._chrome_of = {a.path: (self.chromes[n % len(self.chromes)] if self.chromes else None)
                           for n, a in enumerate(self.catalog.articles)}
        self._log: list[tuple[float, str, str, int]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- what the benchmarks use -------------------------------------------------------

    @property
    def articles(self) -> tuple[DemoArticle, ...]:
        return self.catalog.articles

    def article_page(self, article: DemoArticle) -> bytes:
        """The exact bytes the server sends for ``article``'s page."""
        page = self._renderer.page(article.path)
        return self._weigh(article.path, page).body

    def charset(self, article: DemoArticle) -> str:
        return self._charsets[article.outlet]

    def utc_offset(self, article: DemoArticle) -> str:
        return self.catalog.outlet(article.outlet).utc_offset

    def config_toml(self, db_path: str | Path, **crawl: object) -> str:
        """A newsmon.toml that crawls this site into ``db_path``; ``crawl`` overrides ``[crawl]`` keys."""
        text = render_text("newsmon.toml", base_url=self.base_url, db_path=str(db_path), outlets=self.catalog.outlets)
        return with_crawl_settings(text, **crawl)

    @property
    def request_log(self) -> list[tuple[float, str, str, int]]:
        """(time.monotonic(), method, path with query, status) of every request, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_request_log(self) -> None:
        with self._lock:
            self._log.clear()

    def is_article(self, path: str) -> bool:
        return urlsplit(path).path in self._chrome_of

    # --- serving -------------------------------------------------------------------------

    def _weigh(self, path: str, page: Page) -> Page:
        chrome = self._chrome_of.get(path)
        if chrome is None:
            return page
        article = self.catalog.by_path[path]
        return Page(weigh_page(page.body, self._charsets[article.outlet], chrome), page.content_type,
                    page.last_modified, page.etag)

    def page(self, path: str, query: str = "") -> Page | None:
        page = self._renderer.page(path, query)
        return None if page is None else self._weigh(path, page)

    def record_request(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._log.append((time.monotonic(), method, path, status))


def with_crawl_settings(config_text: str, **values: object) -> str:
    """``config_text`` (a newsmon.toml) with keys of its ``[crawl]`` table set to ``values``."""
    import json

    lines = config_text.splitlines()
    start = lines.index("[crawl]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    for key, value in values.items():
        rendered = f"{key} = {json.dumps(value) if not isinstance(value, bool) else str(value).lower()}"
        for i in range(start, end):
            if lines[i].split("=")[0].strip() == key:
                lines[i] = rendered
                break
        else:
            lines.insert(start, rendered)
            end += 1
    return "\n".join(lines) + "\n"
