"""``newsmon export``: stored articles as JSON Lines or CSV, streamed row by row."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from pathlib import Path

import click

from store.commands.search import SINCE, open_store


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="jsonl: one JSON object per line; csv: UTF-8 with BOM, one row per article.")
@click.option("--since", type=SINCE, default=None, metavar="WHEN",
              help="Only articles published since then: a duration (24h, 7d) or a date (2024-05-01).")
@click.option("--all-copies", is_flag=True, help="Include reprints (duplicates), not only canonical articles.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Write to FILE (atomically: all or nothing) instead of standard output.")
@click.pass_obj
def export(obj, fmt, since, all_copies, output):
    """Export stored articles with their text, oldest first.

    By default one article per story (the canonical copy); --all-copies adds
    every reprint, whose duplicate_of names the canonical article. Rows are
    streamed from the database, so memory stays flat however big the store.

    Fields: id, url, canonical_url, source, lang, title, author, published,
    fetched (UTC ISO 8601), score, terms (matched topic terms per concept
    group; a JSON object, in CSV a JSON string), cluster_id, duplicate_of,
    similarity, text. In CSV a value starting with = + - or @ gets a leading
    apostrophe so spreadsheets do not run it as a formula.

    \b
    Examples:
      newsmon export > articles.jsonl
      newsmon export --format csv --since 7d -o week.csv
      newsmon export --all-copies | jq -r 'select(.duplicate_of) | .url'
    """
    from store.digest import atomic_file

    db = open_store(obj)
    try:
        if output is None:
            sys.stdout.flush()
            count = write_articles(db, sys.stdout.buffer, fmt, since, all_copies)
        else:
            try:
                with atomic_file(output) as handle:
                    count = write_articles(db, handle, fmt, since, all_copies)
            except OSError as exc:
                raise click.BadParameter(f"cannot write {output}: {exc.strerror or exc}; nothing was written",
                                         param_hint="--output") from None
    finally:
        db.conn.close()
    click.echo(f"export: {count} articles" + (f" to {output}" if output else ""), err=True)


def write_articles(db, binary, fmt: str, since: str | None, all_copies: bool) -> int:
    """Stream the selected articles to a binary file object; return how many."""
    from store.digest import spreadsheet_safe
    from store.queries import EXPORT_COLUMNS, iter_articles, parse_terms

    rows = iter_articles(db, since=since, all_copies=all_copies)
    count = 0
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    text = io.TextIOWrapper(binary, encoding=encoding, newline="", write_through=False)
    with contextlib.ExitStack() as stack:
        stack.callback(text.detach)  # leave the caller's stream open
        if fmt == "csv":
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(EXPORT_COLUMNS)
            for row in rows:
                writer.writerow([spreadsheet_safe(row[c]) for c in EXPORT_COLUMNS])
                count += 1
        else:
            for row in rows:
                row["terms"] = parse_terms(row["terms"])
                text.write(json.dumps(row, ensure_ascii=False))
                text.write("\n")
                count += 1
        text.flush()
    return count
