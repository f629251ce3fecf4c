"""What the scheduler writes to the store: its plan (``schedule_state``) and the runs it supervises.

``newsmon run`` keeps one ``schedule_state`` row per scheduled job (its sources,
trigger, next run and last run) so that ``newsmon status`` can show the next run
without talking to the scheduler. A supervised run is a ``runs`` row created here
before the child ``newsmon crawl --run-id N`` starts; the child fills in its counts
and status, and :func:`close_supervised_run` writes the supervisor's verdict
(timeout, killed, or a crash without a result) over it.
"""

from __future__ import annotations

import json
from typing import Iterable

import sqlite_utils

from store.articles import transaction, utc_now

#: statuses a child ``newsmon crawl`` records itself
CHILD_STATUSES = ("ok", "partial", "failed")

INTERRUPTED_ERROR = ("the crawl ended without recording a result (its process or its scheduler was killed, "
                     "or the machine stopped)")


def has_schedule_state(db: sqlite_utils.Database) -> bool:
    """Whether the store has the ``schedule_state`` table (older stores opened read-only may not)."""
    return bool(db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schedule_state'").fetchone())


def record_schedule(db: sqlite_utils.Database, jobs: Iterable[dict], scheduler_pid: int) -> None:
    """Replace the stored plan with ``jobs`` (dicts: job, sources, trigger, next_run, last_run_id)."""
    with transaction(db) as conn:
        conn.execute("DELETE FROM schedule_state")
        for job in jobs:
            conn.execute(
                """INSERT INTO schedule_state (job, sources, trigger, next_run, last_run_id, scheduler_pid, updated)
                   VALUES (?,?,?,?,?,?,?)""",
                (job["job"], json.dumps(list(job["sources"])), job["trigger"], job.get("next_run"),
                 job.get("last_run_id"), scheduler_pid, utc_now()),
            )


def set_next_runs(db: sqlite_utils.Database, next_runs: dict[str, str | None]) -> None:
    """Store each job's next run time (UTC ISO 8601, or None when it will not run again)."""
    with transaction(db) as conn:
        for job, next_run in next_runs.items():
            conn.execute("UPDATE schedule_state SET next_run = ?, updated = ? WHERE job = ?",
                         (next_run, utc_now(), job))


def set_last_run(db: sqlite_utils.Database, job: str, run_id: int) -> None:
    with transaction(db) as conn:
        conn.execute("UPDATE schedule_state SET last_run_id = ?, updated = ? WHERE job = ?", (run_id, utc_now(), job))


def scheduler_stopped(db: sqlite_utils.Database) -> None:
    """Mark the plan as not running (the next runs stay, as when the scheduler would run them)."""
    with transaction(db) as conn:
        conn.execute("UPDATE schedule_state SET scheduler_pid = NULL, updated = ?", (utc_now(),))


def last_run_covering(db: sqlite_utils.Database, sources: Iterable[str], scan: int = 500) -> str | None:
    """Start time (UTC ISO) of the latest recorded crawl that covered every one of ``sources``.

    Any crawl counts (scheduled or manual, whatever its outcome): the point is not to
    crawl again sooner than planned. Demo runs do not count.
    """
    wanted = set(sources)
    rows = db.execute(
        "SELECT started, sources FROM runs WHERE trigger != 'demo' ORDER BY id DESC LIMIT ?", (scan,)
    ).fetchall()
    for started, covered in rows:
        try:
            names = set(json.loads(covered or "[]"))
        except ValueError:
            continue
        if wanted <= names:
            return started
    return None


def repair_interrupted_runs(db: sqlite_utils.Database, alive) -> list[int]:
    """Close ``running`` rows whose process is gone (a crash or SIGKILL); return their ids.

    Call only while holding the store lock, so that no crawl can be running
    unnoticed; ``alive(pid)`` still guards against a live process.
    """
    repaired = []
    rows = db.execute("SELECT id, pid FROM runs WHERE status = 'running'").fetchall()
    with transaction(db) as conn:
        for run_id, pid in rows:
            if pid and alive(pid):
                continue
            conn.execute(
                "UPDATE runs SET status = 'killed', finished = coalesce(finished, ?), error = coalesce(error, ?) "
                "WHERE id = ?",
                (utc_now(), INTERRUPTED_ERROR, run_id),
            )
            _fill_counts_from_store(conn, run_id)
            repaired.append(run_id)
    return repaired


def create_scheduled_run(db: sqlite_utils.Database, sources: list[str]) -> int:
    """Insert the ``runs`` row of a scheduled crawl (status ``running``, no pid yet); return its id."""
    from store.articles import start_run

    return start_run(db, sources, trigger="schedule", pid=None)


def set_run_pid(db: sqlite_utils.Database, run_id: int, pid: int) -> None:
    with transaction(db) as conn:
        conn.execute("UPDATE runs SET pid = ? WHERE id = ?", (pid, run_id))


def read_run(db: sqlite_utils.Database, run_id: int) -> dict:
    row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    columns = [c[0] for c in db.execute("SELECT * FROM runs LIMIT 0").description]
    return dict(zip(columns, row)) if row else {}


def close_supervised_run(db: sqlite_utils.Database, run_id: int, status: str, error: str | None,
                         stderr_tail: str | None) -> dict:
    """Write the supervisor's verdict on run ``run_id`` and return the final row.

    Counts the child recorded are kept; when it recorded nothing (it was killed or
    crashed), the articles and off-topic pages it did commit are counted from the
    store, so the run row matches what is really there.
    """
    with transaction(db) as conn:
        recorded = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
        conn.execute(
            """UPDATE runs SET status = ?, finished = ?, error = coalesce(?, error), stderr_tail = ?
               WHERE id = ?""",
            (status, utc_now(), error, stderr_tail, run_id),
        )
        if recorded not in CHILD_STATUSES:
            _fill_counts_from_store(conn, run_id)
    return read_run(db, run_id)


def _fill_counts_from_store(conn, run_id: int) -> None:
    conn.execute(
        """UPDATE runs SET
               articles_stored = (SELECT count(*) FROM articles WHERE run_id = :id),
               duplicates = (SELECT count(*) FROM articles WHERE run_id = :id AND duplicate_of IS NOT NULL),
               offtopic = (SELECT count(*) FROM offtopic WHERE run_id = :id)
           WHERE id = :id""",
        {"id": run_id},
    )
