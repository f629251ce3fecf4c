"""Retries that honour ``Retry-After``, within a bound.

Scrapy's ``RetryMiddleware`` retries 5xx, 408 and 429 answers at once, ignoring
the server's ``Retry-After``. This subclass, used instead of it, waits as asked
before the retry — the request keeps its place, other requests go on meanwhile —
when the wait is at most ``NEWSMON_RETRY_AFTER_MAX`` seconds (60 by default). A
longer ``Retry-After`` (``3600``, or a date tomorrow) is not retried in this run
at all: the failure is recorded with the server's request, and the next
scheduled run tries again. Without ``Retry-After`` the usual immediate retries
apply (``RETRY_TIMES``); 404 and 410 are never retried.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message

logger = logging.getLogger(__name__)

#: default bound on an honoured Retry-After, in seconds
DEFAULT_RETRY_AFTER_MAX = 60.0

#: ``request.meta`` key holding why a failed answer was not retried (read by the run summary)
NOTE_META_KEY = "newsmon_retry_note"


def parse_retry_after(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date); None when absent or garbage.

    >>> parse_retry_after("120")
    120.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=datetime(2015, 10, 21, 7, 27, tzinfo=timezone.utc))
    60.0
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """``RetryMiddleware`` that waits for ``Retry-After`` (bounded) before retrying a 429/5xx answer."""

    def __init__(self, settings):
        super().__init__(settings)
        self.retry_after_max = settings.getfloat("NEWSMON_RETRY_AFTER_MAX", DEFAULT_RETRY_AFTER_MAX)

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = parse_retry_after(response.headers.get(b"Retry-After"))
        reason = response_status_message(response.status)
        if wait is None or wait == 0:
            return self._retry(request, reason) or response
        if wait > self.retry_after_max:
            request.meta[NOTE_META_KEY] = (f"Retry-After {wait:.0f} s is longer than the {self.retry_after_max:.0f} s "
                                           f"newsmon waits; not retried in this run")
            logger.info("%s: %s", request.url, request.meta[NOTE_META_KEY])
            return response
        retry = self._retry(request, reason)
        if retry is None:
            request.meta[NOTE_META_KEY] = "still failing after retries that honoured Retry-After"
            return response
        logger.debug("%s: %s, retrying after %.1f s as Retry-After asks", request.url, reason, wait)
        await _sleep(wait)
        return retry


async def _sleep(seconds: float) -> None:
    """Wait without blocking the reactor (any Twisted reactor, asyncio or not)."""
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))
