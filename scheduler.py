"""newsmon's composition root and console entry point, and the schedule loop.

``newsmon`` is a click group. Each sub-command lives in the package it adapts
(``crawler/commands/``, ``store/commands/``) and is imported only when it runs, so
reading commands (``search``, ``digest``) never pay for importing Scrapy.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass

import click

# name -> "module:attribute"; imported lazily by NewsmonGroup.
COMMANDS = {
    "crawl": "crawler.commands.crawl:crawl",
    "extract": "crawler.commands.extract:extract",
    "sources": "crawler.commands.sources:sources",
    "classify": "crawler.commands.classify:classify",
    "demo": "crawler.commands.demo:demo",
    "cluster": "store.commands.dedupe:cluster",
    "dedupe": "store.commands.dedupe:dedupe",
    "search": "store.commands.search:search",
    "digest": "store.commands.digest:digest",
    "export": "store.commands.export:export",
    "db": "store.commands.db:db",
    "run": "scheduler:run",
    "status": "store.commands.status:status",
}


class NewsmonGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _module_exists(COMMANDS[name]))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None or not _module_exists(target):
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


def _module_exists(target: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(target.split(":")[0]) is not None


@dataclass
class Context:
    """What every command gets: where the config and the store are."""

    config_path: str
    db_override: str | None

    def config(self):
        """Load the config; a problem is a clean usage error (exit 2) naming the key."""
        from crawler.config import ConfigError, load_config

        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None

    def db_path(self, config=None) -> str:
        if self.db_override:
            return self.db_override
        return (config or self.config()).store.path


@click.group(cls=NewsmonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    default="newsmon.toml",
    envvar="NEWSMON_CONFIG",
    show_default=True,
    help="Configuration file (env NEWSMON_CONFIG).",
)
@click.option("--db", "db_path", default=None, help="SQLite store to use instead of [store] path.")
@click.version_option(package_name="newsmon")
@click.pass_context
def cli(ctx: click.Context, config_path: str, db_path: str | None) -> None:
    """newsmon: a news monitor for Vietnam–Russia defence cooperation.

    It crawls the sources in newsmon.toml (feeds, news sitemaps, listing
    pages), extracts each article's text, keeps what is on topic in
    Vietnamese, English and Russian, groups reprints of one story, and stores
    everything in one SQLite file.

    \b
    Examples:
      newsmon crawl --since 7d          one crawl of every source
      newsmon run                       crawl on the [schedule]
      newsmon search "quoc phong"       full-text search of the store
      newsmon digest --since-last --mark --output digest.md
    """
    ctx.obj = Context(config_path=config_path, db_override=db_path)


def main() -> None:
    """Console entry point ``newsmon``."""
    cli(prog_name="newsmon")


if __name__ == "__main__":
    main()
