"""``newsmon status``: is the scheduler running, when is the next crawl, how did the last ones go,
and which sources need attention.

Reads the store read-only and imports nothing of the crawl stack.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click


@click.command()
@click.option("--runs", "run_count", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Show the last N runs.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_obj
def status(obj, run_count, as_json):
    """Show the scheduler, the last runs and the health of every source.

    \b
    - Scheduler: whether `newsmon run` is running on this store (or a
      manual crawl), and the next scheduled run of each job.
    - Runs: status (ok, partial, failed, timeout, killed, running),
      duration, pages fetched, articles stored, duplicates, off-topic.
    - Sources: last successful crawl, articles stored in the last 24 h and
      7 d, consecutive failed runs, and alerts: FAILING (its entry points
      could not be read in the latest runs: HTTP errors, timeouts) and
      SILENT (nothing new from it for longer than its silent_after in
      newsmon.toml: a changed layout or a quiet block looks like that).

    \b
    Examples:
      newsmon status
      newsmon status --runs 30
      newsmon status --json | jq '.sources[] | select(.alerts != [])'
    """
    from store.db import connect
    from store.health import recent_runs, scheduled_jobs, source_health
    from store.lock import read_holder

    config = obj.config()
    db_path = obj.db_path(config)
    try:
        db = connect(db_path, readonly=True)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    now = datetime.now(timezone.utc)
    try:
        holder = read_holder(db_path)
        busy = holder if holder is not None and holder.alive else None
        report = {
            "store": str(db_path),
            "now": now.isoformat(timespec="seconds"),
            "scheduler": _scheduler_state(busy),
            "next_runs": scheduled_jobs(db),
            "runs": recent_runs(db, run_count, now=now),
            "sources": [h.as_dict() for h in source_health(db, [(s.name, s.silent_after) for s in config.sources], now)],
        }
    finally:
        db.close()
    report["alerts"] = [f"{s['name']}: {alert}" for s in report["sources"] for alert in s["alerts"]]
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_report(report, now)


def _scheduler_state(busy) -> dict:
    if busy is None:
        return {"running": False, "pid": None, "since": None, "crawl": None}
    crawl = {"run_id": busy.crawl_run_id, "pid": busy.crawl_pid} if busy.crawl_pid else None
    if busy.command != "newsmon run":
        return {"running": False, "pid": None, "since": None,
                "crawl": {"run_id": None, "pid": busy.pid, "command": busy.command, "since": busy.started}}
    return {"running": True, "pid": busy.pid, "since": busy.started, "crawl": crawl}


def _print_report(report: dict, now: datetime) -> None:
    from crawler.schedule_plan import format_duration
    from store.health import parse_time

    echo = click.echo
    scheduler = report["scheduler"]
    if scheduler["running"]:
        line = f"Scheduler: running (pid {scheduler['pid']}, since {_short(scheduler['since'])})"
        if scheduler["crawl"]:
            line += f"; crawling now: run {scheduler['crawl']['run_id']} (pid {scheduler['crawl']['pid']})"
        echo(line)
    else:
        echo("Scheduler: not running (start it with: newsmon run)")
        if scheduler["crawl"]:
            echo(f"  a manual crawl is running: pid {scheduler['crawl']['pid']}, since {_short(scheduler['crawl']['since'])}")
    if report["next_runs"]:
        echo("Next runs:" if scheduler["running"] else "Next runs (when newsmon run is running):")
        for job in report["next_runs"]:
            when = parse_time(job["next_run"])
            if when is None:
                relative = "not scheduled"
            elif when <= now:
                relative = "due now" if scheduler["running"] else "due: runs at start"
            else:
                relative = f"in {format_duration(when - now)}"
            sources = ", ".join(job["sources"])
            echo(f"  {job['job']:<16} {job['trigger']:<18} {_short(job['next_run']):<20} {relative:<20} {sources}")
    echo("")
    runs = report["runs"]
    if not runs:
        echo("Runs: none yet (newsmon crawl or newsmon run)")
    else:
        echo("Last runs:")
        header = (f"  {'run':>5}  {'started (UTC)':<19}  {'duration':>9}  {'status':<8}  {'trigger':<8}  "
                  f"{'fetched':>7}  {'stored':>6}  {'dups':>5}  {'off-topic':>9}  error")
        echo(header)
        for run in runs:
            duration = format_duration(run["duration_seconds"]) if run["duration_seconds"] is not None else "-"
            error = (run["error"] or "")[:70]
            echo(f"  {run['id']:>5}  {_short(run['started']):<19}  {duration:>9}  {run['status']:<8}  "
                 f"{run['trigger']:<8}  {run['pages_fetched']:>7}  {run['articles_stored']:>6}  "
                 f"{run['duplicates']:>5}  {run['offtopic']:>9}  {error}")
    echo("")
    echo("Sources:")
    echo(f"  {'source':<16}  {'last success (UTC)':<19}  {'24h':>4}  {'7d':>4}  {'failures':>8}  status")
    for source in report["sources"]:
        if source["alerts"]:
            state = " | ".join(source["alerts"])
        elif source["last_crawl"] is None:
            state = "never crawled"
        else:
            state = "ok"
        echo(f"  {source['name']:<16}  {_short(source['last_success']) or 'never':<19}  {source['articles_24h']:>4}  "
             f"{source['articles_7d']:>4}  {source['consecutive_failures']:>8}  {state}")
    if report["alerts"]:
        echo("")
        echo(f"{len(report['alerts'])} alert(s).")


def _short(timestamp: str | None) -> str:
    """``2024-05-01T10:00:00+00:00`` → ``2024-05-01 10:00:00``."""
    if not timestamp:
        return ""
    return timestamp.replace("T", " ")[:19]
