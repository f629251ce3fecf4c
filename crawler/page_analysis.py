"""Everything newsmon learns from one fetched page without the store: its article, its
relevance and, for a relevant article, its MinHash signature.

:class:`PageAnalyser` is the work an extraction worker does per page
(:mod:`crawler.extraction_pool`): extraction is most of a page's CPU, and doing the
scoring and the signature in the same worker keeps them off the crawl's one reactor
thread too (on light pages they took ~12% of it in a cProfile of a 2,405-page crawl). The crawl
process is left with fetching, the window check and the store. Pure: no Scrapy,
no SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.items import ExtractedArticle


@dataclass
class AnalysedPage:
    """One page's article, its relevance decision and (relevant articles only) its signature."""

    article: ExtractedArticle
    relevance: object | None = None  # crawler.relevance.RelevanceResult; None when the page has no text
    signature: object | None = None  # dedupe.Signature; None unless relevant


@dataclass(frozen=True)
class PageAnalyser:
    """Extract, score against ``profile`` and sign with ``[dedupe]`` settings; picklable, so that
    it can be sent to worker processes once, when they start."""

    profile: object  # crawler.relevance.RelevanceProfile
    dedupe: object  # crawler.config.DedupeConfig

    def __call__(self, html: bytes, url: str, utc_offset: str, encoding: str | None = None,
                 hint_title: str | None = None) -> AnalysedPage:
        from crawler.extract import extract_article

        article = extract_article(html, url, utc_offset=utc_offset, encoding=encoding)
        return self.score(article, hint_title)

    def score(self, article: ExtractedArticle, hint_title: str | None = None) -> AnalysedPage:
        """Relevance and signature of an extracted article (the feed's title stands in for a missing one)."""
        from crawler.relevance import score_article
        from dedupe import compute_signature

        if not article.text.strip():
            return AnalysedPage(article)
        relevance = score_article(self.profile, article.title or hint_title, article.text, article.lang)
        signature = compute_signature(article.text, self.dedupe) if relevance.relevant else None
        return AnalysedPage(article, relevance, signature)


def extract_only(html: bytes, url: str, utc_offset: str, encoding: str | None = None,
                 hint_title: str | None = None) -> ExtractedArticle:
    """The extraction pool's default work: :func:`crawler.extract.extract_article` alone."""
    from crawler.extract import extract_article

    return extract_article(html, url, utc_offset=utc_offset, encoding=encoding)
