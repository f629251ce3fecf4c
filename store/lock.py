"""One crawl per store: an advisory lock file next to the SQLite file.

``newsmon run`` and ``newsmon crawl`` hold ``<store>.lock`` (``data/news.db.lock``)
for as long as they may write crawl results. The lock is an ``flock`` on the file,
so the kernel releases it when the holder dies, however it dies: a lock file left
by a process that no longer runs is simply taken over. The file's content says who
holds it (pid, command line, start time, and for ``newsmon run`` the crawl it is
supervising), so a refusal can name the running process.

A scheduled crawl is a child of ``newsmon run``: the scheduler passes the locked file
descriptor to the child (environment variable :data:`INHERITED_LOCK_ENV`), and the
child's ``newsmon crawl`` runs under its parent's lock instead of refusing. Because
the child shares the lock, a scheduler killed with SIGKILL cannot let a second crawl
start while its orphaned child is still writing.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

#: The scheduler puts the number of the inherited, locked file descriptor here.
INHERITED_LOCK_ENV = "NEWSMON_STORE_LOCK_FD"

#: exit status of ``newsmon run`` / ``newsmon crawl`` when the store is busy with another crawl
BUSY_EXIT_CODE = 3


class StoreBusyError(RuntimeError):
    """Another newsmon process holds the store's lock; the message names it."""

    def __init__(self, message: str, holder: "LockHolder | None"):
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or last held) a store lock, as written in the lock file."""

    pid: int
    command: str  # "newsmon run", "newsmon crawl"
    cmdline: str
    started: str  # UTC ISO 8601
    host: str
    crawl_pid: int | None = None  # for "newsmon run": the crawl child it is supervising
    crawl_run_id: int | None = None

    @property
    def alive(self) -> bool:
        """Whether the holder's process still runs (on this host)."""
        return self.host == socket.gethostname() and pid_alive(self.pid)

    def describe(self) -> str:
        """One sentence naming the process, e.g. for a refusal message."""
        text = f"{self.command} (pid {self.pid}, started {self.started}, command: {self.cmdline})"
        if self.crawl_pid:
            text += f", running crawl run {self.crawl_run_id} as pid {self.crawl_pid}"
        return text


def lock_path(db_path: str | Path) -> Path:
    """The lock file of the store at ``db_path``: ``<db_path>.lock`` beside it."""
    path = Path(db_path).resolve()
    return path.with_name(path.name + ".lock")


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return True


def read_holder(db_path: str | Path) -> LockHolder | None:
    """What the lock file says about its holder, or None if there is no readable record.

    This reads only; it does not tell whether the lock is currently held (the
    record stays after the holder exits) — check :attr:`LockHolder.alive`.
    """
    try:
        text = lock_path(db_path).read_text(encoding="utf-8")
    except OSError:
        return None
    return _parse_holder(text)


class StoreLock:
    """The held lock of one store; release it with :meth:`release` or a ``with`` block."""

    def __init__(self, db_path: str | Path, fd: int, holder: LockHolder | None, inherited: bool,
                 previous: LockHolder | None = None):
        self.db_path = str(db_path)
        self.path = lock_path(db_path)
        self.fd = fd
        self.holder = holder
        self.inherited = inherited
        #: the record of a process that held the lock before and died without releasing it
        self.previous = previous

    def set_crawl(self, pid: int | None, run_id: int | None) -> None:
        """Record (or clear, with None) the crawl child this holder is supervising."""
        if self.inherited or self.holder is None:
            return
        self.holder = LockHolder(**{**self.holder.__dict__, "crawl_pid": pid, "crawl_run_id": run_id})
        _write_record(self.fd, self.holder)

    def release(self) -> None:
        """Clear the record and unlock. An inherited lock stays with the parent."""
        if self.fd < 0:
            return
        if not self.inherited:
            try:
                os.ftruncate(self.fd, 0)
            except OSError:
                pass
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> "StoreLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def acquire_store_lock(db_path: str | Path, command: str) -> StoreLock:
    """Take the lock of the store at ``db_path`` for ``command`` ("newsmon run", "newsmon crawl").

    Returns at once: raises :class:`StoreBusyError` naming the holder when another
    process has it. A record left by a dead process is taken over (see
    :attr:`StoreLock.previous`). Inside a crawl started by ``newsmon run`` the
    parent's lock is reused (see the module docstring).
    """
    inherited = _inherited_lock(db_path)
    if inherited is not None:
        return inherited
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        holder = read_holder(db_path)
        raise StoreBusyError(busy_message(db_path, holder), holder) from None
    previous = _parse_holder(_read_fd(fd))
    holder = LockHolder(
        pid=os.getpid(),
        command=command,
        cmdline=_own_cmdline(),
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        host=socket.gethostname(),
    )
    _write_record(fd, holder)
    return StoreLock(db_path, fd, holder, inherited=False, previous=previous)


def busy_message(db_path: str | Path, holder: LockHolder | None) -> str:
    """Why the store cannot be used now, naming the process that holds it."""
    where = f"the store {db_path} is in use"
    if holder is None:
        return f"{where}: another newsmon process holds {lock_path(db_path)}; wait for it to finish"
    if holder.alive:
        return (f"{where} by {holder.describe()}. Only one crawl may write to a store at a time: "
                f"wait for it to finish or stop it (kill {holder.pid}).")
    if holder.crawl_pid and pid_alive(holder.crawl_pid):
        return (f"{where}: {holder.command} (pid {holder.pid}) has exited, but the crawl it started "
                f"(run {holder.crawl_run_id}, pid {holder.crawl_pid}) is still running and holds the lock; "
                f"wait for it or stop it (kill {holder.crawl_pid}).")
    return f"{where} by a process that has just exited ({holder.describe()}); try again"


def _inherited_lock(db_path: str | Path) -> StoreLock | None:
    """The lock passed down by a parent ``newsmon run``, when it really is this store's held lock."""
    value = os.environ.get(INHERITED_LOCK_ENV)
    if not value or not value.isdigit():
        return None
    fd = int(value)
    try:
        held, wanted = os.fstat(fd), os.stat(lock_path(db_path))
    except OSError:
        return None
    if (held.st_dev, held.st_ino) != (wanted.st_dev, wanted.st_ino):
        return None
    try:
        # Succeeds only if this open file description already holds the lock (or nobody does).
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return None
    os.set_inheritable(fd, False)
    return StoreLock(db_path, fd, read_holder(db_path), inherited=True)


def _write_record(fd: int, holder: LockHolder) -> None:
    data = json.dumps(holder.__dict__, ensure_ascii=False).encode("utf-8") + b"\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _read_fd(fd: int) -> str:
    try:
        return os.pread(fd, 65536, 0).decode("utf-8", "replace")
    except OSError:
        return ""


def _parse_holder(text: str) -> LockHolder | None:
    try:
        data = json.loads(text)
        return LockHolder(
            pid=int(data["pid"]),
            command=str(data.get("command", "newsmon")),
            cmdline=str(data.get("cmdline", "")),
            started=str(data.get("started", "?")),
            host=str(data.get("host", "")),
            crawl_pid=data.get("crawl_pid"),
            crawl_run_id=data.get("crawl_run_id"),
        )
    except (ValueError, KeyError, TypeError):
        return None


def _own_cmdline() -> str:
    try:
        with open("/proc/self/cmdline", "rb") as f:
            parts = f.read().split(b"\0")
        return " ".join(p.decode("utf-8", "replace") for p in parts if p)[:500]
    except OSError:
        return " ".join(sys.argv)[:500]
