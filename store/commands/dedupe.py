"""``newsmon cluster`` (dedupe any collection of texts) and ``newsmon dedupe`` (the store's index).

Both use the crawl's own engine (``dedupe/`` with ``store.lsh_storage``); the
heavy imports (datasketch, numpy) happen inside the commands, not at import time.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from click.core import ParameterSource


def _dedupe_settings(obj) -> tuple:
    """``[dedupe]`` and the wire sources from the config; defaults when no config file is used.

    A config named with ``--config`` or NEWSMON_CONFIG must exist; the default
    ``newsmon.toml`` may be absent (``cluster`` works on any collection).
    """
    from crawler.config import DedupeConfig

    root = click.get_current_context().find_root()
    explicit = root.get_parameter_source("config_path") not in (ParameterSource.DEFAULT, None)
    if not explicit and not Path(obj.config_path).exists():
        return DedupeConfig(), set()
    config = obj.config()
    return config.dedupe, {s.name for s in config.sources if s.wire}


@click.command()
@click.argument("input_file", metavar="[FILE]", type=click.File("rb"), default="-")
@click.option("--wire", "wire", multiple=True, metavar="SOURCE",
              help="A source whose copy is canonical (a wire service). Repeatable; added to the "
                   "sources marked wire = true in the config.")
@click.pass_obj
def cluster(obj, input_file, wire: tuple[str, ...]) -> None:
    """Group near-duplicate texts read as JSON lines (stdin or FILE).

    Each input line is a JSON object with "id" and "text", and optionally
    "title", "published" (ISO 8601; missing means now) and "source" (a name;
    copies from wire sources become canonical). Other keys are ignored. For
    every valid line, in input order, one JSON line is written to stdout:

    \b
      {"id": ..., "cluster": 3, "canonical": <id of the cluster's canonical text>,
       "similarity": 0.97}

    "cluster" numbers groups 1, 2, … in order of first appearance;
    "similarity" is the estimated share of the shorter text found in the
    canonical one (null for the canonical itself). The engine and its
    parameters are the crawl's ([dedupe] in the config, defaults without one),
    run on a temporary store that is deleted afterwards. Texts shorter than
    [dedupe] min_tokens words are never grouped.

    A line that is not valid JSON or lacks "id"/"text" is reported on stderr
    with its line number; the other lines are still answered, and the exit
    code is 2.

    \b
    Examples:
      newsmon cluster < articles.jsonl > clusters.jsonl
      newsmon cluster --wire ttxvn --wire tass articles.jsonl
      echo '{"id": 1, "text": "..."}' | newsmon cluster
    """
    from store.lsh_storage import cluster_documents

    config, wire_sources = _dedupe_settings(obj)
    documents, errors = _read_documents(input_file)
    for result in cluster_documents(documents, config, wire_sources | set(wire)):
        click.echo(json.dumps({"id": result.key, "cluster": result.cluster, "canonical": result.canonical,
                               "similarity": result.similarity}, ensure_ascii=False))
    if errors:
        for message in errors:
            click.echo(f"Error: {message}", err=True)
        click.echo(f"Error: {len(errors)} input line(s) rejected; the other {len(documents)} were clustered.",
                   err=True)
        raise click.exceptions.Exit(2)


def _read_documents(lines) -> tuple[list, list[str]]:
    """Parse JSON lines into documents; bad lines become messages naming the line."""
    from crawler.json_lines import BadLine, decode_line
    from store.lsh_storage import Document

    documents, errors, seen = [], [], {}
    for number, raw in enumerate(lines, 1):  # bytes: a bad byte is one line's error
        try:
            item = decode_line(raw)
        except BadLine as exc:
            errors.append(f"line {number}: {exc}")
            continue
        if item is None:
            continue
        problem = _check_item(item)
        if problem:
            errors.append(f"line {number}: {problem}")
            continue
        key = item["id"]
        if json.dumps(key) in seen:
            errors.append(f"line {number}: id {json.dumps(key, ensure_ascii=False)} was already used on line "
                          f"{seen[json.dumps(key)]}")
            continue
        try:
            published = _parse_published(item.get("published"))
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        seen[json.dumps(key)] = number
        documents.append(Document(key=key, text=item["text"], title=item.get("title"), published=published,
                                  source=item.get("source")))
    return documents, errors


def _check_item(item) -> str | None:
    if not isinstance(item, dict):
        return f"expected a JSON object, got {type(item).__name__}"
    if "id" not in item:
        return 'missing "id"'
    if not isinstance(item["id"], (str, int)) or isinstance(item["id"], bool):
        return f'"id" must be a string or a whole number, got {json.dumps(item["id"])}'
    if not isinstance(item.get("text"), str):
        return 'missing "text" (a string)' if "text" not in item else '"text" must be a string'
    for key in ("title", "source", "published"):
        if item.get(key) is not None and not isinstance(item[key], str):
            return f'"{key}" must be a string'
    return None


def _parse_published(value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f'"published" is not an ISO 8601 date or time: {value!r}') from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@click.command()
@click.option("--rebuild", is_flag=True,
              help="Recompute every signature and cluster (after changing [dedupe]).")
@click.option("--prune", is_flag=True, help="Drop band rows of articles older than [dedupe] retention now.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Articles per transaction while rebuilding.")
@click.pass_obj
def dedupe(obj, rebuild: bool, prune: bool, batch_size: int) -> None:
    """Show or rebuild the store's near-duplicate index and clusters.

    Without options, prints what the index holds (signatures, band rows,
    clusters, duplicates) and whether it was built with the current [dedupe]
    parameters. Changing shingle_size, num_perm, bands or rows makes the stored
    index unusable: the crawl refuses to add to it until you run --rebuild.
    Thresholds, window and min_tokens apply to new articles at once; --rebuild
    re-applies them to everything stored.

    --rebuild recomputes signatures and clusters of every stored article, oldest
    first, in transactions of --batch-size articles, with a progress bar. Stop
    the scheduler first; if interrupted, run it again.

    \b
    Examples:
      newsmon dedupe                   what the index holds
      newsmon dedupe --rebuild         after editing [dedupe] in newsmon.toml
      newsmon --db copy.db dedupe --rebuild --batch-size 2000
      newsmon dedupe --prune
    """
    from store.db import connect
    from store.lsh_storage import index_summary, prune_bands, rebuild_index

    config = obj.config()
    path = obj.db_path(config)
    if not Path(path).exists():
        raise click.UsageError(f"no store at {path}; run 'newsmon crawl' first (or give --db)")
    db = connect(path)
    try:
        wire = {s.name for s in config.sources if s.wire}
        if rebuild:
            total = db.execute("SELECT count(*) FROM articles").fetchone()[0]
            with click.progressbar(length=total, label="Rebuilding clusters", show_pos=True,
                                   file=sys.stderr) as bar:
                for done in rebuild_index(db, config.dedupe, wire, batch_size=batch_size):
                    bar.update(done)
        if prune:
            deleted = prune_bands(db, config.dedupe)
            click.echo(f"Pruned {deleted} band rows of articles published more than "
                       f"{config.dedupe.retention.days} days ago.")
        _print_summary(index_summary(db, config.dedupe), path)
    finally:
        db.conn.close()


def _print_summary(summary: dict, path: str) -> None:
    click.echo(f"Store: {path}")
    click.echo(f"  articles            {summary['articles']}")
    click.echo(f"  signatures          {summary['signatures']}")
    click.echo(f"  band rows           {summary['band_rows']}")
    click.echo(f"  clusters            {summary['clusters']} ({summary['clusters_with_reprints']} with reprints)")
    click.echo(f"  duplicates          {summary['duplicates']}")
    if summary["bands_pruned_before"]:
        click.echo(f"  bands pruned before {summary['bands_pruned_before']}")
    if not summary["params_match"]:
        click.echo(f"The index was built with [{summary['params']}], not the current [dedupe] settings: "
                   "run 'newsmon dedupe --rebuild'.", err=True)
