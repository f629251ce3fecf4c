"""Write path of the store: articles, off-topic records, raw pages, fetch state, runs.

Every article is written in one transaction together with its raw page, its
fetch state and (when deduplication is on) its signature, bands and cluster, so
a crash never leaves half an article behind.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Iterable

import sqlite_utils

from crawler.items import ArticleRecord


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def text_sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class transaction:
    """``with transaction(db):`` runs the block in BEGIN IMMEDIATE … COMMIT (ROLLBACK on error)."""

    def __init__(self, db: sqlite_utils.Database):
        self.conn = db.conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return False
            except BaseException:
                if self.conn.in_transaction:  # e.g. disk full at commit: undo, then report the commit's error
                    self.conn.execute("ROLLBACK")
                raise
        # SQLite may already have rolled back (disk full, I/O error): never hide the original error.
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except Exception:
                pass
        return False


# NUL and other C0 controls (tab, newline, carriage return kept), DEL, lone surrogates, U+FFFE/U+FFFF.
#: The raw page is kept for re-extraction, rarely read: level 1 is ~4x cheaper than 6 in the
#: crawl's one reactor thread for ~10% more bytes (README, Performance).
RAW_PAGE_GZIP_LEVEL = 1

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def storable(value: str | None) -> str | None:
    """``value`` without the characters SQLite or its readers choke on.

    A lone surrogate (from a JSON-LD ``"\\ud800"`` escape) cannot be encoded as
    UTF-8 at all and would make the insert fail; NUL cuts the text short in C
    readers and FTS. Surrogates become U+FFFD, control characters are dropped.
    """
    if value is None or not _UNSTORABLE.search(value):
        return value
    return _UNSTORABLE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", value)


def known_urls(db: sqlite_utils.Database, urls: Iterable[str]) -> set[str]:
    """Which of ``urls`` are already stored, as articles or as off-topic records."""
    urls = list(urls)
    found: set[str] = set()
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for table in ("articles", "offtopic"):
            found.update(r[0] for r in db.execute(f"SELECT url FROM {table} WHERE url IN ({marks})", chunk))
    return found


def is_known_url(db: sqlite_utils.Database, url: str) -> bool:
    return bool(known_urls(db, [url]))


def save_article(db: sqlite_utils.Database, record: ArticleRecord, dedupe=None) -> int | None:
    """Store one relevant article (or an off-topic record) atomically; return its id.

    ``dedupe`` is an object with ``assign(db, article_id, record)`` that files the
    article into a cluster inside the same transaction (see ``store.lsh_storage``).
    """
    article = record.article
    now = iso(record.fetched)
    with transaction(db) as conn:
        _save_fetch_state(conn, record.url, record.source, None, None, record.status, now)
        if not record.relevant:
            conn.execute(
                "INSERT OR REPLACE INTO offtopic (url, source, title, score, reason, seen, run_id) VALUES (?,?,?,?,?,?,?)",
                (record.url, record.source, storable(article.title if article else record.hint_title), record.score,
                 storable(record.reason), now, record.run_id),
            )
            return None
        text = storable(article.text)
        _ensure_source(conn, record.source)
        conn.execute(
            "INSERT OR REPLACE INTO raw_pages (url, html_gz, encoding, fetched) VALUES (?,?,?,?)",
            (record.url, gzip.compress(record.html, RAW_PAGE_GZIP_LEVEL), record.encoding, now),
        )
        cursor = conn.execute(
            """INSERT INTO articles (url, canonical_url, source, lang, title, author, published, fetched,
                   text, text_sha, score, terms, extractor_version, run_id)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(url) DO UPDATE SET title=excluded.title, author=excluded.author,
                   published=excluded.published, text=excluded.text, text_sha=excluded.text_sha,
                   score=excluded.score, terms=excluded.terms, extractor_version=excluded.extractor_version
               RETURNING id""",
            (record.url, record.final_url or record.url, record.source, article.lang, storable(article.title),
             storable(article.author), iso(article.published or record.hint_published), now, text,
             text_sha(text), record.score, storable(json.dumps(record.terms, ensure_ascii=False)),
             article.extractor_version, record.run_id),
        )
        article_id = cursor.fetchone()[0]
        record.article_id = article_id
        if dedupe is not None:
            dedupe.assign(db, article_id, record)
        else:
            _own_cluster(conn, article_id, record.source, now)
        return article_id


def _own_cluster(conn, article_id: int, source: str, now: str) -> None:
    """Without deduplication every article is a cluster of its own."""
    row = conn.execute("SELECT cluster_id FROM articles WHERE id = ?", (article_id,)).fetchone()
    if row and row[0]:
        return
    cluster_id = conn.execute(
        "INSERT INTO clusters (canonical_id, first_seen, last_seen, size, sources) VALUES (?,?,?,1,?) RETURNING id",
        (article_id, now, now, json.dumps([source])),
    ).fetchone()[0]
    conn.execute("UPDATE articles SET cluster_id = ? WHERE id = ?", (cluster_id, article_id))


def _ensure_source(conn, name: str, lang: str = "", wire: bool = False) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO sources (name, lang, wire, first_seen) VALUES (?,?,?,?)",
        (name, lang, int(wire), utc_now()),
    )


def register_sources(db: sqlite_utils.Database, sources) -> None:
    """Record the configured sources (name, language, wire flag)."""
    with transaction(db) as conn:
        for s in sources:
            conn.execute(
                """INSERT INTO sources (name, lang, wire, first_seen) VALUES (?,?,?,?)
                   ON CONFLICT(name) DO UPDATE SET lang=excluded.lang, wire=excluded.wire""",
                (s.name, s.lang, int(s.wire), utc_now()),
            )


def _save_fetch_state(conn, url, source, etag, last_modified, status, when) -> None:
    conn.execute(
        """INSERT INTO fetch_state (url, source, etag, last_modified, last_status, last_fetched)
           VALUES (?,?,?,?,?,?)
           ON CONFLICT(url) DO UPDATE SET etag=coalesce(excluded.etag, etag),
               last_modified=coalesce(excluded.last_modified, last_modified),
               last_status=excluded.last_status, last_fetched=excluded.last_fetched""",
        (url, source, etag, last_modified, status, when),
    )


def save_fetch_state(db, url, source, etag, last_modified, status) -> None:
    """Remember validators of an entry point (feed, sitemap, listing) for conditional GET."""
    with transaction(db) as conn:
        _save_fetch_state(conn, url, source, etag, last_modified, status, utc_now())


def fetch_validators(db, url) -> tuple[str | None, str | None]:
    """The ETag and Last-Modified last seen for ``url``."""
    row = db.execute("SELECT etag, last_modified FROM fetch_state WHERE url = ?", (url,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


# --- runs --------------------------------------------------------------------

RUN_COUNTERS = ("pages_fetched", "articles_stored", "offtopic", "prefiltered", "duplicates", "errors")


def duplicates_by_source(db, run_id: int) -> dict[str, int]:
    """Articles stored in run ``run_id`` that are, now, reprints of another article, per source.

    Counted at the end of the run rather than as articles arrive: when an original
    arrives after its copy, the copy becomes a duplicate only then.
    """
    rows = db.execute("SELECT source, count(*) FROM articles WHERE run_id = ? AND duplicate_of IS NOT NULL "
                      "GROUP BY source", (run_id,)).fetchall()
    return dict(rows)


def start_run(db, sources: list[str], trigger: str = "manual", pid: int | None = None) -> int:
    """Insert a ``runs`` row with status ``running``; return its id."""
    with transaction(db) as conn:
        return conn.execute(
            "INSERT INTO runs (started, status, pid, trigger, sources) VALUES (?, 'running', ?, ?, ?) RETURNING id",
            (utc_now(), pid, trigger, json.dumps(sources)),
        ).fetchone()[0]


def finish_run(db, run_id: int, status: str, counts: dict, error: str | None = None,
               per_source: dict | None = None, stderr_tail: str | None = None) -> None:
    """Close a run with its status, counters and per-source outcome."""
    with transaction(db) as conn:
        values = [counts.get(k, 0) for k in RUN_COUNTERS]
        conn.execute(
            f"""UPDATE runs SET finished=?, status=?, error=coalesce(?, error),
                   stderr_tail=coalesce(?, stderr_tail), {', '.join(f'{k}=?' for k in RUN_COUNTERS)}
                WHERE id=?""",
            (utc_now(), status, error, stderr_tail, *values, run_id),
        )
        for source, outcome in (per_source or {}).items():
            conn.execute(
                """INSERT OR REPLACE INTO run_sources (run_id, source, status, pages_fetched, articles_stored, errors, error)
                   VALUES (?,?,?,?,?,?,?)""",
                (run_id, source, outcome["status"], outcome.get("pages_fetched", 0),
                 outcome.get("articles_stored", 0), outcome.get("errors", 0), outcome.get("error")),
            )
