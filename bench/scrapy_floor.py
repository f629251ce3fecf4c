"""Scrapy alone: fetch a list of pages with newsmon's Scrapy settings and do nothing with them.

The throughput benchmark runs this in a child process (``python -m bench.scrapy_floor
CONFIG URLS``) over the same article pages the crawl fetches: its page rate is the
most any crawl built on one Scrapy process can reach on that site, whatever the
pipelines cost. Same settings as ``newsmon crawl`` (concurrency, AutoThrottle,
robots.txt, the network guard, retries), no item pipelines, no entry points, no
store.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.config import load_config
    from crawler.settings import scrapy_settings

    config_path, urls_path = (argv if argv is not None else sys.argv[1:])[:2]
    urls = Path(urls_path).read_text(encoding="utf-8").split()
    settings = scrapy_settings(load_config(config_path))
    settings["ITEM_PIPELINES"] = {}

    class FetchOnly(scrapy.Spider):
        name = "fetch_only"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, callback=self.fetched)

        def fetched(self, response):
            return None

    process = CrawlerProcess(settings)
    process.crawl(FetchOnly)
    process.start()


if __name__ == "__main__":
    main()
