"""Read side of the store: the SQL behind ``search``, ``digest`` and ``export``.

A *story* is a cluster of articles (an original and its reprints). Articles
whose ``cluster_id`` is NULL (stored before deduplication ran, or without it)
are stories of their own; a story is keyed by ``cluster_id``, or by ``-id``
for such an article. Off-topic pages live in their own table and are never
read here.

Dates in the store are UTC ISO 8601 strings (``2024-05-01T10:00:00+00:00``),
so a cutoff in the same form compares correctly as text. An article's date is
its published date, or its fetch time when the page gave none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from store.fts import FTS_TABLE, TITLE_WEIGHT, build_match

ARTICLE_DATE = "COALESCE(a.published, a.fetched)"
STORY_KEY = "COALESCE(a.cluster_id, -a.id)"
EXPORT_COLUMNS = (
    "id", "url", "canonical_url", "source", "lang", "title", "author", "published", "fetched",
    "score", "terms", "cluster_id", "duplicate_of", "similarity", "text",
)


class NoSearchIndex(RuntimeError):
    """The store predates the full-text index (open it once read-write to migrate it)."""


def since_cutoff(text: str, now: datetime | None = None) -> str:
    """Turn ``"24h"``, ``"7d"``, ``"2024-05-01"`` or an ISO datetime into a UTC ISO cutoff.

    Raises ValueError with a message that says what is accepted.
    """
    from crawler.config import parse_duration  # light: no crawl stack behind it

    now = now or datetime.now(timezone.utc)
    value = (text or "").strip()
    try:
        return _utc_iso(now - parse_duration(value, "--since"))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (30m, 24h, 7d, 2w) nor a date (2024-05-01, 2024-05-01T08:00+07:00)"
        ) from None
    return _utc_iso(moment)


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def known_sources(db) -> list[str]:
    """Names of the sources that have stored articles."""
    return [row[0] for row in db.execute("SELECT DISTINCT source FROM articles ORDER BY source")]


# --- search ------------------------------------------------------------------


@dataclass
class SearchHit:
    """One story found by :func:`search_stories`: its best article and its other outlets."""

    article_id: int
    cluster_id: int | None
    title: str | None
    url: str
    source: str
    lang: str | None
    date: str  # published, else fetched (UTC ISO)
    score: float | None  # relevance score from the crawl
    terms: dict[str, list[str]]  # matched topic terms per concept group ("why kept")
    rank: float  # bm25 of the story's best match; lower is better
    other_outlets: list[str] = field(default_factory=list)


def search_stories(db, query: str, *, since: str | None = None, lang: str | None = None,
                   source: str | None = None, limit: int = 20) -> list[SearchHit]:
    """Rank stories matching ``query`` (any user text) by bm25, title weighted; one hit per story.

    The hit shown for a story is its canonical article when that matches the
    query and the filters, else the story's best-matching article.
    """
    match = build_match(query)
    if match is None:
        return []
    filters, params = ["1"], {"match": match, "title_weight": TITLE_WEIGHT, "limit": limit}
    if since:
        filters.append(f"{ARTICLE_DATE} >= :since")
        params["since"] = since
    if lang:
        filters.append("a.lang = :lang")
        params["lang"] = lang
    if source:
        filters.append("a.source = :source")
        params["source"] = source
    sql = f"""
        WITH hits AS (
            SELECT rowid AS id, bm25({FTS_TABLE}, :title_weight, 1.0) AS rank
            FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match
        ), matched AS (
            SELECT a.id, {STORY_KEY} AS story, hits.rank,
                   CASE WHEN c.canonical_id = a.id OR (c.canonical_id IS NULL AND a.duplicate_of IS NULL)
                        THEN 1 ELSE 0 END AS is_canonical
            FROM hits JOIN articles a ON a.id = hits.id LEFT JOIN clusters c ON c.id = a.cluster_id
            WHERE {' AND '.join(filters)}
        ), picked AS (
            SELECT id, MIN(rank) OVER (PARTITION BY story) AS story_rank,
                   ROW_NUMBER() OVER (PARTITION BY story ORDER BY is_canonical DESC, rank, id) AS pick
            FROM matched
        )
        SELECT a.id, a.cluster_id, a.title, a.url, a.source, a.lang, {ARTICLE_DATE}, a.score, a.terms,
               picked.story_rank,
               (SELECT json_group_array(source) FROM
                   (SELECT DISTINCT o.source FROM articles o
                    WHERE o.cluster_id = a.cluster_id AND o.source <> a.source ORDER BY o.source))
        FROM picked JOIN articles a ON a.id = picked.id
        WHERE picked.pick = 1
        ORDER BY picked.story_rank, a.id
        LIMIT :limit
    """
    try:
        rows = db.execute(sql, params).fetchall()
    except Exception as exc:  # sqlite3.OperationalError, without importing sqlite3 here
        if f"no such table: {FTS_TABLE}" in str(exc):
            raise NoSearchIndex(
                "this store has no full-text index yet; open it once with 'newsmon crawl' (or any command "
                "that writes) to migrate it"
            ) from None
        raise
    return [
        SearchHit(
            article_id=row[0], cluster_id=row[1], title=row[2], url=row[3], source=row[4], lang=row[5],
            date=row[6], score=row[7], terms=parse_terms(row[8]), rank=row[9], other_outlets=json.loads(row[10]),
        )
        for row in rows
    ]


def parse_terms(value: str | None) -> dict[str, list[str]]:
    """The ``terms`` column (JSON: concept group -> matched terms), tolerant of NULL and junk."""
    if not value:
        return {}
    try:
        data = json.loads(value)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(group): [str(t) for t in terms] for group, terms in data.items() if isinstance(terms, list)}


# --- digest ------------------------------------------------------------------


@dataclass
class StoredArticle:
    """The columns a digest needs of one article (text cut to its head)."""

    id: int
    story: int
    cluster_id: int | None
    duplicate_of: int | None
    url: str
    source: str
    lang: str | None
    title: str | None
    date: str
    score: float | None
    terms: dict[str, list[str]]
    text_head: str


class read_snapshot:
    """``with read_snapshot(db):`` runs several reads in one transaction, so they see one state of the store."""

    def __init__(self, db):
        self.conn = db.conn

    def __enter__(self):
        self.conn.execute("BEGIN")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("COMMIT")
        return False


def last_article_id(db) -> int:
    """The highest article id: the upper bound (and next watermark) of a digest."""
    return db.execute("SELECT COALESCE(MAX(id), 0) FROM articles").fetchone()[0]


def read_watermark(db, name: str) -> int | None:
    """The last article id covered by the marked digest ``name``, or None if never marked."""
    row = db.execute("SELECT watermark FROM exports WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    try:
        return int(row[0])
    except ValueError:
        return None


def write_watermark(conn, name: str, article_id: int, now: str) -> None:
    """Advance digest ``name`` to ``article_id``; never moves it backwards."""
    conn.execute(
        """INSERT INTO exports (name, watermark, updated) VALUES (?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET watermark = excluded.watermark, updated = excluded.updated
           WHERE CAST(exports.watermark AS INTEGER) < CAST(excluded.watermark AS INTEGER)""",
        (name, str(article_id), now),
    )


def new_story_keys(db, after_id: int, up_to_id: int) -> list[int]:
    """Stories whose first article has an id in (after_id, up_to_id]: new since the watermark.

    A reprint that joins a story already digested does not bring the story back.
    """
    rows = db.execute(
        f"""WITH fresh AS (
                SELECT DISTINCT {STORY_KEY} AS story FROM articles a WHERE a.id > ? AND a.id <= ?
            )
            SELECT story FROM fresh
            WHERE story < 0 OR NOT EXISTS (SELECT 1 FROM articles o WHERE o.cluster_id = fresh.story AND o.id <= ?)""",
        (after_id, up_to_id, after_id),
    )
    return [row[0] for row in rows]


def story_keys_since(db, cutoff: str, up_to_id: int) -> list[int]:
    """Stories with an article dated at or after ``cutoff`` (the caller checks the canonical's date)."""
    rows = db.execute(
        f"""SELECT DISTINCT {STORY_KEY} FROM articles a
            WHERE (a.published >= :cut OR (a.published IS NULL AND a.fetched >= :cut)) AND a.id <= :top""",
        {"cut": cutoff, "top": up_to_id},
    )
    return [row[0] for row in rows]


def story_articles(db, keys: list[int], up_to_id: int, chunk: int = 400) -> dict[int, list[StoredArticle]]:
    """All articles (id <= up_to_id) of the given stories, grouped by story key, in id order."""
    columns = (f"a.id, {STORY_KEY}, a.cluster_id, a.duplicate_of, a.url, a.source, a.lang, a.title, "
               f"{ARTICLE_DATE}, a.score, a.terms, substr(a.text, 1, 1500)")
    stories: dict[int, list[StoredArticle]] = {}
    clusters = [k for k in keys if k > 0]
    singles = [-k for k in keys if k < 0]
    for column, values in (("a.cluster_id", clusters), ("a.id", singles)):
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            marks = ",".join("?" * len(part))
            for row in db.execute(
                f"SELECT {columns} FROM articles a WHERE {column} IN ({marks}) AND a.id <= ? ORDER BY a.id",
                (*part, up_to_id),
            ):
                article = StoredArticle(*row[:10], parse_terms(row[10]), row[11] or "")
                stories.setdefault(article.story, []).append(article)
    return stories


def cluster_canonicals(db, cluster_ids: list[int], chunk: int = 400) -> dict[int, int]:
    """cluster id -> canonical article id, as recorded in ``clusters``."""
    found: dict[int, int] = {}
    for start in range(0, len(cluster_ids), chunk):
        part = cluster_ids[start : start + chunk]
        marks = ",".join("?" * len(part))
        for cluster_id, canonical_id in db.execute(
            f"SELECT id, canonical_id FROM clusters WHERE id IN ({marks}) AND canonical_id IS NOT NULL", part
        ):
            found[cluster_id] = canonical_id
    return found


# --- export ------------------------------------------------------------------


def iter_articles(db, *, since: str | None = None, all_copies: bool = False) -> Iterator[dict]:
    """Stream stored articles in id order, one dict at a time (the cursor is never fetched whole).

    By default only canonical articles (``duplicate_of IS NULL``); ``all_copies``
    adds the reprints.
    """
    filters, params = ["1"], []
    if not all_copies:
        filters.append("a.duplicate_of IS NULL")
    if since:
        filters.append(f"{ARTICLE_DATE} >= ?")
        params.append(since)
    cursor = db.execute(
        f"SELECT {', '.join('a.' + c for c in EXPORT_COLUMNS)} FROM articles a "
        f"WHERE {' AND '.join(filters)} ORDER BY a.id",
        params,
    )
    for row in cursor:
        yield dict(zip(EXPORT_COLUMNS, row))

