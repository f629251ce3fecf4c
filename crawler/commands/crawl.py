"""``newsmon crawl``: one crawl of the configured sources, now, in this process."""

from __future__ import annotations

import sys

import click

from crawler.commands.options import duration_option


@click.command()
@click.option("--source", "source_names", multiple=True, metavar="NAME",
              help="Crawl only this source (repeat for several). Default: every source.")
@duration_option("--since", help="Ignore articles published longer ago than this (default: [crawl] window), e.g. 7d.")
@click.option("--max-pages", type=click.IntRange(min=1), default=None,
              help="Fetch at most N article pages per source.")
@click.option("--run-id", type=int, default=None, hidden=True,
              help="Record into this existing runs row (used by 'newsmon run').")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              default="WARNING", show_default=True, help="Scrapy log level on stderr.")
@click.pass_obj
def crawl(obj, source_names, since, max_pages, run_id, log_level):
    """Crawl the sources once and store what is new.

    Every entry point (feed, news sitemap, listing page) is fetched with
    conditional GET; article links published within the window and not yet
    in the store are fetched, extracted, scored for relevance, grouped with
    their reprints and stored. Every crawl is a row in the `runs` table.

    Exit status: 0 when at least one source could be read, 1 when every
    source failed (each failure is reported), 2 for bad options or config
    (including [dedupe] parameters changed since the store's index was built:
    run `newsmon dedupe --rebuild`), 3 when another crawl (e.g. `newsmon run`) is using the store.

    \b
    Examples:
      newsmon crawl                          every source, default window
      newsmon crawl --source qdnd --since 2d
      newsmon --db /tmp/test.db crawl --max-pages 5
    """
    from crawler.crawl_run import run_crawl
    from crawler.config import ConfigError

    config = obj.config()
    try:
        sources = [config.source(name) for name in source_names] if source_names else list(config.sources)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--source") from None
    if not sources:
        raise click.UsageError("the config lists no [[sources]]; add one (see README, Configuration)")
    db_path = obj.db_path(config)
    from store.lock import BUSY_EXIT_CODE, StoreBusyError, acquire_store_lock

    try:  # one crawl per store: refuse while `newsmon run` or another crawl writes to it
        lock = acquire_store_lock(db_path, "newsmon crawl")
    except StoreBusyError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = BUSY_EXIT_CODE
        raise error from None
    except OSError as exc:  # e.g. a read-only file system: the lock file beside the store cannot be made
        raise click.ClickException(f"cannot write beside the store {db_path} ({exc.strerror}: {exc.filename}); "
                                   "nothing was crawled") from None
    from crawler.crawl_run import StoreUnwritableError
    from store.lsh_storage import IndexParamsChanged

    with lock:
        try:
            result = run_crawl(config, db_path, sources, since=since, max_pages=max_pages, run_id=run_id,
                               log_level=log_level.upper())
        except StoreUnwritableError as exc:  # read-only or full: say so, exit 1, no traceback
            raise click.ClickException(str(exc)) from None
        except IndexParamsChanged as exc:  # [dedupe] changed since the index was built: a config problem
            error = click.ClickException(f"{exc}; nothing was crawled")
            error.exit_code = 2
            raise error from None
    print_summary(result)
    sys.exit(0 if result.status in ("ok", "partial") else 1)


def print_summary(result) -> None:
    """Per-source lines and a total, on stderr (stdout stays free for scripts)."""
    from crawler.fetch_failures import group_by_reason

    echo = lambda text="": click.echo(text, err=True)  # noqa: E731
    echo(f"run {result.run_id}: {result.status}")
    for s in result.sources:
        if s.status == "failed":
            reasons = group_by_reason(s.error_messages) or [s.error or "no entry point could be read"]
            echo(f"  {s.name:<14} FAILED  {reasons[0]}")
            for reason in reasons[1:]:
                echo(f"  {'':<14}         {reason}")
            continue
        unchanged = f", {s.entry_points_unchanged} unchanged" if s.entry_points_unchanged else ""
        echo(
            f"  {s.name:<14} ok      fetched {s.pages_fetched}, stored {s.articles_stored}, "
            f"duplicates {s.duplicates}, off-topic {s.offtopic}, pre-filtered {s.prefiltered}, "
            f"already known {s.known}, too old {s.too_old}{unchanged}"
            + (f", errors {s.errors}" if s.errors else "")
        )
    counts = result.counts
    ok = sum(1 for s in result.sources if s.status == "ok")
    echo(
        f"sources {ok}/{len(result.sources)} ok · pages fetched {counts['pages_fetched']} · "
        f"articles stored {counts['articles_stored']} · duplicate copies {counts['duplicates']} · "
        f"off-topic skipped {counts['offtopic'] + counts['prefiltered']}"
    )
