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


@click.command()
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              default="INFO", show_default=True, help="Log level of the scheduler (crawl output is logged at INFO).")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None,
              help="Also log to this file, rotated at 10 MB, 5 kept (default: [schedule] log_file).")
@click.option("--child-command", default=None, hidden=True,
              help="Run this program (shell syntax) instead of newsmon for each crawl; it gets the same "
                   "arguments: --config FILE --db FILE crawl --run-id N --source NAME... (for tests).")
@click.pass_obj
def run(obj, log_level, log_file, child_command):
    """Crawl on the [schedule] of newsmon.toml until stopped.

    Every source is crawled every [schedule] every (default 30m), plus a
    random jitter; sources listed under [schedule.sources] have their own
    interval or cron line. Each run is a separate process,
    `newsmon crawl --run-id N --source ...`, recorded in the `runs` table;
    one still running after [schedule] timeout is stopped (SIGTERM, then
    SIGKILL after [schedule] grace) and recorded as `timeout`.

    Never two crawls at once: a run that falls due while the previous crawl
    is still going is skipped, and a second `newsmon run` or a manual
    `newsmon crawl` on the same store refuses (exit status 3), naming the
    running process. After a restart each source is next crawled one
    period after its last recorded crawl: a run missed while stopped
    happens once, at start.

    Stop with Ctrl-C or SIGTERM: no new run starts, a running crawl gets
    [schedule] grace to finish before it is stopped, the run is recorded,
    and the exit status is 0 (a second Ctrl-C stops the crawl at once).
    Under systemd use KillMode=mixed, so that only newsmon run gets the
    SIGTERM. `newsmon status` shows the last runs and the next one.

    \b
    Examples:
      newsmon run
      newsmon run --log-level DEBUG --log-file data/newsmon.log
      nohup newsmon --config /etc/newsmon.toml run &
    """
    import shlex
    import sqlite3

    from crawler.schedule_loop import ScheduleLoop, configure_logging
    from store.lock import BUSY_EXIT_CODE, StoreBusyError

    config = obj.config()
    if not config.sources:
        raise click.UsageError("the config lists no [[sources]]; add one (see README, Configuration)")
    program = None
    if child_command is not None:
        program = shlex.split(child_command)
        if not program:
            raise click.BadParameter("expected a program to run", param_hint="--child-command")
    configure_logging(log_level.upper(), log_file or config.schedule.log_file)
    loop = ScheduleLoop(config, obj.config_path, obj.db_path(config), program=program)
    try:
        loop.run()
    except StoreBusyError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = BUSY_EXIT_CODE
        raise error from None
    except OSError as exc:  # e.g. a read-only directory: the lock file beside the store cannot be made
        raise click.ClickException(f"cannot write beside the store {loop.db_path} "
                                   f"({exc.strerror or exc}: {exc.filename or ''}); nothing was scheduled") from None
    except sqlite3.Error as exc:  # a read-only or damaged store file
        raise click.ClickException(f"cannot write to the store {loop.db_path} ({exc}); nothing was scheduled") from None


def main() -> None:
    """Console entry point ``newsmon``."""
    cli(prog_name="newsmon")


if __name__ == "__main__":
    main()
