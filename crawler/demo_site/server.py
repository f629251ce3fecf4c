"""Serve the demo site over HTTP on 127.0.0.1, in a background thread.

    >>> with serve_demo_site() as site:            # doctest: +SKIP
    ...     urllib.request.urlopen(site.outlets[0].feed_url).status
    200

The server answers GET and HEAD, sends ``ETag`` and ``Last-Modified`` with every
page and ``304 Not Modified`` to a matching ``If-None-Match`` or
``If-Modified-Since``, so a second crawl of an unchanged site revalidates its entry
points cheaply. It logs nothing to stderr; every request is recorded in
:attr:`DemoSite.request_log` instead, for tests to inspect.
"""

from __future__ import annotations

import socketserver
import sys
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from crawler.demo_site.catalog import Catalog, build_catalog
from crawler.demo_site.date_formats import http_date
from crawler.demo_site.model import DemoArticle, Outlet
from crawler.demo_site.pages import Page, SiteRenderer, render_text

HOST = "127.0.0.1"


class ServedSite:
    """Life cycle of a site answered by a :class:`PageServer` in a daemon thread.

    Subclasses set ``self._server`` (a :class:`PageServer`) and ``self._thread = None``.
    Use the site as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    _server: PageServer
    _thread: threading.Thread | None

    def start(self):
        """Serve requests in a daemon thread until :meth:`stop`; returns the site."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"{type(self).__name__}-{self._server.server_port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class DemoSite(ServedSite):
    """A running demo news site; use :func:`serve_demo_site` to start one."""

    def __init__(self, port: int = 0, scale: int = 1):
        self._server = PageServer((HOST, port), self)
        self.base_url = f"http://{HOST}:{self._server.server_port}"
        self.started = datetime.now(UTC).replace(second=0, microsecond=0)
        try:
            self._renderer = SiteRenderer(build_catalog(self.base_url, self.started, scale))
        except Exception:
            self._server.server_close()
            raise
        self._log: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- what tests look at --------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        return self._renderer.catalog

    @property
    def outlets(self) -> list[Outlet]:
        """The outlets: name, lang, wire, feed_url, sitemap_url, listing_url, utc_offset, ..."""
        return list(self.catalog.outlets)

    @property
    def articles(self) -> list[DemoArticle]:
        """Every published article, newest first (the old one and synthetic ones included)."""
        return list(self.catalog.articles)

    def article(self, article_id: str) -> DemoArticle:
        """The article with content id ``article_id`` (e.g. ``"s3-vnx"``)."""
        return self.catalog.by_id[article_id]

    def outlet(self, name: str) -> Outlet:
        outlet = self.catalog.outlet(name)
        if outlet is None:
            raise KeyError(f"no outlet named {name!r}")
        return outlet

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """(method, path with query, status) of every request so far, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_request_log(self) -> None:
        with self._lock:
            self._log.clear()

    def publish_pending(self) -> list[DemoArticle]:
        """Publish the articles held back in articles.json ("pending"), dated now.

        Feeds, sitemaps and listings change (new ETags), so a later crawl finds
        them: one is a copy of a story already on the site, one a new story.
        """
        old = self.catalog
        new = old.with_pending_published(datetime.now(UTC))
        self._renderer = SiteRenderer(new)
        return [article for article in new.articles if article.id not in old.by_id]

    def config_toml(self, db_path: str) -> str:
        """A complete newsmon.toml that crawls this site and stores into ``db_path``."""
        return render_text("newsmon.toml", base_url=self.base_url, db_path=str(db_path), outlets=self.outlets)

    def url(self, path: str) -> str:
        return self.base_url + path

    def page(self, path: str, query: str = "") -> Page | None:
        """The page served at ``path`` (None: 404)."""
        return self._renderer.page(path, query)

    def record_request(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._log.append((method, path, status))


def serve_demo_site(port: int = 0, scale: int = 1) -> DemoSite:
    """Start the demo site on 127.0.0.1 (``port`` 0: a free port) and return it.

    Use it as a context manager to stop it again. ``scale`` > 1 adds synthetic
    articles for benchmarks (about 2,400 at ``scale=100``).
    """
    return DemoSite(port=port, scale=scale).start()


class PageServer(ThreadingHTTPServer):
    """An HTTP server on a loopback port for a site object with ``page(path, query) -> Page | None``
    and ``record_request(method, path, status)``: the demo site, and the benchmarks' replay site."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: DemoSite):
        self.site = site
        super().__init__(address, _PageRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can take seconds
        # without DNS; a loopback server does not need it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client hung up mid-response: normal for crawlers, not worth a traceback
        super().handle_error(request, client_address)


class _PageRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as crawlers expect
    server_version = "newsmon-demo/0.1"
    timeout = 60  # seconds an idle keep-alive connection may hold a thread
    # Headers and body are separate writes: with Nagle's algorithm on, a small body waits for the
    # client's delayed ACK (up to 40 ms per response), which would make light pages slower than heavy ones.
    disable_nagle_algorithm = True
    server: PageServer

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        target = urlsplit(self.path)
        page = self.server.site.page(target.path, target.query)
        if page is None:
            body = b"<!DOCTYPE html><html><head><title>404</title></head><body><h1>404 Not Found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return
        if _not_modified(self.headers, page):
            self.send_response(304)
            self._send_validators(page)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self._send_validators(page)
        self.end_headers()
        if send_body:
            self.wfile.write(page.body)

    def _send_validators(self, page: Page) -> None:
        self.send_header("ETag", page.etag)
        self.send_header("Last-Modified", http_date(page.last_modified))
        self.send_header("Cache-Control", "no-cache")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.site.record_request(self.command or "-", getattr(self, "path", ""), int(code))

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log replaces stderr logging."""


def _not_modified(headers, page: Page) -> bool:
    """Whether a conditional GET's validators still match ``page`` (If-None-Match wins)."""
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
