"""Scrapy log lines about articles that name the article, not its whole record.

Scrapy's default ``LogFormatter`` prints the item itself when it is scraped,
dropped or fails in a pipeline: for an :class:`~crawler.items.ArticleRecord`
that is the whole fetched page as a ``bytes`` literal plus its MinHash
signature, hundreds of kilobytes per line. This formatter prints
``<article URL (source)>`` instead; everything else is Scrapy's.
"""

from __future__ import annotations

from scrapy.logformatter import LogFormatter


def short_item(item) -> str:
    """``<article URL (source)>`` for an article record, the usual ``repr`` otherwise (capped)."""
    url = getattr(item, "url", None)
    if url:
        source = getattr(item, "source", None)
        return f"<article {url}" + (f" ({source})" if source else "") + ">"
    return repr(item)[:300]


class ShortItemLogFormatter(LogFormatter):
    """Scrapy's log formatter with items shown by :func:`short_item`."""

    def scraped(self, item, response, spider):
        return self._short(super().scraped(item, response, spider), item)

    def dropped(self, item, exception, response, spider):
        return self._short(super().dropped(item, exception, response, spider), item)

    def item_error(self, item, exception, response, spider):
        return self._short(super().item_error(item, exception, response, spider), item)

    @staticmethod
    def _short(result, item):
        result["args"] = {**result["args"], "item": short_item(item)}
        return result
