"""The digest: what is new in the store, one entry per story, as Markdown, HTML, JSON, RSS or CSV.

Which stories are new is decided by a *watermark* in the ``exports`` table:
the highest article id covered by the last marked digest. Article ids, not
fetch times: a crawl stamps ``fetched`` when it downloads a page but commits
the row later, so a digest taken in between would set a time watermark past
an article it never saw. Ids are handed out by the single writer in commit
order and a digest reads in one snapshot bounded by the highest id it saw, so
everything committed later has a higher id and lands in the next digest.

A story is new when its *first* article is above the watermark; a reprint
arriving later for a story already digested does not repeat the story.

Every text field is cleaned of control characters, and every link that is not
http(s) is dropped, before any format sees it. Templates are Jinja2 with
autoescaping on whatever their extension.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from itertools import groupby
from pathlib import Path
from typing import BinaryIO, Iterator
from urllib.parse import quote, urlsplit

from store import queries

FORMATS = ("md", "html", "json", "rss", "csv")
DEFAULT_NAME = "digest"
JSON_SCHEMA = "newsmon.digest/1"
FEED_LINK = "https://github.com/newsmon/newsmon"
TEMPLATES = Path(__file__).parent / "templates"
LEAD_MIN_CHARS = 160
LEAD_MAX_CHARS = 400

# C0/C1 controls (tab and newline kept), and code points XML 1.0 forbids.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\r\n\u00a0]+")


@dataclass
class Mention:
    """Another outlet's copy of a story ("also reported by")."""

    source: str
    title: str
    url: str | None  # http(s) only; None when the stored link was anything else
    date: str


@dataclass
class Story:
    """One digest entry: a story told by its canonical article."""

    cluster_id: int | None
    article_id: int
    title: str
    source: str
    lang: str | None
    date: str  # UTC ISO 8601: published, else fetched
    url: str | None
    lead: str
    score: float | None
    terms: dict[str, list[str]]
    also: list[Mention] = field(default_factory=list)

    @property
    def day(self) -> str:
        return self.date[:10]

    @property
    def moment(self) -> datetime:
        return _parse_date(self.date)

    @property
    def term_list(self) -> list[str]:
        return [term for terms in self.terms.values() for term in terms]


@dataclass
class Digest:
    """The stories of one digest, newest first, and what they cover."""

    name: str
    generated: str
    scope: str  # human words: "since the last digest", "since 2024-05-01T00:00:00+00:00"
    since: str | None  # the time cutoff, when made with --since
    watermark_from: int | None  # last article id already digested (None: first digest / --since)
    watermark_to: int  # highest article id this digest saw: the next watermark
    stories: list[Story]

    @property
    def days(self) -> list[tuple[str, list[Story]]]:
        return [(day, list(stories)) for day, stories in groupby(self.stories, key=lambda s: s.day)]


# --- building ------------------------------------------------------------------


def build_digest(db, *, since: str | None = None, name: str = DEFAULT_NAME, now: datetime | None = None) -> Digest:
    """Collect the stories new since the watermark ``name`` (or dated at/after ``since``, a UTC ISO cutoff)."""
    now = now or datetime.now(timezone.utc)
    with queries.read_snapshot(db):
        top = queries.last_article_id(db)
        if since is None:
            after = queries.read_watermark(db, name)
            keys = queries.new_story_keys(db, after or 0, top)
            scope = "since the last digest" if after is not None else "since the store began (no digest marked yet)"
        else:
            after = None
            keys = queries.story_keys_since(db, since, top)
            scope = f"since {since}"
        members = queries.story_articles(db, keys, top)
        canonicals = queries.cluster_canonicals(db, [k for k in members if k > 0])
    stories = [_story(articles, canonicals.get(key)) for key, articles in members.items()]
    if since is not None:
        stories = [s for s in stories if s.date >= since]
    stories.sort(key=lambda s: (s.date, s.article_id), reverse=True)
    return Digest(name=name, generated=now.astimezone(timezone.utc).isoformat(timespec="seconds"), scope=scope,
                  since=since, watermark_from=after, watermark_to=top, stories=stories)


def _story(articles: list[queries.StoredArticle], canonical_id: int | None) -> Story:
    """One entry from a story's articles: the canonical tells it, the others are "also reported by"."""
    canonical = next((a for a in articles if a.id == canonical_id), None)
    canonical = canonical or next((a for a in articles if a.duplicate_of is None), articles[0])
    others = sorted((a for a in articles if a is not canonical), key=lambda a: (a.date, a.id))
    terms: dict[str, list[str]] = {}
    for article in [canonical, *others]:
        for group, found in article.terms.items():
            bucket = terms.setdefault(clean_text(group), [])
            bucket.extend(t for t in map(clean_text, found) if t and t not in bucket)
    title = clean_text(canonical.title) or "(untitled)"
    return Story(
        cluster_id=canonical.cluster_id, article_id=canonical.id, title=title, source=clean_text(canonical.source),
        lang=canonical.lang, date=canonical.date, url=safe_url(canonical.url),
        lead=lead_paragraph(canonical.text_head, title), score=canonical.score, terms=terms,
        also=[Mention(clean_text(a.source), clean_text(a.title) or "(untitled)", safe_url(a.url), a.date)
              for a in others],
    )


def clean_text(value: str | None) -> str:
    """Text without control characters or code points XML forbids (tabs/newlines become spaces)."""
    if not value:
        return ""
    return _SPACES.sub(" ", _CONTROL.sub("", value)).strip()


def safe_url(value: str | None) -> str | None:
    """The link if it is http(s) with a host, with unsafe characters percent-encoded; else None."""
    if not value:
        return None
    url = _CONTROL.sub("", value).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


def lead_paragraph(text: str, title: str = "") -> str:
    """The opening of an article: paragraphs until ~160 characters, cut at ~400 on a word boundary."""
    lead = ""
    for paragraph in (text or "").split("\n"):
        paragraph = clean_text(paragraph)
        if not paragraph or paragraph == title:
            continue
        lead = f"{lead} {paragraph}".strip()
        if len(lead) >= LEAD_MIN_CHARS:
            break
    if len(lead) > LEAD_MAX_CHARS:
        lead = lead[:LEAD_MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return lead


def _parse_date(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# --- rendering -----------------------------------------------------------------


def render(digest: Digest, fmt: str) -> bytes:
    """The digest as the bytes of a file in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return (json.dumps(digest_json(digest), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "csv":
        return render_csv(digest).encode("utf-8-sig")
    if fmt in ("md", "html", "rss"):
        return _environment().get_template(f"digest.{fmt}.j2").render(digest=digest).encode("utf-8")
    raise ValueError(f"unknown digest format {fmt!r}; use one of {', '.join(FORMATS)}")


def digest_json(digest: Digest) -> dict:
    """The JSON document of a digest; its schema is ``newsmon.digest/1``::

    {
      "schema": "newsmon.digest/1",
      "name": "digest",                      watermark name
      "generated": "2024-05-02T06:00:00+00:00",
      "scope": "since the last digest",
      "since": null | "2024-05-01T06:00:00+00:00",
      "watermark": {"from": null | 120, "to": 158},   article ids
      "count": 2,
      "stories": [                           newest first
        {"day": "2024-05-02", "date": "2024-05-02T03:10:00+00:00",
         "title": "...", "source": "vnexpress", "lang": "vi",
         "url": "https://..." | null,        http(s) only
         "lead": "...", "score": 7.5 | null,
         "terms": {"group": ["term", ...]},  matched topic terms
         "cluster_id": 17 | null, "article_id": 151,
         "also_reported_by": [{"source": "...", "title": "...", "url": "..." | null, "date": "..."}]}
      ]
    }

    Fields are only ever added, never renamed or removed, within schema version 1.
    """
    return {
        "schema": JSON_SCHEMA,
        "name": digest.name,
        "generated": digest.generated,
        "scope": digest.scope,
        "since": digest.since,
        "watermark": {"from": digest.watermark_from, "to": digest.watermark_to},
        "count": len(digest.stories),
        "stories": [
            {
                "day": s.day, "date": s.date, "title": s.title, "source": s.source, "lang": s.lang, "url": s.url,
                "lead": s.lead, "score": s.score, "terms": s.terms, "cluster_id": s.cluster_id,
                "article_id": s.article_id,
                "also_reported_by": [
                    {"source": m.source, "title": m.title, "url": m.url, "date": m.date} for m in s.also
                ],
            }
            for s in digest.stories
        ],
    }


CSV_COLUMNS = ("day", "date", "title", "source", "lang", "url", "lead", "also_reported_by", "terms", "score",
               "cluster_id", "article_id")


def render_csv(digest: Digest) -> str:
    """One row per story; "also reported by" and terms joined with "; ". Written with a BOM for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for s in digest.stories:
        also = "; ".join(f"{m.source} {m.url or ''}".strip() for m in s.also)
        row = (s.day, s.date, s.title, s.source, s.lang or "", s.url or "", s.lead, also, "; ".join(s.term_list),
               "" if s.score is None else s.score, s.cluster_id or "", s.article_id)
        writer.writerow([spreadsheet_safe(v) for v in row])
    return out.getvalue()


def spreadsheet_safe(value):
    """Text starting with = + - @ gets a leading apostrophe so a spreadsheet never runs it as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|!])")


def markdown_text(value: str) -> str:
    """Backslash-escape Markdown syntax (HTML characters are escaped by autoescaping after this)."""
    text = _MD_SPECIAL.sub(r"\\\1", value or "")
    return re.sub(r"^(\d+)\.", r"\1\\.", re.sub(r"^([-+>])", r"\\\1", text))


def rfc822(value: str) -> str:
    """An ISO date as RSS wants it: ``Thu, 02 May 2024 03:10:00 GMT``."""
    return format_datetime(_parse_date(value), usegmt=True)


def _environment():
    """Jinja2 with autoescaping on for every template, whatever its extension."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_text
    env.filters["rfc822"] = rfc822
    env.globals["feed_link"] = FEED_LINK
    return env


# --- writing -------------------------------------------------------------------


@contextmanager
def atomic_file(path: str | Path) -> Iterator[BinaryIO]:
    """``with atomic_file(path) as handle:`` writes a temporary file beside ``path``, then renames it over ``path``.

    Readers see the old file or the new one, never half of it. If the block or
    the write fails, the temporary file is removed, ``path`` is untouched and
    the exception propagates.
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as handle:
        handle.write(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def mark(db, digest: Digest, now: str) -> None:
    """Advance the digest's watermark to the last article it covered (call only after a successful write)."""
    from store.articles import transaction

    with transaction(db) as conn:
        queries.write_watermark(conn, digest.name, digest.watermark_to, now)
