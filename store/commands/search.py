"""``newsmon search``: full-text search of the store, one line per story.

Reads the store read-only and imports nothing of the crawl stack, so it starts
fast and never waits for a running crawl.
"""

from __future__ import annotations

import json

import click

from crawler.config import LANGUAGES


class SinceType(click.ParamType):
    """``--since``: a duration back from now (``24h``, ``7d``) or a date → UTC ISO cutoff string."""

    name = "since"

    def convert(self, value, param, ctx):
        from store.queries import since_cutoff

        try:
            return since_cutoff(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


SINCE = SinceType()


def open_store(obj):
    """The store named by --db or the config, opened read-only; a missing file is a usage error."""
    from store.db import connect

    path = obj.db_path()
    try:
        return connect(path, readonly=True)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--since", type=SINCE, default=None, metavar="WHEN",
              help="Only articles published since then: a duration (24h, 7d, 2w) or a date (2024-05-01).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Only articles in this language.")
@click.option("--source", default=None, metavar="NAME", help="Only articles from this source (its name in newsmon.toml).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="At most N stories.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.pass_obj
def search(obj, query, since, lang, source, limit, as_json):
    """Search titles and texts of stored articles; best matches first.

    Accents are optional ("quoc phong" finds "quốc phòng", "Dang" finds
    "Đảng"), Russian words match their inflected forms ("россия" finds
    "России"), and a title match counts more than one in the text. Reprints
    of a story are one line, with the number of other outlets that carried
    it. "Why kept" shows the relevance score and the topic terms that made
    the crawler keep the article.

    \b
    Query language (any text is accepted, punctuation is ignored):
      quoc phong            all words, anywhere
      '"quốc phòng"'        a phrase (quote it for the shell)
      Nga -bóng             exclude a word
      Su-30*                prefix of the last word
      tàu ngầm OR submarine either side

    \b
    Examples:
      newsmon search quoc phong --since 7d
      newsmon search '"hợp tác quốc phòng"' --lang vi --limit 5
      newsmon search россия вьетнам --json
      newsmon search -- -Nga Su-30      (use -- before a query starting with -)

    \b
    JSON output: an array of objects with keys
      rank, title, url, source, lang, date, score, terms ({group: [terms]}),
      cluster_id, article_id, other_outlets ([names]), other_outlet_count, bm25.
    """
    from store.fts import build_match
    from store.queries import NoSearchIndex, known_sources, search_stories

    text = " ".join(query)
    if build_match(text) is None:
        raise click.BadParameter(f"{text!r} has no word to search for", param_hint="QUERY")
    db = open_store(obj)
    if source is not None and source not in known_sources(db):
        names = ", ".join(known_sources(db)) or "none yet"
        raise click.BadParameter(f"no stored article comes from {source!r}; sources in the store: {names}",
                                 param_hint="--source")
    try:
        hits = search_stories(db, text, since=since, lang=lang, source=source, limit=limit)
    except NoSearchIndex as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps([hit_json(i, hit) for i, hit in enumerate(hits, 1)], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo(f"No stories match {text!r}.", err=True)
        return
    print_table(hits)


def hit_json(position: int, hit) -> dict:
    return {
        "rank": position, "title": hit.title, "url": hit.url, "source": hit.source, "lang": hit.lang,
        "date": hit.date, "score": hit.score, "terms": hit.terms, "cluster_id": hit.cluster_id,
        "article_id": hit.article_id, "other_outlets": hit.other_outlets,
        "other_outlet_count": len(hit.other_outlets), "bm25": hit.rank,
    }


def why_kept(hit, most: int = 4) -> str:
    """Relevance score and the first matched terms, e.g. ``0.98 · quốc phòng, Nga, Shoigu (+5)``.

    The JSON output has every term, by concept group.
    """
    from store.digest import clean_text

    terms = list(dict.fromkeys(t for group in hit.terms.values() for t in group))
    shown = ", ".join(terms[:most]) + (f" (+{len(terms) - most})" if len(terms) > most else "")
    parts = ([] if hit.score is None else [f"{hit.score:g}"]) + ([shown] if shown else [])
    return clean_text(" · ".join(parts)) or "-"


def print_table(hits) -> None:
    """A rich table; every value is plain Text, so brackets in titles are never read as markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from store.digest import clean_text

    table = Table(show_lines=True, expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("source")
    table.add_column("story", ratio=3, overflow="fold")
    table.add_column("+outlets", justify="right")
    table.add_column("why kept", ratio=2)
    for position, hit in enumerate(hits, 1):
        story = Text(clean_text(hit.title) or "(untitled)", style="bold")
        story.append("\n" + clean_text(hit.url), style="dim")
        table.add_row(
            str(position), hit.date[:10], Text(clean_text(hit.source)), story,
            str(len(hit.other_outlets)) if hit.other_outlets else "", Text(why_kept(hit)),
        )
    Console().print(table)

