"""A consistent copy of a live store, taken while a crawl may be writing to it.

:func:`backup_store` runs SQLite's ``VACUUM INTO`` on a read-only connection:
the copy is one snapshot (a crawl's later commits are not in it, a crawl's
open transaction is not half in it), compacted, and written without ever
taking the store's write lock, so a running crawl is not slowed down. The copy
goes to a temporary file beside the target, is checked (``quick_check``) and
only then renamed into place: an interrupted backup never leaves a truncated
file under the target's name.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from store.integrity import open_readonly


class BackupError(RuntimeError):
    """The copy could not be made; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    target: str
    size_bytes: int
    articles: int
    schema_version: int


def backup_store(source: str | Path, target: str | Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the store at ``source`` to ``target`` consistently; FileNotFoundError when there is no store."""
    source, target = Path(source), Path(target)
    if target.exists():
        if target.resolve() == source.resolve():
            raise BackupError(f"{target} is the store itself; give another file name")
        if not overwrite:
            raise BackupError(f"{target} exists; give another name or --force to replace it")
        if target.is_dir():
            raise BackupError(f"{target} is a directory; give a file name")
    if not target.parent.is_dir():
        raise BackupError(f"directory {target.parent} does not exist")
    conn = open_readonly(source)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    os.unlink(temporary)  # VACUUM INTO refuses an existing file; the name stays ours (same directory, random)
    try:
        try:
            conn.isolation_level = None
            conn.execute("VACUUM INTO ?", (temporary,))
        except sqlite3.Error as exc:
            raise BackupError(f"cannot copy {source} to {target}: {exc}") from None
        finally:
            conn.close()
        copy = sqlite3.connect(temporary)
        try:
            verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
            articles = copy.execute("SELECT count(*) FROM articles").fetchone()[0]
            version = copy.execute("PRAGMA user_version").fetchone()[0]
        finally:
            copy.close()
        if verdict != "ok":
            raise BackupError(f"the copy of {source} failed its check ({verdict}); {target} was not written")
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
        return BackupResult(str(target), target.stat().st_size, articles, version)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
