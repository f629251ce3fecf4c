"""Run one crawl as a child process under a hard timeout, and judge how it ended.

A scheduled crawl is always a separate process (``newsmon crawl --run-id N``):
Twisted's reactor cannot be restarted, and a process can be killed cleanly when it
hangs. The child runs in its own session (a Ctrl-C in the terminal reaches only
the scheduler, which decides what happens to the crawl) and its whole process
group is signalled: SIGTERM first, SIGKILL after the grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from crawler.schedule_plan import format_duration

#: lines of the child's output kept for the ``runs.stderr_tail`` column
TAIL_LINES = 60
TAIL_CHARS = 8000

#: after a second stop signal, SIGKILL follows SIGTERM after at most this many seconds
URGENT_KILL_AFTER = 5.0


class StopRequest:
    """The scheduler was asked to stop (SIGINT/SIGTERM); a second request means "now"."""

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._urgent = threading.Event()
        self.requested_at: float | None = None  # time.monotonic()

    def request(self) -> bool:
        """Record one stop request; return True for the first one."""
        if self._requested.is_set():
            self._urgent.set()
            return False
        self.requested_at = time.monotonic()
        self._requested.set()
        return True

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def urgent(self) -> bool:
        return self._urgent.is_set()


@dataclass
class ChildOutcome:
    """How a supervised child process ended."""

    pid: int
    returncode: int
    stopped_by: str | None  # None (ended by itself), "timeout" or "shutdown"
    escalated: bool  # SIGTERM was not enough: SIGKILL was sent
    output_tail: str
    seconds: float


def supervise_child(
    argv: list[str],
    *,
    timeout: float,
    grace: float,
    stop: StopRequest,
    env: dict[str, str] | None = None,
    pass_fds: tuple[int, ...] = (),
    on_started: Callable[[int], None] | None = None,
    log: logging.Logger | None = None,
    label: str = "crawl",
) -> ChildOutcome:
    """Run ``argv`` to completion, or stop it at ``timeout`` seconds or when ``stop`` is requested.

    On a stop request the child gets ``grace`` seconds to finish by itself (none on
    an urgent request); then, as at the timeout, SIGTERM and after another
    ``grace`` seconds (at most :data:`URGENT_KILL_AFTER` on an urgent request)
    SIGKILL, to its whole process group. Every output line (stdout
    and stderr together) is logged at INFO and the last ones are kept.
    Raises OSError when the program cannot be started.
    """
    log = log or logging.getLogger("newsmon.schedule")
    started = time.monotonic()
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        pass_fds=pass_fds,
        env=env,
    )
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    reader = threading.Thread(target=_read_output, args=(process, tail, log, label), daemon=True)
    reader.start()
    if on_started is not None:
        try:
            on_started(process.pid)
        except Exception:  # bookkeeping must never leave a child unsupervised
            log.exception("%s (pid %d): could not record the start", label, process.pid)

    stopped_by, escalated, cause = None, False, "timeout"
    while process.poll() is None:
        deadline, cause = started + timeout, "timeout"
        if stop.requested:
            stop_deadline = stop.requested_at + (0 if stop.urgent else grace)
            if stop_deadline < deadline:
                deadline, cause = stop_deadline, "shutdown"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            process.wait(timeout=min(remaining, 0.2))
        except subprocess.TimeoutExpired:
            pass

    if process.poll() is None:
        stopped_by = cause
        if cause == "timeout":
            log.warning("%s (pid %d): no result after %s; stopping it (SIGTERM)", label, process.pid,
                        format_duration(timeout))
        else:
            log.warning("%s (pid %d): still running; stopping it (SIGTERM)", label, process.pid)
        _signal_group(process, signal.SIGTERM)
        term_sent = time.monotonic()
        while process.poll() is None:
            # An urgent stop (second signal) shortens the wait for SIGTERM to work.
            wait = min(grace, URGENT_KILL_AFTER) if stop.urgent else grace
            if time.monotonic() >= term_sent + wait:
                break
            time.sleep(0.05)
        if process.poll() is None:
            log.warning("%s (pid %d): still running %s after SIGTERM; killing it (SIGKILL)", label,
                        process.pid, format_duration(grace))
            escalated = True
            _signal_group(process, signal.SIGKILL)
        process.wait()
        _signal_group(process, signal.SIGKILL)  # whatever it left behind in its group
    reader.join(timeout=2)
    output = "".join(tail)[-TAIL_CHARS:]
    return ChildOutcome(pid=process.pid, returncode=process.returncode, stopped_by=stopped_by,
                        escalated=escalated, output_tail=output, seconds=time.monotonic() - started)


def judge(outcome: ChildOutcome, recorded_status: str | None, *, timeout: float, grace: float) -> tuple[str, str | None]:
    """The run's final status and error text, from how the child ended and what it recorded.

    - stopped at the timeout → ``timeout``;
    - stopped because the scheduler was stopping, or killed by a signal from
      someone else (the OOM killer, an operator) → ``killed``;
    - ended by itself having recorded ok / partial / failed → that status;
    - ended by itself without recording a result → ``failed``.
    """
    how = "stopped with SIGTERM" + (f", killed with SIGKILL {format_duration(grace)} later" if outcome.escalated else "")
    if outcome.stopped_by == "timeout":
        return "timeout", f"no result after {format_duration(timeout)}: {how}"
    if outcome.stopped_by == "shutdown":
        return "killed", f"the scheduler was stopping and the crawl had not finished: {how}"
    if outcome.returncode < 0:
        name = _signal_name(-outcome.returncode)
        return "killed", f"killed by {name} from outside the scheduler"
    if recorded_status in ("ok", "partial", "failed"):
        return recorded_status, None
    return "failed", f"the crawl exited with status {outcome.returncode} without recording a result"


def _read_output(process: subprocess.Popen, tail: deque, log: logging.Logger, label: str) -> None:
    for raw in iter(process.stdout.readline, b""):
        line = raw.decode("utf-8", "replace")
        tail.append(line if line.endswith("\n") else line + "\n")
        log.info("%s | %s", label, line.rstrip())
    process.stdout.close()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
