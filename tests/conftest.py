"""Shared fixtures: the bundled replay site on 127.0.0.1 and running ``newsmon`` as users do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run_newsmon(*args: str, config: Path | None = None, timeout: float = 180, input: str | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the ``newsmon`` CLI in a child process (a crawl owns the Twisted reactor, once per process)."""
    command = [sys.executable, "-m", "scheduler"]
    if config is not None:
        command += ["--config", str(config)]
    command += list(args)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, input=input,
                          cwd=str(cwd or ROOT))


@pytest.fixture
def demo_site():
    """The replay news site, served on a free port for the duration of one test."""
    from crawler.demo_site.server import serve_demo_site

    with serve_demo_site() as site:
        yield site


@pytest.fixture
def demo_config(demo_site, tmp_path) -> Path:
    """A newsmon.toml for crawling the replay site into ``tmp_path/news.db``."""
    path = tmp_path / "newsmon.toml"
    path.write_text(demo_site.config_toml(str(tmp_path / "news.db")), encoding="utf-8")
    return path
