"""Data safety: SIGKILL at random points, readers during writes, online backup, integrity check,
disk full and read-only stores.

Every crawl here is ``newsmon crawl`` in a child process against the replay site
(:mod:`crawler.demo_site`) on 127.0.0.1, and every check reads the SQLite file
the way a user would (``sqlite3``, or newsmon's own read commands).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from newsmon_process import ROOT, run_newsmon

KILLS = 20
KILL_LOOP_BUDGET_S = 40.0  # fewer kills if the machine is slow (at least 10)
KILL_DURING_STARTUP_S = (0.2, 1.5)  # seconds after the process starts
KILL_DURING_CRAWL_S = (0.0, 2.0)  # seconds after the crawl's run row appears


def _newsmon_argv(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "scheduler", "--config", str(config), *args]


def _query(db_path, sql, *params):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def assert_store_sound(db_path) -> None:
    """SQLite's integrity check, and no half-written article: newsmon's invariants, checked with plain SQL."""
    assert _query(db_path, "PRAGMA integrity_check") == [("ok",)]
    broken = {
        "article without its raw page":
            "SELECT count(*) FROM articles a LEFT JOIN raw_pages r ON r.url = a.url WHERE r.url IS NULL",
        "article with empty text": "SELECT count(*) FROM articles WHERE trim(text) = ''",
        "article without a signature":
            "SELECT count(*) FROM articles a LEFT JOIN signatures s ON s.article_id = a.id WHERE s.article_id IS NULL",
        "article outside any cluster":
            "SELECT count(*) FROM articles a LEFT JOIN clusters c ON c.id = a.cluster_id WHERE c.id IS NULL",
        "cluster whose size is wrong":
            "SELECT count(*) FROM clusters c WHERE size != (SELECT count(*) FROM articles WHERE cluster_id = c.id)",
        "cluster whose canonical is not a member":
            "SELECT count(*) FROM clusters c LEFT JOIN articles a ON a.id = c.canonical_id AND a.cluster_id = c.id "
            "WHERE a.id IS NULL",
    }
    for what, sql in broken.items():
        assert _query(db_path, sql) == [(0,)], what
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:  # the full-text index matches the articles (FTS5 compares both; raises when they differ)
        conn.execute("BEGIN")
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@contextmanager
def replay_site(directory: Path, scale: int):
    """A larger replay site (``scale``: synthetic articles too) and a config crawling it into directory/news.db."""
    from crawler.demo_site.server import serve_demo_site

    with serve_demo_site(scale=scale) as site:
        config = directory / "newsmon.toml"
        db_path = directory / "news.db"
        config.write_text(site.config_toml(str(db_path)), encoding="utf-8")
        yield site, config, db_path


# --- SIGKILL at random points ------------------------------------------------------------------


def test_sigkill_at_random_points_never_corrupts_and_the_next_run_stores_what_was_missed(tmp_path):
    with replay_site(tmp_path, scale=6) as (site, config, db_path):
        check_kills_never_corrupt_the_store(site, config, db_path)


def _runs(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    try:
        return _query(db_path, "SELECT count(*) FROM runs")[0][0]
    except sqlite3.OperationalError:  # no schema yet
        return 0


def check_kills_never_corrupt_the_store(site, config: Path, db_path: Path) -> None:
    """Kill crawls at random points: a quarter during start-up (lock, schema, first run row), the rest
    at a random moment of the first seconds of crawling, when pages are being stored."""
    seed = int(os.environ.get("NEWSMON_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    started = time.monotonic()
    kills = 0
    for _ in range(KILLS):
        if time.monotonic() - started > KILL_LOOP_BUDGET_S:
            break
        runs_before = _runs(db_path)
        crawl = subprocess.Popen(_newsmon_argv(config, "crawl"), cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            if rng.random() < 0.25:
                crawl.wait(timeout=rng.uniform(*KILL_DURING_STARTUP_S))
            else:
                deadline = time.monotonic() + 20
                while _runs(db_path) == runs_before and crawl.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                crawl.wait(timeout=rng.uniform(*KILL_DURING_CRAWL_S))
        except subprocess.TimeoutExpired:
            os.killpg(crawl.pid, signal.SIGKILL)  # the crawl and its extraction workers
            crawl.wait()
            kills += 1
        if db_path.exists():
            try:
                assert_store_sound(db_path)
            except AssertionError as exc:
                raise AssertionError(f"after kill {kills} (NEWSMON_KILL_SEED={seed}): {exc}") from exc
    assert kills >= 10, f"only {kills} crawls were killed (seed {seed})"
    assert _query(db_path, "SELECT count(*) FROM articles")[0][0] > 0, "no kill landed after the first writes"

    final = run_newsmon("crawl", config=config, timeout=120)
    assert final.returncode == 0, final.stderr
    assert_store_sound(db_path)
    stored = {url for (url,) in _query(db_path, "SELECT url FROM articles UNION SELECT url FROM offtopic")}
    expected = {article.url for article in site.articles if article.kind != "old"}
    missing = expected - stored
    assert not missing, f"{len(missing)} articles never stored after {kills} kills (seed {seed}): {sorted(missing)[:5]}"
    statuses = [status for (status,) in _query(db_path, "SELECT status FROM runs ORDER BY id")]
    # every killed crawl that had started its run row is closed as killed by the next one
    assert statuses[-1] == "ok" and set(statuses[:-1]) <= {"killed", "ok"} and "killed" in statuses, statuses


# --- readers while a crawl writes, online backup, db check --------------------------------------------


def _reader_commands(db: str, backup_dir: Path) -> list[list[str]]:
    return [
        ["--db", db, "search", "quoc", "phong", "--limit", "5"],
        ["--db", db, "digest", "--format", "json"],
        ["--db", db, "db", "check", "--quick"],
        ["--db", db, "digest", "--since-last", "--mark", "-o", str(backup_dir / "digest.md")],
        ["--db", db, "db", "backup", str(backup_dir / "during.db"), "--force"],
        ["--db", db, "status"],
    ]


def _datasette_count(db_path: Path) -> int:
    """Rows of ``articles`` as Datasette (read-only, as `datasette data/news.db` serves it) sees them."""
    import asyncio

    from datasette.app import Datasette

    async def count() -> int:
        response = await Datasette([str(db_path)]).client.get(f"/{db_path.stem}.json?sql=select+count(*)+from+articles")
        assert response.status_code == 200, response.text
        return response.json()["rows"][0][0]

    return asyncio.run(count())


def test_readers_and_backups_during_a_crawl_never_see_database_is_locked(tmp_path):
    with replay_site(tmp_path, scale=4) as (site, config, db_path):
        check_readers_while_crawling(config, db_path, tmp_path)


def check_readers_while_crawling(config: Path, db_path: Path, tmp_path: Path) -> None:
    crawl = subprocess.Popen(_newsmon_argv(config, "crawl"), cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (db_path.exists() and _query(
                db_path, "SELECT count(*) FROM sqlite_master WHERE name = 'articles'")[0][0]):
            time.sleep(0.1)
        rounds = 0
        while crawl.poll() is None and rounds < 2:
            for args in _reader_commands(str(db_path), tmp_path):
                result = run_newsmon(*args, config=config, timeout=60)
                output = result.stdout + result.stderr
                assert "locked" not in output.lower(), f"{args}: {output}"
                assert result.returncode == 0, (args, output)
            assert _datasette_count(db_path) >= 0
            during = tmp_path / "during.db"
            assert_store_sound(during)
            rounds += 1
        assert rounds >= 1, "the crawl ended before the readers could start"
    finally:
        _, stderr = crawl.communicate(timeout=120)
    assert crawl.returncode == 0, stderr
    assert "locked" not in stderr.lower()
    after = run_newsmon("--db", str(db_path), "db", "backup", str(tmp_path / "after.db"), config=config)
    assert after.returncode == 0, after.stderr
    assert_store_sound(tmp_path / "after.db")
    assert _query(tmp_path / "after.db", "SELECT count(*) FROM articles") == _query(db_path, "SELECT count(*) FROM articles")
    assert _datasette_count(db_path) == _query(db_path, "SELECT count(*) FROM articles")[0][0]


@pytest.fixture(scope="module")
def crawled_store(tmp_path_factory) -> Path:
    """The replay site crawled once, for the tests that only read the store (or copy it)."""
    directory = tmp_path_factory.mktemp("crawled")
    with replay_site(directory, scale=1) as (_, config, db_path):
        result = run_newsmon("crawl", config=config)
        assert result.returncode == 0, result.stderr
    return db_path


@pytest.fixture
def small_store(crawled_store, tmp_path) -> Path:
    """A private copy of :func:`crawled_store`."""
    copy = tmp_path / "news.db"
    source, target = sqlite3.connect(crawled_store), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return copy


def test_db_check_reports_counts_and_exit_0_on_a_sound_store(small_store):
    result = run_newsmon("--db", str(small_store), "db", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    counts = {line.split()[0]: int(line.split()[1]) for line in result.stdout.split("Rows:")[1].splitlines()[1:-1]}
    for table in ("articles", "offtopic", "clusters", "runs"):
        assert counts[table] == _query(small_store, f"SELECT count(*) FROM {table}")[0][0], table
    assert "integrity_check: ok" in result.stdout and result.stdout.rstrip().endswith("OK")
    report = run_newsmon("--db", str(small_store), "db", "check", "--json")
    assert json.loads(report.stdout)["counts"] == counts


def test_db_check_names_a_broken_rule_and_a_damaged_file(small_store, tmp_path):
    broken = tmp_path / "broken.db"
    shutil.copy(small_store, broken)
    conn = sqlite3.connect(broken)
    conn.execute("DELETE FROM raw_pages WHERE url = (SELECT url FROM articles LIMIT 1)")
    conn.commit()
    conn.close()
    result = run_newsmon("--db", str(broken), "db", "check")
    assert result.returncode == 1
    assert "1 articles without their raw page" in result.stdout

    damaged = tmp_path / "damaged.db"
    data = bytearray(small_store.read_bytes())
    page = 4096
    data[3 * page: 6 * page] = os.urandom(3 * page)  # scribble over a few pages past the schema
    damaged.write_bytes(bytes(data))
    result = run_newsmon("--db", str(damaged), "db", "check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout or "malformed" in (result.stdout + result.stderr)
    assert "Traceback" not in result.stderr


def test_db_backup_refuses_to_overwrite_and_to_copy_onto_the_store(small_store, tmp_path):
    target = tmp_path / "copy.db"
    first = run_newsmon("--db", str(small_store), "db", "backup", str(target))
    assert first.returncode == 0, first.stderr
    again = run_newsmon("--db", str(small_store), "db", "backup", str(target))
    assert again.returncode == 1 and "exists" in again.stderr
    onto = run_newsmon("--db", str(small_store), "db", "backup", str(small_store), "--force")
    assert onto.returncode == 1 and "is the store itself" in onto.stderr
    assert_store_sound(small_store)


# --- disk full, read-only -------------------------------------------------------------------------


def _crawl_limited(config: Path, file_size_limit: int) -> subprocess.CompletedProcess:
    """``newsmon crawl`` whose writes past ``file_size_limit`` bytes per file fail, as on a full disk.

    The kernel refuses a write beyond RLIMIT_FSIZE (EFBIG; Python ignores
    SIGXFSZ), which SQLite reports like a full disk: "disk I/O error" or
    "database or disk is full" depending on where the write falls.
    """
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(_newsmon_argv(config, "crawl"), cwd=ROOT, capture_output=True, text=True, timeout=120,
                          preexec_fn=limit)


def test_disk_full_stops_the_crawl_with_a_clear_error_and_commits_nothing_partial(demo_site, demo_config, tmp_path):
    db_path = tmp_path / "news.db"
    result = _crawl_limited(demo_config, 700_000)
    assert result.returncode == 1, result.stderr
    assert f"Error: cannot write to the store {db_path}" in result.stderr
    assert "the crawl stopped" in result.stderr
    assert_store_sound(db_path)
    runs = _query(db_path, "SELECT status, error FROM runs")
    assert len(runs) == 1 and runs[0][0] == "failed" and "could not be written" in runs[0][1]
    stored_before = _query(db_path, "SELECT count(*) FROM articles")[0][0]
    # with room again, the next crawl stores the rest
    again = run_newsmon("crawl", config=demo_config)
    assert again.returncode == 0, again.stderr
    assert_store_sound(db_path)
    expected = {a.url for a in demo_site.articles if a.kind in ("seed", "copy", "ontopic")}
    stored = {url for (url,) in _query(db_path, "SELECT url FROM articles")}
    assert expected <= stored and len(stored) >= stored_before


def _can_unshare_mounts() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


needs_mount_namespace = pytest.mark.skipif(not _can_unshare_mounts(),
                                           reason="needs root and unshare(1) to mount in a private namespace")


@needs_mount_namespace
def test_a_really_full_file_system_is_a_clear_error_too(demo_site, tmp_path):
    """A 900 KB tmpfs in a private mount namespace: SQLite gets ENOSPC."""
    store_dir = Path(tempfile.mkdtemp(dir=tmp_path))
    config = tmp_path / "newsmon.toml"
    config.write_text(demo_site.config_toml(str(store_dir / "news.db")), encoding="utf-8")
    keep = tmp_path / "kept"
    keep.mkdir()
    script = (f"mount -t tmpfs -o size=900k tmpfs {store_dir} && {' '.join(_newsmon_argv(config, 'crawl'))}; "
              f"status=$?; cp {store_dir}/news.db* {keep}/; exit $status")
    result = subprocess.run(["unshare", "--mount", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Error: cannot write to the store" in result.stderr and "database or disk is full" in result.stderr
    assert_store_sound(keep / "news.db")


def _read_only_crawl(config: Path, read_only: Path) -> subprocess.CompletedProcess:
    """``newsmon crawl`` with ``read_only`` (the store, or its directory) really read-only.

    As root (permissions do not stop root) it is bind-mounted read-only in a
    private mount namespace; otherwise its write permission is removed.
    """
    argv = _newsmon_argv(config, "crawl")
    if os.geteuid() == 0:
        script = f"mount --bind -o ro {read_only} {read_only} && exec {' '.join(argv)}"
        return subprocess.run(["unshare", "--mount", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
    mode = read_only.stat().st_mode
    read_only.chmod(mode & ~0o222)
    try:
        return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        read_only.chmod(mode)


@pytest.mark.skipif(os.geteuid() == 0 and not _can_unshare_mounts(), reason="root without mount namespaces")
@pytest.mark.parametrize("what", ["store file", "store directory"])
def test_a_read_only_store_is_a_clear_error_and_nothing_is_fetched(demo_site, tmp_path, what):
    from store.db import connect

    store_dir = tmp_path / "store"
    store_dir.mkdir()
    db_path = store_dir / "news.db"
    connect(db_path).conn.close()
    before = db_path.read_bytes()
    config = tmp_path / "newsmon.toml"
    config.write_text(demo_site.config_toml(str(db_path)), encoding="utf-8")
    result = _read_only_crawl(config, db_path if what == "store file" else store_dir)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{db_path}" in result.stderr and "nothing was crawled" in result.stderr
    assert demo_site.request_log == [], "pages were fetched for a store that cannot be written"
    assert db_path.read_bytes() == before
