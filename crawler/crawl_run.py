"""One crawl, in this process: start a ``runs`` row, run the spider, record the outcome.

Used by ``newsmon crawl`` (and so by every scheduled run, which is a child process
running that command) and by ``newsmon demo``. Twisted's reactor cannot be
restarted, so a process runs at most one crawl.

A store that cannot be written (read-only file or file system, disk full, I/O
error) raises :class:`StoreUnwritableError` with a message saying so: before
the crawl starts, nothing is fetched; during the crawl, the crawl stops, every
article stored until then is complete (one transaction each) and the run is
recorded as ``failed`` when the store still takes that one small write.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta

from crawler.config import Config, SourceConfig


class StoreUnwritableError(RuntimeError):
    """The store cannot be written; the message says which file, why, and what became of the run."""


@dataclass
class SourceOutcome:
    name: str
    status: str  # ok, failed
    entry_points_ok: int
    entry_points_unchanged: int
    entry_points_failed: int
    pages_fetched: int
    articles_stored: int
    duplicates: int
    offtopic: int
    prefiltered: int
    known: int
    too_old: int
    errors: int
    error: str | None
    error_messages: list[str] = field(default_factory=list)  # every failure, "URL: reason"


@dataclass
class CrawlResult:
    run_id: int
    status: str  # ok, partial, failed
    sources: list[SourceOutcome] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(getattr(s, attribute) for s in self.sources)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "pages_fetched": self.total("pages_fetched"),
            "articles_stored": self.total("articles_stored"),
            "offtopic": self.total("offtopic"),
            "prefiltered": self.total("prefiltered"),
            "duplicates": self.total("duplicates"),
            "errors": self.total("errors") + self.total("entry_points_failed"),
        }


def run_crawl(
    config: Config,
    db_path: str,
    sources: list[SourceConfig],
    *,
    since: timedelta | None = None,
    max_pages: int | None = None,
    run_id: int | None = None,
    trigger: str = "manual",
    log_level: str = "WARNING",
) -> CrawlResult:
    """Crawl ``sources`` into the store at ``db_path`` and record the run; return its outcome."""
    from scrapy.crawler import CrawlerProcess

    from crawler.fetch_failures import group_by_reason
    from crawler.settings import scrapy_settings
    from crawler.spiders.news import NewsSpider
    from store.articles import duplicates_by_source, finish_run, start_run
    from store.db import connect
    from store.lsh_storage import IndexParamsChanged

    try:
        db = connect(db_path)
        if run_id is None:
            run_id = start_run(db, [s.name for s in sources], trigger=trigger, pid=os.getpid())
        else:
            db.execute("UPDATE runs SET pid = ?, status = 'running' WHERE id = ?", (os.getpid(), run_id))
        _close_interrupted_runs(db)
        _prepare_dedupe_index(db, config, run_id)
    except sqlite3.Error as exc:
        raise StoreUnwritableError(f"cannot write to the store {db_path} ({exc}); nothing was crawled") from None
    except IndexParamsChanged:
        db.close()
        raise
    try:
        process = CrawlerProcess(scrapy_settings(config, log_level=log_level))
        crawler = process.create_crawler(NewsSpider)
        process.crawl(crawler, config=config, sources=sources, db_path=db_path, since=since,
                      max_pages=max_pages, run_id=run_id)
        process.start()
        spider = crawler.spider
        tallies = spider.tally
        duplicates = duplicates_by_source(db, run_id)  # final: an original may arrive after its copies
        result = CrawlResult(run_id=run_id, status="ok")
        for source in sources:
            tally = tallies[source.name]
            result.sources.append(
                SourceOutcome(
                    name=source.name,
                    status="failed" if tally.failed else "ok",
                    entry_points_ok=tally.entry_ok,
                    entry_points_unchanged=tally.entry_unchanged,
                    entry_points_failed=tally.entry_failed,
                    pages_fetched=tally.pages_fetched,
                    articles_stored=tally.stored,
                    duplicates=duplicates.get(source.name, 0),
                    offtopic=tally.offtopic,
                    prefiltered=tally.prefiltered,
                    known=tally.known,
                    too_old=tally.too_old,
                    errors=tally.errors,
                    error="; ".join(tally.error_messages[:5]) or None,
                    error_messages=list(tally.error_messages),
                )
            )
        failed = sum(1 for s in result.sources if s.status == "failed")
        if failed == len(result.sources):
            result.status = "failed"
        elif failed:
            result.status = "partial"
        error = "; ".join(f"{s.name}: {' / '.join(group_by_reason(s.error_messages)) or s.error}"
                          for s in result.sources if s.status == "failed") or None
        if spider.store_error:
            result.status = "failed"
            error = f"the store could not be written ({spider.store_error}); the crawl stopped"
        per_source = {s.name: {"status": s.status, "pages_fetched": s.pages_fetched,
                               "articles_stored": s.articles_stored, "errors": s.errors, "error": s.error}
                      for s in result.sources}
        try:
            _finish_run_anyhow(db, db_path, run_id, result.status, result.counts, error, per_source)
        except sqlite3.Error as exc:
            raise StoreUnwritableError(
                f"cannot write to the store {db_path} ({spider.store_error or exc}); the crawl stopped and run "
                f"{run_id} could not be recorded. Articles stored before are complete."
            ) from None
        if spider.store_error:
            raise StoreUnwritableError(
                f"cannot write to the store {db_path} ({spider.store_error}); the crawl stopped, run {run_id} "
                f"is recorded as failed. Articles stored before are complete."
            )
        return result
    except StoreUnwritableError:
        raise
    except BaseException as exc:
        try:
            finish_run(db, run_id, "failed", {}, error=f"{type(exc).__name__}: {exc}"[:1000])
        except sqlite3.Error:
            pass  # the original error says more
        raise
    finally:
        db.close()


def _finish_run_anyhow(db, db_path, run_id, status, counts, error, per_source) -> None:
    """Record the run's end; after a write error, once more on a fresh connection after moving
    the write-ahead log into the database (a full disk or file-size limit often leaves room
    for this one small write once the log is emptied)."""
    from store.articles import finish_run
    from store.db import connect

    try:
        finish_run(db, run_id, status, counts, error=error, per_source=per_source)
        return
    except sqlite3.Error:
        pass
    fresh = connect(db_path)
    try:
        try:
            fresh.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        finish_run(fresh, run_id, status, counts, error=error, per_source=per_source)
    finally:
        fresh.conn.close()


def _prepare_dedupe_index(db, config: Config, run_id: int) -> None:
    """Refuse a crawl whose ``[dedupe]`` parameters differ from the ones the store's index was built
    with (its signatures could not be compared; ``newsmon dedupe --rebuild`` recomputes them), then
    drop band rows that aged out of ``[dedupe] retention``, so lookups stay flat as the store grows.

    The refusal is recorded as a failed run and raised as
    :class:`store.lsh_storage.IndexParamsChanged` before anything is fetched.
    """
    from store.articles import finish_run
    from store.lsh_storage import IndexParamsChanged, SqliteDeduplicator, prune_bands

    try:
        SqliteDeduplicator(config.dedupe).check_params(db)
    except IndexParamsChanged as exc:
        finish_run(db, run_id, "failed", {}, error=f"nothing was crawled: {exc}")
        raise
    prune_bands(db, config.dedupe)


def _close_interrupted_runs(db) -> None:
    """Close the ``running`` rows of crawls that died without recording a result (SIGKILL, power loss).

    Called under the store lock, so no other crawl can be writing; a row whose
    process still runs a crawl is left alone all the same.
    """
    from store.lock import pid_alive
    from store.schedule_state import repair_interrupted_runs

    repair_interrupted_runs(db, lambda pid: pid == os.getpid() or pid_alive(pid))
