"""robots.txt as newsmon honours it: ``Disallow``, ``Crawl-delay``, and RFC 9309's rule for failures.

Scrapy's own ``RobotsTxtMiddleware`` applies ``Disallow`` but ignores
``Crawl-delay``, and treats a robots.txt it could not fetch as "everything
allowed". This subclass, used instead of it, follows RFC 9309 §2.3.1:

- 2xx: the rules apply; ``Crawl-delay`` (for newsmon's user agent, else ``*``)
  becomes the minimum delay between two requests to that host, up to
  :data:`MAX_CRAWL_DELAY` seconds, whatever AutoThrottle would choose;
- 4xx (404, 410, 403 …): "unavailable", no rules, everything may be fetched;
- 5xx after the usual retries, or a network failure (timeout, connection
  refused or reset): "unreachable", nothing is fetched from that host in this
  run. Each refused request fails with "robots.txt unreachable (…)", so the
  run summary says why a source got nothing; the next run asks again.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

#: a Crawl-delay above this (seconds) is applied as this: a crawl must end within its schedule timeout
MAX_CRAWL_DELAY = 60.0


class RobotsTxtUnreachable:
    """Stands for the parser of a host whose robots.txt could not be fetched: everything is refused.

    ``reason`` is the HTTP status (``"HTTP 503"``) or the network failure
    (``"unreachable: connection refused"``); the latter is what the user needs
    to read first, since no request to that host could work anyway.
    """

    def __init__(self, reason: str):
        self.reason = reason

    def refusal(self, netloc: str) -> str:
        if self.reason.startswith("HTTP "):
            return f"robots.txt unreachable ({self.reason}); nothing is fetched from {netloc} in this run (RFC 9309)"
        return f"{self.reason} (robots.txt could not be fetched; nothing is fetched from {netloc} in this run)"


class RobotsRules(RobotsTxtMiddleware):
    """Downloader middleware: Scrapy's robots.txt handling plus Crawl-delay and RFC 9309 failure rules."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self._crawl_delays: dict[str, float] = {}  # download slot key -> seconds
        crawler.signals.connect(self._response_downloaded, signal=signals.response_downloaded)

    async def process_request(self, request, spider=None):
        await super().process_request(request)
        if self._crawl_delays:
            self._apply_crawl_delay(request)

    def process_request_2(self, rp, request) -> None:
        if isinstance(rp, RobotsTxtUnreachable):
            self._stats.inc_value("robotstxt/unreachable_refused")
            raise IgnoreRequest(rp.refusal(urlparse_cached(request).netloc))
        super().process_request_2(rp, request)

    async def robot_parser(self, request):
        """Scrapy's, except that an unreachable robots.txt is one warning line, not a traceback."""
        from scrapy import Request
        from scrapy.http.request import NO_CALLBACK
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.defer import Deferred

        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robots_request = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                                     meta={"dont_obey_robotstxt": True}, callback=NO_CALLBACK)
            try:
                response = await self.crawler.engine.download_async(robots_request)
                await self._parse_robots(response, netloc, request)
            except Exception as exc:
                if not isinstance(exc, IgnoreRequest):
                    logger.warning("%s/robots.txt could not be fetched: %s", netloc, exc)
                self._robots_error(exc, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _parse_robots(self, response, netloc: str, request) -> None:
        if response.status >= 500:
            self._settle(netloc, RobotsTxtUnreachable(f"HTTP {response.status}"))
            return
        if response.status >= 400:
            self._settle(netloc, None)  # unavailable: no rules
            return
        await super()._parse_robots(response, netloc, request)
        parser = self._parsers.get(netloc)
        delay = parser.crawl_delay(self._user_agent(request)) if parser is not None else None
        if delay:
            delay = min(float(delay), MAX_CRAWL_DELAY)
            key = self.crawler.engine.downloader.get_slot_key(request)
            self._crawl_delays[key] = max(delay, self._crawl_delays.get(key, 0.0))
            logger.info("%s: robots.txt asks for Crawl-delay %.1f s; honoured", netloc, delay)
            self._apply_crawl_delay(request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):  # refused before any contact (e.g. a private address): no rule
            super()._robots_error(exc, netloc)
            return
        from crawler.fetch_failures import describe_exception

        key = f"robotstxt/exception_count/{type(exc)}"
        self._stats.inc_value(key)
        self._settle(netloc, RobotsTxtUnreachable(describe_exception(exc)))

    def _settle(self, netloc: str, parser) -> None:
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        waiting.callback(parser)

    def _user_agent(self, request) -> str:
        agent = self._robotstxt_useragent or request.headers.get(b"User-Agent", self._default_useragent)
        return agent.decode("latin-1") if isinstance(agent, bytes) else agent

    # --- Crawl-delay -----------------------------------------------------------------

    def _apply_crawl_delay(self, request) -> None:
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        delay = self._crawl_delays.get(key)
        if delay is None:
            return
        # New slots (after Scrapy's idle-slot clean-up) start with it; the current one gets it now.
        downloader.per_slot_settings.setdefault(key, {}).update(delay=delay, jitter=0.0)
        slot = downloader.slots.get(key)
        if slot is not None and (slot.delay < delay or slot.jitter):
            slot.delay = max(slot.delay, delay)
            slot.jitter = 0.0

    def _response_downloaded(self, response, request, spider) -> None:
        # AutoThrottle (an extension, so connected earlier) may have just lowered the delay.
        if self._crawl_delays:
            self._apply_crawl_delay(request)
