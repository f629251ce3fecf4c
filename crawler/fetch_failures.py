"""Why a request failed, in one line a user can act on, and whether a later run could do better.

Scrapy reports failures as exceptions from several layers (Twisted, the HTTP
handler, downloader middlewares); the run summary and the ``runs`` table want
"HTTP 503 (Retry-After 3600 s is longer than …)", "timed out after 30 s" or
"body larger than download_maxsize (10485760 bytes)" instead.
:func:`is_lasting` tells the spider whether the failure would recur on the next
run (a 404, a robots.txt refusal, a page too large) or might not (a timeout, a
5xx): only the latter keep a feed's validators from being saved, so that the
next run sees the feed again and retries what was missed.
"""

from __future__ import annotations

import re

_MAX_SIZE = re.compile(r"max size \((\d+)\)")

#: HTTP statuses that say "the same request will fail the same way": not worth a retry in a later run
LASTING_STATUSES = frozenset({400, 401, 403, 404, 405, 406, 410, 414, 451})


def describe_failure(failure) -> str:
    """A one-line, user-readable reason for a failed request (a Twisted ``Failure``)."""
    return describe_exception(failure.value, getattr(failure, "request", None))


def describe_exception(exc: BaseException, request=None) -> str:
    """A one-line, user-readable reason for the exception a request failed with."""
    from scrapy.exceptions import (
        CannotResolveHostError,
        DownloadCancelledError,
        DownloadConnectionRefusedError,
        DownloadTimeoutError,
        IgnoreRequest,
        ResponseDataLossError,
    )
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import error as twisted_errors
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    from crawler.retry_after import NOTE_META_KEY

    if isinstance(exc, HttpError):
        response = exc.response
        note = response.request.meta.get(NOTE_META_KEY) if response.request is not None else None
        return f"HTTP {response.status}" + (f" ({note})" if note else "")
    if "non-public address" in str(exc):  # crawler.network_guard.PublicOnlyResolver
        return f"refused: {_first_line(exc)} (allow_private_networks = false)"
    if isinstance(exc, (CannotResolveHostError, twisted_errors.DNSLookupError)):
        return "unreachable: host name does not resolve"
    if isinstance(exc, (DownloadConnectionRefusedError, twisted_errors.ConnectionRefusedError)):
        return "unreachable: connection refused"
    if isinstance(exc, (DownloadTimeoutError, twisted_errors.TimeoutError, twisted_errors.TCPTimedOutError)):
        timeout = request.meta.get("download_timeout") if request is not None else None
        return "timed out" + (f" after {timeout:g} s" if timeout else "")
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download for one reason: the body passes DOWNLOAD_MAXSIZE, announced
        # ("Expected to receive N bytes which is larger than download max size (M)") or while
        # receiving (no message).
        limit = _MAX_SIZE.search(str(exc))
        return "body larger than download_maxsize" + (f" ({limit.group(1)} bytes)" if limit else "") + \
            "; not downloaded"
    if isinstance(exc, (ResponseDataLossError, ResponseFailed, ResponseNeverReceived, twisted_errors.ConnectionLost,
                        twisted_errors.ConnectionDone)):
        return "connection broken before the response was complete"
    if isinstance(exc, IgnoreRequest):
        message = _first_line(exc)
        if message == "max redirections reached":
            return "too many redirects (a redirect loop?)"
        if "DOWNLOAD_MAXSIZE" in message and "decompress" in message:
            return "compressed body inflates past download_maxsize (a decompression bomb?); refused"
        return message or "request ignored"
    return f"{type(exc).__name__}: {_first_line(exc)}"[:300]


def is_lasting(exc: BaseException) -> bool:
    """True when the same request would fail the same way in the next run (no point in seeing it again)."""
    from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError

    if isinstance(exc, HttpError):
        return exc.response.status in LASTING_STATUSES
    if isinstance(exc, IgnoreRequest):
        # robots.txt Disallow, a private address, a redirect loop, a bomb: lasting; an unreachable robots.txt: not
        return "robots.txt unreachable" not in str(exc) and "robots.txt could not be fetched" not in str(exc)
    return isinstance(exc, DownloadCancelledError)  # too large: it will still be too large


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""


_URL_AND_REASON = re.compile(r"^(?P<url>[a-z][a-z0-9+.-]*://\S+?): (?P<reason>.+)$", re.IGNORECASE | re.DOTALL)


def group_by_reason(messages: list[str]) -> list[str]:
    """Failure messages ("URL: reason") with one line per distinct reason, for the run summary.

    A site that is down fails every entry point the same way; the summary says so
    once and lists the URLs: ``"unreachable: … (3 URLs: https://a, https://b, https://c)"``.
    A reason met once keeps its ``"URL: reason"`` form; other messages are kept as they are.
    Order follows the first occurrence of each reason.
    """
    groups: dict[str, list[str]] = {}
    for message in messages:
        match = _URL_AND_REASON.match(message)
        if match is None:
            groups.setdefault(message, [])
            continue
        groups.setdefault(match["reason"], []).append(match["url"])
    lines = []
    for reason, urls in groups.items():
        if not urls:
            lines.append(reason)
        elif len(urls) == 1:
            lines.append(f"{urls[0]}: {reason}")
        else:
            lines.append(f"{reason} ({len(urls)} URLs: {', '.join(urls)})")
    return lines
