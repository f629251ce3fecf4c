"""Run the ``newsmon`` CLI in a child process, as users do.

A crawl owns Twisted's reactor, which cannot be restarted, so every test that
crawls runs the command in its own process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_newsmon(*args: str, config: Path | None = None, timeout: float = 180, input: str | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the ``newsmon`` CLI in a child process (a crawl owns the Twisted reactor, once per process)."""
    command = [sys.executable, "-m", "scheduler"]
    if config is not None:
        command += ["--config", str(config)]
    command += list(args)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, input=input,
                          cwd=str(cwd or ROOT))
