"""Check a source's entry points live: does each answer, parse, carry recent items, extract?

``newsmon sources check`` uses this to tell a user, before a crawl, which feeds,
news sitemaps and listing pages of newsmon.toml still work. Each entry point is
fetched once with plain urllib (the configured User-Agent, a timeout, a size cap,
robots.txt and the private-network guard honoured as in the crawl), parsed with
the crawl's own parsers (:mod:`crawler.feeds`, :mod:`crawler.sitemaps`,
:mod:`crawler.listings`), and the newest item it announces is fetched and run
through :func:`crawler.extract.extract_article` as a sample.

Failures are data, never exceptions: a host that does not resolve, a refused
connection, a timeout, an HTTP error or a body that is not a feed each become a
short reason on the :class:`EntryCheck`. Sources are checked concurrently
(:func:`check_sources`), the entry points of one source one after another with
the configured delay, so twenty unreachable sources cost one timeout, not twenty.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from crawler.config import Config, SourceConfig

SAMPLE_CHARS = 100
DEFAULT_TIMEOUT = timedelta(seconds=15)


# --- results ---------------------------------------------------------------------


@dataclass
class Item:
    """One article an entry point announces."""

    url: str
    title: str | None = None
    published: datetime | None = None  # aware UTC, None when the entry point gives no date


@dataclass
class Sample:
    """The newest item fetched and extracted, or why that failed."""

    url: str
    title: str | None = None
    published: datetime | None = None
    text: str = ""  # the first SAMPLE_CHARS characters of the extracted body
    error: str | None = None


@dataclass
class EntryCheck:
    """What checking one feed, sitemap or listing page found."""

    kind: str  # "feed", "sitemap" or "listing"
    url: str
    status: int | None = None  # HTTP status; None when no response came back
    error: str | None = None  # why this entry point is not fine; None when it is
    unreachable: bool = False  # no HTTP response at all (DNS, refused, timeout, TLS)
    parsed: bool = False
    items: int = 0
    recent: int | None = None  # items published within the window; None when undated (listings)
    undated: int = 0
    newest: Item | None = None
    sample: Sample | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class SourceCheck:
    """All entry points of one source, and the verdict."""

    name: str
    lang: str
    entries: list[EntryCheck] = field(default_factory=list)
    error: str | None = None  # the check itself failed (a bug); reported, never raised

    @property
    def state(self) -> str:
        """``ok`` (every entry point fine), ``unreachable`` (none answered) or ``problems``."""
        if self.error is None and self.entries and all(e.ok for e in self.entries):
            return "ok"
        if self.entries and all(e.unreachable for e in self.entries):
            return "unreachable"
        return "problems"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["state"] = self.state
        for entry, raw in zip(self.entries, data["entries"]):
            raw["ok"] = entry.ok
        return _iso_dates(data)


def _iso_dates(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_dates(v) for v in value]
    return value


# --- fetching --------------------------------------------------------------------


@dataclass
class Page:
    url: str  # after redirects
    status: int
    body: bytes
    content_type: str = ""


class FetchFailed(Exception):
    """No usable response; ``reason`` is the short text shown to the user."""

    def __init__(self, reason: str, status: int | None = None, unreachable: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.unreachable = unreachable


class _RefusedAddress(Exception):
    pass


class Fetcher:
    """GET with the crawl's manners: User-Agent, timeout, size cap, robots.txt, private-network guard.

    One instance is shared by all checking threads; robots.txt files are cached per
    site. ``delay`` is the pause :func:`check_source` keeps between two requests of
    one source. A site whose robots.txt got no response at all (DNS, refused,
    timeout) is not asked again in this check: its entry points get the same reason
    at once, so a dead host costs one timeout, not one per entry point.
    """

    def __init__(self, config: Config, timeout: timedelta = DEFAULT_TIMEOUT):
        crawl = config.crawl
        self.user_agent = crawl.user_agent
        self.timeout = timeout.total_seconds()
        self.max_bytes = crawl.download_maxsize
        self.obey_robots = crawl.obey_robots
        self.allow_private = crawl.allow_private_networks
        self.delay = crawl.delay.total_seconds()
        self._robots: dict[str, RobotFileParser | None] = {}
        self._dead_sites: dict[str, FetchFailed] = {}  # sites whose robots.txt got no response at all
        self._robots_lock = threading.Lock()
        self._site_locks: dict[str, threading.Lock] = {}
        self._opener = urllib.request.build_opener(_GuardedRedirects(self))

    # public

    def get(self, url: str, check_robots: bool = True) -> Page:
        """Fetch ``url``; raise :class:`FetchFailed` with a readable reason on any failure."""
        if check_robots and self.obey_robots and not self.robots_allow(url):
            raise FetchFailed("disallowed by robots.txt (obey_robots = true)")
        dead = self._dead_sites.get(_site_of(url))
        if dead is not None:  # robots.txt of this site got no response: do not wait again
            raise FetchFailed(dead.reason, unreachable=True)
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, "Accept": "*/*"})
        try:
            self.refuse_private(url)
            with self._opener.open(request, timeout=self.timeout) as response:
                body = self._read(response)
                return Page(
                    url=response.geturl(),
                    status=response.status,
                    body=body,
                    content_type=response.headers.get("Content-Type", ""),
                )
        except _RefusedAddress as exc:
            raise FetchFailed(str(exc)) from None
        except urllib.error.HTTPError as exc:
            exc.close()
            raise FetchFailed(f"HTTP {exc.code} {exc.reason}".strip(), status=exc.code) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            raise FetchFailed(describe_network_error(exc, self.timeout), unreachable=True) from None

    def known_dead(self, url: str) -> bool:
        """Whether ``url``'s site already failed to answer at all during this check."""
        return _site_of(url) in self._dead_sites

    def robots_allow(self, url: str) -> bool:
        """Whether robots.txt lets our User-Agent fetch ``url`` (an unreadable robots.txt allows)."""
        site = _site_of(url)
        with self._robots_lock:
            lock = self._site_locks.setdefault(site, threading.Lock())
        with lock:  # one robots.txt request per site, even with several threads asking
            if site not in self._robots:
                self._robots[site] = self._load_robots(site)
        rules = self._robots[site]
        return True if rules is None else rules.can_fetch(self.user_agent, url)

    def refuse_private(self, url: str) -> None:
        """Raise when ``url``'s host resolves to a non-public address and that is not allowed."""
        if self.allow_private:
            return
        from crawler.network_guard import refused_address

        address = refused_address(url)
        if address:
            raise _RefusedAddress(
                f"refused: {urlsplit(url).hostname} resolves to non-public address {address} "
                "(allow_private_networks = false)"
            )

    # internals

    def _load_robots(self, site: str) -> RobotFileParser | None:
        try:
            page = self.get(f"{site}/robots.txt", check_robots=False)
        except FetchFailed as failure:
            if failure.unreachable:  # no need to wait for the same timeout again on every entry point
                self._dead_sites[site] = failure
            return None  # missing or unreadable robots.txt allows everything
        rules = RobotFileParser()
        rules.parse(page.body.decode("utf-8", errors="replace").splitlines())
        return rules

    def _read(self, response) -> bytes:
        body = response.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            raise FetchFailed(f"response larger than download_maxsize ({self.max_bytes} bytes)",
                              status=response.status)
        encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
            try:
                body = inflater.decompress(body, self.max_bytes + 1)
            except zlib.error as exc:
                raise FetchFailed(f"bad {encoding} body: {exc}", status=response.status) from None
            if len(body) > self.max_bytes:
                raise FetchFailed(f"decompressed response larger than download_maxsize ({self.max_bytes} bytes)",
                                  status=response.status)
        return body


def _site_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but apply the private-network guard to every hop."""

    def __init__(self, fetcher: Fetcher):
        self.fetcher = fetcher

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.fetcher.refuse_private(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def describe_network_error(exc: BaseException, timeout: float) -> str:
    """A short human reason for a failed connection: 'name does not resolve', 'connection refused'…"""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, str):
        return reason
    if isinstance(reason, socket.gaierror):
        return "name does not resolve"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g}s"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {reason.verify_message}"
    if isinstance(reason, ssl.SSLError):
        return f"TLS handshake failed: {reason.reason or reason}"
    if isinstance(reason, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(reason, (http.client.RemoteDisconnected, http.client.IncompleteRead)):
        return "connection closed before the response was complete"
    if isinstance(reason, http.client.HTTPException):
        return f"bad HTTP response: {type(reason).__name__}"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[:1].lower() + reason.strerror[1:]
    return str(reason) or type(reason).__name__


# --- parsing ---------------------------------------------------------------------


def _items_from_entries(entries: Iterable) -> list[Item]:
    return [Item(url=e.url, title=e.title, published=e.published) for e in entries]


def parse_feed_items(page: Page, config: Config) -> list[Item]:
    from crawler.feeds import parse_feed

    return _items_from_entries(parse_feed(page.body, page.url, config.crawl.max_feed_items))


def parse_sitemap_items(page: Page, config: Config, fetcher: Fetcher, pause: Callable[[], None]) -> list[Item]:
    """Entries of a news sitemap; for a sitemap index, those of its newest child sitemap."""
    from crawler.sitemaps import parse_sitemap

    limit = config.crawl.max_sitemap_urls
    result = parse_sitemap(page.body, page.url, limit)
    depth = 0
    while not result.entries and result.child_sitemaps and depth < config.crawl.max_sitemap_depth:
        child = _newest_child(result.child_sitemaps)
        pause()
        try:
            child_page = fetcher.get(child)
        except FetchFailed as failure:
            raise FetchFailed(f"child sitemap {child}: {failure.reason}", failure.status) from None
        result = parse_sitemap(child_page.body, child_page.url, limit)
        depth += 1
    return _items_from_entries(result.entries)


def _newest_child(children) -> str:
    """The child sitemap with the latest ``<lastmod>``, else the first one listed."""
    dated = [child for child in children if child.published is not None]
    return max(dated, key=lambda child: child.published).url if dated else children[0].url


def parse_listing_items(page: Page, source: SourceConfig) -> list[Item]:
    from crawler.listings import find_article_links

    return [Item(url=url) for url in find_article_links(page.body, page.url, source.article_pattern)]


# --- checking ----------------------------------------------------------------------


def check_entry(kind: str, url: str, source: SourceConfig, config: Config, fetcher: Fetcher,
                now: datetime, pause: Callable[[], None], with_sample: bool = True,
                samples: dict[str, Sample] | None = None) -> EntryCheck:
    """Fetch and parse one entry point; sample-extract its newest item.

    ``samples`` remembers the articles already extracted for this source, so an
    article that is the newest item of several entry points is fetched once.
    """
    entry = EntryCheck(kind=kind, url=url)
    try:
        page = fetcher.get(url)
        entry.status = page.status
        if kind == "feed":
            items = parse_feed_items(page, config)
        elif kind == "sitemap":
            items = parse_sitemap_items(page, config, fetcher, pause)
        else:
            items = parse_listing_items(page, source)
    except FetchFailed as failure:
        entry.status = failure.status if failure.status is not None else entry.status
        entry.unreachable = failure.unreachable and entry.status is None
        entry.error = ("unreachable: " if entry.unreachable else "") + failure.reason
        return entry
    except ValueError as exc:  # FeedError, SitemapError…: the message is the reason
        entry.error = f"not a readable {kind}: {exc}"
        return entry
    except Exception as exc:  # anything else from a parser is a bug, but still only this entry's problem
        entry.error = f"not a readable {kind}: {_short(exc)}"
        return entry
    entry.parsed = True
    entry.items = len(items)
    if not items:
        if kind == "listing":
            entry.error = "no article links found (check article_pattern)"
        else:
            entry.error = f"{kind} lists no items"
        return entry
    dated = [i for i in items if i.published is not None]
    entry.undated = len(items) - len(dated)
    if kind != "listing":  # listing links carry no dates
        cutoff = now - config.crawl.window
        entry.recent = sum(1 for i in dated if i.published >= cutoff)
    entry.newest = max(dated, key=lambda i: i.published) if dated else items[0]
    if with_sample:
        samples = {} if samples is None else samples
        if entry.newest.url not in samples:
            pause()
            samples[entry.newest.url] = sample_extraction(entry.newest, source, fetcher)
        entry.sample = samples[entry.newest.url]
        if entry.sample.error:
            entry.error = "newest item not extracted (see sample)"
    return entry


def sample_extraction(item: Item, source: SourceConfig, fetcher: Fetcher) -> Sample:
    """Fetch one article and extract it as the crawl would; errors become ``Sample.error``."""
    sample = Sample(url=item.url)
    try:
        page = fetcher.get(item.url)
    except FetchFailed as failure:
        sample.error = failure.reason
        return sample
    try:
        from crawler.extract import extract_article

        article = extract_article(page.body, page.url, source.utc_offset)
    except Exception as exc:  # extraction problems are reported, not raised
        sample.error = f"extraction failed: {_short(exc)}"
        return sample
    sample.title = article.title
    sample.published = article.published
    sample.text = " ".join((article.text or "").split())[:SAMPLE_CHARS]
    if not sample.text:
        sample.error = "extraction found no body text"
    return sample


def check_source(source: SourceConfig, config: Config, fetcher: Fetcher, now: datetime | None = None,
                 with_sample: bool = True) -> SourceCheck:
    """Check every entry point of ``source``, one after another with the configured delay."""
    now = now or datetime.now(timezone.utc)
    result = SourceCheck(name=source.name, lang=source.lang)
    requests_made = 0
    samples: dict[str, Sample] = {}

    def pause() -> None:
        nonlocal requests_made
        if requests_made and fetcher.delay:
            time.sleep(fetcher.delay)
        requests_made += 1

    try:
        for kind, urls in (("feed", source.feeds), ("sitemap", source.sitemaps), ("listing", source.listings)):
            for url in urls:
                if not fetcher.known_dead(url):  # no request will be made, so no reason to wait
                    pause()
                result.entries.append(check_entry(kind, url, source, config, fetcher, now, pause, with_sample,
                                                  samples))
    except Exception as exc:  # a bug must not hide the other sources' results
        result.error = f"check failed: {_short(exc)}"
    return result


def check_sources(sources: list[SourceConfig], config: Config, timeout: timedelta = DEFAULT_TIMEOUT,
                  jobs: int = 8, with_sample: bool = True) -> Iterable[SourceCheck]:
    """Check ``sources`` concurrently; yield results in the given order as they complete."""
    fetcher = Fetcher(config, timeout)
    now = datetime.now(timezone.utc)
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(sources) or 1))) as pool:
        futures = [pool.submit(check_source, s, config, fetcher, now, with_sample) for s in sources]
        for future in futures:
            yield future.result()


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
