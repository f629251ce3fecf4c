"""Scrapy item pipelines: thin adapters from Scrapy to newsmon's pure modules and the store.

Order (see ``crawler.settings.PIPELINES``): extract → relevance → dedupe signature →
store. Each stage is a plain function call on the :class:`~crawler.items.ArticleRecord`.
The extraction workers score and sign each page along with extracting it
(:class:`crawler.page_analysis.PageAnalyser`); the relevance and dedupe stages then only
apply those results, and compute them here when the workers could not.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.items import ArticleRecord


class _SpiderAware:
    """Pipelines reach the running spider (its config and store) through the crawler."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def spider(self):
        return self.crawler.spider


class ExtractPipeline(_SpiderAware):
    """HTML → title, author, date, language and clean body text (``crawler.extract``).

    Extraction runs in worker processes (:class:`crawler.extraction_pool.ExtractionPool`,
    ``[crawl] extract_workers``) so the reactor keeps downloading and storing while
    pages are extracted, on every core. A page that takes longer than ``[crawl]
    extract_timeout`` (or whose worker dies) is counted as a failed page and dropped;
    the crawl goes on. Without an asyncio event loop, or if the workers cannot start,
    pages are extracted in this process instead (no time limit then).
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        self.pool = None
        self.analyser = None
        self._inline_warning_logged = False

    def open_spider(self):
        from scrapy.utils.asyncio import is_asyncio_available

        from crawler.extraction_pool import ExtractionPool
        from crawler.page_analysis import PageAnalyser

        config = self.spider.config
        self.analyser = PageAnalyser(config.relevance, config.dedupe)
        if is_asyncio_available():
            self.pool = ExtractionPool(workers=config.crawl.extract_workers,
                                       timeout=config.crawl.extract_timeout.total_seconds(), job=self.analyser)
            self.pool.start()  # workers start while the entry points are fetched

    def close_spider(self):
        if self.pool is not None:
            self.pool.close()

    async def process_item(self, item: ArticleRecord) -> ArticleRecord:
        from crawler.extraction_pool import ExtractionFailed, ExtractionPoolBroken

        source = self.spider.sources[item.source]
        url = item.final_url or item.url
        try:
            if self.pool is None:
                raise ExtractionPoolBroken("no asyncio event loop")
            analysed = await self.pool.extract(item.html, url, source.utc_offset, item.encoding, item.hint_title)
        except ExtractionFailed as exc:
            self.spider.tally[item.source].note_error(str(exc))
            raise DropItem(str(exc)) from None
        except ExtractionPoolBroken as exc:
            analysed = self._extract_here(item, url, source.utc_offset, reason=str(exc))
        item.article, item.relevance, item.signature = analysed.article, analysed.relevance, analysed.signature
        if not item.article.text.strip():
            self.spider.tally[item.source].errors += 1
            raise DropItem(f"{item.url}: no article text found")
        published = item.article.published or item.hint_published
        if published is not None and published < self.spider.not_before:
            # Listing pages carry no dates: the window is applied after extraction too.
            item.relevant, item.score, item.reason = False, 0.0, "published before the crawl window"
        return item

    def _extract_here(self, item: ArticleRecord, url: str, utc_offset: str, reason: str):
        """Fallback: extract (and score and sign) in the crawl process itself (slower, and no time limit)."""
        if not self._inline_warning_logged:
            self._inline_warning_logged = True
            self.spider.logger.warning("extracting pages in the crawl process (%s): slower, no time limit", reason)
        return self.analyser(item.html, url, utc_offset, item.encoding, item.hint_title)


class RelevancePipeline(_SpiderAware):
    """Apply the article's score against the topic profile (``crawler.relevance``), computed by the
    extraction worker or, failing that, here."""

    def process_item(self, item: ArticleRecord) -> ArticleRecord:
        from crawler.relevance import score_article

        if item.relevant is False:
            return item
        result = item.relevance or score_article(self.spider.config.relevance, item.article.title or item.hint_title,
                                                 item.article.text, item.article.lang)
        item.relevant, item.score, item.terms, item.reason = result.relevant, result.score, result.terms, result.reason
        if result.lang and not item.article.lang:
            item.article.lang = result.lang
        return item


class DedupePipeline(_SpiderAware):
    """The MinHash signature of relevant articles (pure CPU work, no store access), unless the
    extraction worker already computed it."""

    def process_item(self, item: ArticleRecord) -> ArticleRecord:
        if item.relevant and item.signature is None:
            from dedupe import compute_signature

            item.signature = compute_signature(item.article.text, self.spider.config.dedupe)
        return item


class StorePipeline(_SpiderAware):
    """Write the article (or its off-topic record) in one transaction, filing it into a cluster."""

    def open_spider(self):
        from store.articles import register_sources
        from store.lsh_storage import SqliteDeduplicator

        config = self.spider.config
        register_sources(self.spider.db, config.sources)
        self.deduplicator = SqliteDeduplicator(config.dedupe, {s.name for s in config.sources if s.wire})

    def process_item(self, item: ArticleRecord) -> ArticleRecord:
        from store.articles import save_article

        save_article(self.spider.db, item, dedupe=self.deduplicator)
        tally = self.spider.tally[item.source]
        if item.relevant:
            tally.stored += 1  # reprints are counted from the store at the end of the run
        else:
            tally.offtopic += 1
        item.html = b""  # the page is stored; do not keep it in memory
        return item
