"""Plain records passed between the spider, the pipelines and the store.

They are dataclasses, not Scrapy items, so the pure modules and the store can use
them without importing Scrapy (Scrapy's item adapter accepts dataclasses as items).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ExtractedArticle:
    """What :func:`crawler.extract.extract_article` finds in one HTML page."""

    title: str | None
    author: str | None
    published: datetime | None  # timezone-aware, UTC
    lang: str | None
    text: str
    extractor_version: str


@dataclass
class ArticleRecord:
    """One fetched article page on its way through the pipelines into the store."""

    url: str  # normalised URL, the store's key
    source: str
    fetched: datetime  # UTC
    html: bytes
    encoding: str | None = None
    status: int = 200
    final_url: str | None = None  # after redirects
    hint_title: str | None = None  # from the feed or sitemap entry
    hint_published: datetime | None = None
    run_id: int | None = None
    # filled by ExtractPipeline
    article: ExtractedArticle | None = None
    # filled by the extraction worker (crawler.page_analysis), applied by RelevancePipeline
    relevance: object | None = None  # crawler.relevance.RelevanceResult
    # filled by RelevancePipeline
    relevant: bool | None = None
    score: float | None = None
    terms: dict[str, list[str]] = field(default_factory=dict)
    reason: str | None = None
    # filled by DedupePipeline (signature) and the store (cluster decision)
    signature: object | None = None
    cluster_id: int | None = None
    duplicate_of: int | None = None
    similarity: float | None = None
    article_id: int | None = None
