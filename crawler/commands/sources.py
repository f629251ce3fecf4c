"""``newsmon sources list`` and ``newsmon sources check``: what is configured, and does it still work.

``list`` reads only the config. ``check`` goes on the network (see
:mod:`crawler.source_check`) and reports per entry point; it never raises a
traceback at the user, and its exit status says whether every source is fine.
"""

from __future__ import annotations

import json
import sys

import click

from crawler.commands.options import DURATION


@click.group()
def sources():
    """List the sources in newsmon.toml, or check them live.

    \b
    Examples:
      newsmon sources list
      newsmon sources list --json
      newsmon sources check                 every source
      newsmon sources check qdnd tass       only these
    """


@sources.command("list", short_help="Show the configured sources and their entry points.")
@click.option("--json", "as_json", is_flag=True, help="Print the sources as JSON, with every URL.")
@click.pass_obj
def list_sources(obj, as_json):
    """Show the configured sources: name, language, wire, pre-filter, entry points.

    A wire (a news agency such as TTXVN or TASS) is preferred as the canonical
    copy of a story it distributes. A title pre-filter skips clearly off-topic
    articles before fetching them, for busy all-news feeds. Reads only the
    config; nothing is fetched.

    \b
    Examples:
      newsmon sources list
      newsmon --config my.toml sources list --json | jq '.[].name'
    """
    config = obj.config()
    if as_json:
        click.echo(json.dumps([_source_dict(s) for s in config.sources], ensure_ascii=False, indent=2))
        return
    from rich import box
    from rich.table import Table

    table = Table(title=f"{len(config.sources)} sources in {config.path}", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for header, justify in (("name", "left"), ("lang", "left"), ("wire", "left"), ("prefilter", "left"),
                            ("feeds", "right"), ("sitemaps", "right"), ("listings", "right"),
                            ("offset", "left")):
        table.add_column(header, justify=justify, no_wrap=True)
    for s in config.sources:
        table.add_row(s.name, s.lang, "yes" if s.wire else "", s.prefilter,
                      str(len(s.feeds)), str(len(s.sitemaps)), str(len(s.listings)), s.utc_offset)
    console = _console()
    console.print(table)
    languages = ", ".join(f"{lang} {sum(1 for s in config.sources if s.lang == lang)}"
                          for lang in sorted({s.lang for s in config.sources}))
    console.print(f"languages: {languages or 'none'}")


@sources.command("check", short_help="Fetch the entry points now and report what works.")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--timeout", type=DURATION, default="15s", show_default=True, metavar="DURATION",
              help="Give up on a request after this long.")
@click.option("--jobs", type=click.IntRange(min=1, max=64), default=8, show_default=True,
              help="Check this many sources at the same time.")
@click.option("--no-sample", is_flag=True, help="Do not fetch and extract the newest article of each entry point.")
@click.pass_obj
def check(obj, names, as_json, timeout, jobs, no_sample):
    """Fetch every entry point of the sources now and report what works.

    For each feed, news sitemap and listing page: whether it is reachable (the
    HTTP status, or why not: name does not resolve, connection refused, timed
    out…), whether it parses, how many items it announces and how many of them
    fall within the [crawl] window, and a sample extraction of its newest item
    (title and the first 100 characters of text). The User-Agent, robots.txt
    and allow_private_networks of [crawl] apply as in a crawl. Sources are
    checked concurrently; the entry points of one source one after another.

    Exit status: 0 when every entry point of every checked source is fine,
    1 when any is unreachable or broken, 2 for bad options or config.

    \b
    Examples:
      newsmon sources check
      newsmon sources check qdnd vnexpress --no-sample
      newsmon sources check --json --timeout 30s > check.json
    """
    from crawler.config import ConfigError
    from crawler.source_check import check_sources

    config = obj.config()
    try:
        selected = [config.source(name) for name in dict.fromkeys(names)] if names else list(config.sources)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    if not selected:
        raise click.UsageError("the config lists no [[sources]]; add one (see README, Configuration)")

    results = check_sources(selected, config, timeout=timeout, jobs=jobs, with_sample=not no_sample)
    if as_json:
        checked = list(results)
        summary = _summary(checked)
        click.echo(json.dumps({"sources": [r.to_dict() for r in checked], "summary": summary},
                              ensure_ascii=False, indent=2))
    else:
        console = _console()
        console.print(f"checking {len(selected)} source(s), window {_duration(config.crawl.window)}, "
                      f"timeout {_duration(timeout)}")
        checked = []
        for result in results:
            checked.append(result)
            _print_source(console, result, config.crawl.window)
        summary = _summary(checked)
        console.print(_summary_line(summary))
    sys.exit(0 if summary["ok"] == summary["sources"] else 1)


# --- output --------------------------------------------------------------------------


def _console():
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def _source_dict(source) -> dict:
    return {
        "name": source.name,
        "lang": source.lang,
        "wire": source.wire,
        "prefilter": source.prefilter,
        "utc_offset": source.utc_offset,
        "silent_after": _duration(source.silent_after),
        "feeds": list(source.feeds),
        "sitemaps": list(source.sitemaps),
        "listings": list(source.listings),
        "article_pattern": source.article_pattern,
    }


_STATE_STYLE = {"ok": ("OK", "green"), "problems": ("PROBLEMS", "yellow"), "unreachable": ("UNREACHABLE", "red")}


def _print_source(console, result, window) -> None:
    from rich.text import Text

    label, style = _STATE_STYLE[result.state]
    console.print(Text.assemble((result.name, "bold"), f" ({result.lang})  ", (label, style)))
    if result.error:
        console.print(Text(f"  {result.error}", style="red"))
    for entry in result.entries:
        console.print(Text(f"  {entry.kind:<8} {entry.url}"))
        console.print(Text(f"           {_entry_line(entry, window)}", style=None if entry.ok else "yellow"))
        if entry.newest is not None:
            label = "newest" if entry.newest.published else "first"  # listings give links, not dates
            console.print(Text(f"           {label}: {_item_line(entry.newest)}"))
        if entry.sample is not None:
            console.print(Text(f"           sample: {_sample_line(entry.sample)}"))


def _entry_line(entry, window) -> str:
    parts = []
    if entry.status is not None and not (entry.error or "").startswith("HTTP "):
        parts.append(f"HTTP {entry.status}")
    if entry.parsed:
        parts.append(f"{entry.kind} parsed")
        count = f"{entry.items} item{'s' if entry.items != 1 else ''}"
        if entry.recent is not None:
            count += f", {entry.recent} within {_duration(window)}"
        if entry.undated and entry.recent is not None:
            count += f", {entry.undated} undated"
        parts.append(count)
    if entry.error:
        parts.append(entry.error)
    return " · ".join(parts)


def _item_line(item) -> str:
    title = f'"{item.title}"' if item.title else item.url
    if item.published is None:
        return title
    return f"{item.published.strftime('%Y-%m-%d %H:%M UTC')}  {title}"


def _sample_line(sample) -> str:
    if sample.error and not sample.text:
        return f"not extracted: {sample.error}"
    title = f'"{sample.title}"' if sample.title else "(no title)"
    more = "…" if len(sample.text) >= 100 else ""
    return f"{title} — {sample.text}{more}"


def _summary(checked) -> dict:
    states = [r.state for r in checked]
    return {
        "sources": len(checked),
        "ok": states.count("ok"),
        "problems": states.count("problems"),
        "unreachable": states.count("unreachable"),
        "entry_points": sum(len(r.entries) for r in checked),
        "entry_points_ok": sum(1 for r in checked for e in r.entries if e.ok),
    }


def _summary_line(summary) -> str:
    return (
        f"{summary['sources']} source(s) checked: {summary['ok']} ok, {summary['problems']} with problems, "
        f"{summary['unreachable']} unreachable ({summary['entry_points_ok']}/{summary['entry_points']} "
        "entry points fine)"
    )


def _duration(delta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
