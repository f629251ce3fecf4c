"""Scrapy settings for a newsmon crawl, derived from the ``[crawl]`` table.

Politeness is on by default: robots.txt (``Disallow`` and ``Crawl-delay``, see
:mod:`crawler.robots`), one request at a time per domain, a delay, AutoThrottle,
a real User-Agent, a size cap and timeouts. Failures are bounded: two retries,
``Retry-After`` honoured up to a minute (:mod:`crawler.retry_after`), at most
five redirects, ``DOWNLOAD_MAXSIZE`` applied to the decompressed body too (so a
gzip bomb is refused), and no private address contacted unless allowed
(:mod:`crawler.network_guard`).
"""

from __future__ import annotations

from crawler.config import Config

#: the longest Retry-After newsmon waits for before retrying (longer: not retried in this run)
RETRY_AFTER_MAX_SECONDS = 60.0

PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 100,
    "crawler.pipelines.RelevancePipeline": 200,
    "crawler.pipelines.DedupePipeline": 300,
    "crawler.pipelines.StorePipeline": 400,
}


def scrapy_settings(config: Config, log_level: str = "WARNING") -> dict:
    """The Scrapy settings dict for one crawl with ``config``."""
    crawl = config.crawl
    delay = crawl.delay.total_seconds()
    settings = {
        "BOT_NAME": "newsmon",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS": 16,
        # An article page yields one item; Scrapy's default (100) starts 100 asyncio tasks per
        # response for it, ~10% of the reactor's time on light pages (README, Performance).
        "CONCURRENT_ITEMS": 2,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        "DOWNLOAD_DELAY": delay,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.0),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency_per_domain),
        "DOWNLOAD_TIMEOUT": crawl.download_timeout.total_seconds(),
        "DNS_TIMEOUT": 15,
        "DOWNLOAD_MAXSIZE": crawl.download_maxsize,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": 2,
        "NEWSMON_RETRY_AFTER_MAX": RETRY_AFTER_MAX_SECONDS,
        "REDIRECT_MAX_TIMES": 5,
        "METAREFRESH_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "LOG_ENABLED": True,
        "LOG_INSTALL_ROOT_HANDLER": True,
        "LOG_FORMATTER": "crawler.log_format.ShortItemLogFormatter",
        "ITEM_PIPELINES": PIPELINES,
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.network_guard.PrivateNetworkGuard": 50,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.robots.RobotsRules": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.retry_after.RetryAfterMiddleware": 550,
        },
        "NEWSMON_ALLOW_PRIVATE_NETWORKS": crawl.allow_private_networks,
    }
    if not crawl.allow_private_networks:
        settings["TWISTED_DNS_RESOLVER"] = "crawler.network_guard.PublicOnlyResolver"
    return settings
