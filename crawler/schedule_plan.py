"""Which crawls ``newsmon run`` schedules, on what trigger, and when each is first due.

``[schedule] every`` covers every source without an override; each source listed
under ``[schedule.sources]`` gets a job of its own, on an interval or a cron
expression. A job is first due one period after the last recorded crawl of its
sources (at once if that moment has passed or there is none), so restarting the
scheduler neither re-crawls everything nor replays the slots missed while it was
stopped: a run that fell due during the stop happens once, at start.

Only plain data and APScheduler triggers here; the store and processes are elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crawler.config import Config, ScheduleConfig

#: id of the job that covers every source without a schedule of its own
DEFAULT_JOB = "all"


@dataclass(frozen=True)
class ScheduledJob:
    """One scheduled crawl: these sources, every ``every`` or on ``cron``."""

    id: str  # "all" or "source:<name>"
    sources: tuple[str, ...]
    every: timedelta | None = None
    cron: str | None = None  # "minute hour day month weekday", local time

    @property
    def trigger_text(self) -> str:
        """How the job repeats, as shown in logs and ``newsmon status``: "every 30m", "cron 0 6 * * *"."""
        return f"every {format_duration(self.every)}" if self.every is not None else f"cron {self.cron}"


def plan_jobs(config: Config) -> list[ScheduledJob]:
    """The jobs of ``config``: one for the sources on the default interval, one per override."""
    schedule = config.schedule
    jobs, default_sources = [], []
    for source in config.sources:
        override = schedule.override(source.name)
        if override is None:
            default_sources.append(source.name)
        elif "every" in override:
            jobs.append(ScheduledJob(id=f"source:{source.name}", sources=(source.name,), every=override["every"]))
        else:
            jobs.append(ScheduledJob(id=f"source:{source.name}", sources=(source.name,), cron=override["cron"]))
    if default_sources:
        jobs.insert(0, ScheduledJob(id=DEFAULT_JOB, sources=tuple(default_sources), every=schedule.every))
    return jobs


def make_trigger(job: ScheduledJob, schedule: ScheduleConfig, timezone):
    """The APScheduler trigger of ``job``, with the configured jitter."""
    from apscheduler.triggers.interval import IntervalTrigger

    jitter = schedule.jitter.total_seconds() or None
    if job.every is not None:
        return IntervalTrigger(seconds=job.every.total_seconds(), jitter=jitter, timezone=timezone)
    return cron_trigger(job.cron, timezone=timezone, jitter=jitter)


def cron_trigger(expression: str, timezone="UTC", jitter: float | None = None):
    """An APScheduler trigger for a crontab expression, with crontab's weekday numbers.

    APScheduler 3 counts weekdays from Monday = 0 while crontab counts from
    Sunday = 0 (and 7); numeric weekdays are translated to names so that
    ``"0 6 * * 1"`` means Monday, as in crontab. Raises ValueError for a bad expression.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_crontab_weekdays(weekday),
                       jitter=jitter, timezone=timezone)


def first_run_time(job: ScheduledJob, trigger, last_started: datetime | None, now: datetime) -> datetime:
    """When ``job`` is first due after a (re)start: the period after its last crawl, or ``now``.

    ``last_started`` is the start of the latest recorded crawl of the job's
    sources. However long the scheduler was stopped, a job that fell due runs
    once, now — not once per missed slot.
    """
    if last_started is None:
        return now
    if job.every is not None:
        due = last_started + job.every
    else:
        due = trigger.get_next_fire_time(last_started, now)
    return due if due is not None and due > now else now


def format_duration(delta: timedelta | float | None) -> str:
    """``timedelta(seconds=5430)`` → ``"1h30m30s"``; whole units only, ``"0s"`` for nothing."""
    if delta is None:
        return "-"
    seconds = int(round(delta.total_seconds() if isinstance(delta, timedelta) else delta))
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _crontab_weekdays(field: str) -> str:
    """Crontab weekday field (Sunday = 0 or 7) → APScheduler's, with names instead of numbers."""
    if not any(ch.isdigit() for ch in field):  # "*" or names: the same in both
        return field
    days: set[int] = set()
    for token in field.split(","):
        span, _, step_text = token.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"weekday step must be >= 1 in {field!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (_weekday_number(part, field) for part in span.split("-", 1))
        else:
            first = last = _weekday_number(span, field)
        if first > last:
            raise ValueError(f"weekday range {span!r} runs backwards in {field!r}")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_WEEKDAY_NAMES[day] for day in sorted(days))


def _weekday_number(text: str, field: str) -> int:
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    if text.lower() in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES.index(text.lower())
    raise ValueError(f"{text!r} is not a weekday (0-7 or sun-sat) in {field!r}")
