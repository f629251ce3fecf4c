"""``newsmon classify``: score JSON lines from stdin against the topic profile.

It lets a user try a ``[relevance]`` profile on their own examples before a
crawl: one JSON object per line in, one JSON answer per line out, in order and
flushed as it goes, so it also works as a filter in a pipe. Only the relevance
module is imported (no Scrapy, no store).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from crawler.json_lines import decode_line

_ANSWER_KEYS = ("id", "relevant", "score", "terms")


@click.command()
@click.option("--explain", is_flag=True, help='Add "reason" and "lang" to every answer.')
@click.pass_obj
def classify(obj, explain):
    """Classify articles given as JSON lines on stdin, one answer per line.

    Each input line is a JSON object {"id", "title", "text", "lang"}: "text"
    is required, "title" may be null or absent, "lang" ("vi", "en", "ru") is
    detected when absent and "id" (any JSON value; the line number when
    absent) is copied to the answer. Each answer is {"id", "relevant",
    "score", "terms"}: "terms" lists the profile's matched terms per concept
    group, the "why" of the decision. Blank lines are skipped.

    The profile is the [relevance] table of the config. Without --config and
    with no newsmon.toml in the current directory, the shipped Vietnam–Russia
    defence profile is used (a note says so on stderr).

    A line that is not a JSON object with a string "text" is reported on
    stderr with its line number; the other lines are still answered, and the
    exit status is then 2.

    \b
    Example:
      $ echo '{"id": 1, "title": "Hợp tác quốc phòng Việt - Nga", "text": ""}' | newsmon classify
      {"id": 1, "relevant": true, "score": 0.875, "terms": {"vietnam": ["Việt"], "russia": ["Nga"], "defence": ["quốc phòng"]}}
      $ newsmon --config my-topic.toml classify --explain < examples.jsonl
    """
    from crawler.relevance import score_article

    profile = _profile(obj)
    errors = 0
    for number, raw in enumerate(sys.stdin.buffer, start=1):  # bytes: a bad byte is one line's error
        try:
            item = _parse_line(raw)
        except ValueError as exc:
            errors += 1
            click.echo(f"line {number}: {exc}", err=True)
            continue
        if item is None:
            continue
        result = score_article(profile, item.get("title"), item["text"], item.get("lang"))
        answer = {"id": item.get("id", number), "relevant": result.relevant, "score": result.score,
                  "terms": result.terms}
        if explain:
            answer.update(reason=result.reason, lang=result.lang)
        click.echo(json.dumps(answer, ensure_ascii=False))  # click.echo flushes: one answer per line, as it goes
    if errors:
        click.echo(f"{errors} line{'s' if errors > 1 else ''} could not be classified", err=True)
        raise SystemExit(2)


def _profile(obj):
    """The configured profile, or the shipped one when no config was asked for and none is here."""
    context = click.get_current_context().find_root()
    source = context.get_parameter_source("config_path")
    if source == click.core.ParameterSource.DEFAULT and not Path(obj.config_path).exists():
        from crawler.relevance import default_profile

        click.echo(f"note: no {obj.config_path} here; using the shipped Vietnam–Russia defence profile", err=True)
        return default_profile()
    return obj.config().relevance


def _parse_line(raw: bytes) -> dict | None:
    """One input line → a checked object; None for a blank line; ValueError says what is wrong."""
    item = decode_line(raw)
    if item is None:
        return None
    if not isinstance(item, dict):
        raise ValueError(f"expected a JSON object, got {type(item).__name__}")
    if not isinstance(item.get("text"), str):
        raise ValueError('"text" must be a string')
    for key in ("title", "lang"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise ValueError(f'"{key}" must be a string or null')
    return item
