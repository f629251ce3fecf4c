"""The schedule loop behind ``newsmon run``: APScheduler 3 plus a supervised child per crawl.

How it holds together:

- The store lock (:mod:`store.lock`) is taken first: a second ``newsmon run`` or a
  manual ``newsmon crawl`` on the same store refuses, naming this process. The
  locked descriptor is handed to each crawl child, so even an orphaned child keeps
  the store to itself until it exits.
- Runs left ``running`` by a crash are closed as ``killed`` at start.
- One APScheduler job per :class:`~crawler.schedule_plan.ScheduledJob`, all on a
  single worker thread (never two crawls at once, even across jobs), with
  ``max_instances=1`` and ``coalesce=True``: a run whose slot comes while the
  previous crawl is still going is skipped, and a backlog of missed slots is one
  run. ``misfire_grace_time`` (``[schedule]``) is how late a run may start and still
  run (a machine waking from sleep, a job queued behind a long crawl).
- Each job is first due one period after the last recorded crawl of its sources
  (:func:`~crawler.schedule_plan.first_run_time`), so a restart does not re-crawl.
- Every run is a ``runs`` row created here and a child process
  ``newsmon crawl --run-id N --source …`` under :func:`~crawler.child_crawl.supervise_child`.
- SIGINT/SIGTERM: no new runs; the running crawl gets ``grace`` to finish, then is
  stopped; the run is recorded; the loop returns normally (exit status 0). A second
  signal stops the crawl at once.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from crawler.child_crawl import StopRequest, judge, supervise_child
from crawler.config import Config
from crawler.schedule_plan import ScheduledJob, first_run_time, format_duration, make_trigger, plan_jobs
from store.lock import INHERITED_LOCK_ENV, StoreLock, acquire_store_lock, pid_alive

log = logging.getLogger("newsmon.schedule")

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
LOG_FILE_BYTES = 10 * 1024 * 1024
LOG_FILE_BACKUPS = 5


def newsmon_program() -> list[str]:
    """The ``newsmon`` command as a child process: this interpreter running the ``scheduler`` module."""
    return [sys.executable, "-m", "scheduler"]


def configure_logging(level: str, log_file: str | None) -> None:
    """Log to stderr and, when ``log_file`` is set, to that file rotated at 10 MB (5 kept).

    APScheduler's own messages are shown from WARNING up (skipped runs), all of them at DEBUG.
    """
    root = logging.getLogger()
    root.setLevel(level)
    formatter = logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            log_file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


class ScheduleLoop:
    """``newsmon run``: crawl the sources of ``config`` into ``db_path`` on schedule until stopped.

    ``program`` replaces ``newsmon`` as the child's program (tests use stand-ins); the
    child always gets ``--config FILE --db FILE crawl --run-id N --source NAME …``.
    """

    def __init__(self, config: Config, config_path: str, db_path: str, program: list[str] | None = None):
        self.config = config
        self.schedule = config.schedule
        self.config_path = str(Path(config_path).resolve())
        self.db_path = str(Path(db_path).resolve())
        self.program = program or newsmon_program()
        self.stop = StopRequest()
        self.lock: StoreLock | None = None
        self.scheduler = None
        self._crawling = threading.Lock()  # held while a crawl runs; at most one at a time

    # --- the whole life of the loop -----------------------------------------------

    def run(self) -> None:
        """Take the store lock, schedule, block until SIGINT/SIGTERM, finish the running crawl.

        Raises :class:`store.lock.StoreBusyError` when another process holds the store.
        """
        self.lock = acquire_store_lock(self.db_path, "newsmon run")
        previous_handlers = {}
        try:
            self._prepare()
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous_handlers[signum] = signal.signal(signum, self._on_signal)
            log.info("newsmon run: pid %d, store %s; stop with Ctrl-C or SIGTERM", os.getpid(), self.db_path)
            self.scheduler.start()  # returns after shutdown
            self._wait_for_crawl()
        finally:
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)
            try:
                from store.schedule_state import scheduler_stopped

                with self._store() as db:
                    scheduler_stopped(db)
            finally:
                self.lock.release()
        log.info("newsmon run: stopped")

    def _prepare(self) -> None:
        from apscheduler.events import (
            EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED,
            EVENT_SCHEDULER_STARTED,
        )
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler

        from store.schedule_state import last_run_covering, record_schedule, repair_interrupted_runs

        previous = self.lock.previous
        if previous is not None and not previous.alive:
            log.warning("took over the store lock left by %s, which is no longer running", previous.describe())
        jobs = plan_jobs(self.config)
        if not jobs:
            raise ValueError("the config lists no [[sources]] to crawl")
        self.scheduler = BlockingScheduler(  # in local time (cron lines are), via tzlocal
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": max(1, int(self.schedule.misfire_grace_time.total_seconds())),
            },
        )
        tz = self.scheduler.timezone
        if len(jobs) > 1 and self.schedule.misfire_grace_time < self.schedule.timeout + self.schedule.grace:
            log.warning("schedule.misfire_grace_time (%s) is shorter than timeout + grace (%s): a run queued "
                        "behind a long crawl of another job may be skipped",
                        format_duration(self.schedule.misfire_grace_time),
                        format_duration(self.schedule.timeout + self.schedule.grace))
        now = datetime.now(tz)
        entries = []
        with self._store() as db:
            for run_id in repair_interrupted_runs(db, _crawl_alive):
                log.warning("run %d never recorded a result (its process is gone); marked 'killed'", run_id)
            for job in jobs:
                trigger = make_trigger(job, self.schedule, tz)
                last = _parse_utc(last_run_covering(db, job.sources))
                first = first_run_time(job, trigger, last.astimezone(tz) if last else None, now)
                self.scheduler.add_job(self._run_job, trigger=trigger, args=(job,), id=job.id,
                                       name=f"crawl {job.id}", next_run_time=first)
                entries.append({"job": job.id, "sources": job.sources, "trigger": job.trigger_text,
                                "next_run": _utc_iso(first)})
                log.info("job %s (%s; %s): last crawl %s; next run %s", job.id, job.trigger_text,
                         ", ".join(job.sources), _utc_iso(last) or "never",
                         "now" if first <= now else _utc_iso(first))
            record_schedule(db, entries, os.getpid())
        self.scheduler.add_listener(
            self._store_next_runs,
            EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR,
        )
        self.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)

    # --- one run --------------------------------------------------------------------

    def _run_job(self, job: ScheduledJob) -> None:
        """APScheduler's job function (worker thread): one supervised crawl of ``job``'s sources."""
        with self._crawling:
            if self.stop.requested:
                return
            try:
                self._crawl(job)
            except Exception:
                log.exception("job %s: the run could not be carried out", job.id)

    def _crawl(self, job: ScheduledJob) -> None:
        from store.schedule_state import close_supervised_run, create_scheduled_run, read_run, set_last_run

        with self._store() as db:
            run_id = create_scheduled_run(db, list(job.sources))
            set_last_run(db, job.id, run_id)
        argv = [*self.program, "--config", self.config_path, "--db", self.db_path, "crawl", "--run-id", str(run_id)]
        for source in job.sources:
            argv += ["--source", source]
        env = {**os.environ, INHERITED_LOCK_ENV: str(self.lock.fd), "PYTHONUNBUFFERED": "1"}
        timeout, grace = self.schedule.timeout.total_seconds(), self.schedule.grace.total_seconds()
        log.info("run %d: crawling %s (job %s, %s)", run_id, ", ".join(job.sources), job.id, job.trigger_text)
        try:
            outcome = supervise_child(argv, timeout=timeout, grace=grace, stop=self.stop, env=env,
                                      pass_fds=(self.lock.fd,), on_started=lambda pid: self._child_started(run_id, pid),
                                      log=log, label=f"run {run_id}")
        except OSError as exc:
            status, error, tail, seconds = "failed", f"could not start the crawl ({argv[0]}): {exc}", None, 0.0
        else:
            with self._store() as db:
                recorded = read_run(db, run_id).get("status")
            status, error = judge(outcome, recorded, timeout=timeout, grace=grace)
            tail, seconds = outcome.output_tail, outcome.seconds
        finally:
            self.lock.set_crawl(None, None)
        with self._store() as db:
            row = close_supervised_run(db, run_id, status, error, tail)
        level = logging.INFO if status in ("ok", "partial") else logging.WARNING
        log.log(level, "run %d %s after %s: fetched %d, stored %d, duplicates %d, off-topic %d%s", run_id, status,
                format_duration(seconds), row["pages_fetched"], row["articles_stored"], row["duplicates"],
                row["offtopic"] + row["prefiltered"], f" — {row['error']}" if row.get("error") else "")

    def _child_started(self, run_id: int, pid: int) -> None:
        from store.schedule_state import set_run_pid

        self.lock.set_crawl(pid, run_id)
        with self._store() as db:
            set_run_pid(db, run_id, pid)

    def _wait_for_crawl(self) -> None:
        """After the scheduler stopped: wait until the running crawl (if any) has been dealt with."""
        while not self._crawling.acquire(timeout=0.5):
            pass
        self._crawling.release()

    # --- stopping ---------------------------------------------------------------------

    def _on_signal(self, signum, frame) -> None:
        first = self.stop.request()
        # Logging and APScheduler's locks are not for signal handlers: act in a thread.
        threading.Thread(target=self._stopping, args=(signum, first), daemon=True).start()

    def _stopping(self, signum: int, first: bool) -> None:
        name = signal.Signals(signum).name
        if first:
            log.info("%s: stopping; no new runs, a running crawl gets %s to finish (%s again: stop it now)",
                     name, format_duration(self.schedule.grace), name)
            self._shutdown_scheduler()
        else:
            log.warning("%s again: stopping the running crawl now", name)

    def _on_started(self, event) -> None:
        if self.stop.requested:  # a signal came while starting up
            threading.Thread(target=self._shutdown_scheduler, daemon=True).start()

    def _shutdown_scheduler(self) -> None:
        from apscheduler.schedulers import SchedulerNotRunningError

        try:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass

    # --- bookkeeping ----------------------------------------------------------------------

    def _store_next_runs(self, event=None) -> None:
        from store.schedule_state import set_next_runs

        try:
            next_runs = {job.id: _utc_iso(job.next_run_time) for job in self.scheduler.get_jobs()}
            with self._store() as db:
                set_next_runs(db, next_runs)
        except Exception:
            log.exception("could not record the next run times")

    @contextmanager
    def _store(self):
        """A connection of its own for each use: the loop writes from several threads."""
        from store.db import connect

        db = connect(self.db_path)
        try:
            yield db
        finally:
            db.close()


def _crawl_alive(pid: int) -> bool:
    """Whether ``pid`` is still a running crawl (not a dead one's pid reused by another program)."""
    if not pid_alive(pid):
        return False
    try:
        return b"crawl" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def _utc_iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def _parse_utc(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
