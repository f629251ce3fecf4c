"""Read-only health queries behind ``newsmon status``: recent runs, the schedule, and each source's state.

A source is *failing* when its latest crawls could not read any of its entry
points (``run_sources.status = 'failed'``: HTTP errors, timeouts, refused
connections), and *silent* when nothing new came from it — no stored article and
no off-topic page — for longer than its ``silent_after``: a site that changed its
layout or quietly blocks us answers 200 and yields nothing, which only this shows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable

import sqlite_utils

#: how many of a source's latest runs are read to count its consecutive failures
FAILURE_SCAN = 200


@dataclass
class SourceHealth:
    """How one configured source is doing, as of ``now``."""

    name: str
    silent_after: timedelta
    last_crawl: str | None = None  # UTC ISO start of the latest run that crawled it
    last_success: str | None = None  # ... of the latest run in which it could be read
    consecutive_failures: int = 0  # latest runs in a row in which it could not be read
    last_error: str | None = None
    articles_24h: int = 0  # articles stored (fetched) in the last 24 hours
    articles_7d: int = 0
    last_new: str | None = None  # newest stored article or off-topic page from it
    quiet_for: timedelta | None = None  # since last_new (or since its first crawl, if nothing ever came)
    alerts: list[str] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0

    @property
    def silent(self) -> bool:
        return self.quiet_for is not None and self.quiet_for > self.silent_after

    def as_dict(self) -> dict:
        data = asdict(self)
        data["silent_after_seconds"] = int(self.silent_after.total_seconds())
        data["quiet_for_seconds"] = int(self.quiet_for.total_seconds()) if self.quiet_for is not None else None
        del data["silent_after"], data["quiet_for"]
        data["failing"], data["silent"] = self.failing, self.silent
        return data


def utc_iso(value: datetime) -> str:
    """The store's timestamp format: UTC, ISO 8601, whole seconds (``2024-05-01T10:00:00+00:00``)."""
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def recent_runs(db: sqlite_utils.Database, limit: int = 10, now: datetime | None = None) -> list[dict]:
    """The latest ``limit`` runs, newest first, with their duration in seconds (so far, if running)."""
    now = now or datetime.now(timezone.utc)
    rows = db.execute(
        """SELECT id, started, finished, status, trigger, sources, pid, pages_fetched, articles_stored,
                  duplicates, offtopic, prefiltered, errors, error
           FROM runs ORDER BY id DESC LIMIT ?""",
        (limit,),
    ).fetchall()
    runs = []
    for (run_id, started, finished, status, trigger, sources, pid, fetched, stored, duplicates, offtopic,
         prefiltered, errors, error) in rows:
        start, end = parse_time(started), parse_time(finished) or now
        runs.append({
            "id": run_id, "started": started, "finished": finished, "status": status, "trigger": trigger,
            "sources": _json_list(sources), "pid": pid,
            "duration_seconds": int((end - start).total_seconds()) if start else None,
            "pages_fetched": fetched, "articles_stored": stored, "duplicates": duplicates,
            "offtopic": offtopic + prefiltered, "errors": errors, "error": error,
        })
    return runs


def scheduled_jobs(db: sqlite_utils.Database) -> list[dict]:
    """The scheduler's plan as ``newsmon run`` last wrote it (empty before it ever ran)."""
    from store.schedule_state import has_schedule_state

    if not has_schedule_state(db):
        return []
    rows = db.execute(
        "SELECT job, sources, trigger, next_run, last_run_id, scheduler_pid FROM schedule_state ORDER BY next_run, job"
    ).fetchall()
    return [
        {"job": job, "sources": _json_list(sources), "trigger": trigger, "next_run": next_run,
         "last_run_id": last_run_id, "scheduler_pid": pid}
        for job, sources, trigger, next_run, last_run_id, pid in rows
    ]


def source_health(db: sqlite_utils.Database, sources: Iterable[tuple[str, timedelta]],
                  now: datetime | None = None) -> list[SourceHealth]:
    """Health of each ``(name, silent_after)`` source as of ``now`` (default: the current time)."""
    now = now or datetime.now(timezone.utc)
    day, week = utc_iso(now - timedelta(days=1)), utc_iso(now - timedelta(days=7))
    recent = {
        source: (in_day, in_week)
        for source, in_day, in_week in db.execute(
            "SELECT source, sum(fetched >= ?), count(*) FROM articles WHERE fetched >= ? GROUP BY source",
            (day, week),
        )
    }
    report = []
    for name, silent_after in sources:
        health = SourceHealth(name=name, silent_after=silent_after)
        health.articles_24h, health.articles_7d = recent.get(name, (0, 0))
        _add_failures(db, health)
        newest = [
            db.execute("SELECT max(fetched) FROM articles WHERE source = ?", (name,)).fetchone()[0],
            db.execute("SELECT max(seen) FROM offtopic WHERE source = ?", (name,)).fetchone()[0],
        ]
        newest = [t for t in newest if t]
        health.last_new = max(newest, key=parse_time) if newest else None
        since = health.last_new or _first_crawl(db, name)
        if since:
            health.quiet_for = max(timedelta(0), now - parse_time(since))
        if health.failing:
            runs = "run" if health.consecutive_failures == 1 else f"{health.consecutive_failures} runs in a row"
            health.alerts.append(f"FAILING: could not be read in the last {runs}: {health.last_error or 'no detail'}")
        if health.silent:
            what = "nothing new" if health.last_new else "nothing ever"
            health.alerts.append(
                f"SILENT: {what} for {_days(health.quiet_for)} (silent_after {_days(silent_after)}); "
                "the site may have changed its layout or be blocking us"
            )
        report.append(health)
    return report


def _add_failures(db: sqlite_utils.Database, health: SourceHealth) -> None:
    rows = db.execute(
        """SELECT rs.status, rs.error, r.started FROM run_sources rs JOIN runs r ON r.id = rs.run_id
           WHERE rs.source = ? ORDER BY rs.run_id DESC LIMIT ?""",
        (health.name, FAILURE_SCAN),
    ).fetchall()
    if rows:
        health.last_crawl = rows[0][2]
    for status, error, started in rows:
        if status == "failed":
            health.consecutive_failures += 1
            if health.last_error is None:
                health.last_error = error
        else:
            health.last_success = started
            break
    if health.last_success is None and health.consecutive_failures == len(rows) == FAILURE_SCAN:
        health.last_success = db.execute(
            """SELECT max(r.started) FROM run_sources rs JOIN runs r ON r.id = rs.run_id
               WHERE rs.source = ? AND rs.status != 'failed'""",
            (health.name,),
        ).fetchone()[0]


def _first_crawl(db: sqlite_utils.Database, name: str) -> str | None:
    row = db.execute(
        "SELECT r.started FROM run_sources rs JOIN runs r ON r.id = rs.run_id WHERE rs.source = ? "
        "ORDER BY rs.run_id LIMIT 1",
        (name,),
    ).fetchone()
    return row[0] if row else None


def _days(delta: timedelta) -> str:
    from crawler.schedule_plan import format_duration

    if delta >= timedelta(days=1):
        return format_duration(timedelta(hours=round(delta.total_seconds() / 3600)))
    return format_duration(delta)


def _json_list(text: str | None) -> list:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []
