"""``newsmon digest``: the stories new since the last marked digest (or since a time), in five formats."""

from __future__ import annotations

from pathlib import Path

import click

from store.commands.search import SINCE, open_store
from store.digest import DEFAULT_NAME, FORMATS


@click.command()
@click.option("--since-last", is_flag=True,
              help="Stories new since the last digest marked with --mark (the default).")
@click.option("--since", type=SINCE, default=None, metavar="WHEN",
              help="Instead: stories published since then, a duration (24h, 7d) or a date (2024-05-01).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="md, html (one self-contained page), json, rss (RSS 2.0) or csv (UTF-8 with BOM).")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Write to FILE (atomically: all or nothing) instead of standard output.")
@click.option("--mark", is_flag=True,
              help="After the digest was written successfully, move the watermark past it.")
@click.option("--name", default=DEFAULT_NAME, show_default=True, metavar="NAME",
              help="Watermark name, to keep several independent digests (one per reader).")
@click.pass_obj
def digest(obj, since_last, since, fmt, output, mark, name):
    """Print or write the digest of new stories, one entry per story.

    Each entry has the story's title, source, date, lead paragraph and link,
    the other outlets that reprinted it ("also reported by", with links) and
    the topic terms it matched. Entries are grouped by day (UTC), newest
    first. Links other than http/https are left out.

    What "new" means: a watermark (table `exports`, one row per --name)
    holds the highest article id the last *marked* digest covered. A story is
    new when its first article was stored after that; later reprints of an
    old story do not bring it back. --mark moves the watermark only once the
    output was written completely (to a temporary file, then renamed), so a
    failed write never loses stories; a crawl writing while the digest runs
    is safe too: its articles land in the next digest. --since ignores the
    watermark and cannot be combined with --mark.

    The JSON format ("schema": "newsmon.digest/1") has the keys schema,
    name, generated, scope, since, watermark {from, to}, count and stories;
    each story has day, date, title, source, lang, url, lead, score, terms
    {group: [terms]}, cluster_id, article_id and also_reported_by [{source,
    title, url, date}]. Keys are only ever added within version 1.

    \b
    Examples:
      newsmon digest                                   what is new, Markdown
      newsmon digest --since-last --mark -o digest.md  the daily routine
      newsmon digest --since 24h --format html -o today.html
      newsmon digest --format rss -o feed.xml --mark --name feed
    """
    from datetime import datetime, timezone

    from store.digest import build_digest, mark as mark_digest, render, write_atomic

    if since_last and since is not None:
        raise click.UsageError("use either --since-last or --since, not both")
    if mark and since is not None:
        raise click.UsageError("--mark works with --since-last only: a --since digest does not cover every "
                               "story since the last mark, so marking it could skip some")
    db = open_store(obj)
    try:
        result = build_digest(db, since=since, name=name)
    finally:
        db.conn.close()
    data = render(result, fmt)
    if output is None:
        click.echo(data, nl=False)
    else:
        try:
            write_atomic(output, data)
        except OSError as exc:
            raise click.BadParameter(
                f"cannot write {output}: {exc.strerror or exc}; nothing was written and the watermark did not move",
                param_hint="--output",
            ) from None
    count = len(result.stories)
    where = f" to {output}" if output else ""
    click.echo(f"digest: {count} {'story' if count == 1 else 'stories'} {result.scope}{where}"
               if count else f"digest: no new stories {result.scope}{where}", err=True)
    if mark:
        from store.db import connect

        writable = connect(obj.db_path())
        try:
            mark_digest(writable, result, datetime.now(timezone.utc).isoformat(timespec="seconds"))
        finally:
            writable.conn.close()
        click.echo(f"watermark {name!r}: article {result.watermark_to}", err=True)
