"""Read a store the way a user's ``sqlite3`` would: a fresh connection per query, rows by column name."""

from __future__ import annotations

import sqlite3


def rows(db_path, sql: str, *params) -> list[sqlite3.Row]:
    """Every row ``sql`` returns from the SQLite file at ``db_path``."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
