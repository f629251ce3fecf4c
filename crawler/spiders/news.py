"""The one generic spider: every source's feeds, news sitemaps and listing pages → article pages.

Entry points are fetched with conditional GET (validators kept in ``fetch_state``),
article URLs are normalised, filtered by the date window and the optional title
pre-filter, checked against the store (an article already stored is never
fetched again) and fetched once per run. Each article response becomes an
:class:`~crawler.items.ArticleRecord` for the pipelines.

An entry point's validators (ETag, Last-Modified) are the crawl's watermark:
once saved, the next run gets ``304 Not Modified`` and does not look at the
entry point's articles again. So they are saved only when everything the entry
point led to is settled — every article stored, recorded as off-topic, known,
or failed for a lasting reason (404, robots.txt) — and never when an article
failed for a passing one (a timeout, a 5xx), the run was capped by
``--max-pages``, or the crawl died first: then the next run reads the entry
point again and fetches what was missed.

When the store cannot be written (disk full, read-only, I/O error) the crawl
stops at once: :attr:`NewsSpider.store_error` says why.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import scrapy
from scrapy import signals
from scrapy.http import Response

from crawler.config import Config, SourceConfig
from crawler.feeds import Entry, FeedError, parse_feed
from crawler.fetch_failures import describe_failure, is_lasting
from crawler.items import ArticleRecord
from crawler.listings import find_article_links, find_next_page
from crawler.sitemaps import parse_sitemap
from crawler.urls import normalize_url
from store.articles import fetch_validators, known_urls
from store.db import connect

__all__ = ["NewsSpider", "SourceTally", "EntryProgress", "describe_failure", "looks_binary"]

#: how much of a body is sniffed for binary content
SNIFF_BYTES = 1024
#: bytes that never occur in a text document (WHATWG MIME Sniffing, "binary data byte")
_BINARY_BYTES = (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17"
                 b"\x18\x19\x1a\x1c\x1d\x1e\x1f")
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: share of binary data bytes in the first kilobyte above which a body is binary (random bytes: ~10%)
BINARY_SHARE = 0.03
#: PNG, JPEG, GIF, PDF, ZIP, WebP/RIFF, 7z (not gzip: the extractor inflates a gzipped page itself)
_BINARY_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF-", b"PK\x03\x04", b"RIFF", b"7z\xbc\xaf")


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
        self.offtopic = 0
        self.error_messages: list[str] = []

    def note_error(self, message: str) -> None:
        """Count one failed article page and keep its reason (the first few reach the run summary)."""
        self.errors += 1
        self.error_messages.append(message)

    @property
    def failed(self) -> bool:
        """A source failed when none of its entry points could be read."""
        return self.entry_ok + self.entry_unchanged == 0 and self.entry_failed > 0


class EntryProgress:
    """One entry point read in this run, and the requests it led to that are not settled yet.

    ``pending`` counts its article requests and child entry points (sitemap
    index children, next listing pages) still under way; ``complete`` turns
    False when one of them failed in a way a later run could fix, or was never
    requested (``--max-pages``). When the entry point's own parsing is over
    and nothing is pending, the spider saves its validators if it is complete,
    and reports to its parent.
    """

    def __init__(self, url: str, source: str, etag: str | None, last_modified: str | None, status: int,
                 parent: EntryProgress | None):
        self.url = url
        self.source = source
        self.etag = etag
        self.last_modified = last_modified
        self.status = status
        self.parent = parent
        self.pending = 0
        self.parsing = True
        self.complete = True
        self.finished = False

    @property
    def settled(self) -> bool:
        return not self.parsing and self.pending <= 0


def looks_binary(body: bytes) -> bool:
    """True when a body served as HTML is binary data (an image, an archive, random bytes).

    Like a browser's sniffing, it looks at the first kilobyte: a known binary
    signature, or more than :data:`BINARY_SHARE` of bytes that never occur in
    text (WHATWG "binary data bytes"), unless a UTF-16 byte-order mark says the
    zeros are text. A few stray NUL bytes in a real page do not make it binary.
    """
    head = body[:SNIFF_BYTES]
    if head.startswith(_UTF16_32_BOMS):
        return False
    if head.startswith(_BINARY_SIGNATURES):
        return True
    binary = len(head) - len(head.translate(None, _BINARY_BYTES))  # in C: ~100x a Python loop per page
    return bool(head) and binary > BINARY_SHARE * len(head)


def _store_unusable(exc: BaseException | None) -> bool:
    """True for the SQLite errors that mean no further write can succeed (disk full, read-only, I/O, corrupt)."""
    if not isinstance(exc, sqlite3.Error):
        return False
    message = str(exc).lower()
    return any(text in message for text in ("full", "readonly", "read-only", "disk i/o", "unable to open",
                                            "malformed", "not a database"))


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
        self.seen_entries: set[str] = set()  # entry points and sitemap children requested in this run
        self.store_error: str | None = None  # set when the store cannot be written; the crawl stops
        self.db = connect(db_path)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(spider._item_error, signal=signals.item_error)
        crawler.signals.connect(spider._spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        return spider

    # --- entry points ------------------------------------------------------

    async def start(self):
        for source in self.sources.values():
            self.tally[source.name]  # every configured source appears in the summary
            for kind, urls in (("feed", source.feeds), ("sitemap", source.sitemaps), ("listing", source.listings)):
                for url in urls:
                    self.seen_entries.add(normalize_url(url) or url)
                    yield self._entry_request(url, source, kind, depth=0)

    def _entry_request(self, url: str, source: SourceConfig, kind: str, depth: int,
                       parent: EntryProgress | None = None) -> scrapy.Request:
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
            meta={"source": source.name, "kind": kind, "depth": depth, "parent_progress": parent},
        )

    def _open_entry(self, response: Response) -> EntryProgress | None:
        """Record the entry point's outcome; its progress record when there is something new to parse.

        A 304 keeps the validators already saved (only the status and time are
        updated); a 200 gets an :class:`EntryProgress` whose validators are saved
        when it is settled (:meth:`_close_entry`).
        """
        from store.articles import save_fetch_state

        source = response.meta["source"]
        tally = self.tally[source]
        parent = response.meta.get("parent_progress")
        url = response.url if response.meta["depth"] else _requested_url(response)
        if response.status == 304:
            tally.entry_unchanged += 1
            self._write(save_fetch_state, self.db, url, source, None, None, 304)
            self._settle(parent, True)
            return None
        if response.status >= 400:  # not reached: errors go to entry_failed
            tally.entry_failed += 1
            tally.error_messages.append(f"{response.url}: HTTP {response.status}")
            self._settle(parent, False)
            return None
        tally.entry_ok += 1
        return EntryProgress(url, source, _header(response, b"ETag"), _header(response, b"Last-Modified"),
                             response.status, parent)

    def _close_entry(self, progress: EntryProgress) -> None:
        """The entry point's own parsing is over (its requests may still be under way)."""
        progress.parsing = False
        self._finish_if_settled(progress)

    def _settle(self, progress: EntryProgress | None, ok: bool) -> None:
        """One request that ``progress`` led to is settled (``ok``: nothing a later run could add)."""
        if progress is None:
            return
        progress.pending -= 1
        progress.complete = progress.complete and ok
        self._finish_if_settled(progress)

    def _finish_if_settled(self, progress: EntryProgress) -> None:
        from store.articles import save_fetch_state

        if progress.finished or not progress.settled:
            return
        progress.finished = True
        if progress.complete and self.store_error is None:
            self._write(save_fetch_state, self.db, progress.url, progress.source, progress.etag,
                        progress.last_modified, progress.status)
        self._settle(progress.parent, progress.complete)

    @staticmethod
    def _track(progress: EntryProgress, request: scrapy.Request) -> scrapy.Request:
        """Count ``request`` as pending for ``progress`` (it carries ``progress`` in its meta)."""
        progress.pending += 1
        return request

    @staticmethod
    def _abandoned(progress: EntryProgress) -> None:
        """Parsing stopped half-way (the crawl is closing, or a bug): not everything was requested."""
        progress.complete = False

    def entry_failed(self, failure):
        request = failure.request
        source = request.meta["source"]
        tally = self.tally[source]
        tally.entry_failed += 1
        message = f"{request.url}: {describe_failure(failure)}"
        tally.error_messages.append(message)
        self.logger.warning("source %s: entry point unreachable: %s", source, message)
        self._settle(request.meta.get("parent_progress"), is_lasting(failure.value))

    def parse_feed(self, response: Response):
        return self._read_entry(response, self._feed_requests)

    def parse_sitemap(self, response: Response):
        return self._read_entry(response, self._sitemap_requests)

    def parse_listing(self, response: Response):
        return self._read_entry(response, self._listing_requests)

    def _read_entry(self, response: Response, requests_from):
        """Run ``requests_from(response, source, progress)`` for an entry point's response, tracking
        the entry's progress: its validators are saved only once everything it listed is settled."""
        progress = self._open_entry(response)
        if progress is None:
            return
        try:
            yield from requests_from(response, self.sources[response.meta["source"]], progress)
        except BaseException:  # GeneratorExit included: the crawl stopped before all was requested
            self._abandoned(progress)
            raise
        finally:
            self._close_entry(progress)

    def _feed_requests(self, response: Response, source: SourceConfig, progress: EntryProgress):
        try:
            entries = parse_feed(response.body, response.url, self.config.crawl.max_feed_items)
        except FeedError as exc:
            self._entry_parse_failed(response, progress, f"not a feed: {exc}")
            return
        yield from self._article_requests(source, entries, progress)

    def _sitemap_requests(self, response: Response, source: SourceConfig, progress: EntryProgress):
        try:
            page = parse_sitemap(response.body, response.url, self.config.crawl.max_sitemap_urls)
        except Exception as exc:  # any parse failure of one sitemap must not stop the source
            self._entry_parse_failed(response, progress, f"not a sitemap: {exc}")
            return
        depth = response.meta["depth"]
        if depth < self.config.crawl.max_sitemap_depth:
            for child in page.children:
                url = normalize_url(child, response.url)
                if url and url not in self.seen_entries:  # an index listing itself is read once
                    self.seen_entries.add(url)
                    yield self._track(progress, self._entry_request(url, source, "sitemap", depth + 1, progress))
        yield from self._article_requests(source, page.entries, progress)

    def _listing_requests(self, response: Response, source: SourceConfig, progress: EntryProgress):
        links = find_article_links(response.body, response.url, source.article_pattern)
        yield from self._article_requests(source, [Entry(url=link, title=None, published=None) for link in links],
                                          progress)
        depth = response.meta["depth"]
        if depth + 1 < self.config.crawl.max_listing_pages:
            next_page = find_next_page(response.body, response.url)
            if next_page:
                yield self._track(progress, self._entry_request(next_page, source, "listing", depth + 1, progress))

    def _entry_parse_failed(self, response: Response, progress: EntryProgress, message: str) -> None:
        tally = self.tally[response.meta["source"]]
        tally.entry_ok -= 1
        tally.entry_failed += 1
        tally.error_messages.append(f"{response.url}: {message}")
        progress.complete = False  # a broken feed may be fixed by the next run: read it again then
        self.logger.warning("source %s: %s: %s", response.meta["source"], response.url, message)

    # --- articles ------------------------------------------------------------

    def _article_requests(self, source: SourceConfig, entries, progress: EntryProgress):
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
                progress.complete = False  # the rest is for the next run
                continue
            tally.articles_queued += 1
            yield self._track(progress, scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.article_failed,
                meta={"source": source.name, "entry": entry, "entry_progress": progress},
            ))

    def parse_article(self, response: Response):
        source = response.meta["source"]
        tally = self.tally[source]
        tally.pages_fetched += 1
        progress = response.meta.get("entry_progress")
        if response.status >= 400:  # not reached: errors go to article_failed
            tally.note_error(f"{response.url}: HTTP {response.status}")
            self._settle(progress, response.status in (404, 410))
            return
        if not isinstance(response, scrapy.http.TextResponse) or looks_binary(response.body):
            tally.note_error(f"{response.url}: not an HTML page (binary content)")
            self._settle(progress, True)
            return
        entry = response.meta["entry"]
        # Returned, not yielded: Scrapy re-reads a generator callback's source on every response.
        return ArticleRecord(
            url=_announced_url(response),
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
        from scrapy.spidermiddlewares.httperror import HttpError
        from store.articles import save_fetch_state

        request = failure.request
        source = request.meta["source"]
        tally = self.tally[source]
        lasting = is_lasting(failure.value)
        self._settle(request.meta.get("entry_progress"), lasting)
        if failure.check(IgnoreRequest) and failure.getErrorMessage().startswith("Forbidden by robots.txt"):
            tally.disallowed += 1
            return
        tally.note_error(f"{request.url}: {describe_failure(failure)}")
        if failure.check(HttpError):  # e.g. a 404 or 410: the page's last answer is kept
            self._write(save_fetch_state, self.db, _announced_url(failure.value.response), source, None, None,
                        failure.value.response.status)

    # --- signals: how each article ended, and a store that cannot be written ------------

    def _item_scraped(self, item, response, spider):
        self._settle(response.meta.get("entry_progress"), True)

    def _item_dropped(self, item, response, exception, spider):
        self._settle(response.meta.get("entry_progress"), True)  # no text in the page: it will not change

    def _item_error(self, item, response, spider, failure):
        self._settle(response.meta.get("entry_progress"), False)
        source = getattr(item, "source", None) or response.meta.get("source")
        if source:
            self.tally[source].note_error(f"{response.url}: {type(failure.value).__name__}: {failure.getErrorMessage()}"
                                          [:300])
        self._check_store(failure.value)

    def _spider_error(self, failure, response, spider):
        self._check_store(failure.value)

    def _request_dropped(self, request, spider):
        # The scheduler's duplicate filter: a redirect to a page already fetched in this run (settled
        # there), or back to where it started (a loop, recorded as such).
        progress = request.meta.get("entry_progress") or request.meta.get("parent_progress")
        if request.url in request.meta.get("redirect_urls", ()) and "source" in request.meta:
            self.tally[request.meta["source"]].note_error(f"{request.url}: redirect loop")
        self._settle(progress, True)

    def _write(self, function, *args) -> None:
        """A store write from the spider itself; a store that cannot be written stops the crawl."""
        try:
            function(*args)
        except sqlite3.Error as exc:
            if not self._check_store(exc):
                raise

    def _check_store(self, exc: BaseException | None) -> bool:
        """Stop the crawl when ``exc`` says the store cannot be written; True if so."""
        if not _store_unusable(exc):
            return False
        if self.store_error is None:
            self.store_error = str(exc)
            self.logger.error("the store %s cannot be written (%s): stopping the crawl", self.db_path, exc)
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_unwritable"))
        return True

    def closed(self, reason):
        self.db.close()


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _requested_url(response: Response) -> str:
    """The URL first requested for ``response`` (before redirects), as the request had it: the key of
    an entry point's validators, looked up with the configured URL."""
    redirects = response.meta.get("redirect_urls")
    return redirects[0] if redirects else response.request.url


def _announced_url(response: Response) -> str:
    """The URL the feed/sitemap/listing announced (before any redirect), normalised: the store's key.

    Keeping it (and not the redirect's target) is what makes the next run
    recognise the article as known and not fetch it again.
    """
    url = _requested_url(response)
    return normalize_url(url) or url
