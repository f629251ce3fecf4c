"""``python -m crawler.demo_site``: serve the demo news site until Ctrl-C."""

from __future__ import annotations

import time
from pathlib import Path

import click

from crawler.demo_site.server import serve_demo_site


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 to listen on; 0 picks a free one.")
@click.option("--scale", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="1 serves the hand-written articles; N adds 4 * (N - 1) synthetic articles per outlet, for benchmarks.")
@click.option("--write-config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a newsmon.toml for crawling the site to this file.")
@click.option("--db", "db_path", default="data/demo.db", show_default=True,
              help="Store path written into the --write-config file.")
def main(port: int, scale: int, config_path: Path | None, db_path: str) -> None:
    """Serve newsmon's bundled demo news site on 127.0.0.1 until Ctrl-C.

    Six outlets (Vietnamese, Russian, English; TTXVN and TASS are wire services), each with an
    RSS or Atom feed, a Google News sitemap, paginated listings and realistic
    article pages; robots.txt forbids /private/. Dates are relative to start-up.

    \b
    Examples:
      python -m crawler.demo_site
      python -m crawler.demo_site --port 8800 --write-config demo.toml
      newsmon --config demo.toml crawl
    """
    try:
        site = serve_demo_site(port=port, scale=scale)
    except OSError as exc:
        raise click.BadParameter(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}", param_hint="--port")
    try:
        click.echo(f"newsmon demo site: {site.base_url}/ ({len(site.articles)} articles)")
        for outlet in site.outlets:
            click.echo(f"  {outlet.name:<10} {outlet.listing_url}  feed: {outlet.feed_url}")
        click.echo(f"  robots.txt: {site.base_url}/robots.txt  sitemaps: {site.base_url}/sitemap_index.xml")
        if config_path is not None:
            config_path.write_text(site.config_toml(db_path), encoding="utf-8")
            click.echo(f"Wrote {config_path}; crawl with: newsmon --config {config_path} crawl")
        click.echo("Press Ctrl-C to stop.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


if __name__ == "__main__":
    main()
