"""``newsmon demo``: the whole pipeline, offline, against the bundled replay news site."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click


@click.command()
@click.option("--keep", "keep_dir", type=click.Path(file_okay=False), default=None,
              help="Write the store and config into this folder and keep them (default: a temporary folder).")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              default="ERROR", show_default=True, help="Scrapy log level on stderr.")
def demo(keep_dir, log_level):
    """Crawl the bundled replay news site on 127.0.0.1 and summarise.

    Starts the replay site (several Vietnamese, English and Russian outlets
    with feeds, news sitemaps, paginated listings, reprinted wire stories,
    off-topic pages and traps) on a free local port, crawls it through the
    real spider and pipelines into a fresh SQLite store, and prints what
    happened. Needs no network.

    \b
    Examples:
      newsmon demo
      newsmon demo --keep /tmp/newsmon-demo   # then: newsmon --db /tmp/newsmon-demo/news.db search nga
    """
    from crawler.config import parse_config
    from crawler.commands.crawl import print_summary
    from crawler.crawl_run import run_crawl
    from crawler.demo_site.server import serve_demo_site

    import tomllib

    workdir = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="newsmon-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = str(workdir / "news.db")
    with serve_demo_site() as site:
        config_text = site.config_toml(db_path)
        (workdir / "newsmon.toml").write_text(config_text, encoding="utf-8")
        config = parse_config(tomllib.loads(config_text), path=str(workdir / "newsmon.toml"))
        click.echo(f"replay site: {site.base_url} ({len(config.sources)} outlets)", err=True)
        click.echo(f"store:       {db_path}", err=True)
        result = run_crawl(config, db_path, list(config.sources), trigger="demo", log_level=log_level.upper())
    print_summary(result)
    if not keep_dir:
        click.echo(f"(the store is kept at {db_path} until the temporary folder is cleaned)", err=True)
    sys.exit(0 if result.status == "ok" else 1)
