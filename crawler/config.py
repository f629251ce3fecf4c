"""Read ``newsmon.toml`` once into frozen dataclasses.

Every table and key is checked: an unknown key, a bad URL or a bad duration is a
:class:`ConfigError` whose message names the key (``sources[3].feeds[0]``), so a
typo never silently turns a feature off.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_CONFIG_PATH = "newsmon.toml"
LANGUAGES = ("vi", "en", "ru")

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class ConfigError(ValueError):
    """A configuration problem, with the offending key in the message."""


def parse_duration(text: str, key: str = "duration") -> timedelta:
    """Parse ``"30s"``, ``"30m"``, ``"24h"``, ``"14d"`` or ``"2w"`` into a timedelta.

    >>> parse_duration("14d")
    datetime.timedelta(days=14)
    """
    if not isinstance(text, str):
        raise ConfigError(f"{key}: expected a duration such as \"30m\" or \"14d\", got {text!r}")
    match = _DURATION_RE.match(text)
    if not match:
        raise ConfigError(
            f"{key}: {text!r} is not a duration; use a number and a unit s/m/h/d/w, e.g. \"30m\" or \"14d\""
        )
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2)])


@dataclass(frozen=True)
class StoreConfig:
    path: str = "data/news.db"


@dataclass(frozen=True)
class CrawlConfig:
    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
    window: timedelta = timedelta(days=14)
    concurrency_per_domain: int = 1
    delay: timedelta = timedelta(seconds=1)
    obey_robots: bool = True
    allow_private_networks: bool = False
    download_timeout: timedelta = timedelta(seconds=30)
    download_maxsize: int = 10 * 1024 * 1024
    max_listing_pages: int = 5
    max_feed_items: int = 500
    max_sitemap_urls: int = 5000
    max_sitemap_depth: int = 2
    extract_timeout: timedelta = timedelta(seconds=20)
    extract_workers: int = 0  # extraction processes; 0: one per CPU core, at most 4


@dataclass(frozen=True)
class SourceConfig:
    name: str
    lang: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    article_pattern: str | None = None
    prefilter: str = "none"  # "none": decide on the body; "title": skip clearly off-topic titles
    wire: bool = False  # a wire service (TTXVN, TASS, ...): canonical copy of its stories
    silent_after: timedelta = timedelta(days=3)
    utc_offset: str = "+07:00"  # offset of dates printed without one on this source's pages

    @property
    def entry_points(self) -> tuple[str, ...]:
        return self.feeds + self.sitemaps + self.listings


@dataclass(frozen=True)
class DedupeConfig:
    """``[dedupe]``: near-duplicate detection (see the comments in newsmon.toml and ``dedupe/``)."""

    shingle_size: int = 5  # words per shingle
    num_perm: int = 128  # MinHash permutations
    bands: int = 32  # LSH bands ...
    rows: int = 2  # ... of this many MinHash values each (bands * rows <= num_perm)
    threshold: float = 0.5  # estimated Jaccard that makes a duplicate
    containment: float = 0.8  # or: estimated share of the shorter text found in the longer
    min_tokens: int = 40  # shorter texts never cluster
    window: timedelta = timedelta(days=30)  # candidates published this close (either side)
    retention: timedelta = timedelta(days=180)  # band rows of older articles are pruned

    def __post_init__(self) -> None:
        for key in ("shingle_size", "num_perm", "bands", "rows"):
            if getattr(self, key) < 1:
                raise ConfigError(f"dedupe.{key}: expected a whole number >= 1, got {getattr(self, key)!r}")
        if self.bands * self.rows > self.num_perm:
            raise ConfigError(
                f"dedupe.bands: {self.bands} bands of {self.rows} rows need {self.bands * self.rows} MinHash "
                f"values but num_perm is {self.num_perm}; lower bands or rows, or raise num_perm"
            )
        if self.window <= timedelta(0) or self.retention <= timedelta(0):
            raise ConfigError("dedupe.window and dedupe.retention: expected durations longer than 0")


@dataclass(frozen=True)
class ScheduleConfig:
    """``[schedule]``: when ``newsmon run`` crawls, and how long a crawl may take (see newsmon.toml)."""

    every: timedelta = timedelta(minutes=30)  # default interval between crawls of a source
    jitter: timedelta = timedelta(seconds=60)  # random delay added to each run (0s: none)
    timeout: timedelta = timedelta(minutes=20)  # a crawl still running is stopped (SIGTERM) ...
    grace: timedelta = timedelta(seconds=30)  # ... and killed (SIGKILL) this long after; also the stop grace
    misfire_grace_time: timedelta = timedelta(hours=1)  # a run later than this is skipped, not run
    log_file: str | None = None  # also log to this file (rotated)
    # per-source overrides: name -> {"every": timedelta} or {"cron": "m h dom mon dow"}
    sources: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()

    def __post_init__(self) -> None:
        for key in ("every", "timeout", "grace", "misfire_grace_time"):
            if getattr(self, key) <= timedelta(0):
                raise ConfigError(f"schedule.{key}: expected a duration longer than 0s")

    def override(self, source: str) -> dict[str, Any] | None:
        """The per-source schedule of ``source`` ({"every": timedelta} or {"cron": str}), or None."""
        for name, spec in self.sources:
            if name == source:
                return dict(spec)
        return None


@dataclass(frozen=True)
class Config:
    store: StoreConfig = field(default_factory=StoreConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    sources: tuple[SourceConfig, ...] = ()
    dedupe: DedupeConfig = field(default_factory=DedupeConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    relevance: Any = None  # crawler.relevance.TopicProfile, parsed by crawler.relevance.parse_profile
    path: str | None = None

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in the config (known: {known})")


# --- reading -----------------------------------------------------------------


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a ``newsmon.toml`` file.

    A missing file is an error; use :func:`parse_config` with ``{}`` for defaults.
    """
    path = Path(path or DEFAULT_CONFIG_PATH)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} not found (use --config FILE or NEWSMON_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(f"config file {str(path)!r} cannot be read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(data, path=str(path))


def parse_config(data: dict[str, Any], path: str | None = None) -> Config:
    """Validate a parsed TOML document and build the :class:`Config`."""
    from crawler.relevance import parse_profile  # pure module, no Scrapy

    _check_keys(data, {"store", "crawl", "sources", "dedupe", "schedule", "relevance"}, "")
    sources = data.get("sources", [])
    if not isinstance(sources, list):
        raise ConfigError("sources: expected an array of tables ([[sources]])")
    parsed_sources = tuple(_parse_source(s, f"sources[{i}]") for i, s in enumerate(sources))
    names = [s.name for s in parsed_sources]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"sources: the name {name!r} is used more than once")
    schedule = _parse_table(ScheduleConfig, data.get("schedule", {}), "schedule")
    for name, _ in schedule.sources:
        if name not in names:
            raise ConfigError(f"schedule.sources.{name}: no source named {name!r}")
    return Config(
        store=_parse_table(StoreConfig, data.get("store", {}), "store"),
        crawl=_parse_table(CrawlConfig, data.get("crawl", {}), "crawl"),
        sources=parsed_sources,
        dedupe=_parse_table(DedupeConfig, data.get("dedupe", {}), "dedupe"),
        schedule=schedule,
        relevance=parse_profile(data.get("relevance"), key="relevance"),
        path=path,
    )


def _check_keys(table: Any, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where or 'config'}: expected a table")
    for key in table:
        if key not in allowed:
            name = f"{where}.{key}" if where else key
            raise ConfigError(f"{name}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _parse_table(cls: type, table: Any, where: str) -> Any:
    """Build dataclass ``cls`` from ``table``, converting by each field's default type."""
    defaults = cls()
    allowed = set(cls.__dataclass_fields__)
    _check_keys(table, allowed, where)
    values = {}
    for key, value in table.items():
        values[key] = _convert(getattr(defaults, key), value, f"{where}.{key}")
    return cls(**values)


def _convert(default: Any, value: Any, key: str) -> Any:
    if key.startswith("schedule.sources"):
        return _parse_schedule_overrides(value, key)
    if isinstance(default, timedelta):
        return parse_duration(value, key)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{key}: expected a whole number >= 0, got {value!r}")
        return value
    if isinstance(default, float):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
            raise ConfigError(f"{key}: expected a number between 0 and 1, got {value!r}")
        return float(value)
    if isinstance(default, str) or default is None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key}: expected a non-empty string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported value {value!r}")


def _parse_schedule_overrides(value: Any, key: str) -> tuple:
    """``[schedule.sources]``: ``name = { every = "2h" }`` or ``name = { cron = "0 6 * * *" }``."""
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table of per-source schedules, e.g. qdnd = {{ every = \"2h\" }}")
    overrides = []
    for name, spec in value.items():
        where = f"{key}.{name}"
        _check_keys(spec, {"every", "cron"}, where)
        if len(spec) != 1:
            raise ConfigError(f"{where}: give exactly one of 'every' or 'cron'")
        if "every" in spec:
            every = parse_duration(spec["every"], f"{where}.every")
            if every <= timedelta(0):
                raise ConfigError(f"{where}.every: expected a duration longer than 0s")
            overrides.append((name, (("every", every),)))
        else:
            cron = spec["cron"]
            if not isinstance(cron, str) or len(cron.split()) != 5:
                raise ConfigError(f"{where}.cron: expected five fields 'minute hour day month weekday', got {cron!r}")
            from crawler.schedule_plan import cron_trigger  # APScheduler only, no Scrapy

            try:
                cron_trigger(cron)
            except ValueError as exc:
                raise ConfigError(f"{where}.cron: {cron!r} is not a valid cron expression: {exc}") from None
            overrides.append((name, (("cron", cron),)))
    return tuple(overrides)


_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def _parse_source(table: Any, where: str) -> SourceConfig:
    allowed = set(SourceConfig.__dataclass_fields__)
    _check_keys(table, allowed, where)
    name = table.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"{where}.name: expected a short lower-case name like \"qdnd\", got {name!r}")
    where = f"{where} ({name})"
    lang = table.get("lang")
    if lang not in LANGUAGES:
        raise ConfigError(f"{where}.lang: expected one of {', '.join(LANGUAGES)}, got {lang!r}")
    urls = {}
    for kind in ("feeds", "sitemaps", "listings"):
        value = table.get(kind, [])
        if not isinstance(value, list):
            raise ConfigError(f"{where}.{kind}: expected a list of URLs")
        urls[kind] = tuple(_check_url(u, f"{where}.{kind}[{i}]") for i, u in enumerate(value))
    if not any(urls.values()):
        raise ConfigError(f"{where}: give at least one of feeds, sitemaps or listings")
    pattern = table.get("article_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ConfigError(f"{where}.article_pattern: not a valid regular expression: {exc}") from None
    prefilter = table.get("prefilter", "none")
    if prefilter not in ("none", "title"):
        raise ConfigError(f"{where}.prefilter: expected \"none\" or \"title\", got {prefilter!r}")
    defaults = SourceConfig(name="x", lang="vi")
    offset = table.get("utc_offset", defaults.utc_offset)
    if not isinstance(offset, str) or not re.match(r"^[+-]\d\d:\d\d$", offset):
        raise ConfigError(f"{where}.utc_offset: expected \"+HH:MM\" or \"-HH:MM\", got {offset!r}")
    wire = table.get("wire", False)
    if not isinstance(wire, bool):
        raise ConfigError(f"{where}.wire: expected true or false, got {wire!r}")
    silent_after = parse_duration(table.get("silent_after", "3d"), f"{where}.silent_after")
    return SourceConfig(
        name=name,
        lang=lang,
        article_pattern=pattern,
        prefilter=prefilter,
        wire=wire,
        silent_after=silent_after,
        utc_offset=offset,
        **urls,
    )


def _check_url(url: Any, key: str) -> str:
    if not isinstance(url, str):
        raise ConfigError(f"{key}: expected a URL string, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key}: {url!r} is not an http(s) URL")
    return url
