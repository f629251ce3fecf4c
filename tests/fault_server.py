"""A fault-injecting web site on a loopback address, for the reliability tests (``tests/test_faults_*.py``).

    >>> with FaultSite() as site:                                   # doctest: +SKIP
    ...     site.route("/feed.xml", page(rss_feed([...]), "application/rss+xml"))
    ...     site.route("/busy", status(503, retry_after=1, times=1, then=page(article_html(...))))
    ...     site.url("/busy")
    'http://127.0.0.1:40123/busy'

Each :class:`FaultSite` is a plain ``http.server`` in a daemon thread, bound to
one loopback address (``127.0.0.1`` by default; any ``127.x.y.z`` works on
Linux, which gives each site its own host name, so its own robots.txt and its
own Scrapy download slot) on a free port. A path is answered by the responder
routed to it; a responder is a callable ``(handler, number)`` where ``number``
counts the requests to that path (1 for the first), so "fail twice, then work"
is easy to say. Every request is recorded in :attr:`FaultSite.hits` with the
time it arrived; nothing is printed.

The responders cover what the hostile web does: error statuses with or without
``Retry-After``, slow answers, a connection reset half-way through the body,
redirects, bodies larger than announced limits, gzip bombs, raw bytes with any
``Content-Type``. The content builders (:func:`article_html`, :func:`rss_feed`,
:func:`sitemap_xml`, ...) produce on-topic pages from the seed texts.
"""

from __future__ import annotations

import gzip
import socket
import socketserver
import struct
import sys
import threading
import time
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

SEEDS = Path(__file__).resolve().parent / "fixtures" / "seeds"
DEMO_TEXTS = Path(__file__).resolve().parent.parent / "crawler" / "demo_site" / "content" / "texts"

Responder = Callable[["_FaultHandler", int], None]


@dataclass(frozen=True)
class Hit:
    """One request the site received."""

    method: str
    path: str  # with the query string
    host: str  # the Host header
    at: float  # time.monotonic() when the request line was read
    headers: dict[str, str]


class FaultSite:
    """A web site on ``host`` (a loopback address) whose paths answer with scripted faults."""

    def __init__(self, host: str = "127.0.0.1", robots: str | None = "User-agent: *\nDisallow: /private/\n"):
        self._server = _FaultHTTPServer((host, 0), self)
        self.host = host
        self.port = self._server.server_port
        self.base_url = f"http://{host}:{self.port}"
        self._routes: dict[str, Responder] = {}
        self._counts: dict[str, int] = {}
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.closing = threading.Event()
        if robots is not None:
            self.route("/robots.txt", page(robots, "text/plain; charset=utf-8"))

    # --- set-up -------------------------------------------------------------

    def route(self, path: str, responder: Responder) -> str:
        """Answer requests for ``path`` (no query string) with ``responder``; return the full URL."""
        with self._lock:
            self._routes[path] = responder
        return self.url(path)

    def url(self, path: str, host: str | None = None) -> str:
        """The URL of ``path`` on this site, optionally naming it by another host name (``localhost``)."""
        return f"http://{host or self.host}:{self.port}{path}"

    # --- what tests look at --------------------------------------------------

    def hits(self, path: str | None = None) -> list[Hit]:
        """Requests received so far (for ``path`` only, query string ignored), oldest first."""
        with self._lock:
            hits = list(self._hits)
        if path is None:
            return hits
        return [hit for hit in hits if urlsplit(hit.path).path == path]

    # --- life cycle ----------------------------------------------------------

    def start(self) -> FaultSite:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fault-site-{self.host}:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.closing.set()  # slow responders stop waiting
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FaultSite:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- used by the handler ---------------------------------------------------

    def _dispatch(self, handler: _FaultHandler) -> None:
        path = urlsplit(handler.path).path
        with self._lock:
            self._hits.append(Hit(handler.command, handler.path, handler.headers.get("Host", ""), time.monotonic(),
                                  dict(handler.headers.items())))
            responder = self._routes.get(path)
            number = self._counts[path] = self._counts.get(path, 0) + 1
        if responder is None:
            responder = status(404)
        responder(handler, number)


class _FaultHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], site: FaultSite):
        self.site = site
        super().__init__(address, _FaultHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN; a loopback test server does not need it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the crawler hung up (a timeout, a size limit): expected here
        super().handle_error(request, client_address)


class _FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-site/1"
    timeout = 30
    server: _FaultHTTPServer

    def do_GET(self) -> None:
        self.server.site._dispatch(self)

    def send(self, code: int, body: bytes = b"", content_type: str | None = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> None:
        """A complete response with a correct Content-Length."""
        self.send_response(code)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: :attr:`FaultSite.hits` replaces stderr logging."""


# --- responders ------------------------------------------------------------------


def page(body: bytes | str, content_type: str = "text/html; charset=utf-8", code: int = 200,
         headers: dict[str, str] | None = None) -> Responder:
    """Always the same response (``str`` bodies are sent as UTF-8), with an ETag honoured by ``304``."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = f'"{zlib.crc32(data):08x}-{len(data)}"'

    def respond(handler: _FaultHandler, number: int) -> None:
        if code == 200 and handler.headers.get("If-None-Match") == etag:
            handler.send(304, b"", None, {"ETag": etag})
            return
        handler.send(code, data, content_type, {"ETag": etag, **(headers or {})})

    return respond


def status(code: int, *, retry_after: str | int | None = None, times: int | None = None,
           then: Responder | None = None) -> Responder:
    """Answer ``code`` (with ``Retry-After`` if given) — the first ``times`` requests only, then ``then``."""

    def respond(handler: _FaultHandler, number: int) -> None:
        if times is not None and number > times and then is not None:
            then(handler, number)
            return
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = f"<html><body><h1>{code}</h1></body></html>".encode()
        handler.send(code, body, "text/html; charset=utf-8", headers)

    return respond


def slow(seconds: float, then: Responder) -> Responder:
    """Say nothing for ``seconds`` (past the crawler's download timeout), then answer like ``then``."""

    def respond(handler: _FaultHandler, number: int) -> None:
        if handler.server.site.closing.wait(seconds):
            return
        then(handler, number)

    return respond


def reset_mid_body(body: bytes | str, content_type: str = "text/html; charset=utf-8") -> Responder:
    """Announce the whole body, send half of it, then reset the connection (TCP RST)."""
    data = body.encode("utf-8") if isinstance(body, str) else body

    def respond(handler: _FaultHandler, number: int) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data[: len(data) // 2])
        handler.wfile.flush()
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
        handler.close_connection = True

    return respond


def redirect(location: str, code: int = 302) -> Responder:
    """A redirect to ``location`` (absolute, or a path on this site)."""

    def respond(handler: _FaultHandler, number: int) -> None:
        handler.send(code, b"", None, {"Location": location})

    return respond


def streamed(chunk: bytes, total: int, content_type: str = "text/html; charset=utf-8",
             announce_length: bool = True) -> Responder:
    """A ``total``-byte body made of ``chunk`` repeated, written as it goes (for oversized bodies)."""

    def respond(handler: _FaultHandler, number: int) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        if announce_length:
            handler.send_header("Content-Length", str(total))
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        sent = 0
        while sent < total:
            piece = chunk[: total - sent]
            handler.wfile.write(piece)
            sent += len(piece)

    return respond


def gzip_bomb(content_type: str = "text/html; charset=utf-8") -> Responder:
    """A ~1 MB ``Content-Encoding: gzip`` body that inflates to 1 GiB of spaces."""

    def respond(handler: _FaultHandler, number: int) -> None:
        handler.send(200, gzip_bomb_body(), content_type, {"Content-Encoding": "gzip"})

    return respond


@lru_cache(maxsize=1)
def gzip_bomb_body(inflated: int = 1 << 30) -> bytes:
    """Gzip data of ``inflated`` bytes of spaces, ~1000:1: one 1 MiB member repeated (gzip allows many members)."""
    member = gzip.compress(b" " * (1 << 20), 9)
    return member * (inflated >> 20)


# --- content -----------------------------------------------------------------------


@dataclass(frozen=True)
class SeedText:
    title: str
    paragraphs: list[str]
    lang: str


def seed_text(number: int) -> SeedText:
    """Vietnamese seed article ``number`` (0-4) from tests/fixtures/seeds: title and paragraphs."""
    path = sorted(SEEDS.glob(f"{number:03d}_*.txt"))[0]
    title, *lines = path.read_text(encoding="utf-8").splitlines()
    return SeedText(title.strip(), [line.strip() for line in lines if line.strip()], "vi")


def russian_text() -> SeedText:
    """A TASS story on Russia–Vietnam defence talks (Russian), from the demo site's texts."""
    lines = (DEMO_TEXTS / "tass-belousov-giang.txt").read_text(encoding="utf-8").splitlines()
    paragraphs = [line.strip().replace("{dateline}", "12 марта") for line in lines if line.strip()]
    return SeedText("Белоусов провел переговоры с министром обороны Вьетнама Фан Ван Зангом", paragraphs, "ru")


def now_http() -> str:
    return format_datetime(datetime.now(timezone.utc), usegmt=True)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def article_html(text: SeedText, *, marker: str = "", charset: str | None = "utf-8", extra_head: str = "",
                 extra_body: str = "") -> str:
    """A news article page for ``text``; ``marker``, a sentence added to the first paragraph, tells pages apart."""
    meta = f'<meta charset="{charset}">' if charset else ""
    texts = list(text.paragraphs)
    if marker:
        texts[0] = f"{texts[0]} {marker}"
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in texts)
    return (
        f'<!DOCTYPE html>\n<html lang="{text.lang}"><head>{meta}<title>{escape(text.title)}</title>'
        f'<meta property="article:published_time" content="{now_iso()}">{extra_head}</head>\n'
        f'<body><header><a href="/">Home</a></header>\n<article><h1>{escape(text.title)}</h1>\n'
        f"{paragraphs}\n{extra_body}</article>\n<footer>© fault site</footer></body></html>\n"
    )


def rss_feed(items: list[tuple[str, str]], *, prolog: str = "", title_entity: str | None = None) -> str:
    """An RSS 2.0 feed of ``(url, title)`` items dated now; ``prolog`` goes before ``<rss>`` (a DOCTYPE)."""
    date = now_http()
    entries = "".join(
        f"<item><title>{title_entity or escape(title)}</title><link>{escape(url)}</link>"
        f"<pubDate>{date}</pubDate></item>\n"
        for url, title in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}<rss version="2.0"><channel><title>Fault site</title>'
            f"<link>http://fault.invalid/</link><description>faults</description>\n{entries}</channel></rss>\n")


def sitemap_xml(urls: list[str]) -> str:
    """A news sitemap (urlset) of ``urls`` dated now."""
    date = now_iso()
    body = "".join(f"<url><loc>{escape(u)}</loc><lastmod>{date}</lastmod></url>\n" for u in urls)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</urlset>\n')


def sitemap_index_xml(children: list[str]) -> str:
    """A sitemap index listing ``children``."""
    date = now_iso()
    body = "".join(f"<sitemap><loc>{escape(u)}</loc><lastmod>{date}</lastmod></sitemap>\n" for u in children)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</sitemapindex>\n')


def huge_sitemap_gz(base_url: str, count: int) -> bytes:
    """A gzipped urlset of ``count`` article URLs under ``base_url`` (``sitemap.xml.gz`` style)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(b'<?xml version="1.0" encoding="UTF-8"?>\n'
                                 b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')]
    prefix = f"<url><loc>{base_url}/huge/".encode()
    batch = 10_000
    for start in range(0, count, batch):
        parts.append(compressor.compress(b"".join(prefix + str(n).encode() + b"</loc></url>\n"
                                                  for n in range(start, min(count, start + batch)))))
    parts.append(compressor.compress(b"</urlset>\n"))
    parts.append(compressor.flush())
    return b"".join(parts)


def encode_cp1258(text: str) -> bytes:
    """``text`` in windows-1258, as Vietnamese sites wrote it: precomposed where the code page has the
    letter (ă, ơ, ê, ...), a combining tone mark after it otherwise ("ố" = "ô" + U+0301)."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        shape = "".join(m for m in parts[1:] if m in "\u0302\u0306\u031b")  # circumflex, breve, horn
        tones = "".join(m for m in parts[1:] if m not in shape)
        out += unicodedata.normalize("NFC", parts[0] + shape).encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, 6)


def toml_string(value: str) -> str:
    """A TOML basic string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def newsmon_toml(db_path: str | Path, sources: list[dict], **crawl: object) -> str:
    """A newsmon.toml for ``sources`` (dicts of name, lang, feeds, sitemaps, listings) with ``[crawl]`` keys."""
    settings = {"window": "14d", "delay": "0s", "obey_robots": True, "allow_private_networks": True,
                "download_timeout": "2s", "concurrency_per_domain": 4}
    settings.update(crawl)
    lines = ["[store]", f"path = {toml_string(str(db_path))}", "", "[crawl]"]
    for key, value in settings.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} = {toml_string(str(value))}")
    for source in sources:
        lines += ["", "[[sources]]", f"name = {toml_string(source['name'])}",
                  f"lang = {toml_string(source.get('lang', 'vi'))}"]
        for kind in ("feeds", "sitemaps", "listings"):
            if source.get(kind):
                lines.append(f"{kind} = [{', '.join(toml_string(u) for u in source[kind])}]")
        if source.get("article_pattern"):
            lines.append(f"article_pattern = {toml_string(source['article_pattern'])}")
    return "\n".join(lines) + "\n"
