"""``newsmon db``: look after the SQLite store — an online backup and a health check.

Both read the store through a read-only connection and import nothing of the
crawl stack, so they run at any time, also while ``newsmon run`` crawls.
"""

from __future__ import annotations

import json

import click


@click.group()
def db():
    """Back up and check the store (the SQLite file of [store] path or --db).

    \b
    Examples:
      newsmon db check
      newsmon db backup backups/news-$(date +%F).db
    """


@db.command()
@click.argument("target", metavar="FILE", type=click.Path(dir_okay=False, writable=True))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.pass_obj
def backup(obj, target, force):
    """Copy the store to FILE, consistently, while newsmon keeps running.

    The copy is one snapshot of the store taken with SQLite's VACUUM INTO:
    a crawl writing at the same time is neither slowed down nor half
    included, and the copy is compacted (smaller than the store when rows
    were deleted). It is checked before it is moved into place, so FILE is
    either a complete, sound copy or not written at all. FILE can be opened
    with --db like the store itself.

    Exit status: 0 when the copy was made, 1 when it could not be (the
    message says why), 2 for bad arguments or no store.

    \b
    Examples:
      newsmon db backup /srv/backups/news.db --force
      newsmon --db data/news.db db backup news-copy.db && newsmon --db news-copy.db db check
    """
    from store.backup import BackupError, backup_store

    path = obj.db_path()
    try:
        result = backup_store(path, target, overwrite=force)
    except FileNotFoundError as exc:
        raise click.UsageError(f"{exc}; run 'newsmon crawl' first (or give --db)") from None
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Copied {path} to {result.target}: {result.articles} articles, {_size(result.size_bytes)}, "
               f"schema version {result.schema_version}.")


@db.command()
@click.option("--quick", is_flag=True, help="PRAGMA quick_check instead of integrity_check, no full-text check: "
                                            "much faster on a large store.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_obj
def check(obj, quick, as_json):
    """Check the store and count what it holds.

    \b
    Runs, on one consistent snapshot (safe while a crawl writes):
      - SQLite's PRAGMA integrity_check and foreign_key_check;
      - the full-text index against the articles (FTS5 integrity-check);
      - newsmon's own rules: every article has its raw page, some text and
        a cluster; every cluster's size and canonical article match its
        members; every duplicate points at a stored article;
    and lists crawls left "running" by a process that died (the next crawl
    closes them as "killed") and the row count of each table.

    Exit status: 0 when everything is sound, 1 when something is wrong
    (each problem is listed), 2 when there is no store.

    \b
    Examples:
      newsmon db check
      newsmon db check --quick --json | jq .counts
    """
    from store.integrity import check_store

    path = obj.db_path()
    try:
        report = check_store(path, quick=quick)
    except FileNotFoundError as exc:
        raise click.UsageError(f"{exc}; run 'newsmon crawl' first (or give --db)") from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_report(report, quick)
    if not report.ok:
        raise SystemExit(1)


def _print_report(report, quick: bool) -> None:
    echo = click.echo
    echo(f"Store: {report.path} ({_size(report.size_bytes)}, schema version {report.schema_version})")
    if report.integrity == ["ok"]:
        echo(f"  {'quick_check' if quick else 'integrity_check'}: ok")
    else:
        echo(f"  {'quick_check' if quick else 'integrity_check'}: FAILED", err=False)
        for line in report.integrity:
            echo(f"    {line}")
        echo("  The file is damaged: restore a backup (newsmon db backup makes one), or try "
             "'sqlite3 news.db .recover'.")
        return
    echo(f"  foreign keys: {'ok' if not report.foreign_keys else f'{report.foreign_keys} violations'}")
    if not quick:
        echo(f"  full-text index: {report.fts}")
    if report.problems:
        echo("  newsmon rules: FAILED")
        for problem in report.problems:
            echo(f"    {problem}")
    else:
        echo("  newsmon rules: ok")
    if report.interrupted_runs:
        ids = ", ".join(str(i) for i in report.interrupted_runs)
        echo(f"  runs left 'running' by a crawl that died: {ids} (the next crawl marks them 'killed')")
    echo("Rows:")
    for name, count in report.counts.items():
        echo(f"  {name:<12} {count:>10}")
    echo("OK" if report.ok else "PROBLEMS FOUND")


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} bytes"
