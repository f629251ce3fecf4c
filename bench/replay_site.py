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
import socketserver
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from crawler.demo_site.catalog import build_catalog
from crawler.demo_site.date_formats import http_date
from crawler.demo_site.model import DemoArticle
from crawler.demo_site.pages import Page, SiteRenderer, render_text

HOST = "127.0.0.1"
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


class ReplaySite:
    """The demo catalogue served on 127.0.0.1 with article pages of ``weight`` "demo" or "real"."""

    def __init__(self, scale: int = 100, weight: str = "demo", port: int = 0):
        if weight not in WEIGHTS:
            raise ValueError(f"weight must be one of {', '.join(WEIGHTS)}, got {weight!r}")
        self.weight = weight
        self.chromes = real_chromes() if weight == "real" else ()
        self._server = _ReplayServer((HOST, port), self)
        self.base_url = f"http://{HOST}:{self._server.server_port}"
        self.catalog = build_catalog(self.base_url, datetime.now(UTC), scale)
        self._renderer = SiteRenderer(self.catalog)
        self._charsets = {o.name: o.style.charset for o in self.catalog.outlets}
        self._chrome_of = {a.path: (self.chromes[n % len(self.chromes)] if self.chromes else None)
                           for n, a in enumerate(self.catalog.articles)}
        self._log: list[tuple[float, str, str, int]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------

    def start(self) -> ReplaySite:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                            name="replay-site", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> ReplaySite:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

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

    def _page(self, path: str, query: str) -> Page | None:
        page = self._renderer.page(path, query)
        return None if page is None else self._weigh(path, page)

    def _record(self, method: str, path: str, status: int) -> None:
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


class _ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: ReplaySite):
        self.site = site
        super().__init__(address, _ReplayHandler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # no FQDN lookup
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "newsmon-replay/0.1"
    timeout = 60
    # Headers and body are separate writes: with Nagle's algorithm on, a small body waits for the
    # client's delayed ACK (up to 40 ms per response), which would make light pages slower than heavy ones.
    disable_nagle_algorithm = True
    server: _ReplayServer

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        target = urlsplit(self.path)
        page = self.server.site._page(target.path, target.query)
        if page is None:
            body = b"<!DOCTYPE html><html><head><title>404</title></head><body><h1>404</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return
        if _not_modified(self.headers, page):
            self.send_response(304)
            self._validators(page)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self._validators(page)
        self.end_headers()
        if send_body:
            self.wfile.write(page.body)

    def _validators(self, page: Page) -> None:
        self.send_header("ETag", page.etag)
        self.send_header("Last-Modified", http_date(page.last_modified))
        self.send_header("Cache-Control", "no-cache")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.site._record(self.command or "-", getattr(self, "path", ""), int(code))

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log replaces stderr logging."""


def _not_modified(headers, page: Page) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or page.etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return page.last_modified <= since
    return False
