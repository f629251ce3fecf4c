"""``newsmon extract``: run the crawl's article extraction on one saved page or URL.

The same :func:`crawler.extract.extract_article` the ExtractPipeline uses, so what
this prints is what a crawl would store.
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import click

FETCH_TIMEOUT_SECONDS = 30
MAX_FETCH_BYTES = 10 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


def _check_offset(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from crawler.dates import parse_utc_offset

    try:
        parse_utc_offset(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@click.command("extract")
@click.argument("source", metavar="PATH_OR_URL")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: only the body text; json: title, author, published, lang, text, extractor_version.",
)
@click.option(
    "--utc-offset",
    default="+07:00",
    show_default=True,
    callback=_check_offset,
    help="Offset of dates the page prints without one (Vietnam +07:00, Moscow +03:00).",
)
@click.pass_obj
def extract(obj, source: str, output_format: str, utc_offset: str) -> None:
    """Extract the article from one HTML page: a file, a gzipped file, stdin or a URL.

    PATH_OR_URL is an .html file, an .html.gz file (as kept in raw_pages), "-"
    for standard input, or an http(s) URL, fetched once with the User-Agent of
    [crawl] user_agent when a config file is present (a default one otherwise) and
    a 30-second timeout.

    With --format text (the default) standard output holds the body text and
    nothing else, one paragraph per line, so it can be piped or diffed; notes go
    to standard error. --format json prints one object with title, author,
    published (ISO 8601 in UTC, or null), lang (vi, en, ru or null), text and
    extractor_version.

    Exit status: 0 on success (also when the page has no article text, with a
    note on stderr), 1 when a URL cannot be fetched, 2 when the file is missing
    or unreadable or an option is wrong.

    \b
    Examples:
      newsmon extract tests/fixtures/vn-pages/vnexpress_article.html
      newsmon extract page.html.gz --format json
      curl -s https://vnexpress.net/... | newsmon extract -
      newsmon extract https://tass.ru/politika/12345 --utc-offset +03:00 --format json
    """
    from crawler.extract import extract_article

    url = None
    encoding = None
    if source.startswith(("http://", "https://")):
        url = source
        data, encoding = _fetch(url, _user_agent(obj))
    elif source == "-":
        with click.open_file("-", "rb") as stdin:
            data = _maybe_gunzip(stdin.read(), "standard input")
    else:
        data = _read_file(source)
    article = extract_article(data, url=url, utc_offset=utc_offset, encoding=encoding)
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "title": article.title,
                    "author": article.author,
                    "published": article.published.isoformat() if article.published else None,
                    "lang": article.lang,
                    "text": article.text,
                    "extractor_version": article.extractor_version,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not article.text:
        click.echo(f"newsmon extract: no article text found in {source}", err=True)
        return
    click.echo(article.text)


def _read_file(source: str) -> bytes:
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise click.BadParameter(f"no such file: {source}", param_hint="PATH_OR_URL") from None
    except IsADirectoryError:
        raise click.BadParameter(f"{source} is a directory, not an HTML file", param_hint="PATH_OR_URL") from None
    except OSError as exc:
        raise click.BadParameter(f"cannot read {source}: {exc.strerror}", param_hint="PATH_OR_URL") from None
    return _maybe_gunzip(data, source)


def _maybe_gunzip(data: bytes, label: str) -> bytes:
    """Decompress gzip data (recognised by its magic bytes, whatever the file is called)."""
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise click.BadParameter(f"{label} is not valid gzip data: {exc}", param_hint="PATH_OR_URL") from None


def _user_agent(obj) -> str:
    """[crawl] user_agent when a config file exists (a broken one is a usage error), else the default."""
    from crawler.config import CrawlConfig

    config_path = getattr(obj, "config_path", None)
    if config_path and Path(config_path).is_file():
        return obj.config().crawl.user_agent
    return CrawlConfig().user_agent


def _fetch(url: str, user_agent: str) -> tuple[bytes, str | None]:
    request = urllib.request.Request(
        url,
        headers={
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            "Accept-Encoding": "gzip",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            data = response.read(MAX_FETCH_BYTES + 1)
            charset = response.headers.get_content_charset()
            content_encoding = (response.headers.get("Content-Encoding") or "").lower()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise click.ClickException(f"{url} answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            reason = f"no answer within {FETCH_TIMEOUT_SECONDS} s"
        raise click.ClickException(f"cannot fetch {url}: {reason}") from None
    except (socket.timeout, TimeoutError):
        raise click.ClickException(f"cannot fetch {url}: no answer within {FETCH_TIMEOUT_SECONDS} s") from None
    except (http.client.HTTPException, OSError) as exc:  # connection reset, protocol errors
        raise click.ClickException(f"cannot fetch {url}: {exc}") from None
    except ValueError as exc:  # "http://" without a host
        raise click.BadParameter(f"{url} is not a fetchable URL: {exc}", param_hint="PATH_OR_URL") from None
    if len(data) > MAX_FETCH_BYTES:
        raise click.ClickException(f"{url} is larger than {MAX_FETCH_BYTES // (1024 * 1024)} MiB; not an article page")
    if content_encoding == "gzip" or data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise click.ClickException(f"{url} sent broken gzip data: {exc}") from None
    return data, charset

