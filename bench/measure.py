"""Small measuring tools shared by the benchmark modules: medians, load, child processes.

Every figure a benchmark reports is a ratio to a baseline measured in the same run
and the median of several repeats: CPU speed on the shared 2-core machines newsmon
is built on drifts by up to 2x between runs, and other work competes for the cores.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def load_average() -> float:
    """The 1-minute load average (how busy the machine was: other jobs share the cores)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - not on Linux
        return float("nan")


def newsmon_command(*args: str, config: str | Path | None = None) -> list[str]:
    """The command line that runs the ``newsmon`` CLI with this interpreter."""
    command = [sys.executable, "-m", "scheduler"]
    if config is not None:
        command += ["--config", str(config)]
    return command + list(args)


def run_timed(command: list[str], *, timeout: float = 900, cwd: Path = ROOT) -> tuple[float, subprocess.CompletedProcess, int]:
    """Run ``command`` in its own session; return (wall seconds, result, processes of that session left behind)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise RuntimeError(f"{' '.join(command)} did not finish in {timeout:.0f} s:\n{stderr[-2000:]}") from None
    wall = time.perf_counter() - started
    return wall, subprocess.CompletedProcess(command, process.returncode, stdout, stderr), _session_left(process.pid)


def _session_left(session: int, wait: float = 2.0) -> int:
    """How many processes of session ``session`` are still alive (after up to ``wait`` s for them to exit)."""
    deadline = time.monotonic() + wait
    while True:
        alive = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[3]) == session:  # state, ppid, pgrp, session
                alive += 1
        if alive == 0 or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)
