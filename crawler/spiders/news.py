"""The one generic spider: every source's feeds, news sitemaps and listing pages → article pages.

Entry points are fetched with conditional GET (validators kept in ``fetch_state``),
article URLs are normalised, filtered by the date window and the optional title
pre-filter, checked against the store (an article already stored is never
fetched again) and fetched once per run. Each article response becomes an
:class:`~crawler.items.ArticleRecord` for the pipelines.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

import scrapy
from scrapy.http import Response

from crawler.config import Config, SourceConfig
from crawler.feeds import FeedError, parse_feed
from crawler.items import ArticleRecord
from crawler.listings import find_article_links, find_next_page
from crawler.sitemaps import parse_sitemap
from crawler.urls import normalize_url
from store.articles import fetch_validators, known_urls
from store.db import connect


class SourceTally:
    """What happened to one source in this run; read by ``newsmon crawl`` for the run summary."""

    def __init__(self) -> None:
        self.entry_ok = 0
        self.entry_failed = 0
        self.entry_unchanged = 0
        self.pages_fetched = 0
        self.articles_queued = 0
        self.known = 0
        self.too_old = 0
        self.prefiltered = 0
        self.capped = 0
        self.disallowed = 0
        self.errors = 0
        self.stored = 0
        self.duplicates = 0
        self.offtopic = 0
        self.error_messages: list[str] = []

    @property
    def failed(self) -> bool:
        """A source failed when none of its entry points could be read."""
        return self.entry_ok + self.entry_unchanged == 0 and self.entry_failed > 0


class NewsSpider(scrapy.Spider):
    name = "news"
    handle_httpstatus_list = [304]

    def __init__(
        self,
        config: Config,
        sources: list[SourceConfig],
        db_path: str,
        since: timedelta | None = None,
        max_pages: int | None = None,
        run_id: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.config = config
        self.sources = {s.name: s for s in sources}
        self.db_path = db_path
        self.run_id = run_id
        self.max_pages = max_pages
        window = since if since is not None else config.crawl.window
        self.not_before = datetime.now(timezone.utc) - window
        self.tally: dict[str, SourceTally] = defaultdict(SourceTally)
        self.seen_articles: set[str] = set()
        self.db = connect(db_path)

    # --- entry points ------------------------------------------------------

    async def start(self):
        for source in self.sources.values():
            self.tally[source.name]  # every configured source appears in the summary
            for kind, urls in (("feed", source.feeds), ("sitemap", source.sitemaps), ("listing", source.listings)):
                for url in urls:
                    yield self._entry_request(url, source, kind, depth=0)

    def _entry_request(self, url: str, source: SourceConfig, kind: str, depth: int) -> scrapy.Request:
        headers = {}
        etag, last_modified = fetch_validators(self.db, url)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        callback = {"feed": self.parse_feed, "sitemap": self.parse_sitemap, "listing": self.parse_listing}[kind]
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.entry_failed,
            headers=headers,
            dont_filter=depth == 0,
            meta={"source": source.name, "kind": kind, "depth": depth},
        )

    def _entry_response_ok(self, response: Response) -> bool:
        """Record the entry point's outcome and validators; False when there is nothing new to parse."""
        from store.articles import save_fetch_state

        source = response.meta["source"]
        tally = self.tally[source]
        save_fetch_state(
            self.db,
            response.url if response.meta["depth"] else response.request.url,
            source,
            _header(response, b"ETag"),
            _header(response, b"Last-Modified"),
            response.status,
        )
        if response.status == 304:
            tally.entry_unchanged += 1
            return False
        if response.status >= 400:
            tally.entry_failed += 1
            tally.error_messages.append(f"{response.url}: HTTP {response.status}")
            return False
        tally.entry_ok += 1
        return True

    def entry_failed(self, failure):
        request = failure.request
        source = request.meta["source"]
        tally = self.tally[source]
        tally.entry_failed += 1
        message = f"{request.url}: {describe_failure(failure)}"
        tally.error_messages.append(message)
        self.logger.warning("source %s: entry point unreachable: %s", source, message)

    def parse_feed(self, response: Response):
        if not self._entry_response_ok(response):
            return
        source = self.sources[response.meta["source"]]
        try:
            entries = parse_feed(response.body, response.url, self.config.crawl.max_feed_items)
        except FeedError as exc:
            self._entry_parse_failed(response, f"not a feed: {exc}")
            return
        yield from self._article_requests(source, entries)

    def parse_sitemap(self, response: Response):
        if not self._entry_response_ok(response):
            return
        source = self.sources[response.meta["source"]]
        try:
            page = parse_sitemap(response.body, response.url, self.config.crawl.max_sitemap_urls)
        except Exception as exc:  # any parse failure of one sitemap must not stop the source
            self._entry_parse_failed(response, f"not a sitemap: {exc}")
            return
        depth = response.meta["depth"]
        if depth < self.config.crawl.max_sitemap_depth:
            for child in page.children:
                url = normalize_url(child, response.url)
                if url:
                    yield self._entry_request(url, source, "sitemap", depth + 1)
        yield from self._article_requests(source, page.entries)

    def parse_listing(self, response: Response):
        if not self._entry_response_ok(response):
            return
        source = self.sources[response.meta["source"]]
        links = find_article_links(response.body, response.url, source.article_pattern)
        from crawler.feeds import Entry

        yield from self._article_requests(source, [Entry(url=link, title=None, published=None) for link in links])
        depth = response.meta["depth"]
        if depth + 1 < self.config.crawl.max_listing_pages:
            next_page = find_next_page(response.body, response.url)
            if next_page:
                yield self._entry_request(next_page, source, "listing", depth + 1)

    def _entry_parse_failed(self, response: Response, message: str) -> None:
        tally = self.tally[response.meta["source"]]
        tally.entry_ok -= 1
        tally.entry_failed += 1
        tally.error_messages.append(f"{response.url}: {message}")
        self.logger.warning("source %s: %s: %s", response.meta["source"], response.url, message)

    # --- articles ------------------------------------------------------------

    def _article_requests(self, source: SourceConfig, entries):
        from crawler.relevance import title_is_off_topic

        tally = self.tally[source.name]
        candidates = []
        for entry in entries:
            url = normalize_url(entry.url)
            if not url or url in self.seen_articles:
                continue
            self.seen_articles.add(url)
            if entry.published is not None and entry.published < self.not_before:
                tally.too_old += 1
                continue
            if (
                source.prefilter == "title"
                and entry.title
                and title_is_off_topic(self.config.relevance, entry.title, getattr(entry, "keywords", "") or "")
            ):
                tally.prefiltered += 1
                continue
            candidates.append((url, entry))
        stored = known_urls(self.db, [url for url, _ in candidates])
        for url, entry in candidates:
            if url in stored:
                tally.known += 1
                continue
            if self.max_pages is not None and tally.articles_queued >= self.max_pages:
                tally.capped += 1
                continue
            tally.articles_queued += 1
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.article_failed,
                meta={"source": source.name, "entry": entry},
            )

    def parse_article(self, response: Response):
        source = response.meta["source"]
        tally = self.tally[source]
        tally.pages_fetched += 1
        if response.status >= 400:
            tally.errors += 1
            return
        if not isinstance(response, scrapy.http.TextResponse):
            tally.errors += 1
            tally.error_messages.append(f"{response.url}: not an HTML page")
            return
        entry = response.meta["entry"]
        yield ArticleRecord(
            url=normalize_url(response.request.url) or response.request.url,
            source=source,
            fetched=datetime.now(timezone.utc),
            html=response.body,
            encoding=response.encoding,
            status=response.status,
            final_url=normalize_url(response.url),
            hint_title=entry.title,
            hint_published=entry.published,
            run_id=self.run_id,
        )

    def article_failed(self, failure):
        from scrapy.exceptions import IgnoreRequest

        source = failure.request.meta["source"]
        tally = self.tally[source]
        if failure.check(IgnoreRequest) and "robots.txt" in failure.getErrorMessage():
            tally.disallowed += 1
            return
        tally.errors += 1
        tally.error_messages.append(f"{failure.request.url}: {describe_failure(failure)}")

    def closed(self, reason):
        self.db.close()


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def describe_failure(failure) -> str:
    """A one-line, user-readable reason for a failed request."""
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet.error import DNSLookupError, TimeoutError, TCPTimedOutError, ConnectionRefusedError

    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    if failure.check(DNSLookupError):
        return "unreachable: host name does not resolve"
    if failure.check(ConnectionRefusedError):
        return "unreachable: connection refused"
    if failure.check(TimeoutError, TCPTimedOutError):
        return "unreachable: timed out"
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"[:300]
