"""Shared fixtures: the bundled replay site on 127.0.0.1 and a config to crawl it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
