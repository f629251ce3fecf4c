"""Open the newsmon store: one SQLite file in WAL mode, schema by numbered migrations.

``PRAGMA user_version`` records how many migrations have run; :func:`connect`
runs the missing ones inside one transaction each, so a crash mid-migration
leaves the previous version intact.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 30_000

# Each entry is one migration; never edit one that has shipped, append a new one.
MIGRATIONS: list[str] = [
    # 1: the whole initial schema
    """
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        lang TEXT NOT NULL,
        wire INTEGER NOT NULL DEFAULT 0,
        first_seen TEXT NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL DEFAULT 'running',   -- running, ok, partial, failed, timeout, killed
        pid INTEGER,
        trigger TEXT NOT NULL DEFAULT 'manual',   -- manual, schedule, demo
        sources TEXT,                             -- JSON list of source names
        pages_fetched INTEGER NOT NULL DEFAULT 0,
        articles_stored INTEGER NOT NULL DEFAULT 0,
        offtopic INTEGER NOT NULL DEFAULT 0,
        prefiltered INTEGER NOT NULL DEFAULT 0,
        duplicates INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        stderr_tail TEXT
    );
    CREATE TABLE run_sources (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        source TEXT NOT NULL,
        status TEXT NOT NULL,                     -- ok, failed
        pages_fetched INTEGER NOT NULL DEFAULT 0,
        articles_stored INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        PRIMARY KEY (run_id, source)
    );
    CREATE TABLE fetch_state (
        url TEXT PRIMARY KEY,
        source TEXT,
        etag TEXT,
        last_modified TEXT,
        last_status INTEGER,
        last_fetched TEXT
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        canonical_url TEXT,
        source TEXT NOT NULL,
        lang TEXT,
        title TEXT,
        author TEXT,
        published TEXT,                           -- UTC ISO 8601
        fetched TEXT NOT NULL,
        text TEXT NOT NULL,
        text_sha TEXT NOT NULL,
        score REAL,
        terms TEXT,                               -- JSON: matched terms per concept group
        cluster_id INTEGER,
        duplicate_of INTEGER REFERENCES articles(id),
        similarity REAL,
        extractor_version TEXT NOT NULL,
        run_id INTEGER
    );
    CREATE INDEX articles_published ON articles(published);
    CREATE INDEX articles_fetched ON articles(fetched);
    CREATE INDEX articles_source ON articles(source);
    CREATE INDEX articles_cluster ON articles(cluster_id);
    CREATE INDEX articles_text_sha ON articles(text_sha);
    CREATE TABLE offtopic (
        url TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        title TEXT,
        score REAL,
        reason TEXT,
        seen TEXT NOT NULL,
        run_id INTEGER
    );
    CREATE TABLE raw_pages (
        url TEXT PRIMARY KEY,
        html_gz BLOB NOT NULL,
        encoding TEXT,
        fetched TEXT NOT NULL
    );
    CREATE TABLE clusters (
        id INTEGER PRIMARY KEY,
        canonical_id INTEGER REFERENCES articles(id),
        first_seen TEXT,
        last_seen TEXT,
        size INTEGER NOT NULL DEFAULT 1,
        sources TEXT                              -- JSON list of source names
    );
    CREATE TABLE signatures (
        article_id INTEGER PRIMARY KEY REFERENCES articles(id),
        published TEXT,
        minhash BLOB NOT NULL
    );
    CREATE TABLE lsh_bands (
        hash INTEGER NOT NULL,                    -- band number folded into the band hash
        article_id INTEGER NOT NULL,
        band INTEGER NOT NULL,
        PRIMARY KEY (hash, article_id)
    ) WITHOUT ROWID;
    CREATE INDEX lsh_bands_article ON lsh_bands(article_id);
    CREATE TABLE exports (
        name TEXT PRIMARY KEY,
        watermark TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    """,
    # 2: full-text search (store.fts). FTS5 folds Latin accents itself but not "đ" (a letter of its
    #    own) nor "ё"; a view folds those, the index reads it as external content (no second copy
    #    of the texts) and triggers keep it in step with every write to articles.
    """
    CREATE VIEW articles_fts_source AS
        SELECT id,
               replace(replace(replace(replace(coalesce(title, ''), 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е') AS title,
               replace(replace(replace(replace(text, 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е') AS text
        FROM articles;
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, text, content = 'articles_fts_source', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts (rowid, title, text)
        VALUES (new.id,
                replace(replace(replace(replace(coalesce(new.title, ''), 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е'),
                replace(replace(replace(replace(new.text, 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е'));
    END;
    CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id,
                replace(replace(replace(replace(coalesce(old.title, ''), 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е'),
                replace(replace(replace(replace(old.text, 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е'));
    END;
    CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id,
                replace(replace(replace(replace(coalesce(old.title, ''), 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е'),
                replace(replace(replace(replace(old.text, 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е'));
        INSERT INTO articles_fts (rowid, title, text)
        VALUES (new.id,
                replace(replace(replace(replace(coalesce(new.title, ''), 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е'),
                replace(replace(replace(replace(new.text, 'đ', 'd'), 'Đ', 'D'), 'ё', 'е'), 'Ё', 'Е'));
    END;
    INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
    """,
    # 3: near-duplicate detection (store.lsh_storage): what verification needs beside the MinHash
    #    (normalised-text SHA-1 for exact duplicates, word and shingle counts), the time index
    #    for the candidate window and band pruning, and the parameters the index was built with.
    """
    ALTER TABLE signatures ADD COLUMN norm_sha TEXT;
    ALTER TABLE signatures ADD COLUMN tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE signatures ADD COLUMN shingles INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX signatures_norm_sha ON signatures(norm_sha);
    CREATE INDEX signatures_published ON signatures(published);
    CREATE TABLE dedupe_state (
        key TEXT PRIMARY KEY,                     -- params, bands_pruned_before
        value TEXT NOT NULL
    );
    """,
    # 4: the scheduler's plan (store.schedule_state), one row per scheduled job, so that
    #    `newsmon status` shows the next run; indexes for per-source health (store.health).
    """
    CREATE TABLE schedule_state (
        job TEXT PRIMARY KEY,                     -- "all" or "source:<name>"
        sources TEXT NOT NULL,                    -- JSON list of source names
        trigger TEXT NOT NULL,                    -- "every 30m" or "cron 0 6 * * *"
        next_run TEXT,                            -- UTC ISO 8601
        last_run_id INTEGER,
        scheduler_pid INTEGER,                    -- NULL when no scheduler runs
        updated TEXT NOT NULL
    );
    CREATE INDEX run_sources_source ON run_sources(source, run_id);
    CREATE INDEX articles_source_fetched ON articles(source, fetched);
    CREATE INDEX offtopic_source_seen ON offtopic(source, seen);
    """,
]


def connect(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) the store at ``path`` and bring its schema up to date.

    ``readonly`` opens the file without creating or migrating it: readers such as
    ``search`` and ``digest`` never take the write lock.
    """
    path = Path(path)
    if readonly:
        if not path.exists():
            raise FileNotFoundError(f"no store at {path}; run 'newsmon crawl' first")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return sqlite_utils.Database(conn)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    migrate(db)
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> int:
    """Run every migration newer than ``PRAGMA user_version``; return the new version."""
    version = schema_version(db)
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"the store has schema version {version}, newer than this newsmon knows ({len(MIGRATIONS)}); upgrade newsmon"
        )
    for number in range(version + 1, len(MIGRATIONS) + 1):
        conn = db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            # executescript would commit implicitly; run statement by statement instead.
            for statement in _split_statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return schema_version(db)


def _split_statements(script: str) -> list[str]:
    """Split a migration script into complete SQL statements."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
