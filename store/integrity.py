"""Is the store sound? SQLite's own checks, newsmon's invariants, and what it holds.

:func:`check_store` is what ``newsmon db check`` prints. It reads the store
through a read-only connection (it never waits for, nor blocks, a running
crawl) and reports:

- SQLite's ``PRAGMA integrity_check`` (or ``quick_check``) and
  ``foreign_key_check``;
- the full-text index checked against the articles (FTS5 ``integrity-check``);
- newsmon's invariants, each a SQL query that must find nothing: every
  article has its raw page and some text and belongs to an existing cluster,
  every cluster's size and canonical article agree with its members, every
  ``duplicate_of`` points at a stored article;
- crawls left ``running`` by a process that died (closed as ``killed`` by the
  next ``newsmon crawl`` or ``newsmon run``);
- the number of rows of each table.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

#: newsmon's invariants: (what is wrong, SQL counting the rows where it is wrong, what to do)
INVARIANTS: list[tuple[str, str, str]] = [
    ("articles without their raw page",
     "SELECT count(*) FROM articles a LEFT JOIN raw_pages r ON r.url = a.url WHERE r.url IS NULL", ""),
    ("articles with empty text", "SELECT count(*) FROM articles WHERE trim(text) = ''", ""),
    ("articles not filed into an existing cluster",
     "SELECT count(*) FROM articles a LEFT JOIN clusters c ON c.id = a.cluster_id WHERE c.id IS NULL",
     "run 'newsmon dedupe --rebuild'"),
    ("clusters whose size differs from their number of articles",
     "SELECT count(*) FROM clusters c WHERE c.size != (SELECT count(*) FROM articles a WHERE a.cluster_id = c.id)",
     "run 'newsmon dedupe --rebuild'"),
    ("clusters whose canonical article is not one of theirs",
     "SELECT count(*) FROM clusters c LEFT JOIN articles a ON a.id = c.canonical_id AND a.cluster_id = c.id "
     "WHERE a.id IS NULL", "run 'newsmon dedupe --rebuild'"),
    ("duplicates pointing at a missing article",
     "SELECT count(*) FROM articles a LEFT JOIN articles o ON o.id = a.duplicate_of "
     "WHERE a.duplicate_of IS NOT NULL AND o.id IS NULL", "run 'newsmon dedupe --rebuild'"),
]

COUNTED_TABLES = ("articles", "offtopic", "raw_pages", "clusters", "signatures", "lsh_bands", "fetch_state", "runs",
                  "run_sources", "sources", "exports")


@dataclass
class StoreReport:
    """The outcome of :func:`check_store`; ``ok`` when nothing is wrong."""

    path: str
    schema_version: int = 0
    integrity: list[str] = field(default_factory=list)  # ["ok"] when sound
    foreign_keys: int = 0  # rows violating a foreign key
    fts: str = "ok"  # "ok", "ok (not checked: ...)", or the FTS5 error
    problems: list[str] = field(default_factory=list)  # newsmon invariants broken, one line each
    interrupted_runs: list[int] = field(default_factory=list)  # left "running" by a process that is gone
    counts: dict[str, int] = field(default_factory=dict)
    size_bytes: int = 0

    @property
    def ok(self) -> bool:
        return (self.integrity == ["ok"] and not self.foreign_keys and self.fts.startswith("ok")
                and not self.problems)

    def as_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "schema_version": self.schema_version,
                "integrity": self.integrity, "foreign_key_violations": self.foreign_keys, "fts": self.fts,
                "problems": self.problems, "interrupted_runs": self.interrupted_runs, "counts": self.counts,
                "size_bytes": self.size_bytes}


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an existing store (FileNotFoundError when there is none)."""
    from store.db import BUSY_TIMEOUT_MS

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no store at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def check_store(path: str | Path, *, quick: bool = False, max_messages: int = 20) -> StoreReport:
    """Check the store at ``path`` (see the module docstring); raise FileNotFoundError when there is none.

    ``quick`` uses ``PRAGMA quick_check`` (no index-content comparison) and
    skips the full-text check: seconds instead of minutes on a large store.
    """
    from store.lock import pid_alive

    report = StoreReport(path=str(path))
    conn = open_readonly(path)
    try:
        try:
            conn.execute("BEGIN")  # one snapshot for every check, even while a crawl writes
            report.schema_version = conn.execute("PRAGMA user_version").fetchone()[0]
            pragma = "quick_check" if quick else "integrity_check"
            report.integrity = [row[0] for row in conn.execute(f"PRAGMA {pragma}({max_messages})")]
        except sqlite3.DatabaseError as exc:  # not a database, or damaged beyond what the check can read
            report.integrity = [str(exc)]
        if report.integrity != ["ok"]:
            report.size_bytes = Path(path).stat().st_size
            return report  # the file is damaged: the queries below could fail or mislead
        report.foreign_keys = len(conn.execute("PRAGMA foreign_key_check").fetchall())
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        if quick:
            report.fts = "ok (not checked: --quick)"
        elif "articles_fts" in tables:
            report.fts = _fts_check(path)
        if "articles" in tables:
            for what, sql, advice in INVARIANTS:
                count = conn.execute(sql).fetchone()[0]
                if count:
                    report.problems.append(f"{count} {what}" + (f" ({advice})" if advice else ""))
        if "runs" in tables:
            report.interrupted_runs = [run_id for run_id, pid in conn.execute(
                "SELECT id, pid FROM runs WHERE status = 'running'") if not pid or not pid_alive(pid)]
        report.counts = {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                         for name in COUNTED_TABLES if name in tables}
        report.size_bytes = Path(path).stat().st_size
        return report
    finally:
        conn.close()


def _fts_check(path: str | Path) -> str:
    """FTS5's own comparison of the index with the articles; "ok", or what is wrong.

    The check is an ``INSERT`` into the index's command column, so it needs a
    writable connection; it changes nothing and is rolled back. It waits (busy
    timeout) for a crawl's current transaction, which lasts milliseconds.
    """
    from store.db import BUSY_TIMEOUT_MS

    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        return f"not checked: {exc}"
    try:
        conn.execute("BEGIN")
        # rank = 1: compare the index with the content too (the articles_fts_source view)
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
        return "ok"
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc):
            return "ok (not checked: the store is read-only)"
        return str(exc)
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
