"""Extract pages in worker processes, so the crawl's reactor thread only fetches, scores and stores.

Extraction (:func:`crawler.extract.extract_article`) is about 80% of the CPU a
crawled page costs. Run in Scrapy's reactor thread it caps a crawl at one core and
stalls downloads while it runs; a page that makes lxml or trafilatura spin would
stall the whole crawl. :class:`ExtractionPool` runs it in a few worker processes
instead and gives each page a time limit (``[crawl] extract_timeout``):

- the raw HTML bytes are shipped to an idle worker over a pipe big enough for a
  whole page, so sending never waits (no parsed tree crosses the process
  boundary), and the result (the article, its relevance and signature) comes back on
  another pipe the event loop watches (``loop.add_reader``);
- each worker does one page at a time, so the time limit counts from the moment
  the worker starts *that* page, not from when the page joined the queue;
- a page over the limit fails with :class:`ExtractionTimeout`; its worker is
  killed and replaced, and the other pages carry on. A worker that dies
  (segfault, out of memory) fails its page with :class:`ExtractionCrashed` and is
  replaced the same way;
- workers are forked from a ``forkserver`` that has imported the extraction stack
  once (started from a helper thread, so its ~1 s of imports never blocks the
  reactor), so a replacement is ready in milliseconds, and they run at a lower
  priority (``nice``) than the crawl process so downloads and the store keep the
  workers fed. They ignore SIGINT/SIGTERM (the crawl process decides when they
  stop) and exit on their own when the crawl process goes away;
- :meth:`ExtractionPool.close` stops every worker. The forkserver (and
  multiprocessing's resource tracker) exit with the crawl process; no process
  outlives the crawl.

The pool needs a running asyncio event loop (Scrapy's default asyncio reactor).
Pure in the sense of the design: no Scrapy and no SQLite here.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

LOGGER = logging.getLogger(__name__)

#: most workers the default (``extract_workers = 0``) starts, whatever the core count
MAX_DEFAULT_WORKERS = 4
#: how much lower the workers' CPU priority is than the crawl process's
WORKER_NICENESS = 5
#: a worker that dies this many times in a row before it could take a page: the pool gives up
MAX_STARTUP_FAILURES = 3
#: seconds a worker gets to exit after being asked to, before it is killed
STOP_GRACE_SECONDS = 2.0
#: pipe buffer for pages on their way to a worker (Linux caps it at /proc/sys/fs/pipe-max-size)
PIPE_BUFFER_BYTES = 1024 * 1024
#: modules the forkserver imports once, so that forked workers start with it loaded
PRELOAD = ["crawler.extract", "crawler.page_analysis", "crawler.relevance", "dedupe"]


class ExtractionFailed(Exception):
    """A page could not be extracted; the message says which page and why."""


class ExtractionTimeout(ExtractionFailed):
    """A page took longer than the time limit; its worker was replaced."""


class ExtractionCrashed(ExtractionFailed):
    """The worker extracting a page died (crash, out of memory, killed); it was replaced."""


class ExtractionPoolBroken(RuntimeError):
    """Workers die as soon as they start: the pool cannot extract anything."""


def default_worker_count(configured: int = 0) -> int:
    """``configured`` workers, or with 0 one per CPU core (at most :data:`MAX_DEFAULT_WORKERS`)."""
    if configured > 0:
        return configured
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


@dataclass
class _Task:
    html: bytes
    url: str
    utc_offset: str
    encoding: str | None
    hint_title: str | None
    future: asyncio.Future


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    tasks: Connection  # we write pages here ...
    results: Connection  # ... and read articles here
    ready: bool = False
    task: _Task | None = None
    timer: asyncio.TimerHandle | None = None
    pages: int = 0
    gone: bool = False
    adopted: bool = False
    exitcode: int | None = None


@dataclass
class PoolStats:
    """What the pool did, for logs and benchmarks."""

    pages: int = 0
    timeouts: int = 0
    crashes: int = 0
    replaced: int = 0
    started: int = 0
    errors: int = 0


class ExtractionPool:
    """``workers`` extraction processes with a per-page time limit of ``timeout`` seconds (None: no limit).

    Use it from coroutines running on one asyncio loop::

        pool = ExtractionPool(workers=2, timeout=20.0)
        pool.start()                      # workers start in the background
        article = await pool.extract(html_bytes, url, "+07:00", "utf-8")
        pool.close()

    ``job`` is what a worker does with each page: by default
    :func:`crawler.page_analysis.extract_only` (``extract`` returns an
    :class:`~crawler.items.ExtractedArticle`); the crawl passes a
    :class:`crawler.page_analysis.PageAnalyser` (``extract`` returns an
    :class:`~crawler.page_analysis.AnalysedPage`). It must be picklable: each
    worker receives it once, when it starts.
    """

    def __init__(self, workers: int = 0, timeout: float | None = None, job=None):
        from crawler.page_analysis import extract_only

        self.job = job if job is not None else extract_only
        self.size = default_worker_count(workers)
        self.timeout = timeout if timeout and timeout > 0 else None
        self.stats = PoolStats()
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._lock = threading.Lock()  # guards _started, _loop and _closed across the starter thread
        self._started: list[_Worker] = []  # started by the starter thread, not yet adopted by the loop
        self._failed_starts: list[str] = []  # why the starter thread could not start a worker
        self._all: list[_Worker] = []  # every worker ever started and not yet stopped
        self._workers: list[_Worker] = []  # adopted: the loop reads their pipes
        self._queue: deque[_Task] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starter: ThreadPoolExecutor | None = None
        self._closed = False
        self._startup_failures = 0
        self.broken: str | None = None  # why the pool gave up, if it did

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers in a background thread (the first start waits ~1 s for the forkserver's imports)."""
        if self._starter is None:
            self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extraction-pool-start")
            for _ in range(self.size):
                self._start_worker()

    def close(self) -> None:
        """Stop every worker (idle ones are asked, busy ones killed) and fail pages still queued."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._starter is not None:
            self._starter.shutdown(wait=True, cancel_futures=True)
        for task in self._queue:
            if not task.future.done():
                task.future.cancel()
        self._queue.clear()
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            if worker.task is not None and not worker.task.future.done():
                worker.task.future.cancel()
            self._stop_worker(worker, kill=worker.task is not None)
        self._workers.clear()

    def __enter__(self) -> ExtractionPool:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the workers alive now (for tests and diagnostics)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None and not w.gone]

    # --- extraction --------------------------------------------------------------------

    async def extract(self, html: bytes, url: str, utc_offset: str, encoding: str | None = None,
                      hint_title: str | None = None):
        """Run the pool's job on one page in a worker and return its result; raise
        :class:`ExtractionFailed` (timeout, crash) or :class:`ExtractionPoolBroken`."""
        if self.broken:
            raise ExtractionPoolBroken(self.broken)
        if self._closed:
            raise RuntimeError("the extraction pool is closed")
        self.start()
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._loop is None:
                self._loop = loop
            elif self._loop is not loop:
                raise RuntimeError("an ExtractionPool serves one event loop")
        future = loop.create_future()
        self._queue.append(_Task(bytes(html), url, utc_offset, encoding, hint_title, future))
        self._adopt_started()
        self._dispatch()
        return await future

    # --- workers: start, adopt, feed, stop (all but _start_worker's thread run on the loop) ----

    def _start_worker(self) -> None:
        if self._starter is None:
            return
        try:
            self._starter.submit(self._start_worker_now)
        except RuntimeError:  # the starter was shut down: the pool is closing
            pass

    def _start_worker_now(self) -> None:
        """In the starter thread: fork a worker from the forkserver and hand it to the loop."""
        if self._closed:
            return
        task_reader, task_writer = self._context.Pipe(duplex=False)
        result_reader, result_writer = self._context.Pipe(duplex=False)
        _grow_pipe(task_writer)
        process = self._context.Process(target=_worker_main, args=(task_reader, result_writer, self.job), name="newsmon-extract",
                                        daemon=True)
        try:
            process.start()
        except Exception as exc:  # fork failure (no memory, process limit): counted like a worker dying at start
            for end in (task_reader, task_writer, result_reader, result_writer):
                end.close()
            LOGGER.error("cannot start an extraction worker: %s", exc)
            with self._lock:
                self._failed_starts.append(f"cannot start a worker: {exc}")
                loop = self._loop
            if loop is not None:
                try:
                    loop.call_soon_threadsafe(self._adopt_started)
                except RuntimeError:  # the loop is closed: the crawl is over
                    pass
            return
        task_reader.close()
        result_writer.close()
        worker = _Worker(process=process, tasks=task_writer, results=result_reader)
        with self._lock:
            self.stats.started += 1
            self._all.append(worker)
            if self._closed:
                loop = None
            else:
                self._started.append(worker)
                loop = self._loop
        if self._closed:
            self._stop_worker(worker, kill=False)
        elif loop is not None:
            try:
                loop.call_soon_threadsafe(self._adopt_started)
            except RuntimeError:  # the loop is closed: the crawl is over
                pass

    def _adopt_started(self) -> None:
        """On the loop: watch the pipes of workers the starter thread has started."""
        with self._lock:
            started, self._started = self._started, []
            failed, self._failed_starts = self._failed_starts, []
        for reason in failed:
            if not self._closed and not self.broken:
                self._startup_failed(reason)
        loop = self._loop
        for worker in started:
            if self._closed or loop is None:
                continue
            self._workers.append(worker)
            worker.adopted = True
            loop.add_reader(worker.results.fileno(), self._on_readable, worker)

    def _dispatch(self) -> None:
        """Give queued pages to idle workers."""
        for worker in list(self._workers):  # a worker found dead is removed on the way
            if not self._queue:
                return
            if not worker.ready or worker.task is not None or worker.gone:
                continue
            while self._queue and self._queue[0].future.done():  # the awaiting coroutine was cancelled
                self._queue.popleft()
            if not self._queue:
                return
            task = self._queue.popleft()
            try:
                worker.tasks.send((task.html, task.url, task.utc_offset, task.encoding, task.hint_title))
            except (OSError, ValueError):  # the worker died while idle: not this page's fault
                self._queue.appendleft(task)
                self._worker_gone(worker, reason=None)
                continue
            worker.task = task
            if self.timeout is not None:
                worker.timer = self._loop.call_later(self.timeout, self._on_timeout, worker, task)

    def _on_readable(self, worker: _Worker) -> None:
        try:
            message = worker.results.recv()
        except (EOFError, OSError):
            self._worker_gone(worker, reason="crashed")
            return
        kind, value = message
        if kind == "ready":
            worker.ready = True
            self._startup_failures = 0
        else:
            task, worker.task = worker.task, None
            if worker.timer is not None:
                worker.timer.cancel()
                worker.timer = None
            worker.pages += 1
            self.stats.pages += 1
            if task is not None and not task.future.done():
                if kind == "ok":
                    task.future.set_result(value)
                else:
                    self.stats.errors += 1
                    task.future.set_exception(ExtractionFailed(f"{task.url}: extraction failed: {value}"))
        self._dispatch()

    def _on_timeout(self, worker: _Worker, task: _Task) -> None:
        if worker.task is not task or worker.gone:
            return
        self.stats.timeouts += 1
        limit = f"{self.timeout:g}"
        LOGGER.warning("%s: extraction took longer than %s s; page skipped, worker replaced", task.url, limit)
        self._worker_gone(worker, reason="timeout")

    def _worker_gone(self, worker: _Worker, reason: str | None) -> None:
        """A worker timed out or died: fail its page, stop it, start another."""
        if worker.gone:
            return
        task, worker.task = worker.task, None
        if worker.timer is not None:
            worker.timer.cancel()
            worker.timer = None
        was_ready = worker.ready
        self._stop_worker(worker, kill=True)
        if worker in self._workers:
            self._workers.remove(worker)
        if task is not None and not task.future.done():
            if reason == "timeout":
                task.future.set_exception(ExtractionTimeout(
                    f"{task.url}: extraction took longer than {self.timeout:g} s ([crawl] extract_timeout); skipped"))
            else:
                self.stats.crashes += 1
                task.future.set_exception(ExtractionCrashed(
                    f"{task.url}: the extraction worker died (exit code {worker.exitcode}); skipped"))
        if self._closed:
            return
        if not was_ready:
            self._startup_failed(f"extraction workers exit as soon as they start (exit code {worker.exitcode})")
            return
        self.stats.replaced += 1
        self._start_worker()

    def _startup_failed(self, reason: str) -> None:
        """A worker could not start or died before it was ready: try another, up to a limit."""
        self._startup_failures += 1
        if self._startup_failures >= MAX_STARTUP_FAILURES:
            self._give_up(reason)
            return
        self.stats.replaced += 1
        self._start_worker()

    def _give_up(self, reason: str) -> None:
        self.broken = reason
        LOGGER.error("extraction pool: %s", reason)
        while self._queue:
            task = self._queue.popleft()
            if not task.future.done():
                task.future.set_exception(ExtractionPoolBroken(reason))

    def _stop_worker(self, worker: _Worker, kill: bool) -> None:
        """Stop one worker and release its pipe (waits at most :data:`STOP_GRACE_SECONDS`)."""
        worker.gone = True
        loop = self._loop
        if worker.adopted and loop is not None and not worker.results.closed:
            try:
                loop.remove_reader(worker.results.fileno())
            except (ValueError, RuntimeError, OSError):  # the loop is already closed
                pass
        process = worker.process
        if not kill and not worker.tasks.closed:
            try:
                worker.tasks.send(None)  # "no more pages"
            except (OSError, ValueError):
                pass
            process.join(STOP_GRACE_SECONDS)
        if process.is_alive():
            process.kill()
        process.join()
        worker.exitcode = process.exitcode
        worker.tasks.close()
        worker.results.close()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        process.close()


def _grow_pipe(connection: Connection) -> None:
    """Let a whole page fit in the pipe, so that sending one never waits for the worker to read."""
    try:
        import fcntl

        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, min(PIPE_BUFFER_BYTES, limit))
    except (ImportError, AttributeError, OSError, ValueError):  # not Linux, or over the user's pipe quota
        pass


def _worker_main(tasks: Connection, results: Connection, job) -> None:
    """A worker's life: say ready, then run ``job`` on pages from ``tasks`` one at a time until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C and the scheduler's SIGTERM reach the whole
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # process group; the crawl process decides when we stop
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # pragma: no cover - not allowed here: run at normal priority
        pass
    try:
        results.send(("ready", None))
        while True:
            task = tasks.recv()
            if task is None:
                return
            html, url, utc_offset, encoding, hint_title = task
            try:
                result = ("ok", job(html, url, utc_offset, encoding, hint_title))
            except Exception as exc:  # the job should never raise; if it does, the page fails
                result = ("error", f"{type(exc).__name__}: {exc}")
            results.send(result)
    except (EOFError, OSError):
        return  # the crawl process is gone
