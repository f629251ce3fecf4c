"""``newsmon run``: scheduled crawls as supervised child processes, one at a time, surviving anything.

The scheduler runs as users run it, ``newsmon run`` in a process of its own, with
intervals of a second. Most tests substitute the crawl child with
``tests/fixtures/scheduled_child.py`` (a stand-in that sleeps, hangs, ignores
SIGTERM or SIGKILLs itself mid-write, and records its run through the real store
API); the last one runs the real ``newsmon crawl`` against the replay site.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from newsmon_process import ROOT, run_newsmon

STAND_IN = Path(__file__).resolve().parent / "fixtures" / "scheduled_child.py"
SEEDS = Path(__file__).resolve().parent / "fixtures" / "seeds"


# --- helpers ----------------------------------------------------------------------


def write_config(tmp_path: Path, schedule: str, sources=("a",), overrides: str = "") -> Path:
    """A newsmon.toml with a [schedule] and sources that the stand-in never fetches."""
    text = f'[store]\npath = "{tmp_path / "news.db"}"\n\n[schedule]\n{schedule}\n'
    if overrides:
        text += f"\n[schedule.sources]\n{overrides}\n"
    for name in sources:
        text += f'\n[[sources]]\nname = "{name}"\nlang = "vi"\nfeeds = ["http://127.0.0.1:9/{name}.rss"]\n'
    path = tmp_path / "newsmon.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Scheduler:
    """One ``newsmon run`` process; its log goes to a file (a full pipe would block it)."""

    def __init__(self, config: Path, tmp_path: Path, plan: str | None, name: str = "run", args: tuple = ()):
        self.log_path = tmp_path / f"{name}.log"
        self.journal = tmp_path / "journal.txt"
        command = [sys.executable, "-m", "scheduler", "--config", str(config), "run", *args]
        if plan is not None:
            command += ["--child-command",
                        f"{sys.executable} {STAND_IN} --journal {self.journal} --plan {plan}"]
        env = dict(os.environ, PYTHONWARNINGS="error::DeprecationWarning")
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, stdout=self.log_file, stderr=subprocess.STDOUT, cwd=str(ROOT),
                                        env=env)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, signum=signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log_file.close()


@pytest.fixture
def schedulers():
    """Start schedulers with ``start(...)``; whatever is left running is killed at the end."""
    started: list[Scheduler] = []

    def start(*args, **kwargs) -> Scheduler:
        scheduler = Scheduler(*args, **kwargs)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        if scheduler.process.poll() is None:
            scheduler.process.kill()
            scheduler.process.wait()
        scheduler.log_file.close()
        for pid in journal_pids(scheduler.journal):
            kill_stand_in(pid)


def journal_pids(journal: Path) -> list[int]:
    if not journal.exists():
        return []
    return [int(line.split()[2]) for line in journal.read_text().splitlines() if line.startswith("start ")]


def kill_stand_in(pid: int) -> None:
    """SIGKILL a stand-in crawl left running by a test (checked by its command line, never anything else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return
    if STAND_IN.name.encode() in cmdline:
        os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def query(db_path: Path, sql: str, *params) -> list[dict]:
    if not db_path.exists():
        return []
    conn = sqlite3.connect(db_path, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    except sqlite3.OperationalError as exc:  # the scheduler has not created the schema yet
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def runs(db_path: Path) -> list[dict]:
    return query(db_path, "SELECT * FROM runs ORDER BY id")


def wait_for(condition, what: str, scheduler: Scheduler | None = None, timeout: float = 30):
    """Poll ``condition`` until it returns something true; fail with the scheduler's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if scheduler is not None and scheduler.process.poll() is not None:
            pytest.fail(f"newsmon run exited ({scheduler.process.returncode}) before {what}:\n{scheduler.log}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}" + (f":\n{scheduler.log}" if scheduler else ""))


def finished_runs(db_path: Path, count: int):
    def check():
        done = [r for r in runs(db_path) if r["status"] != "running"]
        return done if len(done) >= count else None

    return check


def journal_events(journal: Path) -> list[tuple[str, int, int, float]]:
    events = []
    for line in journal.read_text().splitlines():
        if line.startswith(("start ", "end ")):
            kind, run_id, pid, when = line.split()[:4]
            events.append((kind, int(run_id), int(pid), float(when)))
    return events


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- tests --------------------------------------------------------------------------


def test_runs_happen_on_schedule_and_never_overlap_when_a_crawl_outlasts_the_interval(tmp_path, schedulers):
    config = write_config(tmp_path, 'every = "1s"\njitter = "0s"\ntimeout = "30s"\ngrace = "10s"')
    db = tmp_path / "news.db"
    scheduler = schedulers(config, tmp_path, plan="sleep=1.5")
    wait_for(finished_runs(db, 2), "two finished runs", scheduler)
    assert scheduler.stop(signal.SIGINT) == 0, scheduler.log  # Ctrl-C

    journal = scheduler.journal.read_text()
    assert "OVERLAP" not in journal
    recorded = runs(db)
    assert len(recorded) >= 2
    # The crawl running when SIGTERM came was let finish within the grace period.
    assert [r["status"] for r in recorded] == ["ok"] * len(recorded), scheduler.log
    assert {r["trigger"] for r in recorded} == {"schedule"}
    assert all(json.loads(r["sources"]) == ["a"] for r in recorded)
    events = journal_events(scheduler.journal)
    starts = [e for e in events if e[0] == "start"]
    ends = {e[1]: e for e in events if e[0] == "end"}
    assert [e[1] for e in starts] == [r["id"] for r in recorded]
    for earlier, later in zip(starts, starts[1:]):
        assert ends[earlier[1]][3] <= later[3], "a crawl started before the previous one ended"
    for earlier, later in zip(recorded, recorded[1:]):
        assert utc(earlier["finished"]) <= utc(later["started"])
    # Slots that came while a crawl was running were skipped, and the log says so.
    assert "skipped" in scheduler.log
    assert "stopped" in scheduler.log.splitlines()[-1]


def test_a_hung_crawl_is_stopped_at_the_timeout_and_the_next_run_proceeds(tmp_path, schedulers):
    # (2 s: the stubborn stand-in must have started ignoring SIGTERM when the timeout comes)
    config = write_config(tmp_path, 'every = "1s"\njitter = "0s"\ntimeout = "2s"\ngrace = "1s"')
    db = tmp_path / "news.db"
    scheduler = schedulers(config, tmp_path, plan="hang,stubborn,ok")
    wait_for(finished_runs(db, 3), "three finished runs", scheduler)
    assert scheduler.stop() == 0, scheduler.log

    first, second, third = runs(db)[:3]
    # A crawl that hangs but obeys SIGTERM, and one that ignores it: both are recorded as timeouts.
    assert first["status"] == "timeout" and "SIGTERM" in first["error"] and "SIGKILL" not in first["error"]
    assert second["status"] == "timeout" and "SIGKILL" in second["error"]
    assert third["status"] == "ok"
    for run in (first, second):
        assert run["pid"] and not alive(run["pid"]), "the hung crawl is gone"
        assert run["finished"] is not None
    assert "stand-in crawl 3: ok done" in third["stderr_tail"]
    ended = {e[1] for e in journal_events(scheduler.journal) if e[0] == "end"}
    assert ended == {third["id"]}


def test_a_crawl_killed_mid_write_leaves_a_consistent_store_and_the_next_run_completes_it(tmp_path, schedulers):
    config = write_config(tmp_path, 'every = "1s"\njitter = "0s"\ntimeout = "30s"\ngrace = "5s"')
    db = tmp_path / "news.db"
    scheduler = schedulers(config, tmp_path, plan="die-writing=2,write")
    wait_for(finished_runs(db, 2), "two finished runs", scheduler)
    assert scheduler.stop() == 0, scheduler.log

    first, second = runs(db)[:2]
    assert first["status"] == "killed" and "SIGKILL" in first["error"]
    assert first["articles_stored"] == 2  # what it committed before it died, counted from the store
    assert second["status"] == "ok"
    assert query(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    articles = query(db, "SELECT * FROM articles ORDER BY url")
    seeds = sorted(SEEDS.glob("*.txt"))
    assert [a["url"].rsplit("/", 1)[1] for a in articles] == [p.stem for p in seeds]
    for article, seed in zip(articles, seeds):
        text = seed.read_text(encoding="utf-8")
        assert article["text"] == text
        assert article["text_sha"] == hashlib.sha1(text.encode("utf-8")).hexdigest()
        assert article["cluster_id"] is not None
        assert query(db, "SELECT id FROM clusters WHERE id = ?", article["cluster_id"])
        assert query(db, "SELECT url FROM raw_pages WHERE url = ?", article["url"])
    # The article being written when the crawl died was stored whole by the next run.
    assert [a["run_id"] for a in articles] == [first["id"]] * 2 + [second["id"]] * 3


def test_a_scheduler_restarted_after_a_long_stop_runs_each_job_once(tmp_path, schedulers):
    config = write_config(tmp_path, 'every = "1h"\njitter = "0s"\ntimeout = "30s"\ngrace = "5s"',
                          sources=("a", "b"), overrides='b = { every = "2h" }')
    db = tmp_path / "news.db"
    log_file = tmp_path / "logs" / "newsmon.log"
    first_session = schedulers(config, tmp_path, plan="ok", name="first", args=("--log-file", str(log_file)))
    wait_for(finished_runs(db, 2), "one run of each job", first_session)
    assert first_session.stop() == 0, first_session.log
    assert "run 2 ok" in log_file.read_text(encoding="utf-8")  # the log is kept in the file too
    run_a, run_b = sorted(runs(db), key=lambda r: json.loads(r["sources"]))
    assert json.loads(run_a["sources"]) == ["a"] and json.loads(run_b["sources"]) == ["b"]

    # Five hours pass for job "all" (source a): its last crawl is now 5 h old, 4 h overdue.
    conn = sqlite3.connect(db)
    with conn:
        for column in ("started", "finished"):
            old = (utc(run_a[column]) - timedelta(hours=5)).isoformat(timespec="seconds")
            conn.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (old, run_a["id"]))
    conn.close()

    second_session = schedulers(config, tmp_path, plan="ok", name="second")
    done = wait_for(finished_runs(db, 3), "the overdue run", second_session)
    status = run_newsmon("status", "--json", config=config)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert second_session.stop() == 0, second_session.log

    recorded = runs(db)
    assert len(recorded) == 3, "the overdue job ran once, the other one not at all"
    assert json.loads(done[2]["sources"]) == ["a"]
    assert report["scheduler"]["running"] and report["scheduler"]["pid"] == second_session.pid
    next_runs = {job["job"]: job for job in report["next_runs"]}
    # Next due: one period after each job's last crawl.
    next_a = utc(next_runs["all"]["next_run"]) - utc(recorded[2]["started"])
    assert abs(next_a - timedelta(hours=1)) <= timedelta(seconds=5)
    next_b = utc(next_runs["source:b"]["next_run"]) - utc(run_b["started"])
    assert abs(next_b - timedelta(hours=2)) <= timedelta(seconds=1)
    assert next_runs["source:b"]["trigger"] == "every 2h"


def test_a_second_scheduler_and_a_manual_crawl_refuse_while_one_runs(tmp_path, schedulers):
    config = write_config(tmp_path, 'every = "1h"\njitter = "0s"\ntimeout = "1h"\ngrace = "1h"')
    db = tmp_path / "news.db"
    first = schedulers(config, tmp_path, plan="hang", name="first")
    crawl = wait_for(lambda: [r for r in runs(db) if r["pid"]], "the crawl to start", first)[0]

    second = run_newsmon("run", config=config, timeout=30)
    assert second.returncode == 3
    assert f"pid {first.pid}" in second.stderr and "newsmon run" in second.stderr
    assert f"run {crawl['id']} as pid {crawl['pid']}" in second.stderr
    manual = run_newsmon("crawl", config=config, timeout=30)
    assert manual.returncode == 3
    assert f"pid {first.pid}" in manual.stderr
    assert "Traceback" not in second.stderr + manual.stderr

    # SIGTERM: no new runs, the crawl may finish within the grace period (an hour here);
    # a second signal stops it at once. The run is recorded and the scheduler exits 0.
    first.process.send_signal(signal.SIGTERM)
    wait_for(lambda: "SIGTERM: stopping" in first.log, "the scheduler to start stopping", first)
    assert alive(crawl["pid"]), "the running crawl is given time to finish"
    assert first.stop(signal.SIGTERM) == 0, first.log
    (run,) = runs(db)
    assert run["status"] == "killed" and "scheduler was stopping" in run["error"]
    assert not alive(crawl["pid"])
    assert "SIGTERM again: stopping the running crawl now" in first.log


def test_a_scheduler_killed_with_sigkill_is_survived(tmp_path, schedulers):
    config = write_config(tmp_path, 'every = "1s"\njitter = "0s"\ntimeout = "1h"\ngrace = "2s"')
    db = tmp_path / "news.db"
    first = schedulers(config, tmp_path, plan="hang,ok", name="first")
    crawl = wait_for(lambda: [r for r in runs(db) if r["pid"]], "the crawl to start", first)[0]
    first.stop(signal.SIGKILL)

    # The orphaned crawl still holds the store: a new scheduler refuses and names it.
    refused = run_newsmon("run", config=config, timeout=30)
    assert refused.returncode == 3
    assert f"pid {crawl['pid']}" in refused.stderr and "still running" in refused.stderr
    kill_stand_in(crawl["pid"])
    wait_for(lambda: not alive(crawl["pid"]), "the orphaned crawl to die")

    # Now the lock of the dead scheduler is taken over and its unfinished run is closed.
    second = schedulers(config, tmp_path, plan="hang,ok", name="second")
    wait_for(lambda: [r for r in runs(db) if r["status"] == "ok"], "a run of the new scheduler", second)
    assert second.stop() == 0, second.log
    first_run, second_run = runs(db)[:2]
    assert first_run["status"] == "killed" and "without recording a result" in first_run["error"]
    assert second_run["status"] == "ok"
    assert "took over the store lock" in second.log and f"pid {first.pid}" in second.log


def test_real_crawls_of_the_replay_site_on_a_schedule(tmp_path, schedulers):
    pytest.importorskip("crawler.demo_site.server", reason="the replay site has not landed")
    from crawler.demo_site.server import serve_demo_site

    db = tmp_path / "news.db"
    with serve_demo_site() as site:
        text = site.config_toml(str(db))
        assert "[schedule]" not in text
        config = tmp_path / "newsmon.toml"
        config.write_text(text + '\n[schedule]\nevery = "2s"\njitter = "0s"\ntimeout = "120s"\ngrace = "10s"\n',
                          encoding="utf-8")
        scheduler = schedulers(config, tmp_path, plan=None)
        wait_for(finished_runs(db, 2), "two real crawls", scheduler, timeout=150)
        assert scheduler.stop() == 0, scheduler.log

    recorded = runs(db)
    assert len(recorded) >= 2
    assert {r["trigger"] for r in recorded} == {"schedule"}
    assert all(r["status"] in ("ok", "partial") for r in recorded), [(r["status"], r["error"]) for r in recorded]
    for earlier, later in zip(recorded, recorded[1:]):
        assert utc(earlier["finished"]) <= utc(later["started"])
    assert recorded[0]["articles_stored"] > 0
    for run in recorded:
        stored = query(db, "SELECT count(*) AS n FROM articles WHERE run_id = ?", run["id"])[0]["n"]
        assert stored == run["articles_stored"]
        assert query(db, "SELECT count(*) AS n FROM run_sources WHERE run_id = ?", run["id"])[0]["n"] > 0
        assert "run " in run["stderr_tail"]  # the crawl's own summary, kept with the run
    assert query(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]


def test_a_store_that_cannot_be_written_is_a_clear_error_not_a_traceback(tmp_path):
    config = write_config(tmp_path, 'every = "1s"')
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("", encoding="utf-8")
    result = run_newsmon("--db", str(not_a_dir / "news.db"), "run", config=config, timeout=30)
    assert result.returncode == 1, result.stderr
    assert f"cannot write beside the store {not_a_dir / 'news.db'}" in result.stderr
    assert "nothing was scheduled" in result.stderr and "Traceback" not in result.stderr
